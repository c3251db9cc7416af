package export

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// The statutory publishing pack: the lists the Elected Local Policing
// Bodies (Specified Information) Order 2011 (SI 2011/3050, as amended by SI
// 2012/2479) asks for that granttrack holds, each citing its paragraph of
// the Order's Schedule:
//   - 1(d) the allowances paid to each relevant office holder for expenses;
//   - 3(f) each crime and disorder reduction grant (recipient, purpose,
//     conditions and why it should reduce crime);
//   - 3(g) each item of expenditure over £500 (recipient, purpose and why it
//     is value for money);
//   - 4(b) each contract over £10,000 (the contracts' own procedure, title
//     and tender documents come from the contracts records).
// A pack covers one calendar month: grants and contracts awarded in it, and
// approved spend and expenses incurred in it. Personal data is redacted
// before anything is written (see redact.go), and the pack lists what was.

// ContractThreshold is the value above which contracts are published.
var ContractThreshold = decimal.NewFromInt(10_000)

// Files of the pack, in the order they are listed.
const (
	FileExpenses  = "office-holder-expenses.csv"
	FileGrants    = "grants.csv"
	FileSpend     = "spend-over-500.csv"
	FileContracts = "contracts-over-10000.csv"
	FileDocuments = "contract-documents.csv"
)

// PackFiles are the pack's CSV files in order.
var PackFiles = []string{FileExpenses, FileGrants, FileSpend, FileContracts, FileDocuments}

// Pack is one month's publishing pack, read in one snapshot.
type Pack struct {
	Month     string // 2024-06
	From, To  time.Time
	Grants    []store.AwardRecord
	Spend     []store.PublishedSpend
	Contracts []store.AwardRecord
	Expenses  []models.OfficeHolderExpense
	// Documents are the invitations to tender published in the month and
	// the contract documents of the contracts awarded in it (paragraph
	// 4(b)), each with its path in the pack, or withheld.
	Documents   []PackDocument
	Missing     []Missing   // what must be filled in before publication
	Redactions  []Redaction // what was withheld as personal data
	AuditSeq    int64
	AuditHash   string
	GeneratedAt time.Time
	// Publisher names the grants by their 360Giving identifiers.
	Publisher Publisher
}

// PackDocument is a contract line's document in the pack: published as
// uploaded at Path (documents/ID-NAME), or withheld (no Path) because it
// was marked as holding personal data.
type PackDocument struct {
	*models.ContractDocument
	LineCode string
	Path     string
}

// documentPath is where a document is published in the pack.
func documentPath(d *models.ContractDocument) string {
	return "documents/" + strconv.FormatInt(d.ID, 10) + "-" + d.FileName
}

// Missing is a required field left empty in one item of the pack.
type Missing struct {
	File  string `json:"file"`
	Item  string `json:"item"`
	Field string `json:"field"`
}

func (m Missing) String() string {
	return fmt.Sprintf("%s: %s has no %s", m.File, m.Item, strings.ReplaceAll(m.Field, "_", " "))
}

// ParseMonth reads a month written as 2024-06 and returns its first and
// last days.
func ParseMonth(s string) (from, to time.Time, err error) {
	from, err = time.Parse("2006-01", strings.TrimSpace(s))
	msg := "must be a month written as YYYY-MM, for example 2024-06"
	if err == nil {
		if rerr := models.CheckDate(from); rerr != nil {
			err, msg = rerr, models.ErrorMessage(rerr)
		}
	}
	if err != nil {
		return from, to, &models.Error{Code: models.EINVALID, Message: "The month " + msg + ".",
			Fields: []models.FieldError{{Field: "month", Message: msg}}}
	}
	return from, from.AddDate(0, 1, -1), nil
}

// Transparency reads the pack for month (2024-06) and lists what is missing.
// WithPublisher gives the 360Giving prefix that names each grant in
// grants.csv and spend-over-500.csv; without one the pack lists the
// identifiers as missing.
func Transparency(ctx context.Context, st *store.Store, month string, opts ...Option) (*Pack, error) {
	from, to, err := ParseMonth(month)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	p := &Pack{Month: from.Format("2006-01"), From: from, To: to, GeneratedAt: time.Now().UTC(), Publisher: o.publisher}
	head, err := st.ReadSnapshot(ctx, func(ctx context.Context, st *store.Store, _ store.ChainHead) error {
		var err error
		if p.Grants, err = st.PublishableAwards(ctx, store.AwardFilter{From: &from, To: &to, Kinds: grantKinds}); err != nil {
			return err
		}
		if p.Spend, err = st.SpendOver(ctx, from, to, models.PublishThreshold); err != nil {
			return err
		}
		over := ContractThreshold
		if p.Contracts, err = st.PublishableAwards(ctx, store.AwardFilter{From: &from, To: &to, Kinds: []models.FundingLineKind{models.KindContract}, Over: &over}); err != nil {
			return err
		}
		if p.Expenses, err = st.OfficeHolderExpenses(ctx, from, to); err != nil {
			return err
		}
		codes := map[int64]string{}
		var lines []int64
		for _, a := range p.Contracts {
			lines, codes[a.LineID] = append(lines, a.LineID), a.LineCode
		}
		docs, err := st.PublishableDocuments(ctx, from, to, lines)
		if err != nil {
			return err
		}
		for _, d := range docs {
			if _, ok := codes[d.FundingLineID]; !ok {
				fl, err := st.FundingLine(ctx, d.FundingLineID)
				if err != nil {
					return err
				}
				codes[d.FundingLineID] = fl.Code
			}
			pd := PackDocument{ContractDocument: d, LineCode: codes[d.FundingLineID]}
			if !d.PersonalData {
				pd.Path = documentPath(d)
			}
			p.Documents = append(p.Documents, pd)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.AuditSeq, p.AuditHash = head.Seq, hex.EncodeToString(head.Hash)
	p.Missing = p.missing()
	_, p.Redactions = p.tables()
	return p, nil
}

func blank(s *string) bool { return s == nil || strings.TrimSpace(*s) == "" }

func (p *Pack) missing() []Missing {
	var out []Missing
	if p.grantIDs() == nil && (len(p.Grants) > 0 || slices.ContainsFunc(p.Spend, func(e store.PublishedSpend) bool { return PaymentKind(e) == PaymentGrant })) {
		out = append(out, Missing{FileGrants, "each grant (set GRANTTRACK_360GIVING_PREFIX)", "grant_id"})
	}
	for _, a := range p.Grants {
		item := "grant " + a.Reference + " to " + a.RecipientName
		if strings.TrimSpace(a.Purpose) == "" {
			out = append(out, Missing{FileGrants, item, "purpose"})
		}
		if blank(a.Conditions) {
			out = append(out, Missing{FileGrants, item, "conditions"})
		}
		if blank(a.CrimeReductionReason) {
			out = append(out, Missing{FileGrants, item, "crime_reduction_reason"})
		}
	}
	for _, e := range p.Spend {
		item := fmt.Sprintf("spend entry %d (%s to %s)", e.ID, models.FormatMoney(e.Amount), e.Payee)
		if strings.TrimSpace(e.Purpose) == "" {
			out = append(out, Missing{FileSpend, item, "purpose"})
		}
		if strings.TrimSpace(e.VFMReason) == "" {
			out = append(out, Missing{FileSpend, item, "vfm_reason"})
		}
	}
	for _, a := range p.Contracts {
		if strings.TrimSpace(a.Purpose) == "" {
			out = append(out, Missing{FileContracts, "contract " + a.Reference + " with " + a.RecipientName, "purpose"})
		}
	}
	return out
}

// What each row of spend-over-500.csv is (its payment_kind). Paragraph
// 3(g) asks for expenditure over £500; the Local Government Transparency
// Code expects every payment over £500, grants included, so the file lists
// payments of grants as well and says which they are.
const (
	PaymentGrant    = "grant_payment"    // against an award on a grant or allocation line
	PaymentContract = "contract_payment" // on a contract line
	PaymentOther    = "other_spend"      // on a grant or allocation line, against no award
)

// PaymentKind is what a published spend entry pays: PaymentGrant,
// PaymentContract or PaymentOther.
func PaymentKind(e store.PublishedSpend) string {
	switch {
	case e.LineKind == models.KindContract:
		return PaymentContract
	case e.Award != nil && slices.Contains(grantKinds, e.LineKind):
		return PaymentGrant
	}
	return PaymentOther
}

// grantIDs returns the 360Giving identifier of a grant by its award's
// reference, or nil while the publisher's prefix is unset or the old
// placeholder.
func (p *Pack) grantIDs() func(reference string) string {
	if pre := p.Publisher.ThreeSixtyGivingPrefix; pre == "" || pre == Placeholder360Prefix {
		return nil
	}
	return p.Publisher.GrantID
}

// Column is one column of a pack table; money columns are never passed
// through SafeText, so they stay numbers in a spreadsheet.
type Column struct {
	Name  string
	Money bool
	// Verbatim marks what granttrack wrote itself (a document's path in
	// the pack, its SHA-256 and size): never redacted, so a path still
	// names its file and a hash still matches.
	Verbatim bool
}

// Table is one file of the pack as columns and rows of text.
type Table struct {
	File  string
	Title string
	// Paragraph is the paragraph of the Order's Schedule that asks for the
	// list, e.g. "3(f)".
	Paragraph string
	Columns   []Column
	Rows      [][]string
}

func optText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func day(t time.Time) string { return t.Format(models.DateLayout) }

func optMoney(d *decimal.Decimal) string {
	if d == nil {
		return ""
	}
	return models.FormatMoney(*d)
}

// Tables returns the pack's files as tables, in PackFiles order, with
// personal data redacted.
func (p *Pack) Tables() []Table {
	t, _ := p.tables()
	return t
}

// tables builds the tables and redacts them, saying what it redacted.
func (p *Pack) tables() ([]Table, []Redaction) {
	text := func(names ...string) []Column {
		cs := make([]Column, len(names))
		for i, n := range names {
			cs[i] = Column{Name: n, Money: strings.HasPrefix(n, "amount") || strings.HasPrefix(n, "value") || strings.HasPrefix(n, "tender_m"),
				Verbatim: n == "file" || n == "sha256" || n == "size" || n == "contract_documents"}
		}
		return cs
	}
	expenses := Table{File: FileExpenses, Title: "Allowances paid to relevant office holders for expenses", Paragraph: "1(d)",
		Columns: text("office_holder", "office", "incurred_on", "category", "description", "amount")}
	for _, e := range p.Expenses {
		expenses.Rows = append(expenses.Rows, []string{e.OfficeHolder, e.Office, day(e.IncurredOn), e.Category, e.Description, models.FormatMoney(e.Amount)})
	}
	grantID := func(reference string) string {
		if id := p.grantIDs(); id != nil {
			return id(reference)
		}
		return ""
	}
	grants := Table{File: FileGrants, Title: "Crime and disorder reduction grants", Paragraph: "3(f)",
		Columns: text("grant_id", "award_reference", "awarded_on", "funding_line", "programme", "funder", "recipient", "recipient_org_id", "amount",
			"purpose", "conditions", "crime_reduction_reason", "starts_on", "ends_on", "decision_record", "decision_record_url")}
	for _, a := range p.Grants {
		grants.Rows = append(grants.Rows, []string{grantID(a.Reference), a.Reference, day(a.AwardedOn), a.LineCode, a.ProgrammeName, a.FunderName, a.RecipientName,
			optText(a.RecipientOrg), models.FormatMoney(a.Amount), a.Purpose, optText(a.Conditions), optText(a.CrimeReductionReason),
			day(a.StartsOn), day(a.EndsOn), optText(a.DecisionRecord), optText(a.DecisionRecordURL)})
	}
	spend := Table{File: FileSpend, Title: "Spend over £500", Paragraph: "3(g)",
		Columns: text("entry_id", "incurred_on", "payment_kind", "grant_id", "funding_line", "award", "payee", "payee_org_id", "amount", "category", "purpose",
			"vfm_reason", "reference", "description", "reverses_entry")}
	for _, e := range p.Spend {
		rev := ""
		if e.ReversesID != nil {
			rev = strconv.FormatInt(*e.ReversesID, 10)
		}
		kind, id := PaymentKind(e), ""
		if kind == PaymentGrant {
			id = grantID(*e.Award)
		}
		spend.Rows = append(spend.Rows, []string{strconv.FormatInt(e.ID, 10), day(e.IncurredOn), kind, id, e.FundingLine, optText(e.Award), e.Payee,
			optText(e.PayeeOrg), models.FormatMoney(e.Amount), e.Category, e.Purpose, e.VFMReason, e.Reference, e.Description, rev})
	}
	contracts := Table{File: FileContracts, Title: "Contracts over £10,000", Paragraph: "4(b)",
		Columns: text("award_reference", "awarded_on", "funding_line", "tender_reference", "supplier", "supplier_org_id", "value",
			"tender_min_value", "tender_max_value", "starts_on", "ends_on", "purpose", "contract_title", "procedure",
			"decision_record", "decision_record_url", "contract_documents")}
	for _, a := range p.Contracts {
		var files []string
		for _, d := range p.Documents {
			if d.FundingLineID == a.LineID && d.Kind == models.DocContract && d.Path != "" {
				files = append(files, d.Path)
			}
		}
		contracts.Rows = append(contracts.Rows, []string{a.Reference, day(a.AwardedOn), a.LineCode, optText(a.TenderReference), a.RecipientName,
			optText(a.RecipientOrg), models.FormatMoney(a.Amount), optMoney(a.TenderMinValue), optMoney(a.TenderMaxValue),
			day(a.StartsOn), day(a.EndsOn), a.Purpose, optText(a.ContractTitle),
			models.Procedure(a.ProcurementMethod, a.FrameworkName, a.DirectAwardReason), optText(a.DecisionRecord), optText(a.DecisionRecordURL),
			strings.Join(files, " ")})
	}
	documents := Table{File: FileDocuments, Title: "Invitations to tender and contract documents", Paragraph: "4(b)",
		Columns: text("file", "funding_line", "kind", "title", "dated", "sha256", "size", "published")}
	for _, d := range p.Documents {
		published := "yes"
		if d.Path == "" {
			published = "withheld: holds personal data"
		}
		documents.Rows = append(documents.Rows, []string{d.Path, d.LineCode, string(d.Kind), d.Title, day(d.DocumentDate),
			hex.EncodeToString(d.SHA256), strconv.FormatInt(d.Size, 10), published})
	}
	tables := []Table{expenses, grants, spend, contracts, documents}
	var redactions []Redaction
	for i := range tables {
		redactions = append(redactions, redactTable(&tables[i])...)
	}
	return tables, redactions
}

// WriteCSV writes one file of the pack (a name in PackFiles), with every
// text cell made safe from formula injection; ENOTFOUND for another name.
func (p *Pack) WriteCSV(file string, w io.Writer) error {
	for _, t := range p.Tables() {
		if t.File != file {
			continue
		}
		cw := csv.NewWriter(w)
		cw.UseCRLF = true // RFC 4180, like the ledger's CSV
		header := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			header[i] = c.Name
		}
		if err := cw.Write(header); err != nil {
			return err
		}
		for _, row := range t.Rows {
			out := make([]string, len(row))
			for i, cell := range row {
				if t.Columns[i].Money {
					out[i] = cell
				} else {
					out[i] = SafeText(cell)
				}
			}
			if err := cw.Write(out); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	return models.Errorf(models.ENOTFOUND, "The publishing pack has no file %q; it has %s.", file, strings.Join(PackFiles, ", "))
}

var indexPage = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Publishing pack {{.Pack.Month}}</title>
<style>body{font-family:sans-serif;margin:2rem}table{border-collapse:collapse;margin-bottom:2rem}td,th{border:1px solid #999;padding:.25rem .5rem;vertical-align:top;text-align:left}td.money{text-align:right}.missing{background:#fde8e8;border:1px solid #c00;padding:1rem}</style>
</head>
<body>
<h1>Publishing pack for {{.Pack.Month}}</h1>
<p>What the Elected Local Policing Bodies (Specified Information) Order 2011 (as amended) asks for that granttrack holds: grants and contracts awarded, and approved spend and office holders' expenses incurred, from {{.From}} to {{.To}}. Read at audit sequence {{.Pack.AuditSeq}} (hash {{.Pack.AuditHash}}) on {{.Generated}}.</p>
{{if .Pack.Missing}}<div class="missing"><h2>{{len .Pack.Missing}} item(s) to fix before publication</h2><ul>{{range .Pack.Missing}}<li>{{.String}}</li>{{end}}</ul></div>
{{else}}<p>Every item has the fields publication requires.</p>{{end}}
{{if .Pack.Redactions}}<div class="redacted"><h2>{{len .Pack.Redactions}} redaction(s) of personal data</h2><ul>{{range .Pack.Redactions}}<li>{{.String}}</li>{{end}}</ul></div>
{{else}}<p>No personal data was found to redact.</p>{{end}}
{{range .Tables}}<h2>{{.Title}} <small>(Schedule paragraph {{.Paragraph}}; <a href="{{.File}}">{{.File}}</a>, {{len .Rows}} rows)</small></h2>
<table><thead><tr>{{range .Columns}}<th>{{.Name}}</th>{{end}}</tr></thead><tbody>
{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{else}}<tr><td colspan="{{len .Columns}}">None this month.</td></tr>{{end}}
</tbody></table>
{{end}}</body></html>
`))

// WriteIndex writes the pack as one readable HTML page linking its CSVs,
// with what is missing at the top.
func (p *Pack) WriteIndex(w io.Writer) error {
	return indexPage.Execute(w, map[string]any{"Pack": p, "Tables": p.Tables(), "From": day(p.From), "To": day(p.To),
		"Generated": p.GeneratedAt.Format(time.RFC3339)})
}

// WriteDocument writes the bytes of the pack's document at path (a Path of
// one of p.Documents), as uploaded; ENOTFOUND for another path.
func (p *Pack) WriteDocument(path string, w io.Writer) error {
	for _, d := range p.Documents {
		if d.Path != "" && d.Path == path {
			_, err := w.Write(d.Content)
			return err
		}
	}
	return models.Errorf(models.ENOTFOUND, "The publishing pack has no document %q.", path)
}
