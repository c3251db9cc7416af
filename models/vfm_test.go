package models

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }
func decp(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}
func day(s string) time.Time {
	t, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestCostPerOutcomeAwkwardCases(t *testing.T) {
	for _, tc := range []struct {
		name            string
		spend           string
		dir             Direction
		baseline, value *decimal.Decimal
		cost            string // "" when not computable
		reason          string
		improvement     string
	}{
		{"fewer stabbings for the money", "540000.00", LowerIsBetter, decp("1200"), decp("876"), "1666.67", "", "324"},
		{"more people reached", "25000.00", HigherIsBetter, decp("0"), decp("12"), "2083.33", "", "12"},
		{"exact division keeps pennies", "10.00", HigherIsBetter, decp("1"), decp("5"), "2.50", "", "4"},
		{"percentage points", "600000.00", HigherIsBetter, decp("50"), decp("52.5"), "240000.00", "", "2.5"},
		{"zero change", "1000.00", LowerIsBetter, decp("300"), decp("300"), "", "no change from the baseline", "0"},
		{"wrong direction, lower is better", "1000.00", LowerIsBetter, decp("300"), decp("320"), "", "moved the wrong way (20 worse", "-20"},
		{"wrong direction, higher is better", "1000.00", HigherIsBetter, decp("50"), decp("48.5"), "", "moved the wrong way (1.5 worse", "-1.5"},
		{"missing baseline", "1000.00", HigherIsBetter, nil, decp("5"), "", "no baseline", ""},
		{"no measurement yet", "1000.00", HigherIsBetter, decp("5"), nil, "", "no measurement", ""},
		{"no spend", "0.00", HigherIsBetter, decp("0"), decp("5"), "", "no approved spend", "5"},
		{"reversals exceed spend", "-20.00", HigherIsBetter, decp("0"), decp("5"), "", "no approved spend", "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := ComputeCostPerOutcome(dec(tc.spend), tc.dir, tc.baseline, tc.value)
			if tc.cost == "" {
				if c.Cost != nil || !strings.Contains(c.Reason, tc.reason) || !strings.HasPrefix(c.Reason, "not computable") {
					t.Fatalf("want not computable (%q), got cost %v reason %q", tc.reason, c.Cost, c.Reason)
				}
			} else if c.Cost == nil || c.Cost.StringFixed(2) != tc.cost || c.Reason != "" {
				t.Fatalf("want cost %s, got %v (%q)", tc.cost, c.Cost, c.Reason)
			}
			if tc.improvement == "" {
				if c.Improvement != nil {
					t.Fatalf("improvement %v without both values", c.Improvement)
				}
			} else if c.Improvement == nil || !c.Improvement.Equal(dec(tc.improvement)) {
				t.Fatalf("improvement %v, want %s", c.Improvement, tc.improvement)
			}
			if !c.Spend.Equal(dec(tc.spend)) {
				t.Fatalf("numerator %s, want %s", c.Spend, tc.spend)
			}
		})
	}
}

func TestProfileBudgetAddsUpToThePennyAcrossQuarters(t *testing.T) {
	for _, tc := range []struct {
		budget, from, to string
		quarters         int
	}{
		{"2000000.00", "2022-04-01", "2025-03-31", 12},
		{"25000.00", "2024-04-15", "2024-09-30", 2},
		{"100.00", "2024-12-15", "2025-01-15", 2}, // crosses the calendar year inside one FY: Q3 and Q4
		{"0.01", "2024-01-01", "2024-12-31", 4},
		{"999999.99", "2023-03-31", "2023-04-01", 2}, // one day in each FY
		{"750000.00", "2022-10-01", "2025-03-31", 10},
	} {
		parts, err := ProfileBudget(dec(tc.budget), day(tc.from), day(tc.to))
		if err != nil {
			t.Fatal(err)
		}
		sum := decimal.Zero
		for _, p := range parts {
			sum = sum.Add(p.Amount)
			if !p.Amount.Equal(p.Amount.Truncate(2)) || p.Amount.IsNegative() {
				t.Fatalf("%v: part %s is not whole pennies", tc, p.Amount)
			}
		}
		if len(parts) != tc.quarters || !sum.Equal(dec(tc.budget)) {
			t.Fatalf("%v: %d quarters summing to %s", tc, len(parts), sum)
		}
		// The years' parts, taken period by period, add up to the budget too.
		byYear := decimal.Zero
		for fy := FinancialYearOf(day(tc.from)); fy <= FinancialYearOf(day(tc.to)); fy++ {
			year := BudgetIn(parts, PeriodOf(fy, 0))
			quarters := decimal.Zero
			for q := Quarter(1); q <= 4; q++ {
				quarters = quarters.Add(BudgetIn(parts, PeriodOf(fy, q)))
			}
			if !quarters.Equal(year) {
				t.Fatalf("%v %s: quarters %s, year %s", tc, fy, quarters, year)
			}
			byYear = byYear.Add(year)
		}
		if !byYear.Equal(dec(tc.budget)) {
			t.Fatalf("%v: years add up to %s", tc, byYear)
		}
	}
}

func TestProfileBudgetIsStraightLineByDay(t *testing.T) {
	// 2024-25 has 365 days; Q1 91, Q2 92, Q3 92, Q4 90.
	parts, err := ProfileBudget(dec("365.00"), day("2024-04-01"), day("2025-03-31"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"91.00", "92.00", "92.00", "90.00"}
	for i, p := range parts {
		if p.Amount.StringFixed(2) != want[i] || p.Quarter != Quarter(i+1) || p.Year != 2024 {
			t.Fatalf("part %d: %+v, want %s", i, p, want[i])
		}
	}
	// Q4 of 2024-25 is January to March 2025.
	if b := BudgetIn(parts, PeriodOf(2024, 4)); b.StringFixed(2) != "90.00" {
		t.Fatalf("Q4 %s", b)
	}
	if _, err := ProfileBudget(dec("1.00"), day("2024-05-01"), day("2024-04-01")); err == nil {
		t.Fatal("a line ending before it starts was profiled")
	}
}

func TestForecastIsStraightLineOverTheDaysTheLineRuns(t *testing.T) {
	fy := PeriodOf(2024, 0)
	cases := []struct {
		name         string
		spent        string
		starts, ends string
		asOf         string
		want         string
		started      bool
	}{
		{"half way through the year", "1000.00", "2024-04-01", "2025-03-31", "2024-09-30", "1994.54", true}, // 183 of 365 days
		{"year over: forecast is what was spent", "1000.00", "2024-04-01", "2025-03-31", "2025-06-01", "1000.00", true},
		{"line ended mid-year", "500.00", "2024-04-01", "2024-06-30", "2024-12-01", "500.00", true},
		{"partial year line, a third through", "300.00", "2024-10-01", "2025-03-31", "2024-11-30", "895.08", true}, // 300 × 182 ÷ 61 days
		{"not started", "0.00", "2025-01-01", "2025-03-31", "2024-10-01", "0.00", false},
		{"first day", "10.00", "2024-04-01", "2025-03-31", "2024-04-01", "3650.00", true},
	}
	for _, tc := range cases {
		got, started := Forecast(dec(tc.spent), fy, day(tc.starts), day(tc.ends), day(tc.asOf))
		if got.StringFixed(2) != tc.want || started != tc.started {
			t.Errorf("%s: forecast %s started %v, want %s %v", tc.name, got.StringFixed(2), started, tc.want, tc.started)
		}
	}
	// A quarter crossing the calendar year: Q4 runs January to March.
	q4 := PeriodOf(2024, 4)
	if got, _ := Forecast(dec("450.00"), q4, day("2022-01-01"), day("2030-01-01"), day("2025-02-14")); got.StringFixed(2) != "900.00" {
		t.Errorf("Q4 forecast %s, want 900.00 (45 of 90 days)", got)
	}
}

func TestRateForecastThresholds(t *testing.T) {
	for _, tc := range []struct {
		budget, forecast string
		want             RAG
	}{
		{"1000.00", "1000.00", Green},
		{"1000.00", "1050.00", Green}, // exactly 5 % is still green
		{"1000.00", "1050.01", Amber},
		{"1000.00", "949.99", Amber},
		{"1000.00", "1100.00", Amber}, // exactly 10 % is amber
		{"1000.00", "1100.01", Red},
		{"1000.00", "899.99", Red},
		{"0.00", "0.00", Green},
		{"0.00", "0.01", Red},
	} {
		if got := RateForecast(dec(tc.budget), dec(tc.forecast)); got != tc.want {
			t.Errorf("budget %s forecast %s: %s, want %s", tc.budget, tc.forecast, got, tc.want)
		}
	}
}

func TestProgressToTargetAndBand(t *testing.T) {
	if p, ok := ProgressToTarget(decp("100"), decp("80"), decp("90")); !ok || p.String() != "50" {
		t.Fatalf("half way down: %s %v", p, ok)
	}
	if p, ok := ProgressToTarget(decp("100"), decp("80"), decp("110")); !ok || p.String() != "-50" {
		t.Fatalf("moving away: %s %v", p, ok)
	}
	if _, ok := ProgressToTarget(decp("100"), decp("100"), decp("90")); ok {
		t.Fatal("target equal to baseline gave a percentage")
	}
	if _, ok := ProgressToTarget(nil, decp("100"), decp("90")); ok {
		t.Fatal("missing baseline gave a percentage")
	}
}

func TestMonthlyBurnAndPeriods(t *testing.T) {
	fy := PeriodOf(2024, 0)
	if fy.Days() != 365 || PeriodOf(2023, 0).Days() != 366 || PeriodOf(2024, 4).Days() != 90 {
		t.Fatalf("days: %d %d %d", fy.Days(), PeriodOf(2023, 0).Days(), PeriodOf(2024, 4).Days())
	}
	if got := MonthlyBurn(dec("3650.00"), fy, day("2025-03-31")); got.StringFixed(2) != "304.17" {
		t.Fatalf("burn over a whole year %s", got)
	}
	if got := MonthlyBurn(dec("100.00"), fy, day("2024-01-01")); !got.IsZero() {
		t.Fatalf("burn before the year %s", got)
	}
	if PeriodOf(2024, 2).String() != "2024-25 Q2" || fy.String() != "2024-25" {
		t.Fatal(PeriodOf(2024, 2).String())
	}
	if due := MeasurementDue(Quarterly, day("2024-06-30")); !due.Equal(day("2024-09-30")) {
		t.Fatalf("due %s", due)
	}
}

func TestParseQuantityRefusesWhatItCannotHoldExactly(t *testing.T) {
	for _, ok := range []string{"0", "13", "-4.5", "52.25", "0.0001"} {
		if _, err := ParseQuantity(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1e3", "1,000", "0.00001", "12.", ".5", "NaN", "+1", "99999999999999999"} {
		if _, err := ParseQuantity(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestSplitByWholeWeightsAgreesWithSplitLargestRemainder: the fast path
// gives exactly the general split, including the penny ties.
func TestSplitByWholeWeightsAgreesWithSplitLargestRemainder(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for i := range 5000 {
		n := 1 + rng.IntN(24)
		ws := make([]int64, n)
		ds := make([]decimal.Decimal, n)
		for j := range ws {
			ws[j] = int64(rng.IntN(93))
			if i%7 == 0 {
				ws[j] = 30 // many ties
			}
			ds[j] = decimal.NewFromInt(ws[j])
		}
		ws[0]++
		ds[0] = decimal.NewFromInt(ws[0])
		total := decimal.New(rng.Int64N(1_000_000_000_000_00), -2)
		if i%3 == 0 {
			total = decimal.New(int64(rng.IntN(100)), -2)
		}
		fast, err1 := SplitByWholeWeights(total, ws)
		slow, err2 := SplitLargestRemainder(total, ds)
		if err1 != nil || err2 != nil {
			t.Fatalf("%v %v", err1, err2)
		}
		for j := range fast {
			if !fast[j].Equal(slow[j]) {
				t.Fatalf("total %s weights %v: part %d fast %s slow %s", total, ws, j, fast[j], slow[j])
			}
		}
	}
	// Too large for int64 pennies: the general path answers.
	huge := decimal.RequireFromString("99999999999999999.99")
	if parts, err := SplitByWholeWeights(huge, []int64{1, 2}); err != nil || !parts[0].Add(parts[1]).Equal(huge) {
		t.Fatalf("huge: %v %v", parts, err)
	}
}

// TestCostPerOutcomeWorkedExamples spells out the County lines figures
// issue 11 quotes (the demo's own are in app/demo's test). Baseline 0 closures on 2022-04-01; readings dated by their
// periods' last days: 180 (2023-03-31), 390 (2024-03-31), 470 (2024-09-30),
// 575 (2025-03-31). Spend in 2024-25: £250,000.00; since the baseline to
// 2025-03-31: £1,750,000.00.
func TestCostPerOutcomeWorkedExamples(t *testing.T) {
	ind := &Indicator{Direction: HigherIsBetter, BaselineValue: decp("0"), BaselineOn: dayp("2022-04-01"), BaselineSource: "taskforce"}
	reading := func(id int64, from, to, v string) *Measurement {
		return &Measurement{ID: id, PeriodStart: day(from), PeriodEnd: day(to), Value: dec(v), Source: "taskforce returns"}
	}
	r2324, r2425 := reading(2, "2023-04-01", "2024-03-31", "390"), reading(4, "2024-10-01", "2025-03-31", "575")
	fy := PeriodOf(2024, 0)

	// In 2024-25: the reading dated 2024-03-31 (390) opens the year, the
	// one dated 2025-03-31 (575) closes it: 185 more closures for
	// £250,000.00 is £1,351.35 each (250,000 ÷ 185 = 1,351.351…). The old
	// figure divided the year's spend by the change since the 2022 baseline:
	// 250,000 ÷ 575 = £434.78.
	c := CostInPeriod(fy, dec("250000.00"), ind, r2324, r2425)
	if c.Cost == nil || c.Cost.StringFixed(2) != "1351.35" || !c.Improvement.Equal(dec("185")) || c.Opening.MeasurementID != 2 || c.Opening.Baseline ||
		c.Closing.MeasurementID != 4 || !c.From.Equal(day("2024-04-01")) || !c.To.Equal(day("2025-03-31")) || c.Method != MethodPeriod {
		t.Fatalf("2024-25: %+v", c)
	}
	if old := ComputeCostPerOutcome(dec("250000.00"), HigherIsBetter, decp("0"), decp("575")); old.Cost.StringFixed(2) != "434.78" {
		t.Fatalf("the old figure was %s", old.Cost)
	}
	// Life to date: 575 closures since the baseline for £1,750,000.00 is
	// £3,043.48 each (1,750,000 ÷ 575 = 3,043.478…).
	c = CostToDate(fy.End, dec("1750000.00"), ind, r2425)
	if c.Cost == nil || c.Cost.StringFixed(2) != "3043.48" || !c.Improvement.Equal(dec("575")) || !c.Opening.Baseline ||
		!c.From.Equal(day("2022-04-01")) || c.Method != MethodLifeToDate {
		t.Fatalf("life to date: %+v", c)
	}
	// In 2022-23 nothing reads before 1 April 2022 but the baseline, dated
	// that very day, opens the year: 180 closures for £500,000.00 is
	// £2,777.78 each (500,000 ÷ 180 = 2,777.77…).
	c = CostInPeriod(PeriodOf(2022, 0), dec("500000.00"), ind, nil, reading(1, "2022-04-01", "2023-03-31", "180"))
	if c.Cost == nil || c.Cost.StringFixed(2) != "2777.78" || !c.Opening.Baseline {
		t.Fatalf("2022-23: %+v", c)
	}
	// In 2025-26 no reading is dated inside the year: not computable,
	// whatever was spent, though 575 opens it.
	c = CostInPeriod(PeriodOf(2025, 0), dec("1000.00"), ind, r2425, nil)
	if c.Cost != nil || c.Reason != "not computable: no reading inside 2025-26 (none dated 2025-04-02 to 2026-03-31)" || c.Opening == nil {
		t.Fatalf("2025-26: %+v", c)
	}
	// A baseline dated after the year's first day does not open it.
	late := &Indicator{Direction: HigherIsBetter, BaselineValue: decp("0"), BaselineOn: dayp("2024-05-01")}
	c = CostInPeriod(fy, dec("1000.00"), late, nil, r2425)
	if c.Cost != nil || c.Reason != "not computable: nothing opens 2024-25 (no reading dated on or before 2024-04-01, and the baseline is dated 2024-05-01)" {
		t.Fatalf("late baseline: %+v", c)
	}
	// Without a baseline there is no life-to-date figure; with no reading
	// after it, neither.
	if c := CostToDate(fy.End, dec("1.00"), &Indicator{Direction: HigherIsBetter}, r2425); c.Cost != nil || c.Reason != "not computable: the indicator has no baseline" {
		t.Fatalf("no baseline: %+v", c)
	}
	if c := CostToDate(fy.End, dec("1.00"), late, reading(9, "2024-04-01", "2024-04-30", "3")); c.Cost != nil ||
		c.Reason != "not computable: no reading dated after the baseline (2024-05-01) and on or before 2025-03-31" {
		t.Fatalf("no reading after the baseline: %+v", c)
	}
}

func dayp(s string) *time.Time { d := day(s); return &d }
