package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FinancialYear is a UK financial year, 1 April to 31 March, named by the
// calendar year it starts in: 2024 is 2024-25.
type FinancialYear int

// FinancialYearOf returns the financial year containing the date of t.
func FinancialYearOf(t time.Time) FinancialYear {
	if t.Month() < time.April {
		return FinancialYear(t.Year() - 1)
	}
	return FinancialYear(t.Year())
}

// ParseFinancialYear reads a label such as "2024-25".
func ParseFinancialYear(s string) (FinancialYear, error) {
	bad := Errorf(EINVALID, "must be a financial year such as 2024-25")
	start, end, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok || len(start) != 4 || len(end) != 2 {
		return 0, bad
	}
	y, err1 := strconv.Atoi(start)
	e, err2 := strconv.Atoi(end)
	if err1 != nil || err2 != nil || y < 1900 || y > 9998 || strings.ContainsAny(start+end, "+-") {
		return 0, bad
	}
	if e != (y+1)%100 {
		return 0, Errorf(EINVALID, "must be a financial year such as 2024-25: %s is followed by %02d", start, (y+1)%100)
	}
	return FinancialYear(y), nil
}

// String returns the label, e.g. "2024-25".
func (fy FinancialYear) String() string { return fmt.Sprintf("%04d-%02d", int(fy), (int(fy)+1)%100) }

// Start returns 1 April of the year, at midnight UTC.
func (fy FinancialYear) Start() time.Time {
	return time.Date(int(fy), time.April, 1, 0, 0, 0, 0, time.UTC)
}

// End returns 31 March of the next calendar year, the year's last day.
func (fy FinancialYear) End() time.Time {
	return time.Date(int(fy)+1, time.March, 31, 0, 0, 0, 0, time.UTC)
}

// Contains reports whether the date of t falls in the year.
func (fy FinancialYear) Contains(t time.Time) bool { return FinancialYearOf(t) == fy }

// Months returns the first day of each of the year's twelve months, April first.
func (fy FinancialYear) Months() []time.Time {
	out := make([]time.Time, 12)
	for i := range out {
		out[i] = fy.Start().AddDate(0, i, 0)
	}
	return out
}

// Quarter is a quarter of a financial year: Q1 is April to June, Q4 is
// January to March of the next calendar year.
type Quarter int

// ParseQuarter reads "Q1" to "Q4", in either case.
func ParseQuarter(s string) (Quarter, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 2 && s[0] == 'Q' && s[1] >= '1' && s[1] <= '4' {
		return Quarter(s[1] - '0'), nil
	}
	return 0, Errorf(EINVALID, "must be a quarter: Q1, Q2, Q3 or Q4")
}

// String returns "Q1" to "Q4".
func (q Quarter) String() string { return fmt.Sprintf("Q%d", int(q)) }

// QuarterOf returns the financial year and quarter containing the date of t.
func QuarterOf(t time.Time) (FinancialYear, Quarter) {
	fy := FinancialYearOf(t)
	months := (int(t.Month()) - int(time.April) + 12) % 12
	return fy, Quarter(months/3 + 1)
}

// QuarterRange returns the first and last day of quarter q of the year.
func (fy FinancialYear) QuarterRange(q Quarter) (start, end time.Time) {
	start = fy.Start().AddDate(0, 3*(int(q)-1), 0)
	return start, start.AddDate(0, 3, -1)
}
