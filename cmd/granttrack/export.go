package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// exportCmd runs `granttrack export ledger`, `export audit`, `export verify`
// or `export transparency`.
func (c *command) exportCmd(args []string) error {
	if len(args) > 0 && args[0] == "verify" {
		return c.exportVerify(args[1:])
	}
	if len(args) > 0 && args[0] == "transparency" {
		return c.transparencyCmd(args[1:])
	}
	if len(args) > 0 && args[0] == "audit" {
		return c.exportAudit(args[1:])
	}
	if len(args) == 0 || args[0] != "ledger" {
		return usageError{"export needs ledger, audit, verify or transparency"}
	}
	return c.exportLedger(args)
}

// exportLedger runs `granttrack export ledger --format F [filters] [--out FILE]`.
// With --out, the manifest is written beside the file as FILE.manifest.json;
// without, the ledger goes to stdout and the manifest to stderr.
func (c *command) exportLedger(args []string) error {
	fs := c.flags("export ledger")
	format := fs.String("format", "csv", strings.Join(export.Formats(), ", "))
	var f export.Filter
	fs.StringVar(&f.Year, "fy", "", "financial year, e.g. 2024-25")
	fs.StringVar(&f.From, "from", "", "first day incurred, e.g. 2024-04-01")
	fs.StringVar(&f.To, "to", "", "last day incurred, e.g. 2024-06-30")
	fs.Int64Var(&f.ProgrammeID, "programme", 0, "only this programme's id")
	fs.Int64Var(&f.FundingLineID, "funding-line", 0, "only this funding line's id")
	fs.Int64Var(&f.RecipientID, "recipient", 0, "only spend paid to this organisation's id")
	out := fs.String("out", "", "file to write (default stdout)")
	excel := fs.Bool("excel", false, "csv only: start with a UTF-8 byte order mark, so Excel reads names such as Café")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *excel && *format != export.FormatCSV {
		return usageError{"--excel is for --format csv only"}
	}
	var progress func(int)
	if isTerminal(c.stderr) {
		bar := progressbar.NewOptions(-1, progressbar.OptionSetWriter(c.stderr), progressbar.OptionSetDescription("exporting entries"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowCount(), progressbar.OptionClearOnFinish())
		defer bar.Finish()
		progress = func(rows int) { _ = bar.Set(rows) }
	}
	var m *export.Manifest
	written, err := c.writeExport(*out, "export ledger", func(st *store.Store, w io.Writer) (any, error) {
		pub, err := st.EffectivePublisher(c.ctx, c.cfg.Publisher)
		if err != nil {
			return nil, err
		}
		m, err = export.Ledger(c.ctx, st, w, *format, f, progress, export.ExcelBOM(*excel), export.WithPublisher(pub))
		return m, err
	})
	if err != nil || !written {
		return err
	}
	// The count is what the file holds: the books hold approved entries only.
	noun := map[string]string{export.Format360Giving: "grants", export.FormatOCDS: "releases"}[*format]
	if noun == "" {
		noun = "entries"
	}
	if m.Rows == 1 {
		noun = map[string]string{"grants": "grant", "releases": "release", "entries": "entry"}[noun]
	}
	fmt.Fprintf(c.stdout, "Wrote %d %s to %s (sha256 %s) and its manifest %s.manifest.json\n", m.Rows, noun, *out, m.SHA256, *out)
	return nil
}

// writeExport opens the database, runs write into the file out (or stdout
// when out is empty), records the manifest write returns in the audit
// trail under action (a space for the dot: "export ledger" is
// export.ledger), and writes it beside the file as out.manifest.json (or to
// stderr). A failed export leaves no file behind. written says whether a
// file was written, for the caller to say so.
func (c *command) writeExport(out, action string, write func(st *store.Store, w io.Writer) (any, error)) (written bool, err error) {
	a, err := c.open()
	if err != nil {
		return false, err
	}
	defer a.Close()
	var w io.Writer = c.stdout
	var file *os.File
	if out != "" {
		if file, err = os.Create(out); err != nil {
			return false, err
		}
		defer file.Close()
		w = file
	}
	m, err := write(a.Store, w)
	if err != nil {
		if file != nil {
			os.Remove(out)
		}
		return false, err
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return false, err
	}
	if err := a.Store.RecordEvent(c.ctx, models.SystemActor(action), store.Change{Action: strings.Replace(action, " ", ".", 1),
		Entity: "export", After: m}); err != nil {
		return false, err
	}
	if file == nil {
		fmt.Fprintf(c.stderr, "%s\n", manifest)
		return false, nil
	}
	if err := file.Close(); err != nil {
		return false, err
	}
	return true, os.WriteFile(out+".manifest.json", append(manifest, '\n'), 0o644)
}

// exportAudit runs `granttrack export audit [--out FILE]`: the audit trail
// as JSON Lines, for app/export/verifier/verify_audit.py to check offline,
// with its manifest beside it as FILE.manifest.json (without --out, the
// trail goes to stdout and the manifest to stderr).
func (c *command) exportAudit(args []string) error {
	fs := c.flags("export audit")
	out := fs.String("out", "", "file to write (default stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var m *export.AuditManifest
	written, err := c.writeExport(*out, "export audit", func(st *store.Store, w io.Writer) (any, error) {
		var err error
		m, err = export.AuditTrail(c.ctx, st, w)
		return m, err
	})
	if err != nil || !written {
		return err
	}
	fmt.Fprintf(c.stdout, "Wrote %d audit events to %s (sha256 %s, head %s@%d) and its manifest %s.manifest.json\n", m.Events, *out, m.SHA256,
		m.AuditHash, m.AuditSeq, *out)
	return nil
}

// errNotVerified makes `export verify` exit non-zero once its report is printed.
var errNotVerified = errors.New("the export did NOT verify: see the findings above")

// exportVerify runs `granttrack export verify FILE [--manifest FILE.manifest.json]`:
// it prints the report, records the verification in the audit trail, and
// fails when anything is wrong.
func (c *command) exportVerify(args []string) error {
	fs := c.flags("export verify")
	manifestPath := fs.String("manifest", "", "the export's manifest (default FILE.manifest.json)")
	path, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if path == "" || fs.NArg() != 0 {
		return usageError{"usage: granttrack export verify FILE [--manifest FILE.manifest.json]"}
	}
	if *manifestPath == "" {
		*manifestPath = path + ".manifest.json"
	}
	m, err := readManifest(*manifestPath)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a, err := c.open()
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := export.Verify(c.ctx, a.Store, f, m)
	if err != nil {
		return err
	}
	if err := a.Store.RecordEvent(c.ctx, models.SystemActor("export verify"), store.Change{Action: "export.verify", Entity: "export",
		After: rep.Summary()}); err != nil {
		return err
	}
	if err := rep.WriteText(c.stdout); err != nil {
		return err
	}
	if !rep.OK {
		return errNotVerified
	}
	return nil
}

// readManifest reads an export's manifest file.
func readManifest(path string) (*export.Manifest, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, models.Errorf(models.EINVALID, "There is no manifest at %s; name it with --manifest.", path)
	}
	if err != nil {
		return nil, err
	}
	var m export.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, models.Errorf(models.EINVALID, "The manifest %s is not an export manifest: %v.", path, err)
	}
	return &m, nil
}
