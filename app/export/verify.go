package export

// Verification reads an export back and checks it three ways: against its
// manifest (SHA-256, row count, totals), against the live ledger read again
// with the manifest's filters, row by row, and against the audit chain (the
// manifest's audit head must still be in it).
//
// The ledger moves on after an export, and not every difference is
// tampering. Entries are append-only, but since the export a pending entry
// may have been approved or rejected, new spend and reversals may have been
// recorded, and payees, programmes and funding lines may have been renamed.
// Each of those left an audit event after the manifest's audit head
// (AuditSeq), so a difference that such an event explains, with the file
// holding the value from before the event, is listed under Changes
// ("changed since export") and does not fail the check. Anything else is a
// Finding: a difference no event explains, an entry missing that existed at
// the export, an entry the ledger never held, and also a file that shows
// what only happened after it was written (a decision, or an entry recorded
// later), which a genuine export cannot.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// Kinds of finding and of change since export.
const (
	KindFileHash      = "file_hash"        // the file's SHA-256 is not the manifest's, and its contents differ too
	KindTotals        = "totals"           // a row of the XLSX Totals sheet is not what the entries add up to
	KindManifest      = "manifest"         // the manifest's row count or totals are not the file's
	KindUnreadable    = "unreadable"       // the file or a row cannot be read
	KindAmountChanged = "amount_changed"   // a row's amount is not the ledger's
	KindPayeeChanged  = "payee_changed"    // a row's payee is not the ledger's
	KindFieldChanged  = "field_changed"    // another field is not the ledger's
	KindRowDeleted    = "row_deleted"      // an entry of the ledger is missing from the file
	KindRowAdded      = "row_added"        // a row is not an entry the ledger held at the export
	KindRowReordered  = "row_out_of_order" // rows are not in entry order
	KindRowDuplicated = "row_duplicated"   // an entry appears twice
	KindAfterExport   = "after_export"     // the file shows a decision taken after it was written
	KindAuditChain    = "audit_chain"      // the chain is broken, or no longer holds the manifest's head
	KindDecidedSince  = "decided_since_export"
	KindRecordedSince = "recorded_since_export"
	KindRenamedSince  = "renamed_since_export"
)

// Finding is one thing verification found. Row counts the file's entries
// from 1 (in a spreadsheet, row N is sheet row N+1, under the header); it is
// 0 for the file as a whole and for an entry missing from it. A finding on
// the XLSX's Totals or Manifest sheet gives that sheet's row, as its
// message says.
type Finding struct {
	Kind     string `json:"kind"`
	Row      int    `json:"row,omitempty"`
	EntryID  int64  `json:"entry_id,omitempty"`
	Field    string `json:"field,omitempty"`
	File     string `json:"file_value,omitempty"`
	Expected string `json:"expected_value,omitempty"` // the ledger's, or the manifest's
	AuditSeq int64  `json:"audit_seq,omitempty"`      // the audit event that explains a change
	Message  string `json:"message"`

	place int // for sorting: twice the row, or one more for a missing entry after that row
}

// VerifyReport is the outcome of verifying an export. OK means no findings:
// the file holds what the manifest describes (rows, totals and, in a
// workbook, its Totals and Manifest sheets), every row is what the ledger
// held at the export, and the audit chain is intact and still holds the
// manifest's head. Resaved means the contents match but the bytes do not
// (the file was opened and saved again, say by a spreadsheet): that alone
// is not a finding. Changes are differences explained by later audit events.
type VerifyReport struct {
	OK             bool              `json:"ok"`
	Resaved        bool              `json:"resaved"`
	Format         string            `json:"format"`
	SHA256         string            `json:"sha256"`
	ManifestSHA256 string            `json:"manifest_sha256"`
	Rows           int               `json:"rows"`
	ManifestRows   int               `json:"manifest_rows"`
	Total          string            `json:"total" openapi:"money"`
	Approved       string            `json:"approved_total" openapi:"money"`
	LedgerRows     int               `json:"ledger_rows"` // with the manifest's filters, now
	AuditSeq       int64             `json:"audit_head_seq"`
	AuditHash      string            `json:"audit_head_hash"`
	Chain          store.ChainStatus `json:"audit_chain"`
	ExportEvent    int64             `json:"export_event,omitempty"` // the audit event that recorded the export
	Findings       []Finding         `json:"findings"`
	Changes        []Finding         `json:"changed_since_export"`
}

// A sheetsReader is a RowReader whose file also holds its totals and its
// manifest (the XLSX's Totals and Manifest sheets), checked once every row
// has been read.
type sheetsReader interface {
	sheetFindings(read statusTotals, m *Manifest) []Finding
}

// A RowReader reads a ledger file back one row at a time, as the text of
// each column in Columns order, in the form its format's record function
// gives a ledger row. Next returns io.EOF after the last row.
type RowReader interface {
	Next() ([]string, error)
}

// rowCheck is how to read one format back: the reader, the text a ledger
// row is written as, and what the writer does to a name (CSV guards
// against formulas), for comparing names from the audit trail.
type rowCheck struct {
	newReader func(r io.Reader) (RowReader, error)
	record    func(r store.LedgerRow) []string
	text      func(s string) string
}

// rowReaders are the formats that can be verified, by name.
var rowReaders = map[string]rowCheck{
	FormatCSV:  {newCSVReader, csvRecord, SafeText},
	FormatJSON: {newJSONReader, jsonRecord, plainText},
	// A spreadsheet is read back as the CSV's text (see verify_xlsx.go).
	FormatXLSX: {newXLSXReader, xlsxRecord, xlsxText},
}

// VerifyFormats lists the formats Verify reads, sorted.
func VerifyFormats() []string {
	names := make([]string, 0, len(rowReaders))
	for name := range rowReaders {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// column is each column's index in Columns.
var column = func() map[string]int {
	m := map[string]int{}
	for i, c := range Columns {
		m[c] = i
	}
	return m
}()

// decisionColumns change when a pending entry is approved or rejected.
var decisionColumns = []string{"status", "decision", "decided_by", "decided_at", "rejection_reason"}

// renamedBy says which audit action renames what a column shows, and the
// key of the name in the event's before and after states.
var renamedBy = map[string]struct{ action, key string }{
	"funding_line": {"funding_line.update", "Code"},
	"programme":    {"programme.update", "Code"},
	"payee":        {"organisation.update", "Name"},
	"payee_org_id": {"organisation.update", "OrgID"},
}

// fileRow is a row read from the file.
type fileRow struct {
	n          int // entry number in the file, from 1
	id         int64
	rec        []string
	outOfOrder bool  // its id is not above every id before it
	after      int64 // the highest id before it
}

// pair is a file row and the ledger's entry with the same id, kept for
// comparing once the audit events since the export are known.
type pair struct {
	f    fileRow
	want []string
}

// gap is a ledger entry not found in its place in the file.
type gap struct {
	row   store.LedgerRow
	want  []string
	after int // the file rows read before its place
}

// Verify checks an export file against its manifest, the live ledger and
// the audit chain; see the top of this file. Only an unknown format or bad
// filters in the manifest, or a failing database, are errors: everything
// wrong with the file is in the report.
func Verify(ctx context.Context, st *store.Store, file io.Reader, m *Manifest) (*VerifyReport, error) {
	check, ok := rowReaders[m.Format]
	if !ok {
		msg := "must be one of " + strings.Join(VerifyFormats(), ", ")
		return nil, &models.Error{Code: models.EINVALID, Message: fmt.Sprintf("The manifest's format %q cannot be verified: it %s.", m.Format, msg),
			Fields: []models.FieldError{{Field: "format", Message: msg}}}
	}
	lf, err := m.Filters.ledgerFilter()
	if err != nil {
		return nil, err
	}
	v := &verifier{check: check, rep: &VerifyReport{Format: m.Format, ManifestSHA256: m.SHA256, ManifestRows: m.Rows,
		AuditSeq: m.AuditSeq, AuditHash: m.AuditHash, Findings: []Finding{}, Changes: []Finding{}},
		total: decimal.Zero, approved: decimal.Zero, byStatus: newStatusTotals(), unmatched: map[int64][]fileRow{}}

	// Decisions after the export that are already known mark which rows to
	// keep for a closer look; they are read again after the ledger, below,
	// so that a decision taken while the ledger was read is not missed.
	early, err := v.decisions(ctx, st)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	tee := io.TeeReader(file, h)
	if v.rd, err = check.newReader(tee); err != nil {
		v.unreadable(0, err)
	}
	sheets, _ := v.rd.(sheetsReader)
	_, err = st.StreamLedger(ctx, lf, func(l store.LedgerRow) error {
		v.rep.LedgerRows++
		want := check.record(l)
		for {
			f, ok := v.peek()
			switch {
			case !ok:
				v.gaps = append(v.gaps, gap{l, want, v.read})
				return nil
			case f.id > l.ID:
				v.gaps = append(v.gaps, gap{l, want, v.read - 1})
				return nil
			case f.outOfOrder || f.id < l.ID:
				v.unmatched[f.id] = append(v.unmatched[f.id], f)
				v.next = nil
				continue
			}
			v.next = nil
			v.matched = append(v.matched, matched{f.id, f.n})
			if _, decided := early[l.ID]; decided || differs(f.rec, want) {
				v.pairs = append(v.pairs, pair{f, want})
			}
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	for {
		f, ok := v.peek()
		if !ok {
			break
		}
		v.unmatched[f.id] = append(v.unmatched[f.id], f)
		v.next = nil
	}
	if _, err := io.Copy(h, tee); err != nil {
		return nil, err
	}
	if err := v.resolve(ctx, st); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	v.checkManifest(sum, m)
	if sheets != nil && !v.badAmount && !v.failedRead() {
		v.rep.Findings = append(v.rep.Findings, sheets.sheetFindings(v.byStatus, m)...)
	}
	if err := v.checkRecorded(ctx, st, m); err != nil {
		return nil, err
	}
	if err := v.checkChain(ctx, st, m); err != nil {
		return nil, err
	}
	// Other bytes with the same contents are a re-saved file, not a
	// finding; with other contents too, the hash is one more.
	if !strings.EqualFold(sum, m.SHA256) {
		if len(v.rep.Findings) == 0 {
			v.rep.Resaved = true
		} else {
			v.find(Finding{Kind: KindFileHash, Field: "sha256", File: sum, Expected: m.SHA256, Message: fmt.Sprintf(
				"The file's SHA-256 is %s, not the manifest's %s: the file or the manifest was changed.", sum, m.SHA256)})
		}
	}
	v.rep.OK = len(v.rep.Findings) == 0
	return v.rep, nil
}

type matched struct {
	id  int64
	row int
}

type verifier struct {
	check     rowCheck
	rep       *VerifyReport
	rd        RowReader // nil once the file cannot be read further
	next      *fileRow  // read but not yet placed
	read      int       // rows read
	maxID     int64
	total     decimal.Decimal
	approved  decimal.Decimal
	byStatus  statusTotals
	badAmount bool
	matched   []matched // in id order
	pairs     []pair
	gaps      []gap
	unmatched map[int64][]fileRow
}

func (v *verifier) find(f Finding) { v.rep.Findings = append(v.rep.Findings, f) }

func (v *verifier) unreadable(row int, err error) {
	msg := "The file cannot be read: " + err.Error()
	if row > 0 {
		msg = fmt.Sprintf("Row %d cannot be read, so nothing after it was checked: %v", row, err)
	}
	v.find(Finding{Kind: KindUnreadable, Row: row, Message: msg})
	v.rd = nil
}

// peek returns the next file row without taking it; ok is false at the end.
func (v *verifier) peek() (fileRow, bool) {
	if v.next != nil {
		return *v.next, true
	}
	if v.rd == nil {
		return fileRow{}, false
	}
	rec, err := v.rd.Next()
	if errors.Is(err, io.EOF) {
		v.rd = nil
		return fileRow{}, false
	}
	n := v.read + 1
	if err == nil && len(rec) != len(Columns) {
		err = fmt.Errorf("it has %d columns, not %d", len(rec), len(Columns))
	}
	var id int64
	if err == nil {
		if id, err = strconv.ParseInt(rec[column["entry_id"]], 10, 64); err != nil || id <= 0 {
			err = fmt.Errorf("its entry_id %q is not an entry number", rec[column["entry_id"]])
		}
	}
	if err != nil {
		v.unreadable(n, err)
		return fileRow{}, false
	}
	v.read = n
	f := fileRow{n: n, id: id, rec: rec, outOfOrder: id <= v.maxID, after: v.maxID}
	v.maxID = max(v.maxID, id)
	if amount, err := decimal.NewFromString(rec[column["amount"]]); err != nil {
		v.badAmount = true
		v.find(Finding{Kind: KindAmountChanged, Row: n, EntryID: id, Field: "amount", File: rec[column["amount"]],
			Message: fmt.Sprintf("Row %d (entry %d): the amount %q is not a number.", n, id, rec[column["amount"]])})
	} else {
		v.total = v.total.Add(amount)
		v.byStatus.add(rec[column["status"]], rec[column["reverses_entry"]] != "", amount)
		if rec[column["status"]] == string(models.SpendApproved) {
			v.approved = v.approved.Add(amount)
		}
	}
	v.next = &f
	return f, true
}

// differs reports whether a file record is not the ledger's; amounts are
// compared as numbers, everything else as text.
func differs(got, want []string) bool {
	for i := range Columns {
		if !sameCell(i, got[i], want[i]) {
			return true
		}
	}
	return false
}

func sameCell(i int, got, want string) bool {
	if i == column["amount"] {
		a, err1 := decimal.NewFromString(got)
		b, err2 := decimal.NewFromString(want)
		return err1 == nil && err2 == nil && a.Equal(b)
	}
	return got == want
}

// decision is the first approval or rejection of an entry after the export.
type decision struct {
	seq    int64
	action string
	before string // the status it had: the status at the export
}

func (v *verifier) decisions(ctx context.Context, st *store.Store) (map[int64]decision, error) {
	evs, err := st.AuditEventsAfter(ctx, v.rep.AuditSeq, "spend.approve", "spend.reject")
	if err != nil {
		return nil, err
	}
	out := map[int64]decision{}
	for _, ev := range evs {
		id, err := strconv.ParseInt(ev.EntityID, 10, 64)
		if _, seen := out[id]; err != nil || seen {
			continue
		}
		var before struct{ Status string }
		_ = json.Unmarshal(ev.Before, &before)
		out[id] = decision{ev.Seq, ev.Action, before.Status}
	}
	return out, nil
}

// resolve places the rows that did not match in order, and explains each
// difference by the audit events since the export or reports it.
func (v *verifier) resolve(ctx context.Context, st *store.Store) error {
	decided, err := v.decisions(ctx, st)
	if err != nil {
		return err
	}
	renames, err := st.AuditEventsAfter(ctx, v.rep.AuditSeq, "funding_line.update", "programme.update", "organisation.update")
	if err != nil {
		return err
	}
	// Rows out of their place: the entry's gap, if any, takes the first.
	var late []gap
	for _, g := range v.gaps {
		rows := v.unmatched[g.row.ID]
		if len(rows) == 0 {
			late = append(late, g)
			continue
		}
		f := rows[0]
		v.unmatched[g.row.ID] = rows[1:]
		if f.outOfOrder {
			v.find(Finding{Kind: KindRowReordered, Row: f.n, EntryID: f.id, Message: fmt.Sprintf(
				"Row %d (entry %d) is out of order: it comes after entry %d, but rows are in entry order.", f.n, f.id, f.after)})
		}
		v.matched = append(v.matched, matched{f.id, f.n})
		v.pairs = append(v.pairs, pair{f, g.want})
	}
	slices.SortFunc(v.matched, func(a, b matched) int { return int(a.id - b.id) })
	// Entries recorded after the export: missing from the file is expected,
	// present in it is not.
	var ids []int64
	for _, g := range late {
		ids = append(ids, g.row.ID)
	}
	var lo, hi int64 = 1, 0
	if len(v.matched) > 0 {
		lo, hi = v.matched[0].id, v.matched[len(v.matched)-1].id
	}
	recorded, err := st.SpendRecordedAfter(ctx, v.rep.AuditSeq, ids, lo, hi)
	if err != nil {
		return err
	}
	for _, g := range late {
		if v.failedRead() && g.after >= v.read {
			continue // past the point the file could be read to: unknown, not missing
		}
		if seq, ok := recorded[g.row.ID]; ok {
			v.rep.Changes = append(v.rep.Changes, Finding{Kind: KindRecordedSince, EntryID: g.row.ID, AuditSeq: seq, Message: fmt.Sprintf(
				"Entry %d (%s, %s) was recorded after the export (audit event %d).", g.row.ID, g.want[column["amount"]], g.want[column["status"]], seq)})
			continue
		}
		where := "at the start"
		if g.after > 0 {
			where = fmt.Sprintf("after row %d", g.after)
		}
		v.find(Finding{Kind: KindRowDeleted, EntryID: g.row.ID, Expected: g.want[column["amount"]], place: 2*g.after + 1, Message: fmt.Sprintf(
			"Entry %d (%s to %s, %s) is missing from the file: it belongs %s.", g.row.ID, g.want[column["amount"]],
			g.want[column["payee"]], g.want[column["status"]], where)})
	}
	for _, m := range v.matched {
		if seq, ok := recorded[m.id]; ok {
			v.find(Finding{Kind: KindRowAdded, Row: m.row, EntryID: m.id, AuditSeq: seq, Message: fmt.Sprintf(
				"Row %d (entry %d): the entry was recorded after the export (audit event %d), so the export cannot have held it.", m.row, m.id, seq)})
		}
	}
	// Rows the ledger does not hold, or holds once already.
	var extra []fileRow
	for _, rows := range v.unmatched {
		extra = append(extra, rows...)
	}
	slices.SortFunc(extra, func(a, b fileRow) int { return a.n - b.n })
	for _, f := range extra {
		if _, dup := slices.BinarySearchFunc(v.matched, f.id, func(m matched, id int64) int { return int(m.id - id) }); dup {
			v.find(Finding{Kind: KindRowDuplicated, Row: f.n, EntryID: f.id, Message: fmt.Sprintf(
				"Row %d repeats entry %d, which is already in the file.", f.n, f.id)})
			continue
		}
		v.find(Finding{Kind: KindRowAdded, Row: f.n, EntryID: f.id, File: f.rec[column["amount"]], Message: fmt.Sprintf(
			"Row %d (entry %d, %s to %s) is not in the ledger with the manifest's filters.", f.n, f.id, f.rec[column["amount"]], f.rec[column["payee"]])})
	}
	slices.SortFunc(v.pairs, func(a, b pair) int { return a.f.n - b.f.n })
	for _, p := range v.pairs {
		v.compare(p, decided, renames)
	}
	// Rows in file order, each entry missing where it belongs.
	for _, list := range [][]Finding{v.rep.Findings, v.rep.Changes} {
		for i := range list {
			if list[i].place == 0 {
				list[i].place = 2 * list[i].Row
			}
		}
		slices.SortStableFunc(list, func(a, b Finding) int { return a.place - b.place })
	}
	return nil
}

// compare reports each field where a row is not the ledger's entry,
// unless an audit event since the export explains it.
func (v *verifier) compare(p pair, decided map[int64]decision, renames []*models.AuditEvent) {
	f, got, want := p.f, p.f.rec, p.want
	skip := map[string]bool{}
	if d, ok := decided[f.id]; ok {
		for _, c := range decisionColumns {
			skip[c] = true
		}
		verb := map[string]string{"spend.approve": "approved", "spend.reject": "rejected"}[d.action]
		if got[column["status"]] != d.before || slices.ContainsFunc(decisionColumns[1:], func(c string) bool { return got[column[c]] != "" }) {
			v.find(Finding{Kind: KindAfterExport, Row: f.n, EntryID: f.id, Field: "status", File: got[column["status"]], Expected: d.before,
				AuditSeq: d.seq, Message: fmt.Sprintf("Row %d (entry %d) shows it %s, but at the export it was %s: it was %s only afterwards (audit event %d).",
					f.n, f.id, got[column["status"]], d.before, verb, d.seq)})
		} else if got[column["status"]] != want[column["status"]] {
			v.rep.Changes = append(v.rep.Changes, Finding{Kind: KindDecidedSince, Row: f.n, EntryID: f.id, Field: "status",
				File: got[column["status"]], Expected: want[column["status"]], AuditSeq: d.seq, Message: fmt.Sprintf(
					"Row %d (entry %d) was %s at the export and was %s afterwards (audit event %d).", f.n, f.id, d.before, verb, d.seq)})
		}
	}
	for i, c := range Columns {
		if skip[c] || sameCell(i, got[i], want[i]) {
			continue
		}
		if seq := v.renamed(c, got[i], want[i], renames); seq != 0 {
			v.rep.Changes = append(v.rep.Changes, Finding{Kind: KindRenamedSince, Row: f.n, EntryID: f.id, Field: c, File: got[i], Expected: want[i],
				AuditSeq: seq, Message: fmt.Sprintf("Row %d (entry %d): %s %q was renamed %q after the export (audit event %d).", f.n, f.id, c, got[i], want[i], seq)})
			continue
		}
		kind := KindFieldChanged
		switch c {
		case "amount":
			kind = KindAmountChanged
		case "payee", "payee_org_id":
			kind = KindPayeeChanged
		}
		v.find(Finding{Kind: kind, Row: f.n, EntryID: f.id, Field: c, File: got[i], Expected: want[i], Message: fmt.Sprintf(
			"Row %d (entry %d): %s is %q in the file but %q in the ledger.", f.n, f.id, c, got[i], want[i])})
	}
}

// renamed follows the renames after the export from the file's value; it
// returns the last rename's audit sequence if they lead to the ledger's
// value, else 0.
func (v *verifier) renamed(col, got, want string, evs []*models.AuditEvent) int64 {
	r, ok := renamedBy[col]
	if !ok {
		return 0
	}
	name := func(state json.RawMessage) string {
		var m map[string]any
		_ = json.Unmarshal(state, &m)
		s, _ := m[r.key].(string)
		return v.check.text(s)
	}
	at, seq := got, int64(0)
	for _, ev := range evs {
		if ev.Action == r.action && name(ev.Before) == at && name(ev.After) != at {
			at, seq = name(ev.After), ev.Seq
		}
	}
	if at != want {
		return 0
	}
	return seq
}

func (v *verifier) checkManifest(sum string, m *Manifest) {
	r := v.rep
	r.SHA256, r.Rows = sum, v.read
	if !v.badAmount {
		r.Total, r.Approved = models.FormatMoney(v.total), models.FormatMoney(v.approved)
	}
	if r.Rows != m.Rows && !v.failedRead() {
		v.find(Finding{Kind: KindManifest, Field: "rows", File: strconv.Itoa(r.Rows), Expected: strconv.Itoa(m.Rows), Message: fmt.Sprintf(
			"The file has %d rows but the manifest says %d.", r.Rows, m.Rows)})
	}
	if v.badAmount || v.failedRead() {
		return
	}
	for _, t := range []struct{ field, file, manifest string }{{"total", r.Total, m.Total}, {"approved_total", r.Approved, m.Approved}} {
		if !sameMoney(t.file, t.manifest) {
			v.find(Finding{Kind: KindManifest, Field: t.field, File: t.file, Expected: t.manifest, Message: fmt.Sprintf(
				"The file's rows add up to %s for %s, but the manifest says %s.", t.file, strings.ReplaceAll(t.field, "_", " "), t.manifest)})
		}
	}
}

func (v *verifier) failedRead() bool {
	return slices.ContainsFunc(v.rep.Findings, func(f Finding) bool { return f.Kind == KindUnreadable })
}

func sameMoney(a, b string) bool {
	x, err1 := decimal.NewFromString(a)
	y, err2 := decimal.NewFromString(b)
	return err1 == nil && err2 == nil && x.Equal(y)
}

// checkRecorded compares the manifest with the one the audit trail
// recorded when the export was made (CLI and API exports record it): an
// edited manifest, or one made up to match an edited file, has none.
func (v *verifier) checkRecorded(ctx context.Context, st *store.Store, m *Manifest) error {
	evs, err := st.ExportEvents(ctx, m.SHA256)
	if err != nil {
		return err
	}
	if len(evs) == 0 {
		v.find(Finding{Kind: KindManifest, Field: "sha256", File: m.SHA256, Message: fmt.Sprintf(
			"No export with the manifest's SHA-256 %s is recorded in the audit trail: the manifest was edited, or granttrack did not write it.", m.SHA256)})
		return nil
	}
	// The same rows give the same file each time they are exported, so
	// several exports may share the hash: the manifest must be one of them.
	// Otherwise it is compared with the one it is closest to.
	var best []Finding
	for _, ev := range evs {
		var rec Manifest
		if err := json.Unmarshal(ev.After, &rec); err != nil {
			return fmt.Errorf("export: audit event %d: %w", ev.Seq, err)
		}
		diffs := manifestDiffs(m, &rec, ev.Seq)
		if best == nil || len(diffs) < len(best) {
			best, v.rep.ExportEvent = diffs, ev.Seq
		}
		if len(diffs) == 0 {
			break
		}
	}
	for _, f := range best {
		v.find(f)
	}
	return nil
}

// manifestDiffs lists where m is not rec, the manifest recorded by audit event seq.
func manifestDiffs(m, rec *Manifest, seq int64) []Finding {
	out := []Finding{}
	for _, d := range []struct {
		field     string
		got, want any
		same      bool
	}{
		{"format", m.Format, rec.Format, m.Format == rec.Format},
		{"filters", m.Filters, rec.Filters, m.Filters == rec.Filters},
		{"rows", m.Rows, rec.Rows, m.Rows == rec.Rows},
		{"total", m.Total, rec.Total, sameMoney(m.Total, rec.Total)},
		{"approved_total", m.Approved, rec.Approved, sameMoney(m.Approved, rec.Approved)},
		{"audit_head_seq", m.AuditSeq, rec.AuditSeq, m.AuditSeq == rec.AuditSeq},
		{"audit_head_hash", m.AuditHash, rec.AuditHash, strings.EqualFold(m.AuditHash, rec.AuditHash)},
		{"generated_at", m.GeneratedAt, rec.GeneratedAt, m.GeneratedAt.Equal(rec.GeneratedAt)},
	} {
		if !d.same {
			out = append(out, Finding{Kind: KindManifest, Field: d.field, File: fmt.Sprint(d.got), Expected: fmt.Sprint(d.want), Message: fmt.Sprintf(
				"The manifest's %s is %v, but the export recorded in the audit trail (event %d) has %v: the manifest was edited.",
				strings.ReplaceAll(d.field, "_", " "), d.got, seq, d.want)})
		}
	}
	return out
}

// checkChain verifies the audit chain with the manifest's head as an anchor.
func (v *verifier) checkChain(ctx context.Context, st *store.Store, m *Manifest) error {
	hash, err := hex.DecodeString(m.AuditHash)
	if err != nil || len(hash) != sha256.Size || m.AuditSeq < 0 {
		v.find(Finding{Kind: KindAuditChain, Field: "audit_head_hash", File: m.AuditHash, Message: fmt.Sprintf(
			"The manifest's audit head %q@%d is not a sequence number and SHA-256: the manifest was changed.", m.AuditHash, m.AuditSeq)})
		cs, err := st.VerifyAuditChain(ctx)
		v.rep.Chain = cs
		return err
	}
	cs, err := st.VerifyAuditChain(ctx, models.AuditAnchor{Seq: m.AuditSeq, Hash: hash})
	if err != nil {
		return err
	}
	v.rep.Chain = cs
	if !cs.OK {
		v.find(Finding{Kind: KindAuditChain, AuditSeq: cs.BrokenSeq, Message: fmt.Sprintf(
			"The audit chain does not hold the manifest's head %s@%d: at sequence %d, %s.", m.AuditHash, m.AuditSeq, cs.BrokenSeq, cs.Reason)})
	}
	return nil
}

// WriteText writes the report for a person to read.
func (r *VerifyReport) WriteText(w io.Writer) error {
	var b strings.Builder
	verdict := "OK"
	if r.Resaved {
		verdict = "OK: contents match; the file was re-saved (its hash differs)"
	}
	if !r.OK {
		verdict = fmt.Sprintf("NOT OK: %d finding(s)", len(r.Findings))
	}
	fmt.Fprintf(&b, "Export verification: %s\n", verdict)
	fmt.Fprintf(&b, "  file: %s, %d rows, total %s, approved %s, sha256 %s\n", r.Format, r.Rows, r.Total, r.Approved, r.SHA256)
	fmt.Fprintf(&b, "  manifest: %d rows, sha256 %s, audit head %s@%d\n", r.ManifestRows, r.ManifestSHA256, r.AuditHash, r.AuditSeq)
	if r.ExportEvent != 0 {
		fmt.Fprintf(&b, "  recorded: the export is audit event %d\n", r.ExportEvent)
	}
	fmt.Fprintf(&b, "  ledger now: %d rows with the manifest's filters\n", r.LedgerRows)
	if r.Chain.OK {
		fmt.Fprintf(&b, "  audit chain: intact, %d events, holds the manifest's head\n", r.Chain.Count)
	} else {
		fmt.Fprintf(&b, "  audit chain: BROKEN at sequence %d: %s\n", r.Chain.BrokenSeq, r.Chain.Reason)
	}
	if len(r.Findings) > 0 {
		b.WriteString("Findings:\n")
		for _, f := range r.Findings {
			fmt.Fprintf(&b, "  [%s] %s\n", f.Kind, f.Message)
		}
	}
	if len(r.Changes) > 0 {
		b.WriteString("Changed since export (not tampering):\n")
		for _, f := range r.Changes {
			fmt.Fprintf(&b, "  [%s] %s\n", f.Kind, f.Message)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Summary is what the audit trail keeps of a verification: the outcome and
// the count of each kind of finding, not every row.
func (r *VerifyReport) Summary() map[string]any {
	kinds := map[string]int{}
	for _, f := range r.Findings {
		kinds[f.Kind]++
	}
	return map[string]any{"ok": r.OK, "format": r.Format, "sha256": r.SHA256, "manifest_sha256": r.ManifestSHA256, "rows": r.Rows,
		"audit_head_seq": r.AuditSeq, "audit_head_hash": r.AuditHash, "findings": kinds, "changed_since_export": len(r.Changes)}
}

type csvReader struct{ r *csv.Reader }

// newCSVReader reads a CSV export, with or without the byte order mark
// that ExcelBOM writes (or a spreadsheet adds when it saves as UTF-8 CSV).
func newCSVReader(r io.Reader) (RowReader, error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(len(utf8BOM)); err == nil && string(b) == utf8BOM {
		br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a row of the wrong width is reported by row, not as a parse error
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("its header row: %w", err)
	}
	if !slices.Equal(header, Columns) {
		return nil, fmt.Errorf("its header row is not the ledger's columns (%s)", strings.Join(Columns, ","))
	}
	return csvReader{cr}, nil
}

func (c csvReader) Next() ([]string, error) { return c.r.Read() }

type jsonReader struct {
	dec  *json.Decoder
	done bool
}

func newJSONReader(r io.Reader) (RowReader, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	for _, want := range []any{json.Delim('{'), "entries", json.Delim('[')} {
		tok, err := dec.Token()
		if err != nil || tok != want {
			return nil, errors.New(`it does not start {"entries":[`)
		}
	}
	return &jsonReader{dec: dec}, nil
}

func (j *jsonReader) Next() ([]string, error) {
	if j.done {
		return nil, io.EOF
	}
	if !j.dec.More() {
		j.done = true
		for _, want := range []json.Delim{']', '}'} {
			if tok, err := j.dec.Token(); err != nil || tok != want {
				return nil, errors.New(`it does not end ]}`)
			}
		}
		return nil, io.EOF
	}
	var e jsonEntry
	if err := j.dec.Decode(&e); err != nil {
		j.done = true
		return nil, err
	}
	return entryRecord(e), nil
}

func jsonRecord(r store.LedgerRow) []string { return entryRecord(jsonRow(r)) }

// entryRecord is a JSON entry as text in Columns order; null is empty.
func entryRecord(e jsonEntry) []string {
	opt := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	optTime := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	rev := ""
	if e.ReversesEntry != nil {
		rev = strconv.FormatInt(*e.ReversesEntry, 10)
	}
	return []string{strconv.FormatInt(e.ID, 10), e.FundingLine, e.Programme, opt(e.Award), e.Payee, opt(e.PayeeOrgID), e.Amount,
		string(e.Status), e.IncurredOn, e.Category, e.Reference, e.Description, e.Purpose, e.VFMReason, e.RecordedBy,
		e.RecordedAt.UTC().Format(time.RFC3339Nano), e.Decision, opt(e.DecidedBy), optTime(e.DecidedAt), opt(e.RejectionReason), rev,
		opt(e.ReversalReason)}
}
