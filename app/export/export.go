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

// Columns of the CSV ledger, in order.
var Columns = []string{"entry_id", "funding_line", "programme", "award", "payee", "payee_org_id", "amount", "status",
	"incurred_on", "category", "reference", "description", "recorded_by", "recorded_at", "approved_by", "decided_at",
	"reverses_entry", "reversal_reason"}

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

// Ledger writes the spend ledger in format to w and returns its manifest,
// whose rows and totals are those of the entries in the file (for the
// books, approved entries only). The rows are read in one REPEATABLE READ snapshot, the same one the
// audit head is read in, so the manifest's totals and head describe exactly
// the rows written. progress, if not nil, is called after each row. The
// open-data package formats (360giving, ocds) are written by standards.go.
func Ledger(ctx context.Context, st *store.Store, w io.Writer, format string, f Filter, progress func(rows int)) (*Manifest, error) {
	if pf, ok := packageFormats[format]; ok {
		return writePackage(ctx, st, w, format, pf, f)
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
	rw, err := rf.newWriter(io.MultiWriter(w, h))
	if err != nil {
		return nil, err
	}
	m := &Manifest{Format: format, Filters: f, GeneratedAt: time.Now().UTC()}
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

func newCSVWriter(w io.Writer) (RowWriter, error) {
	cw := csv.NewWriter(w)
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

func csvRecord(r store.LedgerRow) []string {
	opt := func(s *string) string {
		if s == nil {
			return ""
		}
		return SafeText(*s)
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
		return t.UTC().Format(time.RFC3339)
	}
	return []string{strconv.FormatInt(r.ID, 10), SafeText(r.FundingLine), SafeText(r.Programme), opt(r.Award), SafeText(r.Payee), opt(r.PayeeOrgID),
		models.FormatMoney(r.Amount), string(r.Status), r.IncurredOn.Format(models.DateLayout), SafeText(r.Category), SafeText(r.Reference),
		SafeText(r.Description), SafeText(r.RecordedBy), r.RecordedAt.UTC().Format(time.RFC3339), opt(r.DecidedBy), optTime(r.DecidedAt),
		optID(r.ReversesID), opt(r.ReversalReason)}
}

type jsonEntry struct {
	ID             int64              `json:"entry_id"`
	FundingLine    string             `json:"funding_line"`
	Programme      string             `json:"programme"`
	Award          *string            `json:"award"`
	Payee          string             `json:"payee"`
	PayeeOrgID     *string            `json:"payee_org_id"`
	Amount         string             `json:"amount"`
	Status         models.SpendStatus `json:"status"`
	IncurredOn     string             `json:"incurred_on"`
	Category       string             `json:"category"`
	Reference      string             `json:"reference"`
	Description    string             `json:"description"`
	RecordedBy     string             `json:"recorded_by"`
	RecordedAt     time.Time          `json:"recorded_at"`
	ApprovedBy     *string            `json:"approved_by"`
	DecidedAt      *time.Time         `json:"decided_at"`
	ReversesEntry  *int64             `json:"reverses_entry"`
	ReversalReason *string            `json:"reversal_reason"`
}

func jsonRow(r store.LedgerRow) jsonEntry {
	return jsonEntry{ID: r.ID, FundingLine: r.FundingLine, Programme: r.Programme, Award: r.Award, Payee: r.Payee, PayeeOrgID: r.PayeeOrgID,
		Amount: models.FormatMoney(r.Amount), Status: r.Status, IncurredOn: r.IncurredOn.Format(models.DateLayout), Category: r.Category,
		Reference: r.Reference, Description: r.Description, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt, ApprovedBy: r.DecidedBy,
		DecidedAt: r.DecidedAt, ReversesEntry: r.ReversesID, ReversalReason: r.ReversalReason}
}
