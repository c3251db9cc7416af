package models

import (
	"strings"
	"testing"
	"time"
)

func fyDate(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestFinancialYearOfSplitsAtFirstApril(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want FinancialYear
	}{
		{"31 March is the old year", fyDate(2025, time.March, 31), 2024},
		{"last second of 31 March", time.Date(2025, time.March, 31, 23, 59, 59, 999999999, time.UTC), 2024},
		{"1 April starts the new year", fyDate(2025, time.April, 1), 2025},
		{"1 January belongs to the year begun last April", fyDate(2025, time.January, 1), 2024},
		{"31 December", fyDate(2024, time.December, 31), 2024},
		{"29 February 2024 is in 2023-24", fyDate(2024, time.February, 29), 2023},
		{"29 February 2028 is in 2027-28", fyDate(2028, time.February, 29), 2027},
		// Midnight on 1 April in London (BST) is still 31 March in UTC; the
		// date is read in the time's own location.
		{"date read in its own location", time.Date(2025, time.April, 1, 0, 30, 0, 0, time.FixedZone("BST", 3600)), 2025},
		{"year 2000 boundary", fyDate(2000, time.March, 31), 1999},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FinancialYearOf(tc.t); got != tc.want {
				t.Errorf("FinancialYearOf(%s) = %s, want %s", tc.t, got, tc.want)
			}
			if !tc.want.Contains(tc.t) {
				t.Errorf("%s.Contains(%s) = false", tc.want, tc.t)
			}
			if (tc.want + 1).Contains(tc.t) || (tc.want - 1).Contains(tc.t) {
				t.Errorf("a neighbouring year also contains %s", tc.t)
			}
		})
	}
}

func TestParseFinancialYearAcceptsConsecutiveYears(t *testing.T) {
	tests := []struct {
		in   string
		want FinancialYear
	}{
		{"2024-25", 2024},
		{"2023-24", 2023},
		{"1999-00", 1999},
		{"2099-00", 2099},
		{"2009-10", 2009},
		{"1900-01", 1900},
		{"1899-00", 1899}, // holds 1 January 1900, the earliest date input accepts
		{"9998-99", 9998},
		{" 2024-25 ", 2024},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFinancialYear(tc.in)
			if err != nil {
				t.Fatalf("ParseFinancialYear(%q) error: %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("ParseFinancialYear(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseFinancialYearRejectsOtherForms(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "such as 2024-25"},
		{"2024", "such as 2024-25"},
		{"2024-2025", "such as 2024-25"},
		{"2024/25", "such as 2024-25"},
		{"24-25", "such as 2024-25"},
		{"2024-5", "such as 2024-25"},
		{"2024-+5", "such as 2024-25"},
		{"+024-25", "such as 2024-25"},
		{"2024--5", "such as 2024-25"},
		{"FY2024-25", "such as 2024-25"},
		{"２０２４-25", "such as 2024-25"},
		{"2024 -25", "such as 2024-25"},
		{"2024-26", "2024 is followed by 25"},
		{"2024-24", "2024 is followed by 25"},
		{"2099-01", "2099 is followed by 00"},
		{"2099-100", "such as 2024-25"},
		{"1898-99", "between 1899-00 and 9998-99"},
		{"9999-00", "between"},
		{"0000-01", "between"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFinancialYear(tc.in)
			if err == nil {
				t.Fatalf("ParseFinancialYear(%q) = %d, want an error", tc.in, got)
			}
			assertEINVALID(t, err, tc.want)
		})
	}
}

func TestFinancialYearStringRoundTrips(t *testing.T) {
	tests := []struct {
		fy   FinancialYear
		want string
	}{
		{2024, "2024-25"},
		{2099, "2099-00"},
		{2000, "2000-01"},
		{2009, "2009-10"},
	}
	for _, tc := range tests {
		if got := tc.fy.String(); got != tc.want {
			t.Errorf("FinancialYear(%d).String() = %q, want %q", int(tc.fy), got, tc.want)
		}
	}
	for fy := FinancialYear(minFinancialYear); fy <= maxFinancialYear; fy++ {
		back, err := ParseFinancialYear(fy.String())
		if err != nil || back != fy {
			t.Fatalf("ParseFinancialYear(%q) = %d, %v; want %d", fy.String(), back, err, fy)
		}
	}
}

func TestFinancialYearStartAndEndAreFirstAprilAndThirtyFirstMarch(t *testing.T) {
	fy := FinancialYear(2024)
	if got, want := fy.Start(), fyDate(2024, time.April, 1); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Start() = %s, want %s UTC", got, want)
	}
	if got, want := fy.End(), fyDate(2025, time.March, 31); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("End() = %s, want %s UTC", got, want)
	}
	// Each year ends the day before the next begins: no gap, no overlap.
	for y := FinancialYear(1990); y < 2100; y++ {
		if !y.End().AddDate(0, 0, 1).Equal((y + 1).Start()) {
			t.Fatalf("%s ends %s but %s starts %s", y, y.End(), y+1, (y + 1).Start())
		}
		if !y.Contains(y.Start()) || !y.Contains(y.End()) {
			t.Fatalf("%s does not contain its own first and last day", y)
		}
		if y.Contains(y.Start().AddDate(0, 0, -1)) || y.Contains(y.End().AddDate(0, 0, 1)) {
			t.Fatalf("%s contains a day outside it", y)
		}
	}
}

func TestFinancialYearContainsEveryDayOfItsLength(t *testing.T) {
	tests := []struct {
		fy   FinancialYear
		days int
	}{
		{2023, 366}, // includes 29 February 2024
		{2024, 365},
		{2027, 366}, // includes 29 February 2028
		{2099, 365}, // 2100 is not a leap year
	}
	for _, tc := range tests {
		n := 0
		for d := tc.fy.Start().AddDate(0, 0, -5); d.Before(tc.fy.End().AddDate(0, 0, 6)); d = d.AddDate(0, 0, 1) {
			if tc.fy.Contains(d) {
				n++
			}
		}
		if n != tc.days {
			t.Errorf("%s contains %d days, want %d", tc.fy, n, tc.days)
		}
	}
}

func TestMonthsRunAprilToMarch(t *testing.T) {
	ms := FinancialYear(2024).Months()
	if len(ms) != 12 {
		t.Fatalf("Months() has %d entries, want 12", len(ms))
	}
	wantMonths := []time.Month{time.April, time.May, time.June, time.July, time.August, time.September,
		time.October, time.November, time.December, time.January, time.February, time.March}
	for i, m := range ms {
		wantYear := 2024
		if i >= 9 {
			wantYear = 2025
		}
		if m.Year() != wantYear || m.Month() != wantMonths[i] || m.Day() != 1 || m.Hour() != 0 || m.Location() != time.UTC {
			t.Errorf("Months()[%d] = %s, want 1 %s %d 00:00 UTC", i, m, wantMonths[i], wantYear)
		}
	}
}

func TestParseQuarterAcceptsQ1ToQ4InEitherCase(t *testing.T) {
	tests := []struct {
		in   string
		want Quarter
	}{
		{"Q1", 1}, {"Q2", 2}, {"Q3", 3}, {"Q4", 4},
		{"q1", 1}, {"q4", 4}, {" Q2 ", 2},
	}
	for _, tc := range tests {
		got, err := ParseQuarter(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseQuarter(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseQuarterRejectsOtherForms(t *testing.T) {
	for _, in := range []string{"", "Q", "Q0", "Q5", "1", "Q01", "Q1Q", "Quarter 1", "Q-1", "Q１", "QQ"} {
		got, err := ParseQuarter(in)
		if err == nil {
			t.Errorf("ParseQuarter(%q) = %v, want an error", in, got)
			continue
		}
		assertEINVALID(t, err, "Q1, Q2, Q3 or Q4")
	}
}

func TestQuarterStringAndValid(t *testing.T) {
	for q, want := range map[Quarter]string{1: "Q1", 2: "Q2", 3: "Q3", 4: "Q4"} {
		if q.String() != want {
			t.Errorf("Quarter(%d).String() = %q, want %q", int(q), q.String(), want)
		}
		if !q.Valid() {
			t.Errorf("%v.Valid() = false", q)
		}
		back, err := ParseQuarter(q.String())
		if err != nil || back != q {
			t.Errorf("ParseQuarter(%q) = %v, %v; want %v", q.String(), back, err, q)
		}
	}
	for _, q := range []Quarter{0, 5, -1} {
		if q.Valid() {
			t.Errorf("Quarter(%d).Valid() = true", int(q))
		}
	}
}

func TestQuarterOfMapsMonthsToFinancialQuarters(t *testing.T) {
	tests := []struct {
		t      time.Time
		wantFY FinancialYear
		wantQ  Quarter
	}{
		{fyDate(2024, time.April, 1), 2024, 1},
		{fyDate(2024, time.June, 30), 2024, 1},
		{fyDate(2024, time.July, 1), 2024, 2},
		{fyDate(2024, time.September, 30), 2024, 2},
		{fyDate(2024, time.October, 1), 2024, 3},
		{fyDate(2024, time.December, 31), 2024, 3},
		{fyDate(2025, time.January, 1), 2024, 4}, // Q4 crosses into the next calendar year
		{fyDate(2025, time.March, 31), 2024, 4},
		{fyDate(2025, time.April, 1), 2025, 1},
		{fyDate(2024, time.February, 29), 2023, 4},
	}
	for _, tc := range tests {
		fy, q := QuarterOf(tc.t)
		if fy != tc.wantFY || q != tc.wantQ {
			t.Errorf("QuarterOf(%s) = %s %s, want %s %s", tc.t.Format(DateLayout), fy, q, tc.wantFY, tc.wantQ)
		}
	}
}

func TestQuarterRangeCoversQuarterInclusive(t *testing.T) {
	tests := []struct {
		fy         FinancialYear
		q          Quarter
		start, end time.Time
	}{
		{2024, 1, fyDate(2024, time.April, 1), fyDate(2024, time.June, 30)},
		{2024, 2, fyDate(2024, time.July, 1), fyDate(2024, time.September, 30)},
		{2024, 3, fyDate(2024, time.October, 1), fyDate(2024, time.December, 31)},
		{2024, 4, fyDate(2025, time.January, 1), fyDate(2025, time.March, 31)},
		{2023, 4, fyDate(2024, time.January, 1), fyDate(2024, time.March, 31)},
	}
	for _, tc := range tests {
		start, end := tc.fy.QuarterRange(tc.q)
		if !start.Equal(tc.start) || !end.Equal(tc.end) {
			t.Errorf("%s.QuarterRange(%s) = %s..%s, want %s..%s", tc.fy, tc.q,
				start.Format(DateLayout), end.Format(DateLayout), tc.start.Format(DateLayout), tc.end.Format(DateLayout))
		}
	}
}

func TestQuarterRangeAgreesWithQuarterOfForEveryDay(t *testing.T) {
	// Walk 2023-24 (a leap year's February) and 2024-25 day by day: every
	// day lies in exactly the quarter QuarterOf names, and the four quarters
	// tile the year with no gap.
	for _, fy := range []FinancialYear{2023, 2024} {
		prevEnd := fy.Start().AddDate(0, 0, -1)
		for q := Quarter(1); q <= 4; q++ {
			start, end := fy.QuarterRange(q)
			if !start.Equal(prevEnd.AddDate(0, 0, 1)) {
				t.Fatalf("%s %s starts %s, not the day after %s", fy, q, start.Format(DateLayout), prevEnd.Format(DateLayout))
			}
			for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
				if gfy, gq := QuarterOf(d); gfy != fy || gq != q {
					t.Fatalf("QuarterOf(%s) = %s %s, but it is in %s %s's range", d.Format(DateLayout), gfy, gq, fy, q)
				}
			}
			prevEnd = end
		}
		if !prevEnd.Equal(fy.End()) {
			t.Fatalf("%s Q4 ends %s, not %s", fy, prevEnd.Format(DateLayout), fy.End().Format(DateLayout))
		}
	}
}

func TestQuarterRangeOfInvalidQuarterIsZero(t *testing.T) {
	for _, q := range []Quarter{0, 5, -3} {
		start, end := FinancialYear(2024).QuarterRange(q)
		if !start.IsZero() || !end.IsZero() {
			t.Errorf("QuarterRange(%d) = %s..%s, want zero times", int(q), start, end)
		}
	}
}

func TestFinancialYearBriefCases(t *testing.T) {
	if got := FinancialYearOf(fyDate(2024, time.March, 31)); got != 2023 {
		t.Errorf("FinancialYearOf(2024-03-31) = %d, want 2023", got)
	}
	if got := FinancialYearOf(fyDate(2024, time.April, 1)); got != 2024 {
		t.Errorf("FinancialYearOf(2024-04-01) = %d, want 2024", got)
	}
	for fy, want := range map[FinancialYear]string{2024: "2024-25", 2099: "2099-00", 2023: "2023-24"} {
		if got := fy.String(); got != want {
			t.Errorf("FinancialYear(%d).String() = %q, want %q", int(fy), got, want)
		}
	}
	for _, bad := range []string{"2024-26", "2024", "24-25", "2024/25", "abcd-ef", "2024-2a", "abcd-25", "2024-25x"} {
		got, err := ParseFinancialYear(bad)
		if err == nil {
			t.Errorf("ParseFinancialYear(%q) = %d, want an error", bad, got)
			continue
		}
		if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), "financial year") {
			t.Errorf("ParseFinancialYear(%q) error = %v, want EINVALID mentioning a financial year", bad, err)
		}
	}

	quarters := []struct {
		date   time.Time
		wantFY FinancialYear
		wantQ  Quarter
	}{
		{fyDate(2024, time.June, 30), 2024, 1},
		{fyDate(2024, time.July, 1), 2024, 2},
		{fyDate(2024, time.December, 31), 2024, 3},
		{fyDate(2025, time.January, 1), 2024, 4},
		{fyDate(2025, time.March, 31), 2024, 4},
		{fyDate(2024, time.February, 29), 2023, 4},
	}
	for _, tc := range quarters {
		if fy, q := QuarterOf(tc.date); fy != tc.wantFY || q != tc.wantQ {
			t.Errorf("QuarterOf(%s) = %s %s, want %s %s", tc.date.Format(DateLayout), fy, q, tc.wantFY, tc.wantQ)
		}
	}
	if !FinancialYear(2023).Contains(fyDate(2024, time.February, 29)) || FinancialYear(2024).Contains(fyDate(2024, time.February, 29)) {
		t.Error("29 February 2024 must be in 2023-24 and not in 2024-25")
	}
	if s, e := FinancialYear(2024).QuarterRange(4); !s.Equal(fyDate(2025, time.January, 1)) || !e.Equal(fyDate(2025, time.March, 31)) {
		t.Errorf("2024-25 Q4 = %s..%s, want 2025-01-01..2025-03-31", s.Format(DateLayout), e.Format(DateLayout))
	}
	if s, e := FinancialYear(2023).QuarterRange(4); !e.Equal(fyDate(2024, time.March, 31)) || !s.Equal(fyDate(2024, time.January, 1)) {
		t.Errorf("2023-24 Q4 = %s..%s, want 2024-01-01..2024-03-31", s.Format(DateLayout), e.Format(DateLayout))
	}
	ms := FinancialYear(2024).Months()
	if len(ms) != 12 || ms[0].Month() != time.April || ms[11].Month() != time.March || ms[11].Year() != 2025 {
		t.Errorf("Months() = %v, want 12 months April 2024 .. March 2025", ms)
	}
	for i, m := range ms {
		if !FinancialYear(2024).Contains(m) {
			t.Errorf("2024-25 does not contain its own month %d (%s)", i, m.Format(DateLayout))
		}
	}
}
