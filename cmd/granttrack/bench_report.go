package main

import (
	"fmt"
	"strings"
	"time"

	"granttrack/app/bench"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/models"
)

// benchReport runs `granttrack bench report`: the board's budget report and
// dashboard for one financial year on a large data set, against the raw
// GROUP BY of the same rows in the same run.
func (c *command) benchReport(args []string) error {
	fs := c.benchFlags("bench report")
	size := bench.BoardScale
	fs.IntVar(&size.Lines, "lines", size.Lines, "funding lines to seed")
	fs.IntVar(&size.Entries, "entries", size.Entries, "approved spend entries to seed, over five financial years")
	fs.IntVar(&size.Indicators, "indicators", size.Indicators, "indicators to seed, each measured monthly")
	fyFlag := fs.String("fy", "2024-25", "the financial year to report; the data spans the two years before and after it")
	runs := fs.Int("runs", 10, "runs of each measurement")
	profile := fs.String("cpuprofile", "", "write a Go CPU profile of the timed runs to this file")
	listsOnly := fs.Bool("lists-only", false, "time only the list pages (/audit, /spend, the record-spend form, the funding-lines list, an award page)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	fy, err := models.ParseFinancialYear(*fyFlag)
	if err != nil {
		return usageError{"--fy " + models.ErrorMessage(err)}
	}
	if *runs < 1 {
		return usageError{"--runs must be at least 1"}
	}
	a, owner, done, err := c.scratch()
	if err != nil {
		return err
	}
	defer done()
	began := time.Now()
	seeded, err := bench.SeedReportData(c.ctx, a.Store, owner, size, fy-2)
	if err != nil {
		return err
	}
	if seeded {
		fmt.Fprintf(c.stdout, "Seeded %d lines, %d approved entries and %d indicators with monthly measurements in %s\n",
			size.Lines, size.Entries, size.Indicators, time.Since(began).Round(time.Millisecond))
	} else {
		fmt.Fprintln(c.stdout, "Reusing the data set seeded by an earlier run")
	}
	srv, err := a.Server()
	if err != nil {
		return err
	}
	if *listsOnly {
		return c.benchLists(a.Store, owner, srv, *runs)
	}
	stop, err := startProfile(*profile)
	if err != nil {
		return err
	}
	timings, err := bench.Reports(c.ctx, a.Store, srv, fy, *runs)
	if err != nil {
		stop()
		return err
	}
	alerts, err := bench.Alerts(c.ctx, a.Store, fy, *runs)
	stop()
	if err != nil {
		return err
	}
	for _, t := range timings {
		fmt.Fprintln(c.stdout, t)
	}
	for _, t := range timings[1:] {
		raw := &timings[0]
		if t.Raw != nil {
			raw = t.Raw
		} else if strings.HasPrefix(t.Name, "raw ") {
			continue
		}
		fmt.Fprintf(c.stdout, "  %s / %s: %.1fx\n", t.Name, raw.Name, float64(t.Median())/float64(raw.Median()))
	}
	for _, t := range alerts {
		fmt.Fprintln(c.stdout, t)
	}
	fmt.Fprintf(c.stdout, "  %s / raw: %.1fx (goal: at most 2x)\n", alerts[1].Name, float64(alerts[1].Median())/float64(alerts[0].Median()))
	return c.benchLists(a.Store, owner, srv, *runs)
}

// benchLists times the pages that grow with the data (issue 15) on the same
// data set, each against the raw SQL of its figures.
func (c *command) benchLists(st, owner *store.Store, srv *server.Server, runs int) error {
	if err := bench.SeedListData(c.ctx, st, owner); err != nil {
		return err
	}
	timings, err := bench.Lists(c.ctx, st, srv, runs)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(timings); i += 2 {
		raw, page := timings[i], timings[i+1]
		fmt.Fprintln(c.stdout, raw)
		fmt.Fprintln(c.stdout, page)
		fmt.Fprintf(c.stdout, "  %s / raw: %.1fx (goal: median at most 50 ms)\n", page.Name, float64(page.Median())/float64(raw.Median()))
	}
	return nil
}
