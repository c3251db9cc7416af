package export

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// Sheets of the XLSX ledger.
const (
	SheetLedger   = "Ledger"
	SheetTotals   = "Totals"
	SheetManifest = "Manifest"
)

// Rows of the Totals sheet, under its header (status, entries, amount):
// each status's entries and sum, and the approved reversals, which the
// approved figure already holds.
const TotalReversals = "reversals (within approved)"

var totalsRows = []string{string(models.SpendApproved), string(models.SpendPending), string(models.SpendRejected), TotalReversals}

// XLSX number formats: pounds with two decimals (negatives with a minus,
// so a reversal reads -£600.00), ISO dates and UTC date-times.
const (
	xlsxMoneyFormat    = `"£"#,##0.00;-"£"#,##0.00`
	xlsxDateFormat     = "yyyy-mm-dd"
	xlsxDateTimeFormat = "yyyy-mm-dd hh:mm:ss"
)

// xlsxMaxEntries is how many entries fit on one sheet: Excel's row limit
// less the header.
const xlsxMaxEntries = excelize.TotalRows - 1

// xlsxWriter streams rows into the Ledger sheet with excelize's
// StreamWriter, which spills to a temporary file past 16 MB, so the ledger
// is never held in memory; Close adds the totals and the Manifest sheet and
// writes the zip to w. Text is written as text cells in the text format
// (@): a spreadsheet never runs a text cell as a formula, so, unlike the
// CSV, no apostrophe guards it and the names read as written.
type xlsxWriter struct {
	w                           io.Writer
	f                           *excelize.File
	sw                          *excelize.StreamWriter
	row                         int
	money, date, dateTime, text int
	totals                      map[string]*statusTotal
}

// statusTotal counts and sums one row of the Totals sheet.
type statusTotal struct {
	entries int
	amount  decimal.Decimal
}

func newXLSXWriter(w io.Writer) (RowWriter, error) {
	f := excelize.NewFile()
	x := &xlsxWriter{w: w, f: f, row: 1, totals: map[string]*statusTotal{}}
	for _, r := range totalsRows {
		x.totals[r] = &statusTotal{amount: decimal.Zero}
	}
	err := x.start()
	if err != nil {
		f.Close()
		return nil, err
	}
	return x, nil
}

func (x *xlsxWriter) start() error {
	if err := x.f.SetSheetName("Sheet1", SheetLedger); err != nil {
		return err
	}
	var err error
	style := func(s *excelize.Style) int {
		id, e := x.f.NewStyle(s)
		if err == nil {
			err = e
		}
		return id
	}
	money, date, dateTime := xlsxMoneyFormat, xlsxDateFormat, xlsxDateTimeFormat
	x.money, x.date, x.dateTime = style(&excelize.Style{CustomNumFmt: &money}), style(&excelize.Style{CustomNumFmt: &date}),
		style(&excelize.Style{CustomNumFmt: &dateTime})
	x.text = style(&excelize.Style{NumFmt: 49}) // @, text
	bold := style(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	if x.sw, err = x.f.NewStreamWriter(SheetLedger); err != nil {
		return err
	}
	// Panes and widths must come before the first row.
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for col, width := range map[int]float64{5: 30, 7: 14, 9: 12, 12: 40, 13: 30, 14: 30, 15: 26, 16: 20, 18: 26, 19: 20, 20: 30} {
		if err := x.sw.SetColWidth(col, col, width); err != nil {
			return err
		}
	}
	header := make([]any, len(Columns))
	for i, c := range Columns {
		header[i] = excelize.Cell{StyleID: bold, Value: c}
	}
	return x.sw.SetRow("A1", header)
}

// xlsxAmount is the value to give excelize for an exact amount. excelize
// writes a numeric cell only from a Go integer or float (a string, or any
// other type through fmt.Sprint, becomes a text cell), and writes a float64
// as strconv.FormatFloat(f, 'f', -1, 64): the shortest digits that read
// back as the same float. For an amount of at most 15 significant digits
// (every NUMERIC(15,2)) those digits are the amount's own, so the cell's
// <v> holds exactly the amount. The check below proves it for each amount
// and refuses, rather than rounds, one that would not read back exactly.
func xlsxAmount(d decimal.Decimal) (float64, error) {
	f, err := strconv.ParseFloat(d.String(), 64)
	if err != nil {
		return 0, err
	}
	if back, err := decimal.NewFromString(strconv.FormatFloat(f, 'f', -1, 64)); err != nil || !back.Equal(d) {
		return 0, fmt.Errorf("export: the amount %s cannot be written exactly as a spreadsheet number", d)
	}
	return f, nil
}

func (x *xlsxWriter) Row(r store.LedgerRow) error {
	if x.row > xlsxMaxEntries {
		return models.Errorf(models.EINVALID, "An XLSX sheet holds at most %d entries and this export has more: narrow it by financial year, dates, programme or funding line, or export CSV.", xlsxMaxEntries)
	}
	amount, err := xlsxAmount(r.Amount)
	if err != nil {
		return err
	}
	str := func(s string) any { return excelize.Cell{StyleID: x.text, Value: s} }
	text := func(s *string) any {
		if s == nil {
			return nil
		}
		return str(*s)
	}
	id := func(id *int64) any {
		if id == nil {
			return nil
		}
		return *id
	}
	at := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return excelize.Cell{StyleID: x.dateTime, Value: exportTime(*t)}
	}
	var decision any
	if d := decisionOf(r.Status); d != "" {
		decision = str(d)
	}
	x.count(r)
	x.row++
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	return x.sw.SetRow(cell, []any{r.ID, str(r.FundingLine), str(r.Programme), text(r.Award), str(r.Payee), text(r.PayeeOrgID),
		excelize.Cell{StyleID: x.money, Value: amount}, str(string(r.Status)), excelize.Cell{StyleID: x.date, Value: r.IncurredOn.UTC()},
		str(r.Category), str(r.Reference), str(r.Description), str(r.Purpose), str(r.VFMReason), str(r.RecordedBy), at(&r.RecordedAt),
		decision, text(r.DecidedBy), at(r.DecidedAt), text(r.RejectionReason), id(r.ReversesID), text(r.ReversalReason)})
}

// count adds an entry to the Totals sheet's figures.
func (x *xlsxWriter) count(r store.LedgerRow) {
	add := func(row string) {
		if t, ok := x.totals[row]; ok {
			t.entries++
			t.amount = t.amount.Add(r.Amount)
		}
	}
	add(string(r.Status))
	if r.Status == models.SpendApproved && r.ReversesID != nil {
		add(TotalReversals)
	}
}

// Close ends the Ledger sheet, writes the Totals sheet (summed in decimal,
// not formulas, and apart from the entries, so that summing the amount
// column counts nothing twice), then the Manifest sheet, then the file.
func (x *xlsxWriter) Close(m *Manifest) error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	if err := x.totalsSheet(); err != nil {
		return err
	}
	if err := x.manifestSheet(m); err != nil {
		return err
	}
	return x.f.Write(x.w)
}

// totalsSheet writes each status's entries and amount.
func (x *xlsxWriter) totalsSheet() error {
	if _, err := x.f.NewSheet(SheetTotals); err != nil {
		return err
	}
	if err := x.f.SetSheetRow(SheetTotals, "A1", &[]any{"status", "entries", "amount"}); err != nil {
		return err
	}
	for i, label := range totalsRows {
		t := x.totals[label]
		row := strconv.Itoa(i + 2)
		if err := x.f.SetSheetRow(SheetTotals, "A"+row, &[]any{label, t.entries}); err != nil {
			return err
		}
		if err := x.setMoney(SheetTotals, "C"+row, t.amount); err != nil {
			return err
		}
	}
	return x.f.SetColWidth(SheetTotals, "A", "C", 26)
}

// setMoney writes an amount's exact digits in a numeric cell (the sheet is
// small and written whole, where SetCellDefault keeps the digits).
func (x *xlsxWriter) setMoney(sheet, cell string, d decimal.Decimal) error {
	if err := x.f.SetCellDefault(sheet, cell, models.FormatMoney(d)); err != nil {
		return err
	}
	return x.f.SetCellStyle(sheet, cell, cell, x.money)
}

// manifestSheet holds the manifest's fields but its sha256: a file cannot
// hold its own hash, which stays in the manifest beside the file.
func (x *xlsxWriter) manifestSheet(m *Manifest) error {
	if _, err := x.f.NewSheet(SheetManifest); err != nil {
		return err
	}
	id := func(v int64) any {
		if v == 0 {
			return ""
		}
		return v
	}
	type money string
	rows := [][2]any{
		{"field", "value"},
		{"format", m.Format},
		{"fy", m.Filters.Year},
		{"from", m.Filters.From},
		{"to", m.Filters.To},
		{"programme_id", id(m.Filters.ProgrammeID)},
		{"funding_line_id", id(m.Filters.FundingLineID)},
		{"recipient_id", id(m.Filters.RecipientID)},
		{"rows", m.Rows},
		{"total", money(m.Total)},
		{"approved_total", money(m.Approved)},
		{"audit_head_seq", m.AuditSeq},
		{"audit_head_hash", m.AuditHash},
		{"generated_at", m.GeneratedAt.UTC().Format(time.RFC3339Nano)},
		{"sha256", "in the manifest file beside this one: a file cannot hold its own hash"},
	}
	for i, r := range rows {
		a, b := "A"+strconv.Itoa(i+1), "B"+strconv.Itoa(i+1)
		if err := x.f.SetCellStr(SheetManifest, a, r[0].(string)); err != nil {
			return err
		}
		var err error
		if v, ok := r[1].(money); ok {
			var d decimal.Decimal
			if d, err = models.ParseMoney(string(v)); err == nil {
				err = x.setMoney(SheetManifest, b, d)
			}
		} else {
			err = x.f.SetCellValue(SheetManifest, b, r[1])
		}
		if err != nil {
			return err
		}
	}
	return x.f.SetColWidth(SheetManifest, "A", "B", 24)
}

// abort drops the temporary files of an export that failed part way.
func (x *xlsxWriter) abort() { x.f.Close() }
