package report

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// TestRememberedRatingsAreTheRatings: whatever a line's budget, spend and
// dates do between reports, the remembered forecast, variance and rating
// are what working them out afresh gives, and a line whose inputs did not
// change is not worked out again.
func TestRememberedRatingsAreTheRatings(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 2))
	p := models.PeriodOf(2024, 0)
	asOf := time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC)
	r := &periodRatings{lines: map[int64]rated{}}
	days := []time.Time{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), p.Start, time.Date(2024, 9, 30, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), p.End, time.Date(2025, 6, 30, 0, 0, 0, 0, time.UTC)}
	money := func() decimal.Decimal { return decimal.New(rng.Int64N(2_000_000), -2) }
	type inputs struct {
		budget, spent decimal.Decimal
		starts, ends  time.Time
	}
	lines := make([]inputs, 5)
	for i := range lines {
		lines[i] = inputs{money(), money(), days[0], days[4]}
	}
	hits := 0
	for step := range 2000 {
		i := rng.IntN(len(lines))
		switch rng.IntN(5) {
		case 0:
			lines[i].spent = lines[i].spent.Add(decimal.New(1, -2)) // a penny more
		case 1:
			lines[i].budget = money()
		case 2:
			lines[i].starts, lines[i].ends = days[rng.IntN(3)], days[3+rng.IntN(3)]
		}
		in := lines[i]
		before, seen := r.lines[int64(i)]
		worked := r.worked
		got, used := r.rate(int64(i), in.budget, in.spent, p, in.starts, in.ends, asOf)
		want := Figures{Budget: in.budget, Spent: in.spent}
		want.rate(p, in.starts, in.ends, asOf)
		want.Variance = want.Forecast.Sub(want.Budget)
		if !got.Budget.Equal(in.budget) || used != usedPercent(want) {
			t.Fatalf("step %d, line %d: remembered budget %s and %d%% used, want %s and %d%%", step, i, got.Budget, used, in.budget, usedPercent(want))
		}
		if !got.Forecast.Equal(want.Forecast) || !got.Variance.Equal(want.Variance) || got.RAG != want.RAG {
			t.Fatalf("step %d, line %d %+v: remembered %s %s %s, afresh %s %s %s", step, i, in,
				got.Forecast, got.Variance, got.RAG, want.Forecast, want.Variance, want.RAG)
		}
		same := seen && before.budget.Equal(in.budget) && before.spent.Equal(in.spent) && before.starts.Equal(in.starts) && before.ends.Equal(in.ends)
		switch {
		case same && r.worked != worked:
			t.Fatalf("step %d: line %d, unchanged, was worked out again", step, i)
		case !same && r.worked != worked+1:
			t.Fatalf("step %d: line %d, changed, was not worked out again", step, i)
		case same:
			hits++
		}
	}
	// Whole percentages used, against the rule they stand for.
	for range 5000 {
		f := Figures{Budget: money(), Spent: money()}
		if rng.IntN(10) == 0 {
			f.Spent = f.Budget.Mul(decimal.New(int64(rng.IntN(200)), -2)) // on a percentage exactly
		}
		used := usedPercent(f)
		for _, percent := range []int64{1, 50, 80, 90, 99, 100} {
			want := f.Budget.IsPositive() && f.Spent.Mul(decimal.NewFromInt(100)).GreaterThanOrEqual(f.Budget.Mul(decimal.NewFromInt(percent)))
			if (used >= percent) != want {
				t.Fatalf("spent %s of %s is %d%% used: at %d%% %v, want %v", f.Spent, f.Budget, used, percent, used >= percent, want)
			}
		}
	}
	if hits < 500 {
		t.Fatalf("only %d of 2000 ratings came from memory; the test exercised little of it", hits)
	}
}

// TestWorkedLinesAreTheSameRowsLines: the very same line figures for the
// same period and moment give back the lines and programmes worked out
// before, which equal working them out afresh; other figures (a changed
// line, or another moment) are worked out again; and what a caller does to
// the programmes it is given does not change what is remembered.
func TestWorkedLinesAreTheSameRowsLines(t *testing.T) {
	p := models.PeriodOf(2024, 0)
	asOf := time.Date(2024, 11, 22, 0, 0, 0, 0, time.UTC)
	q := Query{Period: p, AsOf: asOf, GroupBy: ByProgramme}
	rows := make([]store.LineFigures, 40)
	for i := range rows {
		rows[i] = store.LineFigures{ReportedLine: &store.ReportedLine{LineID: int64(i + 1), ProgrammeID: int64(i%3 + 1),
			ProgrammeCode: fmt.Sprintf("P%d", i%3+1), YearBudget: decimal.New(int64(1000+i), 0), StartsOn: p.Start, EndsOn: p.End,
			Status: models.StatusActive}, Spent: decimal.New(int64(37*i), -1)}
	}
	ls, err := lines(rows, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := lines(rows, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &again[0] != &ls[0] {
		t.Fatal("the same figures were worked out again")
	}
	afresh, err := workOut(rows, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ls, afresh) {
		t.Fatal("the remembered lines differ from working them out afresh")
	}
	progs := byProgramme(q, ls)
	if want := groupByProgramme(q, afresh).groups; !reflect.DeepEqual(progs, want) || len(progs) != 3 {
		t.Fatalf("programmes %+v, want %+v", progs, want)
	}
	progs[0].Spent, progs[0].Name = decimal.New(-1, 0), "changed by a caller"
	if again := byProgramme(q, ls); again[0].Name == "changed by a caller" || again[0].Spent.IsNegative() {
		t.Fatal("a caller's change to its programmes changed what is remembered")
	}

	// A line's money moved: the store hands back new figures.
	moved := slices.Clone(rows)
	moved[5].Spent = moved[5].Spent.Add(decimal.New(1, -2)) // line 6, in P3
	ls2, err := lines(moved, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &ls2[0] == &ls[0] || !ls2[5].Spent.Equal(moved[5].Spent) {
		t.Fatal("changed figures were given the lines worked out before")
	}
	penny := decimal.New(1, -2)
	if got := byProgramme(q, ls2); !reflect.DeepEqual(got, groupByProgramme(q, ls2).groups) || !got[2].Spent.Equal(progs[2].Spent.Add(penny)) {
		t.Fatalf("programmes after line 6 moved a penny: %+v, want P3 at %s", got, progs[2].Spent.Add(penny))
	}
	// Another moment, the same figures.
	later := q
	later.AsOf = asOf.AddDate(0, 0, 1)
	ls3, err := lines(moved, later, nil)
	if err != nil {
		t.Fatal(err)
	}
	if &ls3[0] == &ls2[0] {
		t.Fatal("lines worked out as of one day were given for the next")
	}
}

// TestMovedLinesAreWorkedOutAsAfresh: when the store says which lines'
// money moved between two sets of figures, only those lines are worked out
// again and their programmes' sums moved, not regrouped; through a random
// walk of money moving on a few lines at a time (ratings changing with
// it), every line and programme equals working them out afresh, and the
// lines the store did not name are not worked out again.
func TestMovedLinesAreWorkedOutAsAfresh(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 2))
	p := models.PeriodOf(2023, 0) // its own period, so no other test's lines are remembered
	asOf := time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC)
	q := Query{Period: p, AsOf: asOf, GroupBy: ByProgramme}
	rows := make([]store.LineFigures, 60)
	for i := range rows {
		rows[i] = store.LineFigures{ReportedLine: &store.ReportedLine{LineID: int64(1000 + i), ProgrammeID: int64(i%4 + 1),
			ProgrammeCode: fmt.Sprintf("P%d", i%4+1), YearBudget: decimal.New(int64(10_000+100*i), 0), StartsOn: p.Start, EndsOn: p.End,
			Status: models.StatusActive}, Spent: decimal.New(int64(rng.IntN(2_000_000)), -2)}
	}
	var before, after []store.LineFigures
	var at []int
	moved := func(b, a []store.LineFigures) ([]int, bool) {
		if !sameSlice(b, before) || !sameSlice(a, after) {
			return nil, false
		}
		return at, true
	}
	ls, err := lines(rows, q, moved)
	if err != nil {
		t.Fatal(err)
	}
	byProgramme(q, ls)
	remembered := ratings.of(p, asOf)
	for step := range 300 {
		before, after, at = rows, slices.Clone(rows), nil
		for _, i := range rng.Perm(len(rows))[:1+rng.IntN(3)] {
			switch rng.IntN(3) {
			case 0:
				after[i].Spent = after[i].Spent.Add(decimal.New(int64(rng.IntN(500_000)), -2))
			case 1:
				after[i].Spent = after[i].Spent.Sub(decimal.New(int64(rng.IntN(500_000)), -2))
			default:
				after[i].Reserved = decimal.New(int64(rng.IntN(100_000)), -2)
			}
			at = append(at, i)
		}
		remembered.mu.Lock()
		workedBefore := remembered.worked
		remembered.mu.Unlock()
		got, err := lines(after, q, moved)
		if err != nil {
			t.Fatal(err)
		}
		remembered.mu.Lock()
		if n := remembered.worked - workedBefore; n > len(at) {
			t.Fatalf("step %d: %d lines moved, %d worked out again", step, len(at), n)
		}
		remembered.mu.Unlock()
		want, err := workOut(after, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("step %d: the lines differ from working them out afresh", step)
		}
		progs, wantProgs := byProgramme(q, got), groupByProgramme(q, want).groups
		if len(progs) != len(wantProgs) {
			t.Fatalf("step %d: %d programmes, want %d", step, len(progs), len(wantProgs))
		}
		for g := range progs {
			a, b := progs[g], wantProgs[g]
			if a.Key != b.Key || a.RAG != b.RAG || *a.RollUp != *b.RollUp || !sameFigures(a.Figures, b.Figures) {
				t.Fatalf("step %d, programme %s: moved %+v (%v), afresh %+v (%v)", step, a.Code, a.Figures, *a.RollUp, b.Figures, *b.RollUp)
			}
		}
		rows = after
	}
}

func sameFigures(a, b Figures) bool {
	x, y := a.sums(), b.sums()
	for i := range x {
		if !x[i].Equal(*y[i]) {
			return false
		}
	}
	return a.Remaining.Equal(b.Remaining) && a.Uncommitted.Equal(b.Uncommitted) && a.Variance.Equal(b.Variance) && a.BurnRate.Equal(b.BurnRate)
}
