package main

import (
	"fmt"
	"os"
	"path/filepath"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// transparencyCmd runs `granttrack export transparency --month 2024-06
// [--out DIR]`: the month's publishing pack as CSV files and index.html in
// DIR. Items missing a field that publication requires are listed on stderr
// (and at the top of index.html); the pack is written all the same, so that
// it can be reviewed, but should be fixed before it is published.
func (c *command) transparencyCmd(args []string) error {
	fs := c.flags("export transparency")
	month := fs.String("month", "", "calendar month, e.g. 2024-06")
	out := fs.String("out", "", "directory to write (default transparency-MONTH)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *month == "" {
		return usageError{"export transparency needs --month, e.g. --month 2024-06"}
	}
	if _, _, err := export.ParseMonth(*month); err != nil {
		return err
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	pub, err := a.Store.EffectivePublisher(c.ctx, c.cfg.Publisher)
	if err != nil {
		return err
	}
	p, err := export.Transparency(c.ctx, a.Store, *month, export.WithPublisher(pub))
	if err != nil {
		return err
	}
	dir := *out
	if dir == "" {
		dir = "transparency-" + p.Month
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(f *os.File) error) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	for _, name := range export.PackFiles {
		if err := write(name, func(f *os.File) error { return p.WriteCSV(name, f) }); err != nil {
			return err
		}
	}
	if err := write("index.html", func(f *os.File) error { return p.WriteIndex(f) }); err != nil {
		return err
	}
	for _, d := range p.Documents {
		if d.Path == "" {
			continue // withheld: it holds personal data
		}
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(d.Path)), 0o755); err != nil {
			return err
		}
		if err := write(d.Path, func(f *os.File) error { return p.WriteDocument(d.Path, f) }); err != nil {
			return err
		}
	}
	if err := a.Store.RecordEvent(c.ctx, models.SystemActor("export transparency"), store.Change{Action: "export.transparency", Entity: "export",
		After: map[string]any{"month": p.Month, "grants": len(p.Grants), "spend": len(p.Spend), "contracts": len(p.Contracts), "documents": len(p.Documents), "expenses": len(p.Expenses), "redactions": len(p.Redactions),
			"missing": len(p.Missing), "audit_head_seq": p.AuditSeq}}); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote the %s publishing pack to %s: %d office holders' expenses, %d grants, %d items of spend over £500, %d contracts over £10,000 (index.html to read it).\n",
		p.Month, dir, len(p.Expenses), len(p.Grants), len(p.Spend), len(p.Contracts))
	if len(p.Redactions) > 0 {
		fmt.Fprintf(c.stderr, "%d redaction(s) of personal data:\n", len(p.Redactions))
		for _, r := range p.Redactions {
			fmt.Fprintf(c.stderr, "  %s\n", r)
		}
	}
	if len(p.Missing) > 0 {
		fmt.Fprintf(c.stderr, "%d item(s) miss what publication requires; fix them before publishing:\n", len(p.Missing))
		for _, m := range p.Missing {
			fmt.Fprintf(c.stderr, "  %s\n", m)
		}
	}
	return nil
}
