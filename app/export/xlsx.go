package export

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

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
	totals                      statusTotals
}

// statusTotal counts and sums one row of the Totals sheet.
type statusTotal struct {
	entries int
	amount  decimal.Decimal
}

// statusTotals are the Totals sheet's rows by label, as the writer makes
// them and verification recomputes them from the Ledger sheet.
type statusTotals map[string]*statusTotal

func newStatusTotals() statusTotals {
	t := statusTotals{}
	for _, r := range totalsRows {
		t[r] = &statusTotal{amount: decimal.Zero}
	}
	return t
}

// add counts an entry of status under its status, and an approved
// reversal under the reversals too.
func (t statusTotals) add(status string, reversal bool, amount decimal.Decimal) {
	count := func(row string) {
		if r, ok := t[row]; ok {
			r.entries++
			r.amount = r.amount.Add(amount)
		}
	}
	count(status)
	if status == string(models.SpendApproved) && reversal {
		count(TotalReversals)
	}
}

func newXLSXWriter(w io.Writer) (RowWriter, error) {
	f := excelize.NewFile()
	x := &xlsxWriter{w: w, f: f, row: 1, totals: newStatusTotals()}
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

// xlsxFirstDay is the first day a spreadsheet's date serial holds: before
// it, Excel's 1900 leap-year bug shifts serials by a day, and before 1900
// there are none. Earlier dates and times are written as text, as the CSV
// writes them.
var xlsxFirstDay = time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)

// xlsxText is text as an XLSX cell can hold it: a spreadsheet breaks lines
// in a cell with a line feed only (LibreOffice turns a carriage return into
// one on saving), so CR LF and CR become LF; XML 1.0 has no place for the
// other control characters but tab (nor for U+FFFE and U+FFFF), so each
// becomes U+FFFD, the replacement character.
func xlsxText(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t' && r != '\n') || r == 0xFFFE || r == 0xFFFF {
			return utf8.RuneError
		}
		return r
	}, xlsxLineBreaks.Replace(s))
}

var xlsxLineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n")

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
	str := func(s string) any { return excelize.Cell{StyleID: x.text, Value: xlsxText(s)} }
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
		switch {
		case t == nil:
			return nil
		case t.Before(xlsxFirstDay):
			return str(exportTime(*t).Format(time.RFC3339))
		}
		return excelize.Cell{StyleID: x.dateTime, Value: exportTime(*t)}
	}
	var incurred any = excelize.Cell{StyleID: x.date, Value: r.IncurredOn.UTC()}
	if r.IncurredOn.Before(xlsxFirstDay) {
		incurred = str(r.IncurredOn.Format(models.DateLayout))
	}
	var decision any
	if d := decisionOf(r.Status); d != "" {
		decision = str(d)
	}
	x.totals.add(string(r.Status), r.ReversesID != nil, r.Amount)
	x.row++
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	return x.sw.SetRow(cell, []any{r.ID, str(r.FundingLine), str(r.Programme), text(r.Award), str(r.Payee), text(r.PayeeOrgID),
		excelize.Cell{StyleID: x.money, Value: amount}, str(string(r.Status)), incurred,
		str(r.Category), str(r.Reference), str(r.Description), str(r.Purpose), str(r.VFMReason), str(r.RecordedBy), at(&r.RecordedAt),
		decision, text(r.DecidedBy), at(r.DecidedAt), text(r.RejectionReason), id(r.ReversesID), text(r.ReversalReason)})
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
	rows := manifestRows(m)
	for i, r := range rows {
		a, b := "A"+strconv.Itoa(i+1), "B"+strconv.Itoa(i+1)
		if err := x.f.SetCellStr(SheetManifest, a, r[0].(string)); err != nil {
			return err
		}
		var err error
		if v, ok := r[1].(sheetMoney); ok {
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

// sheetMoney marks a Manifest sheet value written as an amount.
type sheetMoney string

// manifestRows are the Manifest sheet's rows: field and value.
func manifestRows(m *Manifest) [][2]any {
	id := func(v int64) any {
		if v == 0 {
			return ""
		}
		return v
	}
	return [][2]any{
		{"field", "value"},
		{"format", m.Format},
		{"fy", m.Filters.Year},
		{"from", m.Filters.From},
		{"to", m.Filters.To},
		{"programme_id", id(m.Filters.ProgrammeID)},
		{"funding_line_id", id(m.Filters.FundingLineID)},
		{"recipient_id", id(m.Filters.RecipientID)},
		{"rows", m.Rows},
		{"total", sheetMoney(m.Total)},
		{"approved_total", sheetMoney(m.Approved)},
		{"audit_head_seq", m.AuditSeq},
		{"audit_head_hash", m.AuditHash},
		{"generated_at", m.GeneratedAt.UTC().Format(time.RFC3339Nano)},
		{"sha256", "in the manifest file beside this one: a file cannot hold its own hash"},
	}
}

// abort drops the temporary files of an export that failed part way.
func (x *xlsxWriter) abort() { x.f.Close() }
