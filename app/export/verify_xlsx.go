package export

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// xlsxReader reads the Ledger sheet of an XLSX export back as the text the
// CSV export gives each column, so that a spreadsheet is verified with the
// CSV's rules: amounts as pounds and pence, dates and times as in the CSV
// (to the whole second). It stops at the first empty row.
type xlsxReader struct {
	f    *excelize.File
	rows *excelize.Rows
	// The Totals and Manifest sheets, read whole when the file is opened
	// (they are small), or why they could not be.
	totals, manifest       [][]string
	totalsErr, manifestErr error
}

// xlsxColumn kinds: how a raw cell becomes the CSV's text.
var (
	xlsxAmountColumn = column["amount"]
	xlsxDateColumn   = column["incurred_on"]
	xlsxTimeColumns  = []int{column["recorded_at"], column["decided_at"]}
)

func newXLSXReader(r io.Reader) (RowReader, error) {
	// A workbook is a zip: it is read whole before its sheets can be.
	f, err := excelize.OpenReader(r)
	if err != nil {
		return nil, fmt.Errorf("it is not an XLSX workbook: %w", err)
	}
	rows, err := f.Rows(SheetLedger)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("it has no %s sheet: %w", SheetLedger, err)
	}
	x := &xlsxReader{f: f, rows: rows}
	raw := excelize.Options{RawCellValue: true}
	x.totals, x.totalsErr = f.GetRows(SheetTotals, raw)
	x.manifest, x.manifestErr = f.GetRows(SheetManifest, raw)
	header, err := x.raw()
	if err != nil || !slices.Equal(header, Columns) {
		x.close()
		return nil, fmt.Errorf("its header row is not the ledger's columns (%v)", Columns)
	}
	return x, nil
}

// raw reads the next row's stored values, padded to the ledger's width.
func (x *xlsxReader) raw() ([]string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	cells, err := x.rows.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return nil, err
	}
	for len(cells) < len(Columns) {
		cells = append(cells, "")
	}
	return cells, nil
}

func (x *xlsxReader) close() {
	x.rows.Close()
	x.f.Close()
}

func (x *xlsxReader) Next() ([]string, error) {
	cells, err := x.raw()
	if err == nil && slices.IndexFunc(cells, func(s string) bool { return s != "" }) < 0 {
		err = io.EOF // the blank row before the totals
	}
	if err != nil {
		x.close()
		return nil, err
	}
	// A cell that is not a number or a date is left as it is, and the row
	// comparison reports it against the ledger's value.
	if v := cells[xlsxAmountColumn]; v != "" {
		// A spreadsheet number, read as its exact digits, never a float.
		if d, err := decimal.NewFromString(v); err == nil {
			cells[xlsxAmountColumn] = models.FormatMoney(d)
		}
	}
	if v := cells[xlsxDateColumn]; v != "" {
		if t, err := serialTime(v); err == nil {
			cells[xlsxDateColumn] = t.Format(models.DateLayout)
		}
	}
	for _, i := range xlsxTimeColumns {
		if v := cells[i]; v != "" {
			if t, err := serialTime(v); err == nil {
				cells[i] = t.Format(time.RFC3339)
			}
		}
	}
	return cells, nil
}

// xlsxRecord is the text of a ledger row as the XLSX holds it: the CSV's,
// but text as written (a text cell needs no apostrophe) save the control
// characters XML cannot hold (see xlsxText).
func xlsxRecord(r store.LedgerRow) []string { return ledgerRecord(r, xlsxText) }

func plainText(s string) string { return s }

// serialTime reads a spreadsheet date-time serial number to the nearest
// second (the serial's float is exact to well under a millisecond).
func serialTime(v string) (time.Time, error) {
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return time.Time{}, err
	}
	t, err := excelize.ExcelDateToTime(f, false)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC().Round(time.Millisecond).Round(time.Second), nil
}

// sheetFindings checks the Totals sheet against what the Ledger sheet's
// entries add up to, and the Manifest sheet against the manifest, and
// reports each cell that differs by its sheet row.
func (x *xlsxReader) sheetFindings(read statusTotals, m *Manifest) []Finding {
	var out []Finding
	missing := func(kind, sheet string, err error) {
		out = append(out, Finding{Kind: kind, Message: fmt.Sprintf("The %s sheet cannot be read: %v.", sheet, err)})
	}
	cellAt := func(rows [][]string, r, c int) string {
		if r < len(rows) && c < len(rows[r]) {
			return rows[r][c]
		}
		return ""
	}
	if x.totalsErr != nil {
		missing(KindTotals, SheetTotals, x.totalsErr)
	} else {
		for i, label := range totalsRows {
			want := read[label]
			row := i + 1 // under the header
			got := cellAt(x.totals, row, 0)
			if got != label {
				out = append(out, Finding{Kind: KindTotals, Row: row + 1, Field: label, File: got, Expected: label, Message: fmt.Sprintf(
					"Totals sheet row %d: the label is %q, not %q.", row+1, got, label)})
				continue
			}
			for _, c := range []struct {
				name, got, want string
				same            bool
			}{
				{"entries", cellAt(x.totals, row, 1), strconv.Itoa(want.entries), cellAt(x.totals, row, 1) == strconv.Itoa(want.entries)},
				{"amount", cellAt(x.totals, row, 2), models.FormatMoney(want.amount), sameMoney(cellAt(x.totals, row, 2), models.FormatMoney(want.amount))},
			} {
				if !c.same {
					out = append(out, Finding{Kind: KindTotals, Row: row + 1, Field: label, File: c.got, Expected: c.want, Message: fmt.Sprintf(
						"Totals sheet row %d (%s): %s is %q in the file, but the Ledger sheet's entries give %s.", row+1, label, c.name, c.got, c.want)})
				}
			}
		}
		if len(x.totals) > len(totalsRows)+1 {
			out = append(out, Finding{Kind: KindTotals, Row: len(totalsRows) + 2, Message: fmt.Sprintf(
				"Totals sheet row %d onwards: rows the export did not write.", len(totalsRows)+2)})
		}
	}
	if x.manifestErr != nil {
		missing(KindManifest, SheetManifest, x.manifestErr)
		return out
	}
	for i, r := range manifestRows(m) {
		field, got := r[0].(string), cellAt(x.manifest, i, 1)
		want, same := fmt.Sprint(r[1]), false
		if v, ok := r[1].(sheetMoney); ok {
			want, same = string(v), sameMoney(got, string(v))
		} else {
			same = got == want
		}
		if i == 0 || field == "sha256" {
			same = got == want || field == "sha256" // the sha256 row is a note
		}
		if label := cellAt(x.manifest, i, 0); label != field || !same {
			out = append(out, Finding{Kind: KindManifest, Row: i + 1, Field: field, File: got, Expected: want, Message: fmt.Sprintf(
				"Manifest sheet row %d (%s): %q in the file, but the manifest has %q.", i+1, field, label+": "+got, field+": "+want)})
		}
	}
	return out
}
