// Package export writes the spend ledger for auditors, streamed row by row
// so that no export holds the ledger in memory, with a manifest that ties the
// file to the ledger and the audit chain at the time of export.
package export

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Formats the ledger can be written in.
const (
	FormatCSV       = "csv"
	FormatJSON      = "json"
	FormatXLSX      = "xlsx"
	FormatHledger   = "hledger"
	FormatBeancount = "beancount"
)

// Manifest describes an export: what was asked, what was written, and the
// audit chain's head when it was written.
type Manifest struct {
	Format      string    `json:"format"`
	Filters     Filter    `json:"filters"`
	Rows        int       `json:"rows"`
	Total       string    `json:"total"`
	Approved    string    `json:"approved_total"`
	AuditSeq    int64     `json:"audit_head_seq"`
	AuditHash   string    `json:"audit_head_hash"`
	GeneratedAt time.Time `json:"generated_at"`
	SHA256      string    `json:"sha256"`
	// UTF8BOM is set when the CSV starts with a byte order mark (ExcelBOM).
	UTF8BOM bool `json:"utf8_bom,omitempty"`
}

// Filter narrows an export. Dates are inclusive calendar dates (2024-04-01)
// on the day the spend was incurred; a financial year and a date range
// together keep the days in both.
type Filter struct {
	Year          string `json:"fy,omitempty"`
	From          string `json:"from,omitempty"`
	To            string `json:"to,omitempty"`
	ProgrammeID   int64  `json:"programme_id,omitempty"`
	FundingLineID int64  `json:"funding_line_id,omitempty"`
	RecipientID   int64  `json:"recipient_id,omitempty"`
}

// Columns of the CSV ledger, in order. decision is approved, rejected or
// empty while pending; decided_by and decided_at say who took it and when;
// rejection_reason is set on rejected entries only.
var Columns = []string{"entry_id", "funding_line", "programme", "award", "payee", "payee_org_id", "amount", "status",
	"incurred_on", "category", "reference", "description", "purpose", "vfm_reason", "recorded_by", "recorded_at", "decision",
	"decided_by", "decided_at", "rejection_reason", "reverses_entry", "reversal_reason"}

// exportTime is a time as every format writes it: UTC, cut to the whole
// second, so that CSV, JSON and XLSX agree (a spreadsheet's date-time
// cannot hold microseconds exactly).
func exportTime(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// decisionOf is the decision column: the status once an entry is decided.
func decisionOf(s models.SpendStatus) string {
	if s == models.SpendPending {
		return ""
	}
	return string(s)
}

// ledgerFilter checks f and turns it into the store's filter.
func (f Filter) ledgerFilter() (store.LedgerFilter, error) {
	var p models.Problems
	lf := store.LedgerFilter{ProgrammeID: f.ProgrammeID, FundingLineID: f.FundingLineID, PayeeID: f.RecipientID}
	if f.Year != "" {
		fy, err := models.ParseFinancialYear(f.Year)
		if err != nil {
			p.Add("fy", "%s", models.ErrorMessage(err))
		} else {
			lf.Year = &fy
		}
	}
	date := func(field, v string) *time.Time {
		if v == "" {
			return nil
		}
		t, err := models.ParseDate(v)
		if err != nil {
			p.Add(field, "%s", models.ErrorMessage(err))
			return nil
		}
		return &t
	}
	lf.From, lf.To = date("from", f.From), date("to", f.To)
	if lf.From != nil && lf.To != nil && lf.To.Before(*lf.From) {
		p.Add("to", "must not be before from")
	}
	return lf, p.Err()
}

// A RowWriter writes ledger rows in one format. Close ends the file once
// every row has been written; m then holds the totals and the audit head,
// for formats that carry their manifest inside the file (XLSX).
type RowWriter interface {
	Row(r store.LedgerRow) error
	Close(m *Manifest) error
}

// rowFormat is one ledger format: how to start writing it, and what the
// file is called and sent as. Books (the journals) hold approved spend
// only, in date order, as their tools read them.
type rowFormat struct {
	newWriter   func(w io.Writer) (RowWriter, error)
	contentType string
	extension   string
	books       bool
}

// rowFormats are the ledger formats by name.
var rowFormats = map[string]rowFormat{
	FormatCSV:  {newCSVWriter, "text/csv; charset=utf-8", "csv", false},
	FormatJSON: {newJSONWriter, "application/json; charset=utf-8", "json", false},
	FormatXLSX: {newXLSXWriter, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", false},
	// The journal is plain ASCII: see hledger.go.
	FormatHledger:   {newHledgerWriter, "text/plain; charset=utf-8", "journal", true},
	FormatBeancount: {newBeancountWriter, "text/plain; charset=utf-8", "beancount", true},
}

// A budgeter is a books writer that also writes each funding line's
// budget, given before Close.
type budgeter interface {
	budgets(lines []store.LineBudget)
}

// An aborter cleans up after an export that failed before Close, such as
// the XLSX writer's temporary files.
type aborter interface{ abort() }

// ContentType is the media type of a file in format, and its file extension;
// ok is false for an unknown format.
func ContentType(format string) (mediaType, extension string, ok bool) {
	if pf, ok := packageFormats[format]; ok {
		return pf.contentType, pf.extension, true
	}
	f, ok := rowFormats[format]
	return f.contentType, f.extension, ok
}

// Formats lists the formats Ledger writes: the ledger's row formats sorted,
// then the open-data package formats sorted.
func Formats() []string {
	names := make([]string, 0, len(rowFormats)+len(packageFormats))
	for name := range rowFormats {
		names = append(names, name)
	}
	sort.Strings(names)
	rows := len(names)
	for name := range packageFormats {
		names = append(names, name)
	}
	sort.Strings(names[rows:])
	return names
}

// An Option changes how Ledger writes a file.
type Option func(*options)

type options struct {
	excelBOM  bool
	publisher Publisher
}

// ExcelBOM(true) starts a CSV with a UTF-8 byte order mark, without which
// Excel opens UTF-8 as Windows-1252 and garbles names such as Café. Other
// formats ignore it. The BOM is part of the file and so of its SHA-256.
func ExcelBOM(on bool) Option { return func(o *options) { o.excelBOM = on } }

// utf8BOM is the UTF-8 byte order mark.
const utf8BOM = "\ufeff"

// Ledger writes the spend ledger in format to w and returns its manifest,
// whose rows and totals are those of the entries in the file (for the
// books, approved entries only). The rows are read in one REPEATABLE READ snapshot, the same one the
// audit head is read in, so the manifest's totals and head describe exactly
// the rows written. progress, if not nil, is called after each row. The
// open-data package formats (360giving, ocds) are written by standards.go.
func Ledger(ctx context.Context, st *store.Store, w io.Writer, format string, f Filter, progress func(rows int), opts ...Option) (*Manifest, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if pf, ok := packageFormats[format]; ok {
		return writePackage(ctx, st, w, format, pf, o.publisher, f)
	}
	rf, ok := rowFormats[format]
	if !ok {
		msg := "must be one of " + strings.Join(Formats(), ", ")
		return nil, &models.Error{Code: models.EINVALID, Message: "The format " + msg + ".",
			Fields: []models.FieldError{{Field: "format", Message: msg}}}
	}
	lf, err := f.ledgerFilter()
	if err != nil {
		return nil, err
	}
	lf.ByDate = rf.books
	h := sha256.New()
	out := io.MultiWriter(w, h)
	m := &Manifest{Format: format, Filters: f, GeneratedAt: time.Now().UTC()}
	if o.excelBOM && format == FormatCSV {
		if _, err := io.WriteString(out, utf8BOM); err != nil {
			return nil, err
		}
		m.UTF8BOM = true
	}
	rw, err := rf.newWriter(out)
	if err != nil {
		return nil, err
	}
	total, approved := decimal.Zero, decimal.Zero
	head, err := st.StreamLedger(ctx, lf, func(r store.LedgerRow) error {
		if rf.books && r.Status != models.SpendApproved {
			return nil
		}
		m.Rows++
		total = total.Add(r.Amount)
		if r.Status == models.SpendApproved {
			approved = approved.Add(r.Amount)
		}
		if progress != nil {
			progress(m.Rows)
		}
		return rw.Row(r)
	})
	if err != nil {
		if a, ok := rw.(aborter); ok {
			a.abort()
		}
		return nil, err
	}
	if b, ok := rw.(budgeter); ok {
		lines, err := st.LineBudgets(ctx, lf)
		if err != nil {
			return nil, err
		}
		b.budgets(lines)
	}
	m.Total, m.Approved = models.FormatMoney(total), models.FormatMoney(approved)
	m.AuditSeq, m.AuditHash = head.Seq, hex.EncodeToString(head.Hash)
	if err := rw.Close(m); err != nil {
		return nil, err
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	return m, nil
}

type csvWriter struct{ w *csv.Writer }

// newCSVWriter writes RFC 4180 CSV: CRLF line endings.
func newCSVWriter(w io.Writer) (RowWriter, error) {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return csvWriter{cw}, cw.Write(Columns)
}

func (c csvWriter) Row(r store.LedgerRow) error { return c.w.Write(csvRecord(r)) }
func (c csvWriter) Close(*Manifest) error       { c.w.Flush(); return c.w.Error() }

type jsonWriter struct {
	w     io.Writer
	enc   *json.Encoder
	first bool
}

func newJSONWriter(w io.Writer) (RowWriter, error) {
	_, err := io.WriteString(w, `{"entries":[`)
	return &jsonWriter{w: w, enc: json.NewEncoder(w), first: true}, err
}

func (j *jsonWriter) Row(r store.LedgerRow) error {
	if !j.first {
		if _, err := io.WriteString(j.w, ","); err != nil {
			return err
		}
	}
	j.first = false
	return j.enc.Encode(jsonRow(r))
}

func (j *jsonWriter) Close(*Manifest) error { _, err := io.WriteString(j.w, "]}\n"); return err }

// SafeText neutralises a text cell that a spreadsheet would run as a
// formula: one starting with =, +, -, @, a tab or a carriage return gets a
// leading apostrophe. Amounts are never passed through it, so they stay numbers.
func SafeText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func csvRecord(r store.LedgerRow) []string { return ledgerRecord(r, SafeText) }

// ledgerRecord is a ledger row as the text of each column, with text
// fields passed through text.
func ledgerRecord(r store.LedgerRow, text func(string) string) []string {
	opt := func(s *string) string {
		if s == nil {
			return ""
		}
		return text(*s)
	}
	optID := func(id *int64) string {
		if id == nil {
			return ""
		}
		return strconv.FormatInt(*id, 10)
	}
	optTime := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return exportTime(*t).Format(time.RFC3339)
	}
	return []string{strconv.FormatInt(r.ID, 10), text(r.FundingLine), text(r.Programme), opt(r.Award), text(r.Payee), opt(r.PayeeOrgID),
		models.FormatMoney(r.Amount), string(r.Status), r.IncurredOn.Format(models.DateLayout), text(r.Category), text(r.Reference),
		text(r.Description), text(r.Purpose), text(r.VFMReason), text(r.RecordedBy), optTime(&r.RecordedAt), decisionOf(r.Status),
		opt(r.DecidedBy), optTime(r.DecidedAt), opt(r.RejectionReason), optID(r.ReversesID), opt(r.ReversalReason)}
}

type jsonEntry struct {
	ID              int64              `json:"entry_id"`
	FundingLine     string             `json:"funding_line"`
	Programme       string             `json:"programme"`
	Award           *string            `json:"award"`
	Payee           string             `json:"payee"`
	PayeeOrgID      *string            `json:"payee_org_id"`
	Amount          string             `json:"amount"`
	Status          models.SpendStatus `json:"status"`
	IncurredOn      string             `json:"incurred_on"`
	Category        string             `json:"category"`
	Reference       string             `json:"reference"`
	Description     string             `json:"description"`
	Purpose         string             `json:"purpose"`
	VFMReason       string             `json:"vfm_reason"`
	RecordedBy      string             `json:"recorded_by"`
	RecordedAt      time.Time          `json:"recorded_at"`
	Decision        string             `json:"decision"`
	DecidedBy       *string            `json:"decided_by"`
	DecidedAt       *time.Time         `json:"decided_at"`
	RejectionReason *string            `json:"rejection_reason"`
	ReversesEntry   *int64             `json:"reverses_entry"`
	ReversalReason  *string            `json:"reversal_reason"`
}

func jsonRow(r store.LedgerRow) jsonEntry {
	var decidedAt *time.Time
	if r.DecidedAt != nil {
		t := exportTime(*r.DecidedAt)
		decidedAt = &t
	}
	return jsonEntry{ID: r.ID, FundingLine: r.FundingLine, Programme: r.Programme, Award: r.Award, Payee: r.Payee, PayeeOrgID: r.PayeeOrgID,
		Amount: models.FormatMoney(r.Amount), Status: r.Status, IncurredOn: r.IncurredOn.Format(models.DateLayout), Category: r.Category,
		Reference: r.Reference, Description: r.Description, Purpose: r.Purpose, VFMReason: r.VFMReason, RecordedBy: r.RecordedBy,
		RecordedAt: exportTime(r.RecordedAt), Decision: decisionOf(r.Status), DecidedBy: r.DecidedBy, DecidedAt: decidedAt,
		RejectionReason: r.RejectionReason, ReversesEntry: r.ReversesID, ReversalReason: r.ReversalReason}
}
