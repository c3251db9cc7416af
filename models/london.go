package models

import (
	"time"
	// Embedded so that Europe/London is known on a machine without the
	// system's time-zone database: business dates never fall back to UTC.
	_ "time/tzdata"
)

// London is where granttrack's business is done: every business date (the
// day spend was incurred or reversed, today, last month, the financial
// year) is the date in London, whatever the machine's or PostgreSQL's time
// zone.
var London = mustLoadLocation("Europe/London")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic("models: time zone " + name + " is missing even from the embedded database: " + err.Error())
	}
	return loc
}

// BusinessDate returns the date in London at the instant t, in the form every
// date takes in granttrack: midnight UTC of that date (as ParseDate gives).
// 00:30 BST on 1 April is 23:30 UTC on 31 March, and its business date is
// 1 April.
func BusinessDate(t time.Time) time.Time {
	l := t.In(London)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// BusinessDayStart returns the instant the business date d (any time on that
// calendar date, read as a date) begins in London: 23:00 UTC the day before
// in summer time, midnight UTC in winter.
func BusinessDayStart(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, London)
}

// Clock tells the time; nil is the system clock. Tests pin it to an instant.
type Clock func() time.Time

// Now returns the current instant by c.
func (c Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	return c()
}

// Today returns today's business date by c (see BusinessDate).
func (c Clock) Today() time.Time { return BusinessDate(c.Now()) }

// LastMonth returns the first day of the calendar month before the one d
// falls in: on 31 March it is 1 February (adding -1 month to 31 March would
// give 3 March).
func LastMonth(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month()-1, 1, 0, 0, 0, 0, time.UTC)
}
