package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func person(t *testing.T, st *store.Store, role models.Role) models.Actor {
	t.Helper()
	u := &models.User{Email: unique("u") + "@test.example", Name: "U", Role: role, PasswordHash: "x", Active: true}
	if err := st.CreateUser(context.Background(), actor, u); err != nil {
		t.Fatal(err)
	}
	return models.Actor{UserID: u.ID, Label: u.Email, Role: role}
}

func record(t *testing.T, st *store.Store, by models.Actor, fl *models.FundingLine, amount string) *models.SpendEntry {
	t.Helper()
	return spendOn(t, st, by, fl, amount, "2024-05-01")
}

// TestRacingApprovalsNeverOverspend records 1,000 entries of £1.00 against a
// £500.00 line and approves them all at once from many goroutines.
func TestRacingApprovalsNeverOverspend(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "500.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	const n = 1000
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = record(t, st, maker, fl, "1.00").ID
	}
	var (
		mu       sync.Mutex
		approved int
		refusals = map[string]int{}
		wg       sync.WaitGroup
		work     = make(chan int64)
	)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				_, err := st.ApproveSpend(ctx, checker, id)
				mu.Lock()
				if err == nil {
					approved++
				} else {
					refusals[models.ErrorCode(err)+": "+strings.SplitN(models.ErrorMessage(err), ":", 2)[0]]++
					if !strings.Contains(models.ErrorMessage(err), "so it is £1.00 short") {
						t.Errorf("unclear refusal: %v", err)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	if approved != 500 {
		t.Fatalf("%d approved, want exactly 500; refusals %v", approved, refusals)
	}
	totals, err := st.LineTotals(ctx, fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := totals[fl.ID]; got.Spent.String() != "500" || got.Pending.String() != "500" {
		t.Fatalf("spent %s pending %s, want 500 and 500", got.Spent, got.Pending)
	}
}

func TestMakerCheckerAndApprovalLimit(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "300000.00")
	maker, checker, manager := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceManager)

	e := record(t, st, maker, fl, "10.00")
	if _, err := st.ApproveSpend(ctx, maker, e.ID); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("the recorder approved their own spend: %v", err)
	}
	if _, err := st.RejectSpend(ctx, maker, e.ID, "no"); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("the recorder rejected their own spend: %v", err)
	}
	// The database refuses it too, whoever writes the row.
	err := raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = recorded_by, decided_at = now() WHERE id = ?", e.ID)
	if err == nil || !strings.Contains(err.Error(), "spend_entries_maker_checker") {
		t.Fatalf("raw self-approval: %v", err)
	}

	big := record(t, st, maker, fl, "100000.01")
	if _, err := st.ApproveSpend(ctx, checker, big.ID); models.ErrorCode(err) != models.EFORBIDDEN ||
		!errors.Is(err, models.ErrAmountAuthority) || !strings.Contains(models.ErrorMessage(err), "up to £100,000.00") {
		t.Fatalf("a finance officer approved over the limit: %v", err)
	}
	// Through SQL as the application, the scheme of delegation still holds:
	// a finance officer cannot approve £100,000.01, nor a board member £1.
	err = raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", checker.UserID, big.ID)
	if err == nil || !strings.Contains(err.Error(), "decision_amount_authority") {
		t.Fatalf("raw approval over the limit: %v", err)
	}
	board := &models.User{Email: unique("board") + "@example.org", Name: "Board", Role: models.RoleBoardMember, PasswordHash: "-", Active: true}
	if err := st.CreateUser(ctx, actor, board); err != nil {
		t.Fatal(err)
	}
	small := record(t, st, maker, fl, "1.00")
	err = raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", board.ID, small.ID)
	if err == nil || !strings.Contains(err.Error(), "decision_role_authority") {
		t.Fatalf("raw approval by a board member: %v", err)
	}
	_, err = st.ApproveSpend(ctx, models.Actor{UserID: board.ID, Label: board.Email, Role: board.Role}, small.ID)
	if !errors.Is(err, models.ErrRoleAuthority) {
		t.Fatalf("a board member approved spend: %v", err)
	}
	if _, err := st.ApproveSpend(ctx, manager, big.ID); err != nil {
		t.Fatalf("manager approval over the limit: %v", err)
	}
	atLimit := record(t, st, maker, fl, "100000.00")
	if _, err := st.ApproveSpend(ctx, checker, atLimit.ID); err != nil {
		t.Fatalf("approval at exactly the limit: %v", err)
	}
	if _, err := st.ApproveSpend(ctx, manager, atLimit.ID); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("approved twice: %v", err)
	}

	// Each refused decision is in the audit trail, by whom and why; the
	// conflict (a second approval) is not a refusal of authority.
	var denied []struct {
		ActorID  int64  `bun:"actor_id"`
		EntityID int64  `bun:"entity_id"`
		Action   string `bun:"action"`
	}
	if err := st.DB().NewRaw(`SELECT actor_id, entity_id::bigint AS entity_id, after->>'action' AS action FROM audit_events
		WHERE action = 'authz.denied' AND entity = 'spend_entry' AND entity_id IN (?::text, ?::text, ?::text) ORDER BY seq`,
		e.ID, big.ID, atLimit.ID).Scan(ctx, &denied); err != nil {
		t.Fatal(err)
	}
	want := []struct {
		actor, entry int64
		action       string
	}{{maker.UserID, e.ID, "spend.approve"}, {maker.UserID, e.ID, "spend.reject"}, {checker.UserID, big.ID, "spend.approve"}}
	if len(denied) != len(want) {
		t.Fatalf("refusals recorded: %+v, want %+v", denied, want)
	}
	for i, w := range want {
		if d := denied[i]; d.ActorID != w.actor || d.EntityID != w.entry || d.Action != w.action {
			t.Errorf("refusal %d recorded as %+v, want %+v", i, d, w)
		}
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain: %+v %v", status, err)
	}
}

func TestLedgerIsAppendOnly(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "100.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	e := record(t, st, maker, fl, "40.00")
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	for name, q := range map[string]string{
		"ErrUpdateAmount": "UPDATE spend_entries SET amount = 1.00 WHERE id = ?",
		"ErrUnapprove":    "UPDATE spend_entries SET status = 'pending', decided_by = NULL, decided_at = NULL WHERE id = ?",
		"ErrReject":       "UPDATE spend_entries SET status = 'rejected', rejection_reason = 'x' WHERE id = ?",
		"ErrDelete":       "DELETE FROM spend_entries WHERE id = ?",
		// Evidence refers to the ledger, so a plain TRUNCATE stops at the
		// foreign key; CASCADE reaches the append-only triggers.
		"ErrTruncate":       "TRUNCATE spend_entries CASCADE",
		"ErrEditReference":  "UPDATE spend_entries SET reference = 'INV-CHANGED' WHERE id = ?",
		"ErrApproveOverrun": "",
	} {
		if q == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			var args []any
			if strings.Contains(q, "?") {
				args = []any{e.ID}
			}
			// The application role lacks the privilege or meets the
			// trigger; the owner, with every privilege, meets the trigger.
			if err := raw(st, q, args...); err == nil || !strings.Contains(err.Error(), "append-only") && !strings.Contains(err.Error(), "permission denied for table spend_entries") {
				t.Fatalf("err = %v", err)
			}
			if err := asOwner(t, q, args...); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("as the owner: err = %v", err)
			}
		})
	}
	// A decision on a pending entry cannot change anything else with it.
	pending := record(t, st, maker, fl, "10.00")
	for _, set := range []string{"amount = 9.00", "payee_id = payee_id + 1", "import_id = NULL, reference = 'X'", "recorded_at = now() - interval '1 day'"} {
		q := "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now(), " + set + " WHERE id = ?"
		if err := raw(st, q, checker.UserID, pending.ID); err == nil || !strings.Contains(err.Error(), "permission denied for table spend_entries") {
			t.Errorf("approving while setting %s: %v", set, err)
		}
		if err := asOwner(t, q, checker.UserID, pending.ID); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("as the owner, approving while setting %s: %v", set, err)
		}
	}
	// Every column but the four a decision sets is guarded, by name: a new
	// column must be added to the guard.
	var def string
	if err := st.DB().NewRaw("SELECT pg_get_functiondef('spend_entries_append_only'::regproc)").Scan(ctx, &def); err != nil {
		t.Fatal(err)
	}
	var cols []string
	if err := st.DB().NewRaw(`SELECT column_name FROM information_schema.columns WHERE table_name = 'spend_entries'
		AND column_name NOT IN ('status', 'decided_by', 'decided_at', 'rejection_reason')`).Scan(ctx, &cols); err != nil || len(cols) < 15 {
		t.Fatalf("columns %v: %v", cols, err)
	}
	for _, c := range cols {
		if !strings.Contains(def, "NEW."+c+",") && !strings.Contains(def, "NEW."+c+")") ||
			!strings.Contains(def, "OLD."+c+",") && !strings.Contains(def, "OLD."+c+")") {
			t.Errorf("the append-only guard does not compare column %s", c)
		}
	}
	// The database's own budget check: approving over budget by raw SQL fails.
	over := record(t, st, maker, fl, "60.01")
	err := raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?", checker.UserID, over.ID)
	if err == nil || !strings.Contains(err.Error(), "exceeds the budget") {
		t.Fatalf("raw over-budget approval: %v", err)
	}
}

func TestReversal(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "100.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	e := record(t, st, maker, fl, "75.00")
	if _, err := st.ReverseSpend(ctx, maker, e.ID, "typo"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("reversed pending spend: %v", err)
	}
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	rev, err := st.ReverseSpend(ctx, maker, e.ID, "invoice was for another line")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Amount.String() != "-75" || rev.Status != models.SpendPending || *rev.ReversesID != e.ID {
		t.Fatalf("reversal = %+v", rev)
	}
	if _, err := st.ReverseSpend(ctx, checker, e.ID, "again"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("reversed twice: %v", err)
	}
	if _, err := st.ApproveSpend(ctx, maker, rev.ID); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("reversal approved by its recorder: %v", err)
	}
	if _, err := st.ApproveSpend(ctx, checker, rev.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReverseSpend(ctx, checker, rev.ID, "undo the undo"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("reversed a reversal: %v", err)
	}
	totals, _ := st.LineTotals(ctx, fl.ID)
	if !totals[fl.ID].Spent.IsZero() {
		t.Fatalf("spent after reversal = %s", totals[fl.ID].Spent)
	}
	// A raw reversal that does not match its original is refused.
	err = raw(st, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, recorded_by, reverses_id, reversal_reason)
		VALUES (?, ?, -1.00, '2024-05-01', 'other', ?, ?, 'x')`, fl.ID, fl.FunderID, maker.UserID, e.ID)
	if err == nil {
		t.Fatal("a second, mismatched reversal was stored")
	}
}

// A reversal is dated by the day in London: one made at 00:30 BST on
// 1 April (23:30 UTC on 31 March) belongs to the new financial year, and its
// approval is stamped with the same instant.
func TestReversalIsDatedByTheDayInLondon(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "100.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	e := record(t, st, maker, fl, "40.00")
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, time.April, 1, 0, 30, 0, 0, models.London)
	st.SetClock(func() time.Time { return at })
	rev, err := st.ReverseSpend(ctx, maker, e.ID, "paid from the wrong line")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.SpendEntry(ctx, rev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := stored.IncurredOn.Format(models.DateLayout); got != "2025-04-01" {
		t.Fatalf("a reversal made at 00:30 BST on 1 April is dated %s, want 2025-04-01", got)
	}
	if fy := models.FinancialYearOf(stored.IncurredOn).String(); fy != "2025-26" {
		t.Fatalf("the reversal falls in %s, want 2025-26", fy)
	}
	decided, err := st.ApproveSpend(ctx, checker, rev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if decided.DecidedAt == nil || !decided.DecidedAt.Equal(at) || models.BusinessDate(*decided.DecidedAt).Format(models.DateLayout) != "2025-04-01" {
		t.Fatalf("the approval is stamped %v, want %s (1 April in London)", decided.DecidedAt, at.UTC())
	}
}

func TestIdempotentRecording(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "100.00")
	maker := person(t, st, models.RoleFinanceOfficer)
	in := models.SpendInput{FundingLineID: fl.ID, PayeeID: fl.FunderID, Amount: "5.00", IncurredOn: "2024-05-01", Category: "other"}
	const racers = 100
	ids := make([]int64, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, _ := in.Validate()
			if _, err := st.RecordSpend(ctx, maker, e, "key-1", []byte("body-1")); err != nil {
				t.Error(err)
			}
			ids[i] = e.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("racers got different entries: %v", ids)
		}
	}
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM spend_entries WHERE funding_line_id = ?", fl.ID).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("%d entries stored, want 1 (%v)", n, err)
	}
	e, _ := in.Validate()
	if _, err := st.RecordSpend(ctx, maker, e, "key-1", []byte("another body")); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("same key, other body: %v", err)
	}
}

// TestRandomLedgerOperations runs random record / approve / reject / reverse
// sequences and checks, after each run, that each line's spent figure is the
// sum of its approved entries as a simple model of the rules predicts, that
// approved spend never passes the budget, and that the audit chain verifies.
func TestRandomLedgerOperations(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 11))
	people := []models.Actor{person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceManager)}
	lines := []*models.FundingLine{line(t, st, "1000.00"), line(t, st, "250.50")}
	type entry struct {
		id, line int
		amount   decimal.Decimal
		status   models.SpendStatus
		reversal bool
		reversed bool
		by       int
	}
	var entries []*entry
	for step := range 300 {
		who := rng.IntN(len(people))
		switch op := rng.IntN(4); {
		case op == 0 || len(entries) == 0:
			l := rng.IntN(len(lines))
			amount := decimal.New(int64(rng.IntN(20000)+1), -2)
			e := record(t, st, people[who], lines[l], amount.StringFixed(2))
			entries = append(entries, &entry{id: int(e.ID), line: l, amount: amount, status: models.SpendPending, by: who})
		case op == 1:
			e := entries[rng.IntN(len(entries))]
			_, err := st.ApproveSpend(ctx, people[who], int64(e.id))
			spent := decimal.Zero
			for _, o := range entries {
				if o.line == e.line && o.status == models.SpendApproved {
					spent = spent.Add(o.amount)
				}
			}
			allowed := e.status == models.SpendPending && e.by != who &&
				(e.amount.IsNegative() || spent.Add(e.amount).LessThanOrEqual(lines[e.line].Budget))
			if allowed != (err == nil) {
				t.Fatalf("step %d: approve %+v by %d: err %v, model says allowed=%v", step, e, who, err, allowed)
			}
			if err == nil {
				e.status = models.SpendApproved
			}
		case op == 2:
			e := entries[rng.IntN(len(entries))]
			_, err := st.RejectSpend(ctx, people[who], int64(e.id), "not ours")
			if allowed := e.status == models.SpendPending && e.by != who; allowed != (err == nil) {
				t.Fatalf("step %d: reject %+v: %v", step, e, err)
			}
			if err == nil {
				e.status = models.SpendRejected
			}
		default:
			e := entries[rng.IntN(len(entries))]
			rev, err := st.ReverseSpend(ctx, people[who], int64(e.id), "correction")
			if allowed := e.status == models.SpendApproved && !e.reversal && !e.reversed; allowed != (err == nil) {
				t.Fatalf("step %d: reverse %+v: %v", step, e, err)
			}
			if err == nil {
				e.reversed = true
				entries = append(entries, &entry{id: int(rev.ID), line: e.line, amount: e.amount.Neg(), status: models.SpendPending, reversal: true, by: who})
			}
		}
	}
	for i, fl := range lines {
		want := decimal.Zero
		for _, e := range entries {
			if e.line == i && e.status == models.SpendApproved {
				want = want.Add(e.amount)
			}
		}
		totals, err := st.LineTotals(ctx, fl.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := totals[fl.ID].Spent; !got.Equal(want) {
			t.Errorf("line %s: spent %s, model says %s", fl.Code, got, want)
		}
		if totals[fl.ID].Spent.GreaterThan(fl.Budget) {
			t.Errorf("line %s overspent: %s > %s", fl.Code, totals[fl.ID].Spent, fl.Budget)
		}
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain: %+v %v", status, err)
	}
}

// TestLedgerKeysHoldForStraySQL checks, with raw SQL, the rules whose
// constraints were reshaped to make writes cheaper: an entry's award and
// tranche exist and belong together, a tranche needs its award, an entry is
// reversed once, and an idempotency key is used once per user.
func TestLedgerKeysHoldForStraySQL(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl, other := line(t, st, "1000.00"), line(t, st, "1000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	a, err := models.AwardInput{RecipientID: fl.FunderID, Reference: unique("A"), Amount: "100.00",
		AwardedOn: "2024-04-01", StartsOn: "2024-04-01", EndsOn: "2024-06-30"}.Validate(fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	a.Tranches = []*models.Tranche{{Seq: 1, DueOn: a.StartsOn, Amount: a.Amount}}
	if err := storetest.Award(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	tranche := a.Tranches[0].ID
	insert := func(lineID int64, award, tranche any) error {
		return raw(st, `INSERT INTO spend_entries (funding_line_id, award_id, tranche_id, payee_id, amount, incurred_on, category, recorded_by)
			VALUES (?, ?, ?, ?, 1.00, '2024-05-01', 'other', ?)`, lineID, award, tranche, fl.FunderID, maker.UserID)
	}
	if err := insert(fl.ID, a.ID, tranche); err != nil {
		t.Fatalf("a good entry with award and tranche was refused: %v", err)
	}
	for name, err := range map[string]error{
		"an award that does not exist":      insert(fl.ID, a.ID+1000, nil),
		"an award of another line":          insert(other.ID, a.ID, nil),
		"a tranche without its award":       insert(fl.ID, nil, tranche),
		"a tranche that does not exist":     insert(fl.ID, a.ID, tranche+1000),
		"a tranche of the award on another": insert(other.ID, a.ID, tranche),
	} {
		if err == nil {
			t.Errorf("the database stored %s", name)
		}
	}
	e := record(t, st, maker, fl, "5.00")
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	reverse := func() error {
		return raw(st, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, recorded_by, reverses_id, reversal_reason)
			VALUES (?, ?, -5.00, '2024-05-01', 'other', ?, ?, 'x')`, fl.ID, fl.FunderID, maker.UserID, e.ID)
	}
	if err := reverse(); err != nil {
		t.Fatalf("the first reversal was refused: %v", err)
	}
	if err := reverse(); err == nil || !strings.Contains(err.Error(), "spend_entries_reversed_once") {
		t.Fatalf("a second reversal of one entry: %v", err)
	}
	keyed := func() error {
		return raw(st, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, recorded_by, idempotency_key)
			VALUES (?, ?, 1.00, '2024-05-01', 'other', ?, 'k-1')`, fl.ID, fl.FunderID, maker.UserID)
	}
	if err := keyed(); err != nil {
		t.Fatal(err)
	}
	if err := keyed(); err == nil || !strings.Contains(err.Error(), "spend_entries_idempotency_key") {
		t.Fatalf("one idempotency key used twice: %v", err)
	}
}
