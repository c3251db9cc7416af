package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"

	"granttrack/models"
)

// RowError is one bad row of an import, by its line in the file.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ImportError lists every bad row of a refused import; nothing was stored.
type ImportError struct{ Rows []RowError }

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the import was refused and nothing was stored: %d problem(s)", len(e.Rows))
	for _, r := range e.Rows {
		fmt.Fprintf(&b, "\n  line %d: %s: %s", r.Line, r.Field, r.Message)
	}
	return b.String()
}

// ImportResult describes a stored import.
type ImportResult struct {
	ID    int64
	Rows  int
	Total decimal.Decimal
}

// ImportOptions tune an import.
type ImportOptions struct {
	FileName string
	Force    bool      // import even if this file was imported before
	Progress func(int) // called with the number of rows read so far; may be nil
}

// ImportSpend reads a spend CSV (columns models.SpendImportColumns, header
// first) and records every row as pending spend by actor, all or nothing:
// the rows are streamed with COPY into a staging table inside one
// transaction, checked, then inserted. Every bad row is reported in an
// *ImportError with its line number. A file imported before (same SHA-256)
// is ECONFLICT unless opts.Force.
func (s *Store) ImportSpend(ctx context.Context, actor models.Actor, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	hash := sha256.New()
	cr := csv.NewReader(io.TeeReader(r, hash))
	cr.ReuseRecord = true
	cr.FieldsPerRecord = len(models.SpendImportColumns)
	header, err := cr.Read()
	// A header with the wrong number of columns is still a header: say
	// which columns it must have.
	if err != nil && !errors.Is(err, csv.ErrFieldCount) {
		return nil, models.Errorf(models.EINVALID, "The file has no header row: %v", err)
	}
	if err := checkHeader(header); err != nil {
		return nil, err
	}
	conn, err := s.bun.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// One transaction on one connection: COPY (pgx) and the checks and
	// inserts (Bun) see the same staging table, and a crash or kill at any
	// point leaves nothing behind.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE spend_import_rows (
		line int, funding_line text, award text, payee text, amount text, incurred_on text, category text,
		reference text, description text, purpose text, vfm_reason text) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	src := &csvRows{r: cr, progress: opts.Progress}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"spend_import_rows"},
			append([]string{"line"}, models.SpendImportColumns...), src)
		return err
	})
	if src.err != nil {
		return nil, src.err
	}
	if err != nil {
		return nil, fmt.Errorf("store: import copy: %w", err)
	}
	sum := hash.Sum(nil)
	// Rows the database can check: names that resolve, lines that are active.
	var refErrs []RowError
	err = conn.NewRaw(`
		SELECT r.line AS line, 'funding_line' AS field, 'no funding line has the code ' || quote_literal(r.funding_line) AS message
			FROM spend_import_rows r LEFT JOIN funding_lines fl ON fl.code = upper(btrim(r.funding_line)) WHERE fl.id IS NULL
		UNION ALL
		SELECT r.line, 'funding_line', 'funding line ' || fl.code || ' is ' || fl.status || ', not active'
			FROM spend_import_rows r JOIN funding_lines fl ON fl.code = upper(btrim(r.funding_line)) WHERE fl.status <> 'active'
		UNION ALL
		SELECT r.line, 'payee', 'no organisation has the org-id or name ' || quote_literal(r.payee)
			FROM spend_import_rows r WHERE NOT EXISTS (SELECT 1 FROM organisations o WHERE o.org_id = upper(btrim(r.payee)) OR o.name = btrim(r.payee))
		UNION ALL
		SELECT r.line, 'award', 'no award ' || quote_literal(r.award) || ' on funding line ' || upper(btrim(r.funding_line))
			FROM spend_import_rows r WHERE btrim(r.award) <> '' AND NOT EXISTS (SELECT 1 FROM awards a JOIN funding_lines fl ON fl.id = a.funding_line_id
				WHERE a.reference = upper(btrim(r.award)) AND fl.code = upper(btrim(r.funding_line)))
		ORDER BY 1, 2`).Scan(ctx, &refErrs)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if rows := append(src.bad, refErrs...); len(rows) > 0 {
		sortRowErrors(rows)
		return nil, &ImportError{Rows: rows}
	}
	if !opts.Force {
		var when string
		err := conn.NewRaw(`SELECT to_char(imported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS "UTC"')
			FROM spend_imports WHERE file_sha256 = ? ORDER BY id LIMIT 1`, sum).Scan(ctx, &when)
		if err == nil {
			// The field tells a form which box forces a second import.
			return nil, &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("This file was already imported (at %s); import it again only with --force.", when),
				Fields: []models.FieldError{{Field: "force", Message: "this file was already imported at " + when}}}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	res := &ImportResult{Rows: src.n}
	if err := conn.NewRaw(`INSERT INTO spend_imports (file_name, file_sha256, rows, total, forced, imported_by)
		SELECT ?, ?, count(*), coalesce(sum(amount::numeric), 0), ?, ? FROM spend_import_rows RETURNING id, total`,
		opts.FileName, sum, opts.Force, actor.UserID).Scan(ctx, &res.ID, &res.Total); err != nil {
		return nil, translate(err)
	}
	// Names resolve once per distinct value, not once per row.
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE spend_import_payees ON COMMIT DROP AS
		SELECT p.payee, (SELECT o.id FROM organisations o WHERE o.org_id = upper(btrim(p.payee)) OR o.name = btrim(p.payee)
			ORDER BY o.org_id = upper(btrim(p.payee)) DESC LIMIT 1) AS id
		FROM (SELECT DISTINCT payee FROM spend_import_rows) p`); err != nil {
		return nil, translate(err)
	}
	if _, err := conn.ExecContext(ctx, `ANALYZE spend_import_rows; ANALYZE spend_import_payees`); err != nil {
		return nil, translate(err)
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO spend_entries (funding_line_id, award_id, payee_id, amount, incurred_on, category,
			reference, description, purpose, vfm_reason, recorded_by, import_id)
		SELECT fl.id, a.id, py.id, r.amount::numeric, r.incurred_on::date, btrim(r.category), btrim(r.reference), btrim(r.description),
			btrim(r.purpose), btrim(r.vfm_reason), ?, ?
		FROM spend_import_rows r
		JOIN funding_lines fl ON fl.code = upper(btrim(r.funding_line))
		JOIN spend_import_payees py ON py.payee = r.payee
		LEFT JOIN awards a ON btrim(r.award) <> '' AND a.reference = upper(btrim(r.award)) AND a.funding_line_id = fl.id
		ORDER BY r.line`, actor.UserID, res.ID); err != nil {
		return nil, translate(err)
	}
	if err := s.audit(ctx, conn, actor, Change{Action: "spend.import", Entity: "spend_import", EntityID: res.ID,
		After: map[string]any{"file_name": opts.FileName, "file_sha256": fmt.Sprintf("%x", sum), "rows": res.Rows,
			"total": models.FormatMoney(res.Total), "forced": opts.Force}}); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, translate(err)
	}
	committed = true
	return res, nil
}

func checkHeader(header []string) error {
	got := make([]string, len(header))
	for i, h := range header {
		got[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	}
	if strings.Join(got, ",") != strings.Join(models.SpendImportColumns, ",") {
		return models.Errorf(models.EINVALID, "The header row must be exactly: %s", strings.Join(models.SpendImportColumns, ","))
	}
	return nil
}

// csvRows feeds CSV records to COPY, checking each with the same rules as
// the API and collecting every bad row rather than stopping at the first.
type csvRows struct {
	r        *csv.Reader
	row      []any
	n        int
	bad      []RowError
	err      error
	progress func(int)
}

func (c *csvRows) Next() bool {
	rec, err := c.r.Read()
	if err == io.EOF {
		return false
	}
	line, _ := c.r.FieldPos(0)
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			c.bad = append(c.bad, RowError{Line: pe.Line, Field: "", Message: pe.Err.Error()})
			if errors.Is(pe.Err, csv.ErrFieldCount) {
				return c.Next()
			}
		}
		c.err = models.Errorf(models.EINVALID, "The file cannot be read as CSV: %v", err)
		return false
	}
	c.n++
	in := models.SpendImportRow{FundingLine: rec[0], Award: rec[1], Payee: rec[2], Amount: strings.TrimSpace(rec[3]),
		IncurredOn: rec[4], Category: rec[5], Reference: rec[6], Description: rec[7], Purpose: rec[8], VFMReason: rec[9]}
	if err := in.Validate(); err != nil {
		var me *models.Error
		errors.As(err, &me)
		for _, f := range me.Fields {
			c.bad = append(c.bad, RowError{Line: line, Field: f.Field, Message: f.Message})
		}
		in.Amount = "0" // keep the staging row castable; the import is refused anyway
	}
	c.row = []any{line, in.FundingLine, in.Award, in.Payee, in.Amount, in.IncurredOn, in.Category, in.Reference, in.Description, in.Purpose, in.VFMReason}
	if c.progress != nil && c.n%1000 == 0 {
		c.progress(c.n)
	}
	return true
}

func (c *csvRows) Values() ([]any, error) { return c.row, nil }
func (c *csvRows) Err() error             { return c.err }

func sortRowErrors(rows []RowError) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Line < rows[j].Line })
}
