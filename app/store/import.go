package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// RowError is one problem of an import, by its line in the file. Field
// names the column of a bad value; a problem with the file's structure or
// encoding has no field but the byte Column in the line where it shows.
type RowError struct {
	Line    int    `json:"line"`
	Column  int    `json:"column,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Where says where the problem is, for people: "line 3" or "line 3, column 7".
func (r RowError) Where() string {
	if r.Column > 0 {
		return fmt.Sprintf("line %d, column %d", r.Line, r.Column)
	}
	return fmt.Sprintf("line %d", r.Line)
}

// maxImportProblems bounds the problems an import lists, so that a hostile
// file of millions of bad rows cannot exhaust memory; the rest are counted.
const maxImportProblems = 1000

// ImportError lists the problems of a refused import (the first
// maxImportProblems of them, and how many More); nothing was stored.
type ImportError struct {
	Rows []RowError
	More int
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the import was refused and nothing was stored: %d problem(s)", len(e.Rows)+e.More)
	for _, r := range e.Rows {
		fmt.Fprintf(&b, "\n  %s: %s: %s", r.Where(), r.Field, r.Message)
	}
	return b.String()
}

// ImportResult describes a stored import.
type ImportResult struct {
	ID    int64
	Rows  int
	Total decimal.Decimal
	// Encoding is the file's: EncodingUTF8, or EncodingWindows1252 when it
	// was converted as it was read.
	Encoding string
}

// ImportOptions tune an import.
type ImportOptions struct {
	FileName string
	Force    bool // import even if this file was imported before
	// Progress, if set, is told how far the import has got: the rows read
	// so far (total 0: not known yet), then the entries written to the
	// ledger out of all of them.
	Progress func(stage ImportStage, done, total int)
}

// ImportStage is a stage of an import that reports progress.
type ImportStage int

const (
	ImportReading   ImportStage = iota // reading, checking and staging the file
	ImportRecording                    // writing the staged rows to the ledger
)

// importBatch is how many rows one INSERT writes to the ledger: small
// enough to report progress on a large file, large enough that the
// statement-level work (the monthly rollup) is paid rarely.
// A variable so that tests can make several batches of a small file.
var importBatch = 50_000

// ImportSpend reads a spend CSV (columns models.SpendImportColumns, header
// first) and records every row as pending spend by actor, all or nothing:
// the rows are streamed with COPY into a staging table inside one
// transaction, checked, then inserted. Every bad row is reported in an
// *ImportError with its line number. A file imported before (same SHA-256)
// is ECONFLICT unless opts.Force.
//
// The names a row refers to (funding line, payee, award) repeat across a
// file, so each distinct combination is resolved once: Go numbers them while
// reading, the staging rows carry only that number, and the database checks
// and looks up the few combinations instead of every row.
func (s *Store) ImportSpend(ctx context.Context, actor models.Actor, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	res, err := s.importSpend(ctx, actor, r, opts)
	s.activity.countImport(res, err)
	return res, err
}

func (s *Store) importSpend(ctx context.Context, actor models.Actor, r io.Reader, opts ImportOptions) (*ImportResult, error) {
	// The digest is of the file as sent; the CSV reader sees it as UTF-8.
	hash := sha256.New()
	text := newImportText(io.TeeReader(r, hash))
	cr := csv.NewReader(text)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = len(models.SpendImportColumns)
	header, err := cr.Read()
	// A header with the wrong number of columns is still a header: say
	// which columns it must have.
	if err != nil && !errors.Is(err, csv.ErrFieldCount) {
		if row, ok := rowErrorOf(err, header, len(models.SpendImportColumns)); ok {
			return nil, &ImportError{Rows: []RowError{row}}
		}
		if errors.Is(err, io.EOF) {
			return nil, models.Errorf(models.EINVALID, "The file is empty: it needs a header row: %s", strings.Join(models.SpendImportColumns, ","))
		}
		return nil, err
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
	// inserts (Bun) see the same staging tables, and a crash or kill at any
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
	// The final INSERT sorts the rows into file order; enough memory keeps
	// that sort of already-ordered rows off disk.
	if _, err := conn.ExecContext(ctx, `SET LOCAL work_mem = '256MB';
		CREATE TEMP TABLE spend_import_rows (seq int, line int, k int, amount text, incurred_on date, category text,
			reference text, description text, purpose text, vfm_reason text) ON COMMIT DROP;
		CREATE TEMP TABLE spend_import_keys (k int, funding_line text, payee text, award text) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	src := &csvRows{r: cr, progress: opts.Progress, keys: map[importKey]int32{}, total: decimal.Zero}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		if _, err := pc.CopyFrom(ctx, pgx.Identifier{"spend_import_rows"},
			[]string{"seq", "line", "k", "amount", "incurred_on", "category", "reference", "description", "purpose", "vfm_reason"}, src); err != nil {
			return err
		}
		if src.err != nil {
			return nil
		}
		keys := make([][]any, len(src.keys))
		for key, k := range src.keys {
			keys[k] = []any{k, key.line, key.payee, key.award}
		}
		_, err := pc.CopyFrom(ctx, pgx.Identifier{"spend_import_keys"}, []string{"k", "funding_line", "payee", "award"}, pgx.CopyFromRows(keys))
		return err
	})
	if src.err != nil {
		if len(src.bad) > 0 {
			return nil, &ImportError{Rows: src.bad, More: src.more}
		}
		return nil, src.err
	}
	if err != nil {
		return nil, fmt.Errorf("store: import copy: %w", err)
	}
	sum := hash.Sum(nil)
	// Each distinct reference, resolved once: ids, or the line's status.
	if _, err := conn.ExecContext(ctx, `CREATE TEMP TABLE spend_import_refs ON COMMIT DROP AS
		SELECT k.k, k.funding_line, k.payee, k.award, fl.id AS line_id, fl.code AS line_code, fl.status AS line_status,
			(SELECT o.id FROM organisations o WHERE o.org_id = upper(btrim(k.payee)) OR o.name = btrim(k.payee)
				ORDER BY o.org_id = upper(btrim(k.payee)) DESC NULLS LAST LIMIT 1) AS payee_id,
			a.id AS award_id, a.reference AS award_ref, a.status AS award_status
		FROM spend_import_keys k
		LEFT JOIN funding_lines fl ON fl.code = upper(btrim(k.funding_line))
		LEFT JOIN awards a ON btrim(k.award) <> '' AND a.reference = upper(btrim(k.award)) AND a.funding_line_id = fl.id;
		ANALYZE spend_import_refs`); err != nil {
		return nil, translate(err)
	}
	// Rows the database can check: names that resolve, lines that are
	// active. Only a bad reference costs a pass over the rows.
	var refErrs []RowError
	err = conn.NewRaw(`
		WITH bad AS (
			SELECT k, 'funding_line' AS field, 'no funding line has the code ' || quote_literal(funding_line) AS message
				FROM spend_import_refs WHERE line_id IS NULL
			UNION ALL
			SELECT k, 'funding_line', 'funding line ' || line_code || ' is ' || line_status || ', not active'
				FROM spend_import_refs WHERE line_status <> 'active'
			UNION ALL
			SELECT k, 'payee', 'no organisation has the org-id or name ' || quote_literal(payee)
				FROM spend_import_refs WHERE payee_id IS NULL
			UNION ALL
			SELECT k, 'award', 'no award ' || quote_literal(award) || ' on funding line ' || upper(btrim(funding_line))
				FROM spend_import_refs WHERE btrim(award) <> '' AND award_id IS NULL
			UNION ALL
			SELECT k, 'award', 'award ' || award_ref || ' is ' || award_status || ', not approved'
				FROM spend_import_refs WHERE award_status <> 'approved')
		SELECT r.line AS line, b.field AS field, b.message AS message
		FROM bad b JOIN spend_import_rows r ON r.k = b.k
		WHERE EXISTS (SELECT 1 FROM bad)
		ORDER BY 1, 2`).Scan(ctx, &refErrs)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if len(refErrs) == 0 {
		// Every entry within its line's dates and its award's, as the
		// database's spend_within_line_dates and spend_within_award_dates
		// require: one pass over the rows, listing each that is not.
		err = conn.NewRaw(`
			SELECT r.line AS line, 'incurred_on' AS field, 'incurred on ' || r.incurred_on || ', outside ' ||
				CASE WHEN r.incurred_on NOT BETWEEN fl.starts_on AND fl.ends_on
					THEN 'funding line ' || fl.code || '''s dates, ' || fl.starts_on || ' to ' || fl.ends_on
					ELSE 'award ' || a.reference || '''s dates, ' || a.starts_on || ' to ' || a.ends_on END AS message
			FROM spend_import_rows r JOIN spend_import_refs f ON f.k = r.k
			JOIN funding_lines fl ON fl.id = f.line_id LEFT JOIN awards a ON a.id = f.award_id
			WHERE r.incurred_on NOT BETWEEN fl.starts_on AND fl.ends_on OR r.incurred_on NOT BETWEEN a.starts_on AND a.ends_on
			ORDER BY 1`).Scan(ctx, &refErrs)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	if rows := append(src.bad, refErrs...); len(rows) > 0 {
		sortRowErrors(rows)
		more := src.more
		if len(rows) > maxImportProblems {
			rows, more = rows[:maxImportProblems], more+len(rows)-maxImportProblems
		}
		return nil, &ImportError{Rows: rows, More: more}
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
	res := &ImportResult{Rows: src.n, Encoding: text.Encoding()}
	if err := conn.NewRaw(`INSERT INTO spend_imports (file_name, file_sha256, rows, total, forced, imported_by)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id, total`,
		opts.FileName, sum, src.n, src.total, opts.Force, actor.UserID).Scan(ctx, &res.ID, &res.Total); err != nil {
		return nil, translate(err)
	}
	// The event carries a digest of the entries as written, so that
	// VerifyLedger can tell if any of them is later changed or removed.
	entriesSHA, err := s.recordImportedRows(ctx, conn, actor, res.ID, src.n, opts.Progress)
	if err != nil {
		return nil, err
	}
	if err := s.audit(ctx, conn, actor, Change{Action: "spend.import", Entity: "spend_import", EntityID: res.ID,
		After: map[string]any{"file_name": opts.FileName, "file_sha256": fmt.Sprintf("%x", sum), "encoding": res.Encoding, "rows": res.Rows,
			"total": models.FormatMoney(res.Total), "forced": opts.Force, "entries_sha256": entriesSHA}}); err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return nil, translate(err)
	}
	committed = true
	return res, nil
}

// recordImportedRows writes the n staged rows to the ledger in file order,
// importBatch at a time, reporting progress after each batch, and returns
// the digest of the entries it wrote (see entryDigest), hashed as each
// batch returns them, in id order, since each is given the next id as it is
// written. The batches share the import's transaction, so it is still all
// or nothing.
func (s *Store) recordImportedRows(ctx context.Context, conn bun.Conn, actor models.Actor, importID int64, n int,
	progress func(ImportStage, int, int)) (string, error) {
	if n > importBatch {
		if _, err := conn.ExecContext(ctx, "CREATE INDEX ON spend_import_rows (seq); ANALYZE spend_import_rows"); err != nil {
			return "", err
		}
	}
	digest := newEntriesDigest()
	for done := 0; done < n; done += importBatch {
		if progress != nil {
			progress(ImportRecording, done, n)
		}
		rows, err := conn.QueryContext(ctx, `INSERT INTO spend_entries AS e (funding_line_id, award_id, payee_id, amount, incurred_on, category,
				reference, description, purpose, vfm_reason, recorded_by, import_id)
			SELECT f.line_id, f.award_id, f.payee_id, r.amount::numeric, r.incurred_on, r.category, r.reference, r.description,
				r.purpose, r.vfm_reason, ?, ?
			FROM spend_import_rows r JOIN spend_import_refs f ON f.k = r.k
			WHERE r.seq > ? AND r.seq <= ?
			ORDER BY r.seq
			RETURNING `+entryDigest, actor.UserID, importID, done, done+importBatch)
		if err != nil {
			return "", translate(err)
		}
		if err := digest.add(rows); err != nil {
			return "", translate(err)
		}
	}
	if progress != nil {
		progress(ImportRecording, n, n)
	}
	return digest.sum(), nil
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

// importKey is the names one row refers to, as written in the file.
type importKey struct{ line, payee, award string }

// csvRows feeds CSV records to COPY, checking each with the same rules as
// the API and collecting every bad row rather than stopping at the first. It
// numbers each distinct importKey and sums the amounts on the way. It runs
// in pgx's COPY goroutine, where a panic would end the process, so it reads
// a record's positions only once the reader has returned that record whole.
type csvRows struct {
	r        *csv.Reader
	row      []any
	n        int
	bad      []RowError
	more     int // problems beyond maxImportProblems, counted only
	err      error
	progress func(ImportStage, int, int)
	keys     map[importKey]int32
	total    decimal.Decimal
}

func (c *csvRows) problem(r RowError) {
	if len(c.bad) < maxImportProblems {
		c.bad = append(c.bad, r)
	} else {
		c.more++
	}
}

func (c *csvRows) Next() bool {
	for {
		rec, err := c.r.Read()
		if err == io.EOF {
			return false
		}
		if err != nil {
			row, ok := rowErrorOf(err, rec, len(models.SpendImportColumns))
			if !ok {
				c.err = fmt.Errorf("store: import read: %w", err)
				return false
			}
			c.problem(row)
			var te *TextError
			if errors.As(err, &te) {
				// The rest of the file cannot be read as text.
				c.err = err
				return false
			}
			continue // the reader goes on at the next record
		}
		line, _ := c.r.FieldPos(0)
		c.n++
		in := models.SpendImportRow{FundingLine: rec[0], Award: rec[1], Payee: rec[2], Amount: strings.TrimSpace(rec[3]),
			IncurredOn: rec[4], Category: rec[5], Reference: rec[6], Description: rec[7], Purpose: rec[8], VFMReason: rec[9]}
		e, err := in.Validate()
		amount := in.Amount
		if err != nil {
			var me *models.Error
			errors.As(err, &me)
			for _, f := range me.Fields {
				c.problem(RowError{Line: line, Field: f.Field, Message: f.Message})
			}
			amount = "0" // keep the staging row castable; the import is refused anyway
			if slices.ContainsFunc(me.Fields, func(f models.FieldError) bool {
				return f.Field == "award" || f.Field == "payee" || f.Field == "funding_line"
			}) {
				continue // names that are not text are not looked up
			}
		} else {
			c.total = c.total.Add(e.Amount)
		}
		key := importKey{in.FundingLine, in.Payee, in.Award}
		k, ok := c.keys[key]
		if !ok {
			k = int32(len(c.keys))
			c.keys[key] = k
		}
		c.row = []any{c.n, line, k, amount, e.IncurredOn, e.Category, e.Reference, e.Description, e.Purpose, e.VFMReason}
		if c.progress != nil && c.n%1000 == 0 {
			c.progress(ImportReading, c.n, 0)
		}
		return true
	}
}

// rowErrorOf describes a CSV reader's error by line and column, in words
// a finance officer can act on; ok is false for an error of the reader
// underneath (a failed disk or connection), which is not the file's fault.
func rowErrorOf(err error, rec []string, columns int) (row RowError, ok bool) {
	var te *TextError
	var pe *csv.ParseError
	switch {
	case errors.As(err, &te):
		return RowError{Line: te.Line, Column: te.Column, Message: te.Message}, true
	case errors.As(err, &pe):
		row = RowError{Line: pe.Line, Column: pe.Column, Message: pe.Err.Error()}
		switch {
		case errors.Is(pe.Err, csv.ErrFieldCount):
			row.Column = 0
			row.Message = fmt.Sprintf("has %d columns; every row needs the %d of the header", len(rec), columns)
		case errors.Is(pe.Err, csv.ErrQuote):
			row.Message = `a quoted value is not closed properly: end it with " and write a " inside it as ""`
		case errors.Is(pe.Err, csv.ErrBareQuote):
			row.Message = `a " appears in a value that is not in quotes: put the whole value in quotes and write the " as ""`
		}
		return row, true
	}
	return RowError{}, false
}

func (c *csvRows) Values() ([]any, error) { return c.row, nil }
func (c *csvRows) Err() error             { return c.err }

func sortRowErrors(rows []RowError) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Line < rows[j].Line })
}
