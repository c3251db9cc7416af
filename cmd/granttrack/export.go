package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// exportCmd runs `granttrack export ledger --format csv|json [--fy Y] [--out FILE]`.
// With --out, the manifest is written beside the file as FILE.manifest.json;
// without, the ledger goes to stdout and the manifest to stderr.
func (c *command) exportCmd(args []string) error {
	if len(args) == 0 || args[0] != "ledger" {
		return usageError{"export needs ledger"}
	}
	fs := c.flags("export ledger")
	format := fs.String("format", "csv", "csv or json")
	fy := fs.String("fy", "", "financial year, e.g. 2024-25")
	line := fs.Int64("funding-line", 0, "only this funding line's id")
	out := fs.String("out", "", "file to write (default stdout)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	var w io.Writer = c.stdout
	var f *os.File
	if *out != "" {
		if f, err = os.Create(*out); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	m, err := export.Ledger(c.ctx, a.Store, w, *format, export.Filter{Year: *fy, FundingLineID: *line})
	if err != nil {
		if f != nil {
			os.Remove(*out)
		}
		return err
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := a.Store.RecordEvent(c.ctx, models.SystemActor("export ledger"), store.Change{Action: "export.ledger", Entity: "export",
		After: m}); err != nil {
		return err
	}
	if f == nil {
		fmt.Fprintf(c.stderr, "%s\n", manifest)
		return nil
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(*out+".manifest.json", append(manifest, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote %d entries to %s (sha256 %s) and its manifest %s.manifest.json\n", m.Rows, *out, m.SHA256, *out)
	return nil
}
