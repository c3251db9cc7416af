package models

import (
	"fmt"
	"time"
)

// NotRated is the rating of a line with none of its days in the period
// (it ended before the period began, or begins after it ends), so there is
// nothing to forecast; its state says which.
const NotRated RAG = "not_rated"

// RollUp is how a group's rating was made from its parts: the worst of
// them, never a netted total, with how many parts carry each rating. An
// overspend in one part and an underspend in another both count: neither
// cancels the other out.
type RollUp struct {
	Of       string // what the parts are: "funding lines", "programmes", "recipients"
	Red      int
	Amber    int
	Green    int
	NotRated int // parts not started yet, or with none of their days in the period
}

// Add counts one part's rating.
func (u *RollUp) Add(r RAG) { u.count(r, 1) }

// Remove uncounts one part's rating (a part rated again).
func (u *RollUp) Remove(r RAG) { u.count(r, -1) }

func (u *RollUp) count(r RAG, by int) {
	switch r {
	case Red:
		u.Red += by
	case Amber:
		u.Amber += by
	case Green:
		u.Green += by
	default:
		u.NotRated += by
	}
}

// Parts is how many parts were counted.
func (u RollUp) Parts() int { return u.Red + u.Amber + u.Green + u.NotRated }

// Worst is the rating the roll-up gives its group: red if any part is
// red, else amber if any is amber, else green if any is green; with no
// rated part, not_started.
func (u RollUp) Worst() RAG {
	switch {
	case u.Red > 0:
		return Red
	case u.Amber > 0:
		return Amber
	case u.Green > 0:
		return Green
	}
	return NotStarted
}

// String says how the rating rolled up, e.g. "worst of 3 programmes: 2 red,
// 0 amber, 1 green".
func (u RollUp) String() string {
	s := fmt.Sprintf("worst of %d %s: %d red, %d amber, %d green", u.Parts(), u.Of, u.Red, u.Amber, u.Green)
	if u.NotRated > 0 {
		s += fmt.Sprintf(", %d not rated", u.NotRated)
	}
	return s
}

// LineState is where a funding line is in its life on a given day, for the
// reports: by its dates, unless it has been closed or cancelled.
type LineState string

// Line states.
const (
	StateNotStarted LineState = "not_started"
	StateRunning    LineState = "running"
	StateEnded      LineState = "ended"
	StateClosed     LineState = "closed"
	StateCancelled  LineState = "cancelled"
)

// LineStateOn decides a funding line's state on day, the one rule every
// report uses: a closed or cancelled line is that; otherwise the calendar
// decides: before its first day it has not started, after its last day it
// has ended, and in between (both days included) it is running.
func LineStateOn(status FundingLineStatus, startsOn, endsOn, day time.Time) LineState {
	switch {
	case status == StatusCancelled:
		return StateCancelled
	case status == StatusClosed:
		return StateClosed
	case day.Before(startsOn):
		return StateNotStarted
	case day.After(endsOn):
		return StateEnded
	}
	return StateRunning
}

// StateDay is the day a report describes its lines on: the forecast's
// as-of day, but no later than the period's last day, so a report on a
// past year shows each line as it stood at that year's end.
func StateDay(p Period, asOf time.Time) time.Time {
	if asOf.After(p.End) {
		return p.End
	}
	return asOf
}
