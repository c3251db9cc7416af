package demo_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"granttrack/app/auth"
	"granttrack/app/demo"
	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

func TestLoadOnceWithTheScenario(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loaded, err := demo.Load(ctx, st)
	if err != nil || !loaded {
		t.Fatalf("first load: %v %v", loaded, err)
	}
	count := func(q string) int {
		var n int
		if err := st.DB().NewRaw(q).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count("SELECT count(*) FROM audit_events")
	loaded, err = demo.Load(ctx, st)
	if err != nil || loaded {
		t.Fatalf("second load should keep the data: %v %v", loaded, err)
	}
	if after := count("SELECT count(*) FROM audit_events"); after != before {
		t.Fatalf("second load changed the audit trail: %d → %d", before, after)
	}
	if n := count("SELECT count(*) FROM programmes"); n != 4 {
		t.Fatalf("%d programmes, want the plan's 4", n)
	}
	if n := count("SELECT count(DISTINCT role) FROM users"); n != len(models.AllRoles()) {
		t.Fatalf("%d roles among demo users, want every one of %d", n, len(models.AllRoles()))
	}
	if n := count("SELECT count(*) FROM users WHERE role = 'finance_officer'"); n != 3 {
		t.Fatalf("%d finance officers, want 2 for maker-checker and one awaiting a grant", n)
	}
	// The admins approve no money; one account waits for the second admin.
	if n := count("SELECT count(*) FROM delegation_rules WHERE role = 'admin' AND decision_kind NOT IN ('delegation_change', 'account_grant')"); n != 0 {
		t.Fatalf("admins hold %d money rules", n)
	}
	for i, offered := range map[int]bool{0: false, 6: true} {
		u, err := st.UserByEmail(ctx, demo.Users[i].Email)
		if err != nil {
			t.Fatal(err)
		}
		as, err := st.Approvals(ctx, u.ID)
		found := false
		for _, a := range as {
			found = found || (a.Kind == models.DecisionAccountGrant && a.Reference == demo.AwaitingGrant.Email)
		}
		if err != nil || found != offered {
			t.Fatalf("%s offered the demo's account grant: %v (%v), want %v", u.Email, found, err, offered)
		}
	}
	var budget, band string
	if err := st.DB().NewRaw("SELECT budget::text FROM funding_lines WHERE code = 'DRUG-SUPPLY'").Scan(ctx, &budget); err != nil || budget != "2000000.00" {
		t.Fatalf("DRUG-SUPPLY budget %q %v", budget, err)
	}
	if err := st.DB().NewRaw("SELECT tender_min_value::text || '-' || tender_max_value::text FROM funding_lines WHERE code = 'ALLYSHIP-TRAINING'").Scan(ctx, &band); err != nil || band != "10000.00-25000.00" {
		t.Fatalf("allyship band %q %v", band, err)
	}
	if n := count("SELECT count(*) FROM organisations WHERE gss_code IN ('E09000022', 'E09000028', 'E09000012', 'E09000025')"); n != 4 {
		t.Fatalf("%d boroughs with their GSS codes, want Lambeth, Southwark, Hackney and Newham", n)
	}
	if n := count(`SELECT count(*) FROM awards a JOIN funding_lines fl ON fl.id = a.funding_line_id
		WHERE fl.kind <> 'contract' AND (a.conditions IS NULL OR a.crime_reduction_reason IS NULL OR a.purpose = '')`); n != 0 {
		t.Fatalf("%d demo grants lack what the publishing pack needs", n)
	}
	// The budget story: the drug-supply allocation profiled over its years,
	// one re-profiling approved, one virement and one award variation
	// awaiting approval.
	if n := count(`SELECT count(*) FROM budget_profiles bp JOIN funding_lines fl ON fl.id = bp.funding_line_id
		WHERE fl.code = 'DRUG-SUPPLY' AND bp.amount > 0`); n < 2 {
		t.Fatalf("DRUG-SUPPLY is profiled over %d years, want its years", n)
	}
	for q, want := range map[string]int{
		"SELECT count(*) FROM budget_changes WHERE kind = 'reprofile' AND status = 'approved'": 1,
		"SELECT count(*) FROM budget_changes WHERE kind = 'virement' AND status = 'pending'":   1,
		`SELECT count(*) FROM award_variations v JOIN awards a ON a.id = v.award_id
			WHERE a.reference = 'VRU-KCH-2026-002' AND v.status = 'pending' AND v.amount = 170000.00`: 1,
	} {
		if n := count(q); n != want {
			t.Errorf("%s: %d, want %d", q, n, want)
		}
	}
	// Payments: the tranches paid by approved spend are paid; those whose
	// payment still waits for a second officer are overdue.
	if n := count("SELECT count(*) FROM tranches WHERE status = 'paid' AND paid_on IS NOT NULL"); n == 0 {
		t.Fatal("no paid tranche in the demo")
	}
	if n := count("SELECT count(*) FROM tranches WHERE status IN ('due', 'claimed') AND due_on < '2026-11-15'"); n == 0 {
		t.Fatal("no overdue tranche in the demo")
	}
	// Every line carries the finance system's codes, for the payment runs' journals.
	if n := count("SELECT count(*) FROM funding_lines WHERE cost_centre IS NULL OR gl_account IS NULL"); n != 0 {
		t.Fatalf("%d demo lines without a cost centre or GL account", n)
	}
	// One payment run approved by a second person, with its remittance; one
	// proposed, waiting for a second person.
	runs, _, err := st.PaymentRuns(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var approved, pending []*models.PaymentRun
	for _, r := range runs {
		switch r.Status {
		case models.DecisionApproved:
			approved = append(approved, r)
		case models.DecisionPending:
			pending = append(pending, r)
		}
	}
	if len(approved) != 1 || len(pending) != 1 || approved[0].DecidedBy == nil || *approved[0].DecidedBy == approved[0].ProposedBy {
		t.Fatalf("payment runs: %d approved (by another person), %d pending; want one of each", len(approved), len(pending))
	}
	second, err := st.UserByEmail(ctx, demo.Users[2].Email)
	if err != nil {
		t.Fatal(err)
	}
	waiting, err := st.Approvals(ctx, second.ID)
	offered := false
	for _, a := range waiting {
		offered = offered || (a.Entity == "payment_run" && a.ID == pending[0].ID)
	}
	if err != nil || !offered {
		t.Fatalf("the proposed run is not offered to the second officer (%v)", err)
	}
	payments, err := st.PaymentRunPayments(ctx, approved[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	var remittance strings.Builder
	if err := export.Remittance(&remittance, approved[0], payments); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Split(strings.TrimSuffix(remittance.String(), "\r\n"), "\r\n"); len(rows) != 2 ||
		!strings.Contains(rows[1], "200000.00") || !strings.Contains(rows[1], "2026-11-13") {
		t.Fatalf("the approved run's remittance:\n%s", remittance.String())
	}
	var journal strings.Builder
	if err := export.Journal(&journal, approved[0], payments); err != nil || !strings.Contains(journal.String(), "2026-11-13,MOT230,54300,") {
		t.Fatalf("the approved run's journal (%v):\n%s", err, journal.String())
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain after demo: %+v %v", status, err)
	}
}

// TestDemoAnswersTheBoardsQuestions reads the scenario's questions off the
// reports built on the demo data.
func TestDemoAnswersTheBoardsQuestions(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := demo.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	var lineID int64
	if err := st.DB().NewRaw("SELECT id FROM funding_lines WHERE code = 'DRUG-SUPPLY'").Scan(ctx, &lineID); err != nil {
		t.Fatal(err)
	}
	totals, err := st.LineTotals(ctx, lineID)
	if err != nil {
		t.Fatal(err)
	}
	// The whole £2m is awarded to the Met and paid on its schedule.
	if got := totals[lineID]; got.Committed.StringFixed(2) != "2000000.00" || got.Spent.StringFixed(2) != "2000000.00" {
		t.Fatalf("drug supply: committed %s spent %s", got.Committed, got.Spent)
	}
	// Its profile follows the schedule, after the approved re-profiling
	// brought £100,000.00 forward into 2023-24, so it is green every year.
	profile, err := st.BudgetProfile(ctx, lineID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[models.FinancialYear]string{2022: "750000.00", 2023: "750000.00", 2024: "500000.00"}
	for _, y := range profile {
		if y.Amount.StringFixed(2) != want[y.Year] {
			t.Fatalf("drug supply %s: %s, want %s", y.Year, y.Amount.StringFixed(2), want[y.Year])
		}
		b, err := report.BudgetReport(ctx, st, report.Query{Period: models.PeriodOf(y.Year, 0), AsOf: time.Date(2026, 11, 15, 0, 0, 0, 0, time.UTC),
			GroupBy: report.ByFundingLine, Scope: store.ReportScope{FundingLineID: lineID}})
		if err != nil || len(b.Groups) != 1 || b.Groups[0].RAG != models.Green || !b.Groups[0].Budget.Equal(y.Amount) {
			t.Fatalf("drug supply %s: %+v %v", y.Year, b, err)
		}
	}
	changes, _, err := st.BudgetChanges(ctx, store.BudgetChangeFilter{Page: store.Page{Number: 1, PerPage: 50}})
	if err != nil || len(changes) != 2 || changes[1].Kind != models.Reprofile || changes[1].Status != models.ChangeApproved ||
		changes[0].Kind != models.Virement || changes[0].Status != models.ChangePending || changes[0].DecisionRecordID == nil {
		t.Fatalf("the demo's budget changes: %+v %v", changes, err)
	}
	// The virement crosses programmes: the second finance officer may not
	// approve it, nor the admin (who takes no money decision); the finance
	// manager may.
	for i, offered := range map[int]bool{2: false, 0: false, demo.FinanceManager: true} {
		u, err := st.UserByEmail(ctx, demo.Users[i].Email)
		if err != nil {
			t.Fatal(err)
		}
		mine, err := st.BudgetChangesToDecide(ctx, models.Actor{UserID: u.ID, Role: u.Role})
		if err != nil || (len(mine) == 1) != offered {
			t.Fatalf("%s is offered %d changes (%v), want the virement: %v", u.Email, len(mine), err, offered)
		}
	}
	q, err := report.ParseQuery("2024-25", "", "funding_line", "2025-03-31", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	v, err := report.ValueForMoneyReport(ctx, st, q)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range v.Outcomes {
		if o.OwnerCode == "ALLYSHIP-TRAINING" {
			found = true
			// £18,500.00 for 11 board members trained since the baseline
			// (0 on 2024-04-15): life to date. The baseline is dated after
			// 2024-25 began, so nothing opens the year and the year's own
			// figure says so rather than mixing windows.
			if o.ToDate.Cost == nil || o.ToDate.Cost.StringFixed(2) != "1681.82" || o.ToDate.Spend.StringFixed(2) != "18500.00" {
				t.Fatalf("allyship cost per board member to date: %+v", o.ToDate)
			}
			if o.Cost.Cost != nil || !strings.Contains(o.Cost.Reason, "the baseline is dated 2024-04-15") {
				t.Fatalf("allyship cost in 2024-25: %+v", o.Cost)
			}
		}
	}
	if !found {
		t.Fatal("no allyship outcome in 2024-25")
	}
	contracts := map[string]report.Contract{}
	for _, c := range v.Contracts {
		contracts[c.Code] = c
	}
	if c := contracts["ALLYSHIP-TRAINING"]; c.BandPosition != "within band" || c.ContractValue == nil || c.ContractValue.StringFixed(2) != "18500.00" {
		t.Fatalf("allyship against its band: %+v", c)
	}
	// The stop and search review lies above its band by an approved exception.
	if c := contracts["STOP-SEARCH-REVIEW"]; c.BandPosition != "above band" {
		t.Fatalf("stop and search review against its band: %+v", c)
	}
	xs, err := st.BandExceptions(ctx, contracts["STOP-SEARCH-REVIEW"].LineID)
	if err != nil || len(xs) != 1 || xs[0].Status != models.DecisionApproved || xs[0].Reason != demo.StopSearchExceptionReason ||
		xs[0].DecidedBy == nil || *xs[0].DecidedBy == xs[0].ProposedBy {
		t.Fatalf("band exceptions = %+v, %v", xs, err)
	}
	// The current year has a story, approvals wait, and one duplicate was reversed.
	cur, err := report.ParseQuery("2026-27", "", "", "2026-11-15", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, err := report.BudgetReport(ctx, st, cur)
	if err != nil || !b.Total.Spent.IsPositive() || !b.Total.Reserved.IsPositive() {
		t.Fatalf("2026-27: %+v %v", b, err)
	}
	var pending, reversals int
	if err := st.DB().NewRaw(`SELECT count(*) FILTER (WHERE status = 'pending' AND import_id IS NULL),
		count(*) FILTER (WHERE reverses_id IS NOT NULL) FROM spend_entries`).
		Scan(ctx, &pending, &reversals); err != nil || pending != 3 || reversals != 1 {
		t.Fatalf("%d pending, %d reversals: %v", pending, reversals, err)
	}
	// A month's delivery costs, imported by one finance officer, wait for
	// the other to approve them whole.
	imports, err := st.SpendImportsAwaiting(ctx)
	if err != nil || len(imports) != 1 || imports[0].Pending != 5 || imports[0].PendingTotal.StringFixed(2) != "4180.50" ||
		imports[0].ImporterName != demo.Users[1].Name {
		t.Fatalf("imports awaiting approval: %+v %v", imports, err)
	}
	checker, err := st.UserByEmail(ctx, demo.Users[2].Email)
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.ApproveImport(ctx, models.Actor{UserID: checker.ID, Label: checker.Email, Role: checker.Role}, imports[0].ID)
	if err != nil || d.Entries != 5 {
		t.Fatalf("the second finance officer approving the demo import: %+v %v", d, err)
	}
	// Every demo entry, recorded one by one or imported, matches the audit trail.
	if l, err := st.VerifyLedger(ctx); err != nil || !l.OK {
		t.Fatalf("the demo ledger against its audit trail: %+v %v", l, err)
	}
}

// TestLoadIntoEmptyRefusesALiveDatabase: the demo command loads its users,
// with their published password, only into an empty database; a database
// holding anything else is left as it was, and the refusal names what it
// holds. An empty one is loaded, and a second run keeps the demo.
func TestLoadIntoEmptyRefusesALiveDatabase(t *testing.T) {
	ctx := context.Background()
	live, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	u := &models.User{Email: "real@example.org", Name: "Real", Role: models.RoleAdmin, PasswordHash: "-", Active: true}
	if err := live.CreateUser(ctx, models.SystemActor("test"), u); err != nil {
		t.Fatal(err)
	}
	loaded, err := demo.LoadIntoEmpty(ctx, live)
	if loaded || models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(err.Error(), "already holds users, audit events") {
		t.Fatalf("into a live database: loaded %v, %v; want ECONFLICT naming users and audit events", loaded, err)
	}
	if _, err := live.UserByEmail(ctx, demo.Users[0].Email); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the demo admin was added to the live database: %v", err)
	}

	empty, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if loaded, err := demo.LoadIntoEmpty(ctx, empty); !loaded || err != nil {
		t.Fatalf("into an empty database: loaded %v, %v", loaded, err)
	}
	if loaded, err := demo.LoadIntoEmpty(ctx, empty); loaded || err != nil {
		t.Fatalf("a second run: loaded %v, %v; want the demo kept", loaded, err)
	}
	// The demo asks two-factor of its auditor only, who is enrolled with the
	// published secret: a code computed from it is accepted once.
	roles, err := empty.TwoFactorRoles(ctx)
	if err != nil || !slices.Equal(roles, demo.TwoFactorRoles) {
		t.Fatalf("the demo's two-factor roles: %v %v, want %v", roles, err, demo.TwoFactorRoles)
	}
	for i, du := range demo.Users {
		u, err := empty.UserByEmail(ctx, du.Email)
		if err != nil {
			t.Fatal(err)
		}
		required, enrolled, err := empty.TwoFactorNeeded(ctx, u)
		if err != nil || required != (i == demo.Auditor) || enrolled != (i == demo.Auditor) {
			t.Fatalf("%s: two-factor required %v, enrolled %v (%v); want both only for the auditor", du.Email, required, enrolled, err)
		}
		if i == demo.Auditor {
			code, err := auth.TOTPCode(demo.TOTPSecret, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			step, ok := auth.MatchTOTP(demo.TOTPSecret, code, time.Now())
			if used, err := empty.UseTOTPStep(ctx, u.ID, step); !ok || !used || err != nil {
				t.Fatalf("the demo auditor's code: matched %v, used %v, %v", ok, used, err)
			}
		}
	}
}
