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
	SheetManifest = "Manifest"
)

// XLSX number formats: pounds with two decimals (negatives with a minus,
// so a reversal reads -£600.00), ISO dates and UTC date-times.
const (
	xlsxMoneyFormat    = `"£"#,##0.00;-"£"#,##0.00`
	xlsxDateFormat     = "yyyy-mm-dd"
	xlsxDateTimeFormat = "yyyy-mm-dd hh:mm:ss"
)

// xlsxMaxEntries is how many entries fit on one sheet: Excel's row limit
// less the header, a blank row and the two totals rows.
const xlsxMaxEntries = excelize.TotalRows - 4

// xlsxWriter streams rows into the Ledger sheet with excelize's
// StreamWriter, which spills to a temporary file past 16 MB, so the ledger
// is never held in memory; Close adds the totals and the Manifest sheet and
// writes the zip to w.
type xlsxWriter struct {
	w                     io.Writer
	f                     *excelize.File
	sw                    *excelize.StreamWriter
	row                   int
	money, date, dateTime int
}

func newXLSXWriter(w io.Writer) (RowWriter, error) {
	f := excelize.NewFile()
	x := &xlsxWriter{w: w, f: f, row: 1}
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
	for col, width := range map[int]float64{5: 30, 7: 14, 9: 12, 12: 40, 13: 26, 14: 20, 15: 26, 16: 20} {
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
	text := func(s *string) any {
		if s == nil {
			return nil
		}
		return SafeText(*s)
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
		return excelize.Cell{StyleID: x.dateTime, Value: t.UTC()}
	}
	x.row++
	cell, _ := excelize.CoordinatesToCellName(1, x.row)
	return x.sw.SetRow(cell, []any{r.ID, SafeText(r.FundingLine), SafeText(r.Programme), text(r.Award), SafeText(r.Payee), text(r.PayeeOrgID),
		excelize.Cell{StyleID: x.money, Value: amount}, string(r.Status), excelize.Cell{StyleID: x.date, Value: r.IncurredOn.UTC()},
		SafeText(r.Category), SafeText(r.Reference), SafeText(r.Description), SafeText(r.RecordedBy), at(&r.RecordedAt), text(r.DecidedBy),
		at(r.DecidedAt), id(r.ReversesID), text(r.ReversalReason)})
}

// amountColumn is the 1-based column of the amount, where the totals go.
var amountColumn = func() int {
	for i, c := range Columns {
		if c == "amount" {
			return i + 1
		}
	}
	panic("export: no amount column")
}()

// Close writes the totals (summed in decimal by Ledger, not a formula, so
// they are the manifest's figures), then the Manifest sheet, then the file.
func (x *xlsxWriter) Close(m *Manifest) error {
	defer x.f.Close()
	total, err := models.ParseMoney(m.Total)
	if err != nil {
		return err
	}
	approved, err := models.ParseMoney(m.Approved)
	if err != nil {
		return err
	}
	for i, t := range []struct {
		label  string
		amount decimal.Decimal
	}{{"Total", total}, {"Approved total", approved}} {
		v, err := xlsxAmount(t.amount)
		if err != nil {
			return err
		}
		row := make([]any, amountColumn)
		row[0], row[amountColumn-1] = t.label, excelize.Cell{StyleID: x.money, Value: v}
		cell, _ := excelize.CoordinatesToCellName(1, x.row+2+i)
		if err := x.sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := x.sw.Flush(); err != nil {
		return err
	}
	if err := x.manifestSheet(m); err != nil {
		return err
	}
	return x.f.Write(x.w)
}

// manifestSheet holds the manifest's fields but its sha256: a file cannot
// hold its own hash, which stays in the manifest beside the file. This
// sheet is small and written whole, where SetCellDefault puts a total's
// exact digits in a numeric cell.
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
			if err = x.f.SetCellDefault(SheetManifest, b, string(v)); err == nil {
				err = x.f.SetCellStyle(SheetManifest, b, b, x.money)
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
