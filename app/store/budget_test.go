package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// profiledLine makes an active line of £2,000.00 over 2023-24 and 2024-25,
// profiled £1,200.00 and £800.00, in a programme of its own.
func profiledLine(t *testing.T, st *store.Store) *models.FundingLine {
	t.Helper()
	return storetest.ActiveLine(t, st, storetest.LineSpec{Code: unique("P"), PayeeName: unique("Org "), Budget: "2000.00",
		StartsOn: "2023-04-01", EndsOn: "2025-03-31", Profile: map[string]string{"2023-24": "1200.00", "2024-25": "800.00"}}).FundingLine
}

func profileText(t *testing.T, st *store.Store, id int64) string {
	t.Helper()
	p, err := st.BudgetProfile(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, y := range p {
		parts = append(parts, y.Year.String()+" "+y.Amount.StringFixed(2))
	}
	return strings.Join(parts, ", ")
}

// wantRefusal checks that PostgreSQL refused err by the named rule.
func wantRefusal(t *testing.T, err error, rule string) *pgconn.PgError {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != rule {
		t.Fatalf("err = %v, want PostgreSQL to refuse it by %s", err, rule)
	}
	return pgErr
}

func spendOn(t *testing.T, st *store.Store, by models.Actor, fl *models.FundingLine, amount, incurred string) *models.SpendEntry {
	t.Helper()
	e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: fl.FunderID, Amount: amount, IncurredOn: incurred,
		Category: "services", Purpose: "Purpose", VFMReason: "Tendered"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(context.Background(), by, e, "", nil); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestProposedProfileIsTheReportsStraightLine: the profile the database
// proposes for a line (and gave every line at migration) is the budget
// spread by day over quarters to the penny and summed by year, as the
// reports computed it before profiles were stored.
func TestProposedProfileIsTheReportsStraightLine(t *testing.T) {
	st := MustStore(t)
	rng := rand.New(rand.NewPCG(3, 5))
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		starts := base.AddDate(0, 0, rng.IntN(2000))
		ends := starts.AddDate(0, 0, rng.IntN(1500))
		budget := decimal.New(rng.Int64N(1_000_000_000_00), -2)
		if i%7 == 0 {
			budget = decimal.New(rng.Int64N(1000), -2) // fewer pennies than days
		}
		quarters, err := models.ProfileBudget(budget, starts, ends)
		if err != nil {
			t.Fatal(err)
		}
		want := map[models.FinancialYear]decimal.Decimal{}
		for _, q := range quarters {
			want[q.Year] = want[q.Year].Add(q.Amount)
		}
		var got []struct {
			FinancialYear models.FinancialYear
			Amount        decimal.Decimal
		}
		if err := st.DB().NewRaw("SELECT financial_year, amount FROM straight_line_profile(?, ?::date, ?::date)", budget,
			starts.Format(models.DateLayout), ends.Format(models.DateLayout)).Scan(context.Background(), &got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s %s..%s: %d years from SQL, %d from Go", budget, starts, ends, len(got), len(want))
		}
		for _, g := range got {
			if !g.Amount.Equal(want[g.FinancialYear]) {
				t.Fatalf("%s %s..%s: %s is %s in SQL, %s in Go", budget, starts.Format(models.DateLayout), ends.Format(models.DateLayout),
					g.FinancialYear, g.Amount, want[g.FinancialYear])
			}
		}
	}
}

func TestDraftProfileIsEditedAndMustAddUp(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	p := &models.Programme{Code: unique("DP"), Name: "P", Plan: "Plan"}
	must(t, st.CreateProgramme(ctx, actor, p))
	o := &models.Organisation{Name: unique("Funder "), IsFunder: true}
	must(t, st.CreateOrganisation(ctx, actor, o))
	fl, err := models.FundingLineInput{Code: unique("DRAFT"), Title: "Draft", Kind: "allocation", ProgrammeID: p.ID, FunderID: o.ID,
		Budget: "2000000.00", StartsOn: "2023-04-01", EndsOn: "2025-03-31"}.Validate()
	must(t, err)
	must(t, st.CreateFundingLine(ctx, actor, fl))
	// Proposed from its dates: 2023-24 has a 29 February, so one more day.
	if got := profileText(t, st, fl.ID); got != "2023-24 1001368.00, 2024-25 998632.00" {
		t.Fatalf("proposed profile: %s", got)
	}
	years := []models.YearAmount{{Year: 2023, Amount: decimal.RequireFromString("1200000.00")}, {Year: 2024, Amount: decimal.RequireFromString("799999.99")}}
	_, err = st.SetDraftProfile(ctx, actor, fl.ID, years)
	if models.ErrorCode(err) != models.EINVALID || !strings.Contains(models.ErrorMessage(err)+fieldsOf(err), "£1,999,999.99") {
		t.Fatalf("a profile a penny short: %v %s", err, fieldsOf(err))
	}
	years[1].Amount = decimal.RequireFromString("800000.00")
	if _, err := st.SetDraftProfile(ctx, actor, fl.ID, years); err != nil {
		t.Fatal(err)
	}
	if got := profileText(t, st, fl.ID); got != "2023-24 1200000.00, 2024-25 800000.00" {
		t.Fatalf("edited profile: %s", got)
	}
	// Through raw SQL, a profile that does not add up is refused at commit.
	err = raw(st, "UPDATE budget_profiles SET amount = amount + 0.01 WHERE funding_line_id = ? AND financial_year = 2023", fl.ID)
	wantRefusal(t, err, "budget_profile_sums_to_budget")
	err = raw(st, "INSERT INTO budget_profiles (funding_line_id, financial_year, amount) VALUES (?, 2026, 0.01)", fl.ID)
	wantRefusal(t, err, "budget_profile_sums_to_budget")
	err = raw(st, `WITH moved AS (UPDATE budget_profiles SET amount = 0 WHERE funding_line_id = ?0 AND financial_year = 2024 RETURNING amount)
		INSERT INTO budget_profiles (funding_line_id, financial_year, amount) SELECT ?0, 2025, 800000.00 FROM moved`, fl.ID)
	if pg := wantRefusal(t, err, "budget_profile_sums_to_budget"); !strings.Contains(pg.Message, "2025-26") {
		t.Fatalf("the refusal should name the year outside the line: %s", pg.Message)
	}
	// Changing a draft's dates proposes a new profile from them.
	fl.EndsOn = time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
	must(t, st.UpdateFundingLine(ctx, actor, fl.ID, fl))
	if got := profileText(t, st, fl.ID); got != "2023-24 2000000.00" {
		t.Fatalf("after the dates changed: %s", got)
	}
	// Once approved, the profile and the budget change only by a budget change.
	must(t, storetest.Approve(ctx, st, fl.ID))
	if _, err := st.SetDraftProfile(ctx, actor, fl.ID, []models.YearAmount{{Year: 2023, Amount: fl.Budget}}); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("edited an approved line's profile directly: %v", err)
	}
	fl.Budget = decimal.RequireFromString("2500000.00")
	if err := st.UpdateFundingLine(ctx, actor, fl.ID, fl); models.ErrorCode(err) != models.ECONFLICT || fieldsOf(err) == "" {
		t.Fatalf("changed an approved line's budget by editing it: %v", err)
	}
	err = raw(st, "UPDATE budget_profiles SET amount = amount WHERE funding_line_id = ?", fl.ID)
	wantRefusal(t, err, "budget_changed_by_budget_change")
	err = raw(st, "UPDATE funding_lines SET budget = budget + 1 WHERE id = ?", fl.ID)
	wantRefusal(t, err, "budget_changed_by_budget_change")
}

func fieldsOf(err error) string {
	var e *models.Error
	if !errors.As(err, &e) {
		return ""
	}
	var s []string
	for _, f := range e.Fields {
		s = append(s, f.Field+": "+f.Message)
	}
	return strings.Join(s, "; ")
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSpendWithinTheYearsBudget: approved spend may not pass the profiled
// budget of the year it was incurred in, in Go (naming the year, its budget
// and the shortfall), for a whole import, and in PostgreSQL.
func TestSpendWithinTheYearsBudget(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := profiledLine(t, st)
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	first := spendOn(t, st, maker, fl, "700.00", "2024-06-01")
	if _, err := st.ApproveSpend(ctx, checker, first.ID); err != nil {
		t.Fatal(err)
	}
	// £150.00 more fits the line's £2,000.00 but not 2024-25's £800.00.
	second := spendOn(t, st, maker, fl, "150.00", "2025-01-10")
	_, err := st.ApproveSpend(ctx, checker, second.ID)
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "in 2024-25: the year's budget is £800.00, approved spend in the year so far is £700.00, so it is £50.00 short") {
		t.Fatalf("err = %v", err)
	}
	// The same amount in 2023-24 fits.
	third := spendOn(t, st, maker, fl, "150.00", "2023-06-01")
	if _, err := st.ApproveSpend(ctx, checker, third.ID); err != nil {
		t.Fatal(err)
	}
	// A whole import is refused with the year named.
	o, err := st.Organisation(ctx, fl.FunderID)
	must(t, err)
	imp, err := st.ImportSpend(ctx, maker, strings.NewReader(importHeader+fl.Code+",,"+o.Name+",120.00,2024-07-01,services,R1,,,\n"),
		store.ImportOptions{FileName: unique("f") + ".csv"})
	must(t, err)
	_, err = st.ApproveImport(ctx, checker, imp.ID)
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "funding line "+fl.Code+" in 2024-25 has £800.00, with £700.00 approved so far and £120.00 in this import, so it is £20.00 short") {
		t.Fatalf("import: %v", err)
	}
	// Through raw SQL the database refuses approved spend beyond the year.
	err = raw(st, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, status, recorded_by, decided_by, decided_at)
		VALUES (?, ?, 100.01, '2024-12-01', 'other', 'approved', ?, ?, now())`, fl.ID, fl.FunderID, maker.UserID, checker.UserID)
	if pg := wantRefusal(t, err, "spend_within_year_budget"); !strings.Contains(pg.Message, "2024-25") {
		t.Fatalf("the refusal should name the year: %s", pg.Message)
	}
	err = raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", checker.UserID, second.ID)
	wantRefusal(t, err, "spend_within_year_budget")
	// A reversal gives the budget back to its original's year.
	rev, err := st.ReverseSpend(ctx, maker, first.ID, "paid twice")
	must(t, err)
	_, err = st.ApproveSpend(ctx, checker, rev.ID)
	must(t, err)
	if _, err := st.ApproveSpend(ctx, checker, second.ID); err != nil {
		t.Fatalf("after the reversal 2024-25 has room: %v", err)
	}
}

func propose(t *testing.T, st *store.Store, by models.Actor, in models.BudgetChangeInput) (*models.BudgetChange, error) {
	t.Helper()
	bc, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.ProposeBudgetChange(context.Background(), by, bc, "", nil)
	return bc, err
}

func move(line int64, fy, delta string) models.MoveInput {
	return models.MoveInput{FundingLineID: line, FinancialYear: fy, Delta: delta}
}

// TestReprofilingIsProposedDecidedAndAudited: a re-profiling is pending
// until someone else approves it, is applied in one transaction and is in
// the audit trail; one that would leave a year below what is already
// approved and committed in it is refused, naming the year, the floor and
// the shortfall, in Go and in PostgreSQL.
func TestReprofilingIsProposedDecidedAndAudited(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := profiledLine(t, st)
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	e := spendOn(t, st, maker, fl, "1100.00", "2023-09-01")
	_, err := st.ApproveSpend(ctx, checker, e.ID)
	must(t, err)
	// Moving £200.00 out of 2023-24 would leave £1,000.00 under £1,100.00 spent.
	_, err = propose(t, st, maker, models.BudgetChangeInput{Kind: "reprofile", Reason: "Slippage", EffectiveOn: "2024-01-01",
		Moves: []models.MoveInput{move(fl.ID, "2023-24", "-200.00"), move(fl.ID, "2024-25", "200.00")}})
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), fl.Code+" 2023-24 would have £1,000.00 but £1,100.00 is already approved and committed in it, so it is £100.00 short") {
		t.Fatalf("undercutting a year: %v", err)
	}
	bc, err := propose(t, st, maker, models.BudgetChangeInput{Kind: "reprofile", Reason: "The second year's work starts early", EffectiveOn: "2024-01-01",
		Moves: []models.MoveInput{move(fl.ID, "2023-24", "-100.00"), move(fl.ID, "2024-25", "100.00")}})
	must(t, err)
	if bc.Status != models.ChangePending || profileText(t, st, fl.ID) != "2023-24 1200.00, 2024-25 800.00" {
		t.Fatalf("a proposal changed the profile: %+v %s", bc, profileText(t, st, fl.ID))
	}
	if _, _, err := st.ApproveBudgetChange(ctx, maker, bc.ID); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("approved by its proposer: %v", err)
	}
	if _, err := st.WithdrawBudgetChange(ctx, checker, bc.ID); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("withdrawn by someone else: %v", err)
	}
	got, effect, err := st.ApproveBudgetChange(ctx, checker, bc.ID)
	must(t, err)
	if got.Status != models.ChangeApproved || *got.DecidedBy != checker.UserID || len(effect.Lines) != 1 {
		t.Fatalf("approved: %+v %+v", got, effect)
	}
	if p := profileText(t, st, fl.ID); p != "2023-24 1100.00, 2024-25 900.00" {
		t.Fatalf("after approval: %s", p)
	}
	if _, _, err := st.ApproveBudgetChange(ctx, checker, bc.ID); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("approved twice: %v", err)
	}
	var events int
	must(t, st.DB().NewRaw(`SELECT count(*) FROM audit_events WHERE (entity = 'budget_change' AND entity_id = ?::text
		AND action IN ('budget_change.propose', 'budget_change.approve')) OR (entity = 'funding_line' AND entity_id = ?::text
		AND action = 'funding_line.budget_profile' AND after->>'budget_change_id' = ?::text)`, bc.ID, fl.ID, bc.ID).Scan(ctx, &events))
	if events != 3 {
		t.Fatalf("%d audit events for the change, want propose, approve and the line's before and after", events)
	}
	// Through raw SQL: a change approved behind the application that would
	// undercut 2023-24 (now £1,100.00 with £1,100.00 spent) is refused.
	err = raw(st, `WITH c AS (INSERT INTO budget_changes (kind, reason, effective_on, proposed_by) VALUES ('reprofile', 'x', '2024-02-01', ?0) RETURNING id),
		m AS (INSERT INTO budget_change_moves (budget_change_id, funding_line_id, financial_year, delta)
			SELECT id, ?1, 2023, -0.01 FROM c UNION ALL SELECT id, ?1, 2024, 0.01 FROM c)
		SELECT 1`, maker.UserID, fl.ID)
	must(t, err)
	err = raw(st, `UPDATE budget_changes SET status = 'approved', decided_by = ?, decided_at = now() WHERE status = 'pending'
		AND id IN (SELECT budget_change_id FROM budget_change_moves WHERE funding_line_id = ?)`, checker.UserID, fl.ID)
	if pg := wantRefusal(t, err, "budget_above_floor"); !strings.Contains(pg.Message, "2023-24") || !strings.Contains(pg.Message, "short by 0.01") {
		t.Fatalf("the refusal should name the year and the shortfall: %s", pg.Message)
	}
	err = raw(st, `UPDATE budget_changes SET status = 'approved', decided_by = proposed_by, decided_at = now() WHERE status = 'pending'
		AND id IN (SELECT budget_change_id FROM budget_change_moves WHERE funding_line_id = ?)`, fl.ID)
	wantRefusal(t, err, "decision_four_eyes")
	err = raw(st, `UPDATE budget_changes SET status = 'rejected', decided_by = proposed_by, decided_at = now(), rejection_reason = 'mine'
		WHERE status = 'pending' AND id IN (SELECT budget_change_id FROM budget_change_moves WHERE funding_line_id = ?)`, fl.ID)
	// A rejection too is a decision: its authority is asked before the
	// budget_changes_maker_checker constraint would see it.
	wantRefusal(t, err, "decision_four_eyes")
	// The application role may not update a move at all; even the owner is
	// stopped by the trigger.
	err = raw(st, "UPDATE budget_change_moves SET delta = -delta WHERE funding_line_id = ?", fl.ID)
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the application role updated a budget change's move: %v", err)
	}
	err = asOwner(t, "UPDATE budget_change_moves SET delta = -delta WHERE funding_line_id = ?", fl.ID)
	wantRefusal(t, err, "budget_changes_append_only")
	if err = raw(st, `UPDATE budget_changes SET reason = 'rewritten' WHERE id = ?`, bc.ID); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the application role rewrote a budget change's reason: %v", err)
	}
	err = asOwner(t, `UPDATE budget_changes SET reason = 'rewritten' WHERE id = ?`, bc.ID)
	wantRefusal(t, err, "budget_changes_append_only")
	err = raw(st, `WITH c AS (INSERT INTO budget_changes (kind, reason, effective_on, proposed_by) VALUES ('reprofile', 'x', '2024-02-01', ?0) RETURNING id)
		INSERT INTO budget_change_moves (budget_change_id, funding_line_id, financial_year, delta) SELECT id, ?1, 2023, -5.00 FROM c`, maker.UserID, fl.ID)
	wantRefusal(t, err, "budget_change_balances")
}

// TestVirementsMoveBudgetBetweenLines: a virement within a programme is a
// finance officer's decision; across programmes it needs a finance manager. The
// lines' budgets move with their profiles.
func TestVirementsMoveBudgetBetweenLines(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	from, to := profiledLine(t, st), profiledLine(t, st) // each in a programme of its own
	maker, officer, manager := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceManager)
	in := models.BudgetChangeInput{Kind: "virement", Reason: "Move unspent budget to where it is needed", EffectiveOn: "2024-10-01",
		Moves: []models.MoveInput{move(from.ID, "2024-25", "-300.00"), move(to.ID, "2024-25", "300.00")}}
	// Across programmes a virement must cite the decision that authorised it.
	if _, err := propose(t, st, maker, in); models.ErrorCode(err) != models.EINVALID || !strings.Contains(fieldsOf(err), "decision_record_id") {
		t.Fatalf("a virement across programmes citing no decision: %v", err)
	}
	rec, err := models.DecisionRecordInput{Reference: unique("PCD "), Title: "Virement", SignedOn: "2024-09-20", DecisionMaker: "Deputy Mayor"}.Validate()
	must(t, err)
	must(t, st.CreateDecisionRecord(ctx, manager, rec))
	in.DecisionRecordID = &rec.ID
	// Through raw SQL a finance officer cannot approve it either.
	err = raw(st, `WITH c AS (INSERT INTO budget_changes (kind, reason, effective_on, proposed_by) VALUES ('virement', 'x', '2024-10-01', ?0) RETURNING id),
		m AS (INSERT INTO budget_change_moves (budget_change_id, funding_line_id, financial_year, delta)
			SELECT id, ?1, 2024, -1.00 FROM c UNION ALL SELECT id, ?2, 2024, 1.00 FROM c)
		SELECT 1`, maker.UserID, from.ID, to.ID)
	must(t, err)
	err = raw(st, `UPDATE budget_changes SET status = 'approved', decided_by = ?, decided_at = now() WHERE status = 'pending' AND reason = 'x'
		AND id IN (SELECT budget_change_id FROM budget_change_moves WHERE funding_line_id = ?)`, officer.UserID, to.ID)
	wantRefusal(t, err, "decision_role_authority")
	err = raw(st, `UPDATE budget_changes SET status = 'approved', decided_by = ?, decided_at = now() WHERE status = 'pending' AND reason = 'x'
		AND id IN (SELECT budget_change_id FROM budget_change_moves WHERE funding_line_id = ?)`, manager.UserID, to.ID)
	wantRefusal(t, err, "decision_citation_required")
	bc, err := propose(t, st, maker, in)
	must(t, err)
	preview, err := st.PreviewBudgetChange(ctx, bc)
	must(t, err)
	if !preview.AcrossProgrammes || preview.DecisionKind(bc.Kind) != models.DecisionBudgetVirementAcrossProgrammes {
		t.Fatalf("preview: %+v", preview)
	}
	if _, _, err := st.ApproveBudgetChange(ctx, officer, bc.ID); models.ErrorCode(err) != models.EFORBIDDEN || !strings.Contains(models.ErrorMessage(err), "across programmes") {
		t.Fatalf("a finance officer approved a virement across programmes: %v", err)
	}
	mine, err := st.BudgetChangesToDecide(ctx, officer)
	must(t, err)
	for _, c := range mine {
		if c.ID == bc.ID {
			t.Fatal("the officer is offered a virement only a finance manager may decide")
		}
	}
	theirs, err := st.BudgetChangesToDecide(ctx, manager)
	must(t, err)
	if len(theirs) == 0 || theirs[len(theirs)-1].ID != bc.ID {
		t.Fatalf("the manager is not offered the virement: %+v", theirs)
	}
	if _, _, err := st.ApproveBudgetChange(ctx, manager, bc.ID); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[int64]string{from.ID: "1700.00", to.ID: "2300.00"} {
		fl, err := st.FundingLine(ctx, id)
		must(t, err)
		if fl.Budget.StringFixed(2) != want {
			t.Fatalf("line %d budget %s, want %s", id, fl.Budget, want)
		}
	}
	if p := profileText(t, st, to.ID); p != "2023-24 1200.00, 2024-25 1100.00" {
		t.Fatalf("receiving line: %s", p)
	}
	// Within one programme a finance officer decides; a rejection moves nothing.
	sibling := storetest.ActiveLine(t, st, storetest.LineSpec{Code: unique("S"), PayeeName: unique("Org "), Budget: "500.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"}).FundingLine
	sibling.ProgrammeID = from.ProgrammeID
	_, err = st.DB().NewRaw("UPDATE funding_lines SET programme_id = ? WHERE id = ?", from.ProgrammeID, sibling.ID).Exec(ctx)
	must(t, err)
	within, err := propose(t, st, maker, models.BudgetChangeInput{Kind: "virement", Reason: "Top up", EffectiveOn: "2024-10-01",
		Moves: []models.MoveInput{move(from.ID, "2024-25", "-50.00"), move(sibling.ID, "2024-25", "50.00")}})
	must(t, err)
	if _, err := st.RejectBudgetChange(ctx, officer, within.ID, "Not this year"); err != nil {
		t.Fatal(err)
	}
	if fl, _ := st.FundingLine(ctx, sibling.ID); fl.Budget.StringFixed(2) != "500.00" {
		t.Fatalf("a rejected virement moved budget: %s", fl.Budget)
	}
	again, err := propose(t, st, maker, models.BudgetChangeInput{Kind: "virement", Reason: "Top up", EffectiveOn: "2024-10-01",
		Moves: []models.MoveInput{move(from.ID, "2024-25", "-50.00"), move(sibling.ID, "2024-25", "50.00")}})
	must(t, err)
	if _, _, err := st.ApproveBudgetChange(ctx, officer, again.ID); err != nil {
		t.Fatalf("a finance officer approving a virement within a programme: %v", err)
	}
	// A retry with the same idempotency key returns the first change.
	one, _ := in.Validate()
	_, err = st.ProposeBudgetChange(ctx, maker, one, "k-1", []byte("body"))
	must(t, err)
	two, _ := in.Validate()
	replayed, err := st.ProposeBudgetChange(ctx, maker, two, "k-1", []byte("body"))
	if err != nil || !replayed || two.ID != one.ID {
		t.Fatalf("retry: %v %v %d %d", replayed, err, two.ID, one.ID)
	}
	three, _ := in.Validate()
	if _, err := st.ProposeBudgetChange(ctx, maker, three, "k-1", []byte("other")); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("same key, other body: %v", err)
	}
	if _, err := st.WithdrawBudgetChange(ctx, maker, one.ID); err != nil {
		t.Fatal(err)
	}
	list, _, err := st.BudgetChanges(ctx, store.BudgetChangeFilter{FundingLineID: to.ID, Page: store.Page{Number: 1, PerPage: 50}})
	must(t, err)
	// Newest first: the withdrawn one, the approved one, the one PostgreSQL would not approve.
	if len(list) != 3 || list[0].Status != models.ChangeWithdrawn || list[1].Status != models.ChangeApproved || len(list[1].Moves) != 2 ||
		list[2].Status != models.ChangePending {
		t.Fatalf("the receiving line's changes: %+v", list)
	}
}

// TestBudgetIncreasesAndRejectionsNeedAuthority: raising an approved line's
// budget is a budget change of its own kind, approved under budget_increase
// for the amount added; rejecting any budget change needs a role the scheme
// gives its kind, in Go and in PostgreSQL.
func TestBudgetIncreasesAndRejectionsNeedAuthority(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := profiledLine(t, st)
	maker, officer, admin, board := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer),
		person(t, st, models.RoleFinanceManager), person(t, st, models.RoleBoardMember)

	if _, err := (models.BudgetChangeInput{Kind: "increase", Reason: "More money", EffectiveOn: "2024-04-01",
		Moves: []models.MoveInput{move(fl.ID, "2024-25", "-5.00")}}).Validate(); models.ErrorCode(err) != models.EINVALID ||
		!strings.Contains(fieldsOf(err), "moves[0].delta") {
		t.Fatalf("an increase taking money out: %v", err)
	}
	bc, err := propose(t, st, maker, models.BudgetChangeInput{Kind: "increase", Reason: "The funder added to the allocation", EffectiveOn: "2024-04-01",
		Moves: []models.MoveInput{move(fl.ID, "2024-25", "150000.00")}})
	must(t, err)
	// £150,000.00 is above a finance officer's £100,000.00 for budget_increase.
	if _, _, err := st.ApproveBudgetChange(ctx, officer, bc.ID); !errors.Is(err, models.ErrAmountAuthority) {
		t.Fatalf("officer approving a £150,000.00 increase: %v", err)
	}
	if _, _, err := st.ApproveBudgetChange(ctx, admin, bc.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.FundingLine(ctx, fl.ID); got.Budget.StringFixed(2) != "152000.00" {
		t.Fatalf("budget after the increase = %s", got.Budget)
	}
	if got := profileText(t, st, fl.ID); got != "2023-24 1200.00, 2024-25 150800.00" {
		t.Fatalf("profile after the increase = %s", got)
	}
	// PostgreSQL refuses an "increase" that takes money out.
	wantRefusal(t, raw(st, `WITH c AS (INSERT INTO budget_changes (kind, reason, effective_on, proposed_by) VALUES ('increase', 'x', '2024-04-01', ?0) RETURNING id)
		INSERT INTO budget_change_moves (budget_change_id, funding_line_id, financial_year, delta) SELECT id, ?1, 2024, -1.00 FROM c`,
		maker.UserID, fl.ID), "budget_change_balances")

	// A board member may not reject a change: the scheme gives the role no
	// authority for it.
	pending, err := propose(t, st, maker, models.BudgetChangeInput{Kind: "reprofile", Reason: "Slippage", EffectiveOn: "2024-01-01",
		Moves: []models.MoveInput{move(fl.ID, "2023-24", "-100.00"), move(fl.ID, "2024-25", "100.00")}})
	must(t, err)
	if _, err := st.RejectBudgetChange(ctx, board, pending.ID, "No"); !errors.Is(err, models.ErrRoleAuthority) {
		t.Fatalf("board member rejecting: %v", err)
	}
	wantRefusal(t, raw(st, `UPDATE budget_changes SET status = 'rejected', rejection_reason = 'No', decided_by = ?, decided_at = now() WHERE id = ?`,
		board.UserID, pending.ID), "decision_role_authority")
	if _, err := st.RejectBudgetChange(ctx, officer, pending.ID, "Not this year"); err != nil {
		t.Fatal(err)
	}
}

// TestBudgetChangeEffectiveDate: a change's effective date falls within
// the dates of each line it moves and not after a year it moves has ended,
// in Go (naming effective_on) and in PostgreSQL (budget_change_effective_on).
func TestBudgetChangeEffectiveDate(t *testing.T) {
	st := MustStore(t)
	fl := profiledLine(t, st) // 2023-04-01 to 2025-03-31
	maker := person(t, st, models.RoleFinanceOfficer)
	for _, tc := range []struct{ on, want string }{
		{"2024-06-01", "is after 2023-24 ended"},
		{"2023-01-01", "is outside"},
	} {
		_, err := propose(t, st, maker, models.BudgetChangeInput{Kind: "reprofile", Reason: "Slippage", EffectiveOn: tc.on,
			Moves: []models.MoveInput{move(fl.ID, "2023-24", "-100.00"), move(fl.ID, "2024-25", "100.00")}})
		if models.ErrorCode(err) != models.EINVALID || !strings.Contains(fieldsOf(err), "effective_on: "+tc.on+" "+tc.want) {
			t.Fatalf("effective on %s: %v", tc.on, err)
		}
		wantRefusal(t, raw(st, `WITH c AS (INSERT INTO budget_changes (kind, reason, effective_on, proposed_by) VALUES ('reprofile', 'x', ?0, ?1) RETURNING id)
			INSERT INTO budget_change_moves (budget_change_id, funding_line_id, financial_year, delta)
			SELECT id, ?2, 2023, -100.00 FROM c UNION ALL SELECT id, ?2, 2024, 100.00 FROM c`, tc.on, maker.UserID, fl.ID), "budget_change_effective_on")
	}
}
