package models

import (
	"fmt"
	"strings"
	"time"
)

// FinancialYear is a UK financial year, 1 April to 31 March, named by the
// calendar year it starts in: 2024 is 2024-25.
type FinancialYear int

// Years outside this range are almost certainly typing mistakes, and keeping
// to four-digit years keeps String and ParseFinancialYear inverse. 1899-00
// holds the earliest date input accepts (1 January 1900).
const (
	minFinancialYear = 1899
	maxFinancialYear = 9998
)

// FinancialYearOf returns the financial year containing the date of t, read
// in t's own location.
func FinancialYearOf(t time.Time) FinancialYear {
	if t.Month() < time.April {
		return FinancialYear(t.Year() - 1)
	}
	return FinancialYear(t.Year())
}

// ParseFinancialYear reads a label such as "2024-25": the four-digit start
// year, a hyphen, and the last two digits of the following year. Surrounding
// spaces are ignored.
func ParseFinancialYear(s string) (FinancialYear, error) {
	bad := Errorf(EINVALID, "must be a financial year such as 2024-25")
	s = strings.TrimSpace(s)
	if len(s) != 7 || s[4] != '-' || !asciiDigits(s[:4]) || !asciiDigits(s[5:]) {
		return 0, bad
	}
	y := atoiDigits(s[:4])
	if y < minFinancialYear || y > maxFinancialYear {
		return 0, Errorf(EINVALID, "must be a financial year between %d-%02d and %d-%02d",
			minFinancialYear, (minFinancialYear+1)%100, maxFinancialYear, (maxFinancialYear+1)%100)
	}
	if atoiDigits(s[5:]) != (y+1)%100 {
		return 0, Errorf(EINVALID, "must be a financial year such as 2024-25: %s is followed by %02d, so write %s-%02d",
			s[:4], (y+1)%100, s[:4], (y+1)%100)
	}
	return FinancialYear(y), nil
}

// asciiDigits reports whether s is non-empty and all 0-9; strconv.Atoi would
// also let a sign through.
func asciiDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoiDigits converts a string already checked by asciiDigits.
func atoiDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// String returns the label, e.g. "2024-25".
func (fy FinancialYear) String() string { return fmt.Sprintf("%04d-%02d", int(fy), (int(fy)+1)%100) }

// Start returns 1 April of the year, at midnight UTC.
func (fy FinancialYear) Start() time.Time {
	return time.Date(int(fy), time.April, 1, 0, 0, 0, 0, time.UTC)
}

// End returns 31 March of the next calendar year, the year's last day, at
// midnight UTC. Ranges are inclusive of it.
func (fy FinancialYear) End() time.Time {
	return time.Date(int(fy)+1, time.March, 31, 0, 0, 0, 0, time.UTC)
}

// Contains reports whether the date of t (in t's own location) falls in the
// year; the time of day does not matter.
func (fy FinancialYear) Contains(t time.Time) bool { return FinancialYearOf(t) == fy }

// Months returns the first day of each of the year's twelve months, April
// first, for monthly profiles and reports.
func (fy FinancialYear) Months() []time.Time {
	out := make([]time.Time, 12)
	for i := range out {
		out[i] = time.Date(int(fy), time.April+time.Month(i), 1, 0, 0, 0, 0, time.UTC)
	}
	return out
}

// Quarter is a quarter of a financial year: Q1 is April to June, Q2 July to
// September, Q3 October to December and Q4 January to March of the next
// calendar year.
type Quarter int

// ParseQuarter reads "Q1" to "Q4", in either case; surrounding spaces are
// ignored.
func ParseQuarter(s string) (Quarter, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 2 && s[0] == 'Q' && s[1] >= '1' && s[1] <= '4' {
		return Quarter(s[1] - '0'), nil
	}
	return 0, Errorf(EINVALID, "must be a quarter: Q1, Q2, Q3 or Q4")
}

// Valid reports whether q is Q1 to Q4.
func (q Quarter) Valid() bool { return q >= 1 && q <= 4 }

// String returns "Q1" to "Q4".
func (q Quarter) String() string { return fmt.Sprintf("Q%d", int(q)) }

// QuarterOf returns the financial year and quarter containing the date of t.
func QuarterOf(t time.Time) (FinancialYear, Quarter) {
	months := (int(t.Month()) - int(time.April) + 12) % 12 // months since April
	return FinancialYearOf(t), Quarter(months/3 + 1)
}

// QuarterRange returns the first and last day (inclusive) of quarter q of
// the year, at midnight UTC. For a q outside 1-4 both are the zero time, so a
// bad quarter can never pass for a real range.
func (fy FinancialYear) QuarterRange(q Quarter) (start, end time.Time) {
	if !q.Valid() {
		return time.Time{}, time.Time{}
	}
	first := time.April + time.Month(3*(int(q)-1))
	start = time.Date(int(fy), first, 1, 0, 0, 0, 0, time.UTC)
	// Day 0 of the month after the quarter is the quarter's last day.
	end = time.Date(int(fy), first+3, 0, 0, 0, 0, 0, time.UTC)
	return start, end
}
