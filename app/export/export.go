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
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Formats the ledger can be written in.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
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

// Filter narrows an export.
type Filter struct {
	Year          string `json:"fy,omitempty"`
	FundingLineID int64  `json:"funding_line_id,omitempty"`
}

// Columns of the CSV ledger, in order.
var Columns = []string{"entry_id", "funding_line", "programme", "award", "payee", "payee_org_id", "amount", "status",
	"incurred_on", "category", "reference", "description", "recorded_by", "recorded_at", "approved_by", "decided_at",
	"reverses_entry", "reversal_reason"}

// Ledger writes the spend ledger in format to w and returns its manifest.
// The rows are read in one REPEATABLE READ snapshot, the same one the
// audit head is read in, so the manifest's totals and head describe exactly
// the rows written.
func Ledger(ctx context.Context, st *store.Store, w io.Writer, format string, f Filter) (*Manifest, error) {
	var yr *models.FinancialYear
	if f.Year != "" {
		fy, err := models.ParseFinancialYear(f.Year)
		if err != nil {
			return nil, &models.Error{Code: models.EINVALID, Message: "The financial year " + models.ErrorMessage(err) + ".",
				Fields: []models.FieldError{{Field: "fy", Message: models.ErrorMessage(err)}}}
		}
		yr = &fy
	}
	var write func(r store.LedgerRow) error
	var finish func() error
	h := sha256.New()
	out := io.MultiWriter(w, h)
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(out)
		if err := cw.Write(Columns); err != nil {
			return nil, err
		}
		write = func(r store.LedgerRow) error { return cw.Write(csvRecord(r)) }
		finish = func() error { cw.Flush(); return cw.Error() }
	case FormatJSON:
		first := true
		if _, err := io.WriteString(out, `{"entries":[`); err != nil {
			return nil, err
		}
		enc := json.NewEncoder(out)
		write = func(r store.LedgerRow) error {
			if !first {
				if _, err := io.WriteString(out, ","); err != nil {
					return err
				}
			}
			first = false
			return enc.Encode(jsonRow(r))
		}
		finish = func() error { _, err := io.WriteString(out, "]}\n"); return err }
	default:
		return nil, &models.Error{Code: models.EINVALID, Message: "The format must be csv or json.",
			Fields: []models.FieldError{{Field: "format", Message: "must be csv or json"}}}
	}
	m := &Manifest{Format: format, Filters: f, GeneratedAt: time.Now().UTC()}
	total, approved := decimal.Zero, decimal.Zero
	head, err := st.StreamLedger(ctx, store.LedgerFilter{Year: yr, FundingLineID: f.FundingLineID}, func(r store.LedgerRow) error {
		m.Rows++
		total = total.Add(r.Amount)
		if r.Status == models.SpendApproved {
			approved = approved.Add(r.Amount)
		}
		return write(r)
	})
	if err != nil {
		return nil, err
	}
	if err := finish(); err != nil {
		return nil, err
	}
	m.Total, m.Approved = models.FormatMoney(total), models.FormatMoney(approved)
	m.AuditSeq, m.AuditHash = head.Seq, hex.EncodeToString(head.Hash)
	m.SHA256 = hex.EncodeToString(h.Sum(nil))
	return m, nil
}

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
		return fmt.Sprint(*id)
	}
	optTime := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return []string{fmt.Sprint(r.ID), SafeText(r.FundingLine), SafeText(r.Programme), opt(r.Award), SafeText(r.Payee), opt(r.PayeeOrgID),
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
