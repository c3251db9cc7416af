package report_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

var sys = models.SystemActor("test")

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.DSN())
	must(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

// world is a random set of lines, awards, reservations and spend.
type world struct {
	st            *store.Store
	maker, second models.Actor
	programmes    []*models.Programme
	orgs          []*models.Organisation
	lines         []*models.FundingLine
}

var worldSeq int

func newWorld(t *testing.T, st *store.Store, rng *rand.Rand) *world {
	t.Helper()
	ctx := context.Background()
	worldSeq++
	w := &world{st: st}
	for i, role := range []models.Role{models.RoleFinanceOfficer, models.RoleFinanceManager} {
		u := &models.User{Email: fmt.Sprintf("w%d-%d@test.example", worldSeq, i), Name: "U", Role: role, PasswordHash: "x", Active: true}
		must(t, st.CreateUser(ctx, sys, u))
		a := models.Actor{UserID: u.ID, Label: u.Email, Role: role}
		if i == 0 {
			w.maker = a
		} else {
			w.second = a
		}
	}
	for i := range 3 {
		p := &models.Programme{Code: fmt.Sprintf("W%dP%d", worldSeq, i), Name: fmt.Sprintf("Programme %d", i), Plan: "Plan"}
		must(t, st.CreateProgramme(ctx, sys, p))
		w.programmes = append(w.programmes, p)
	}
	for i := range 4 {
		o := &models.Organisation{Name: fmt.Sprintf("World %d org %d", worldSeq, i), OrgID: storetest.OrgID(), IsFunder: true, IsRecipient: true}
		must(t, st.CreateOrganisation(ctx, sys, o))
		w.orgs = append(w.orgs, o)
	}
	starts := []string{"2023-04-01", "2024-01-15", "2024-04-01", "2024-10-01", "2024-12-20", "2025-02-01"}
	ends := []string{"2024-06-30", "2025-03-31", "2025-09-30", "2026-03-31"}
	for i := range 8 {
		s, e := starts[rng.IntN(len(starts))], ends[rng.IntN(len(ends))]
		if e < s {
			s, e = e, s
		}
		budget := decimal.NewFromInt(int64(5000 + rng.IntN(200000))).Add(decimal.New(int64(rng.IntN(100)), -2))
		fl, err := models.FundingLineInput{Code: fmt.Sprintf("W%dL%d", worldSeq, i), Title: "Line", Kind: "grant",
			ProgrammeID: w.programmes[rng.IntN(3)].ID, FunderID: w.orgs[0].ID, Budget: budget.StringFixed(2), StartsOn: s, EndsOn: e}.Validate()
		must(t, err)
		must(t, st.CreateFundingLine(ctx, sys, fl))
		if i != 7 { // a draft line: its budget is not reported
			must(t, storetest.Activate(ctx, st, fl.ID))
		}
		w.lines = append(w.lines, fl)
	}
	return w
}

func (w *world) randomDate(rng *rand.Rand) string {
	return time.Date(2023, 4, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3*365)).Format(models.DateLayout)
}

// step makes one random change; refusals (over budget, etc.) are part of
// the game and change nothing.
func (w *world) step(t *testing.T, rng *rand.Rand, pending *[]int64, approved *[]int64) {
	ctx := context.Background()
	fl := w.lines[rng.IntN(len(w.lines)-1)]
	amount := decimal.NewFromInt(int64(1 + rng.IntN(20000))).Add(decimal.New(int64(rng.IntN(100)), -2)).StringFixed(2)
	switch rng.IntN(6) {
	case 0:
		d := w.randomDate(rng)
		a, err := models.AwardInput{RecipientID: w.orgs[1+rng.IntN(3)].ID, Reference: fmt.Sprintf("W%dA%d", worldSeq, rng.Int()),
			Amount: amount, AwardedOn: d, StartsOn: d, EndsOn: d, TrancheCount: 1 + rng.IntN(5)}.Validate(fl.ID)
		must(t, err)
		_ = w.st.CreateAward(ctx, w.maker, a)
	case 1:
		r, err := models.ReservationInput{Amount: amount, Purpose: "Tender", ExpectedOn: w.randomDate(rng)}.Validate(fl.ID)
		must(t, err)
		if w.st.CreateReservation(ctx, w.maker, r) == nil && rng.IntN(3) == 0 {
			_, err := w.st.ReleaseReservation(ctx, w.maker, r.ID, "withdrawn")
			must(t, err)
		}
	case 2, 3:
		// A day of the line's life: spend outside it is refused.
		on := fl.StartsOn.AddDate(0, 0, rng.IntN(int(fl.EndsOn.Sub(fl.StartsOn).Hours()/24)+1)).Format(models.DateLayout)
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: w.orgs[rng.IntN(4)].ID, Amount: amount, IncurredOn: on,
			Category: "services", Purpose: "Purpose", VFMReason: "Tendered"}.Validate()
		must(t, err)
		if _, err = w.st.RecordSpend(ctx, w.maker, e, "", nil); models.ErrorCode(err) == models.ECONFLICT {
			return // dated outside the line's life
		}
		must(t, err)
		*pending = append(*pending, e.ID)
	case 4:
		if len(*pending) > 0 {
			i := rng.IntN(len(*pending))
			id := (*pending)[i]
			*pending = append((*pending)[:i], (*pending)[i+1:]...)
			if rng.IntN(5) == 0 {
				_, err := w.st.RejectSpend(ctx, w.second, id, "wrong line")
				must(t, err)
			} else if _, err := w.st.ApproveSpend(ctx, w.second, id); err == nil {
				*approved = append(*approved, id)
			}
		}
	case 5:
		if len(*approved) > 0 {
			id := (*approved)[rng.IntN(len(*approved))]
			if rev, err := w.st.ReverseSpend(ctx, w.maker, id, "duplicate"); err == nil {
				_, _ = w.st.ApproveSpend(ctx, w.second, rev.ID)
			}
		}
	}
}

// ledgerSums are the period's sums straight from the tables.
func ledgerSums(t *testing.T, st *store.Store, lineIDs []int64, p models.Period) (spent, pending, committed, reserved decimal.Decimal) {
	t.Helper()
	err := st.DB().NewRaw(`SELECT
		coalesce((SELECT sum(amount) FROM spend_entries WHERE status = 'approved' AND funding_line_id IN (?0) AND incurred_on BETWEEN ?1 AND ?2), 0),
		coalesce((SELECT sum(amount) FROM spend_entries WHERE status = 'pending' AND reverses_id IS NULL AND funding_line_id IN (?0) AND incurred_on BETWEEN ?1 AND ?2), 0),
		coalesce((SELECT sum(t.amount) FROM tranches t JOIN awards a ON a.id = t.award_id WHERE a.funding_line_id IN (?0) AND t.due_on BETWEEN ?1 AND ?2), 0),
		coalesce((SELECT sum(amount) FROM reservations WHERE status = 'held' AND funding_line_id IN (?0) AND expected_on BETWEEN ?1 AND ?2), 0)`,
		bun.In(lineIDs), p.Start, p.End).Scan(context.Background(), &spent, &pending, &committed, &reserved)
	must(t, err)
	return
}

func sumGroups(gs []report.Group) report.Figures {
	var f report.Figures
	for _, g := range gs {
		f.Budget = f.Budget.Add(g.Budget)
		f.Reserved = f.Reserved.Add(g.Reserved)
		f.Committed = f.Committed.Add(g.Committed)
		f.Pending = f.Pending.Add(g.Pending)
		f.Spent = f.Spent.Add(g.Spent)
		f.Remaining = f.Remaining.Add(g.Remaining)
		f.Uncommitted = f.Uncommitted.Add(g.Uncommitted)
		f.Forecast = f.Forecast.Add(g.Forecast)
		f.Variance = f.Variance.Add(g.Variance)
	}
	return f
}

func sameMoney(t *testing.T, what string, got, want decimal.Decimal) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s: %s, want %s", what, got.StringFixed(2), want.StringFixed(2))
	}
}

// TestReportsReconcileWithTheLedgerAfterRandomOperations: after random
// awards, reservations, spend, approvals, rejections and reversals, every
// grouping's groups add up to its total, the total equals the ledger's own
// sums for the period, the quarters add up to the year, and the year's
// budget is each line's budget profiled into it.
func TestReportsReconcileWithTheLedgerAfterRandomOperations(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	for seed := range uint64(3) {
		rng := rand.New(rand.NewPCG(seed, 42))
		w := newWorld(t, st, rng)
		var pending, approved []int64
		for range 150 {
			w.step(t, rng, &pending, &approved)
		}
		if len(approved) < 10 || len(pending) < 5 {
			t.Fatalf("seed %d: only %d approved and %d pending entries; the test needs more to mean anything", seed, len(approved), len(pending))
		}
		// The monthly rollup the reports read agrees with the ledger.
		drift, err := st.MonthlyRollupDrift(ctx)
		if err != nil || len(drift) > 0 {
			t.Fatalf("seed %d: the monthly rollup differs from the ledger (%v): %v", seed, err, drift)
		}
		if drift, err := st.YearlyRollupDrift(ctx); err != nil || len(drift) > 0 {
			t.Fatalf("seed %d: the yearly rollup differs from the ledger (%v): %+v", seed, err, drift)
		}
		var ids []int64
		for _, fl := range w.lines[:len(w.lines)-1] {
			ids = append(ids, fl.ID)
		}
		for _, fy := range []models.FinancialYear{2023, 2024, 2025} {
			yearly := map[string]report.Figures{}
			quarters := map[string]report.Figures{}
			for q := models.Quarter(0); q <= 4; q++ {
				p := models.PeriodOf(fy, q)
				spent, pend, committed, reserved := ledgerSums(t, st, ids, p)
				for _, by := range []string{report.ByProgramme, report.ByFundingLine, report.ByRecipient} {
					name := fmt.Sprintf("seed %d %s by %s", seed, p, by)
					var progs []int64
					for _, pr := range w.programmes {
						progs = append(progs, pr.ID)
					}
					var b report.Budget
					for _, pid := range progs {
						r, err := report.BudgetReport(ctx, st, report.Query{Period: p, AsOf: time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC),
							GroupBy: by, Scope: store.ReportScope{ProgrammeID: pid}})
						must(t, err)
						sum := sumGroups(r.Groups)
						for _, c := range []struct {
							n    string
							g, t decimal.Decimal
						}{{"budget", sum.Budget, r.Total.Budget}, {"reserved", sum.Reserved, r.Total.Reserved},
							{"committed", sum.Committed, r.Total.Committed}, {"pending", sum.Pending, r.Total.Pending},
							{"spent", sum.Spent, r.Total.Spent}, {"remaining", sum.Remaining, r.Total.Remaining},
							{"uncommitted", sum.Uncommitted, r.Total.Uncommitted}, {"forecast", sum.Forecast, r.Total.Forecast},
							{"variance", sum.Variance, r.Total.Variance}} {
							sameMoney(t, name+" groups vs total "+c.n, c.g, c.t)
						}
						b.Groups = append(b.Groups, report.Group{Figures: r.Total})
					}
					all := sumGroups(b.Groups)
					sameMoney(t, name+" spent vs ledger", all.Spent, spent)
					sameMoney(t, name+" pending vs ledger", all.Pending, pend)
					sameMoney(t, name+" committed vs tranches", all.Committed, committed)
					sameMoney(t, name+" reserved vs reservations", all.Reserved, reserved)
					if q == 0 {
						yearly[by] = all
					} else {
						f := quarters[by]
						f.Budget, f.Spent = f.Budget.Add(all.Budget), f.Spent.Add(all.Spent)
						quarters[by] = f
					}
				}
			}
			for by, y := range yearly {
				sameMoney(t, fmt.Sprintf("seed %d %s by %s: quarters' budget vs year", seed, fy, by), quarters[by].Budget, y.Budget)
				sameMoney(t, fmt.Sprintf("seed %d %s by %s: quarters' spent vs year", seed, fy, by), quarters[by].Spent, y.Spent)
			}
		}
		// Over all the years the lines run, the profiled budget is the budget.
		total, want := decimal.Zero, decimal.Zero
		for _, fl := range w.lines[:len(w.lines)-1] {
			want = want.Add(fl.Budget)
		}
		for fy := models.FinancialYear(2022); fy <= 2026; fy++ {
			for _, pr := range w.programmes {
				r, err := report.BudgetReport(ctx, st, report.Query{Period: models.PeriodOf(fy, 0), AsOf: time.Now(), GroupBy: report.ByProgramme,
					Scope: store.ReportScope{ProgrammeID: pr.ID}})
				must(t, err)
				total = total.Add(r.Total.Budget)
			}
		}
		sameMoney(t, fmt.Sprintf("seed %d: budget over all years", seed), total, want)
	}
}

// TestCostPerOutcomeCountsReversalsInsideThePeriod: a reversal recorded in
// the period takes its amount off the numerator.
func TestCostPerOutcomeCountsReversalsInsideThePeriod(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(99, 1))
	w := newWorld(t, st, rng)
	now := time.Now().UTC()
	fy := models.FinancialYearOf(now)
	fl, err := models.FundingLineInput{Code: fmt.Sprintf("W%dREV", worldSeq), Title: "Line", Kind: "grant", ProgrammeID: w.programmes[0].ID,
		FunderID: w.orgs[0].ID, Budget: "10000.00", StartsOn: fy.Start().Format(models.DateLayout), EndsOn: fy.End().Format(models.DateLayout)}.Validate()
	must(t, err)
	must(t, st.CreateFundingLine(ctx, sys, fl))
	must(t, storetest.Activate(ctx, st, fl.ID))
	var ids []int64
	for _, amount := range []string{"1000.00", "600.00"} {
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: w.orgs[1].ID, Amount: amount, IncurredOn: now.Format(models.DateLayout),
			Category: "services", Purpose: "Sessions", VFMReason: "Quotes"}.Validate()
		must(t, err)
		_, err = st.RecordSpend(ctx, w.maker, e, "", nil)
		must(t, err)
		_, err = st.ApproveSpend(ctx, w.second, e.ID)
		must(t, err)
		ids = append(ids, e.ID)
	}
	rev, err := st.ReverseSpend(ctx, w.maker, ids[1], "Invoice paid twice")
	must(t, err)
	ind, err := models.IndicatorInput{FundingLineID: fl.ID, Name: "Sessions", Unit: "count", Direction: "higher_is_better", BaselineValue: "0", BaselineSrc: "register",
		BaselineOn: fy.Start().Format(models.DateLayout), Frequency: "quarterly"}.Validate()
	must(t, err)
	must(t, st.CreateIndicator(ctx, w.maker, ind))
	m, err := models.MeasurementInput{PeriodStart: fy.Start().Format(models.DateLayout), PeriodEnd: now.Format(models.DateLayout), Value: "4",
		Source: "register"}.Validate(ind.ID)
	must(t, err)
	must(t, st.RecordMeasurement(ctx, w.maker, m))
	q := report.Query{Period: models.PeriodOf(fy, 0), AsOf: now, Scope: store.ReportScope{FundingLineID: fl.ID}}
	cost := func() string {
		v, err := report.ValueForMoneyReport(ctx, st, q)
		must(t, err)
		if len(v.Outcomes) != 1 || v.Outcomes[0].Cost.Cost == nil {
			t.Fatalf("outcomes %+v", v.Outcomes)
		}
		return v.Outcomes[0].Cost.Cost.StringFixed(2)
	}
	if got := cost(); got != "400.00" { // 1,600.00 ÷ 4 sessions; the reversal is still pending
		t.Fatalf("before the reversal is approved: %s", got)
	}
	_, err = st.ApproveSpend(ctx, w.second, rev.ID)
	must(t, err)
	if got := cost(); got != "250.00" { // (1,600.00 − 600.00) ÷ 4
		t.Fatalf("after the reversal: %s", got)
	}
}

// TestLinePaidOnItsScheduleIsGreen: £2,000,000.00 over 2023-24 and
// 2024-25, paid £1.2m then £0.8m. Against its profile (£1.2m, £0.8m) the
// line is green in both years; against the budget spread evenly by day, as
// the reports rated it before profiles, it was red in both.
func TestLinePaidOnItsScheduleIsGreen(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	officers := storetest.Officers(t, st, "schedule-maker@test.example")
	admin := &models.User{Email: "schedule-admin@test.example", Name: "Admin", Role: models.RoleFinanceManager, PasswordHash: "x", Active: true}
	must(t, st.CreateUser(ctx, sys, admin))
	checker := models.Actor{UserID: admin.ID, Label: admin.Email, Role: admin.Role}
	profile := map[string]string{"2023-24": "1200000.00", "2024-25": "800000.00"}
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "PAID-ON-SCHEDULE", PayeeName: "Scheduled payee", Budget: "2000000.00",
		StartsOn: "2023-04-01", EndsOn: "2025-03-31", Profile: profile})
	for _, p := range []struct{ amount, on string }{{"600000.00", "2023-06-30"}, {"600000.00", "2023-12-29"}, {"800000.00", "2024-06-28"}} {
		e, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: p.amount, IncurredOn: p.on, Category: "grant_payment",
			Purpose: "Scheduled payment", VFMReason: "Paid on the award's schedule"}.Validate()
		must(t, err)
		_, err = st.RecordSpend(ctx, officers[0], e, "", nil)
		must(t, err)
		_, err = st.ApproveSpend(ctx, checker, e.ID)
		must(t, err)
	}
	evenly, err := models.ProfileBudget(l.Budget, l.StartsOn, l.EndsOn)
	must(t, err)
	for _, fy := range []models.FinancialYear{2023, 2024} {
		b, err := report.BudgetReport(ctx, st, report.Query{Period: models.PeriodOf(fy, 0), AsOf: time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC),
			GroupBy: report.ByFundingLine, Scope: store.ReportScope{FundingLineID: l.ID}})
		must(t, err)
		if len(b.Groups) != 1 {
			t.Fatalf("%s: %d groups", fy, len(b.Groups))
		}
		g := b.Groups[0]
		if !g.Budget.Equal(decimal.RequireFromString(profile[fy.String()])) || g.RAG != models.Green {
			t.Fatalf("%s: budget %s rated %s, want the profiled %s and green", fy, g.Budget, g.RAG, profile[fy.String()])
		}
		if before := models.RateForecast(models.BudgetIn(evenly, models.PeriodOf(fy, 0)), g.Forecast); before != models.Red {
			t.Fatalf("%s: against the even spread the line rates %s; the test no longer shows the change", fy, before)
		}
	}
}

// TestCostPerOutcomeUsesTheCurrentRevision: once an indicator's baseline is
// corrected, the value-for-money report divides by the change from the
// corrected baseline, not the one it replaced.
func TestCostPerOutcomeUsesTheCurrentRevision(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	w := newWorld(t, st, rand.New(rand.NewPCG(7, 3)))
	now := time.Now().UTC()
	fy := models.FinancialYearOf(now)
	fl, err := models.FundingLineInput{Code: fmt.Sprintf("W%dREVN", worldSeq), Title: "Line", Kind: "grant", ProgrammeID: w.programmes[0].ID,
		FunderID: w.orgs[0].ID, Budget: "10000.00", StartsOn: fy.Start().Format(models.DateLayout), EndsOn: fy.End().Format(models.DateLayout)}.Validate()
	must(t, err)
	must(t, st.CreateFundingLine(ctx, sys, fl))
	must(t, storetest.Activate(ctx, st, fl.ID))
	e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: w.orgs[1].ID, Amount: "1200.00", IncurredOn: now.Format(models.DateLayout),
		Category: "services", Purpose: "Sessions", VFMReason: "Quotes"}.Validate()
	must(t, err)
	_, err = st.RecordSpend(ctx, w.maker, e, "", nil)
	must(t, err)
	_, err = st.ApproveSpend(ctx, w.second, e.ID)
	must(t, err)
	start := fy.Start().Format(models.DateLayout)
	ind, err := models.IndicatorInput{FundingLineID: fl.ID, Name: "Sessions", Unit: "count", Direction: "higher_is_better", BaselineValue: "0",
		BaselineSrc: "register", BaselineOn: start, Frequency: "quarterly"}.Validate()
	must(t, err)
	must(t, st.CreateIndicator(ctx, w.maker, ind))
	m, err := models.MeasurementInput{PeriodStart: start, PeriodEnd: now.Format(models.DateLayout), Value: "6", Source: "register"}.Validate(ind.ID)
	must(t, err)
	must(t, st.RecordMeasurement(ctx, w.maker, m))
	q := report.Query{Period: models.PeriodOf(fy, 0), AsOf: now, Scope: store.ReportScope{FundingLineID: fl.ID}}
	costs := func() string {
		v, err := report.ValueForMoneyReport(ctx, st, q)
		must(t, err)
		if len(v.Outcomes) != 1 || v.Outcomes[0].Cost.Cost == nil || v.Outcomes[0].ToDate.Cost == nil {
			t.Fatalf("outcomes %+v", v.Outcomes)
		}
		return v.Outcomes[0].Cost.Cost.StringFixed(2) + " " + v.Outcomes[0].ToDate.Cost.StringFixed(2)
	}
	if got := costs(); got != "200.00 200.00" { // 1,200.00 ÷ (6 − 0)
		t.Fatalf("before the correction: %s", got)
	}
	revs, err := st.IndicatorRevisions(ctx, ind.ID)
	must(t, err)
	r, err := models.IndicatorCorrectionInput{Name: "Sessions", Unit: "count", Direction: "higher_is_better", BaselineValue: "2",
		BaselineSrc: "register, recounted", BaselineOn: start, Supersedes: revs[0].ID, Reason: "Two sessions ran before the grant"}.Validate(ind.ID)
	must(t, err)
	_, err = st.CorrectIndicator(ctx, w.maker, r)
	must(t, err)
	if got := costs(); got != "300.00 300.00" { // 1,200.00 ÷ (6 − 2)
		t.Fatalf("after the baseline's correction: %s", got)
	}
}
