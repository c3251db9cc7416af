package models

import (
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestBusinessDateIsTheDateInLondon(t *testing.T) {
	for _, c := range []struct {
		at   string
		date string
		fy   string
	}{
		// 00:30 BST on 1 April is still 31 March in UTC.
		{"2025-03-31T23:30:00Z", "2025-04-01", "2025-26"},
		{"2025-03-31T22:59:59Z", "2025-03-31", "2024-25"},
		{"2025-03-31T23:00:00Z", "2025-04-01", "2025-26"},
		// 31 March in winter time (2024's clocks went forward on 31 March at 01:00 UTC).
		{"2024-03-31T00:30:00Z", "2024-03-31", "2023-24"},
		{"2024-03-31T23:30:00Z", "2024-04-01", "2024-25"},
		// The spring changeover: 01:00 GMT becomes 02:00 BST.
		{"2025-03-30T00:59:59Z", "2025-03-30", "2024-25"},
		{"2025-03-30T01:00:00Z", "2025-03-30", "2024-25"},
		{"2025-03-30T23:00:00Z", "2025-03-31", "2024-25"},
		{"2025-03-29T23:30:00Z", "2025-03-29", "2024-25"},
		// The autumn changeover: 02:00 BST becomes 01:00 GMT.
		{"2025-10-25T23:30:00Z", "2025-10-26", "2025-26"},
		{"2025-10-26T00:30:00Z", "2025-10-26", "2025-26"},
		{"2025-10-26T23:30:00Z", "2025-10-26", "2025-26"},
		{"2025-10-27T00:00:00Z", "2025-10-27", "2025-26"},
		// Midwinter London is UTC.
		{"2025-01-01T00:30:00Z", "2025-01-01", "2024-25"},
		{"2024-12-31T23:59:59Z", "2024-12-31", "2024-25"},
	} {
		at := utc(c.at)
		d := BusinessDate(at)
		if d.Format(DateLayout) != c.date || d.Location() != time.UTC || d.Hour() != 0 {
			t.Errorf("BusinessDate(%s) = %s, want %s at midnight UTC", c.at, d, c.date)
		}
		if fy := FinancialYearOf(d).String(); fy != c.fy {
			t.Errorf("financial year of %s = %s, want %s", c.at, fy, c.fy)
		}
		// The same instant read in another zone has the same business date.
		if d2 := BusinessDate(at.In(time.FixedZone("EST", -5*3600))); !d2.Equal(d) {
			t.Errorf("BusinessDate depends on the instant's zone: %s and %s", d, d2)
		}
		if today := Clock(func() time.Time { return at }).Today(); !today.Equal(d) {
			t.Errorf("a clock pinned to %s says today is %s, want %s", c.at, today, d)
		}
	}
}

func TestBusinessDayStartIsLondonMidnight(t *testing.T) {
	for _, c := range []struct{ date, start string }{
		{"2025-04-01", "2025-03-31T23:00:00Z"}, // BST
		{"2025-01-15", "2025-01-15T00:00:00Z"}, // GMT
		{"2025-03-30", "2025-03-30T00:00:00Z"}, // the day the clocks go forward starts in GMT
		{"2025-03-31", "2025-03-30T23:00:00Z"},
		{"2025-10-26", "2025-10-25T23:00:00Z"}, // the day they go back starts in BST
		{"2025-10-27", "2025-10-27T00:00:00Z"},
	} {
		d, _ := ParseDate(c.date)
		got := BusinessDayStart(d)
		if !got.Equal(utc(c.start)) {
			t.Errorf("BusinessDayStart(%s) = %s, want %s", c.date, got.UTC(), c.start)
		}
		if !BusinessDate(got).Equal(d) || !BusinessDate(got.Add(-time.Microsecond)).Equal(d.AddDate(0, 0, -1)) {
			t.Errorf("%s does not begin %s", got.UTC(), c.date)
		}
	}
}

func TestLastMonthNeverOverflowsOnTheThirtyFirst(t *testing.T) {
	for _, c := range []struct{ today, want string }{
		{"2025-03-31", "2025-02-01"},
		{"2024-03-31", "2024-02-01"},
		{"2025-05-31", "2025-04-01"},
		{"2025-10-31", "2025-09-01"},
		{"2025-12-31", "2025-11-01"},
		{"2025-01-01", "2024-12-01"},
		{"2025-01-31", "2024-12-01"},
		{"2025-04-01", "2025-03-01"},
	} {
		d, _ := ParseDate(c.today)
		if got := LastMonth(d).Format(DateLayout); got != c.want {
			t.Errorf("LastMonth(%s) = %s, want %s", c.today, got, c.want)
		}
	}
}

func TestSystemClockIsNow(t *testing.T) {
	var c Clock
	before := time.Now()
	now := c.Now()
	if now.Before(before) || now.After(time.Now()) {
		t.Fatalf("the nil clock says %s, not now", now)
	}
}
