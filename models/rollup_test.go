package models

import "testing"

func TestLineStateFollowsTheCalendar(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status FundingLineStatus
		on     string
		want   LineState
	}{
		{"the day before it starts", StatusActive, "2024-03-31", StateNotStarted},
		{"its first day", StatusActive, "2024-04-01", StateRunning},
		{"its last day", StatusActive, "2024-09-30", StateRunning},
		{"the day after its last", StatusActive, "2024-10-01", StateEnded},
		{"approved and past its end", StatusApproved, "2025-01-01", StateEnded},
		{"closed before its end", StatusClosed, "2024-06-01", StateClosed},
		{"cancelled before it started", StatusCancelled, "2024-01-01", StateCancelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := LineStateOn(tc.status, day("2024-04-01"), day("2024-09-30"), day(tc.on)); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// A report on a past year describes its lines at the year's end.
	if got := StateDay(PeriodOf(2024, 0), day("2026-12-01")); !got.Equal(day("2025-03-31")) {
		t.Fatalf("state day %s", got)
	}
}

func TestRollUpIsTheWorstNeverTheNet(t *testing.T) {
	u := RollUp{Of: "programmes"}
	for _, r := range []RAG{Red, Green, Red, NotStarted} {
		u.Add(r)
	}
	if u.Worst() != Red || u.String() != "worst of 4 programmes: 2 red, 0 amber, 1 green, 1 not rated" {
		t.Fatalf("%s: %s", u.Worst(), u)
	}
	if (RollUp{}).Worst() != NotStarted {
		t.Fatal("ordering")
	}
}
