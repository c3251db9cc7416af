package export_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"granttrack/app/export"
)

func TestLedgerXLSX(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	b := mustBooks(t, st, "XL")
	path, m := exportFile(t, st, export.FormatXLSX)
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatalf("not an XLSX file: %v", err)
	}
	defer f.Close()
	if sheets := f.GetSheetList(); len(sheets) != 3 || sheets[0] != export.SheetLedger || sheets[1] != export.SheetTotals || sheets[2] != export.SheetManifest {
		t.Fatalf("sheets %v", sheets)
	}
	raw := excelize.Options{RawCellValue: true}
	rows, err := f.GetRows(export.SheetLedger, raw)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(export.Columns, ",") {
		t.Fatalf("header %v", rows[0])
	}
	if panes, err := f.GetPanes(export.SheetLedger); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("the header row is not frozen: %+v %v", panes, err)
	}
	col := map[string]int{}
	for i, c := range export.Columns {
		col[c] = i + 1
	}
	cell := func(c string, row int) string { n, _ := excelize.CoordinatesToCellName(col[c], row); return n }
	numFmt := func(ref string) string {
		id, err := f.GetCellStyle(export.SheetLedger, ref)
		if err != nil {
			t.Fatal(err)
		}
		s, err := f.GetStyle(id)
		if err != nil || s.CustomNumFmt == nil {
			t.Fatalf("cell %s has no number format: %+v %v", ref, s, err)
		}
		return *s.CustomNumFmt
	}

	byLine, _ := lineTotals(t, st)
	got := map[string]decimal.Decimal{}
	total, approved := decimal.Zero, decimal.Zero
	var sawReversal bool
	for i := 2; i < 2+m.Rows; i++ {
		r := rows[i-1]
		value := func(c string) string {
			if col[c] > len(r) {
				return ""
			}
			return r[col[c]-1]
		}
		// Amounts are numbers, read back exactly from the cell's own text.
		if typ, _ := f.GetCellType(export.SheetLedger, cell("amount", i)); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber {
			t.Fatalf("row %d: amount cell type %v, want a number", i, typ)
		}
		amount, err := decimal.NewFromString(value("amount"))
		if err != nil {
			t.Fatalf("row %d: amount %q: %v", i, value("amount"), err)
		}
		if i == 2 && numFmt(cell("amount", i)) != `"£"#,##0.00;-"£"#,##0.00` {
			t.Errorf("amount format %q", numFmt(cell("amount", i)))
		}
		total = total.Add(amount)
		if value("status") == "approved" {
			approved = approved.Add(amount)
			got[value("programme")+":"+value("funding_line")] = got[value("programme")+":"+value("funding_line")].Add(amount)
		}
		if value("entry_id") == fmt.Sprint(b.Reversal) {
			sawReversal = amount.String() == "-321.09" && value("reverses_entry") == fmt.Sprint(b.Reversed)
		}
		// Dates are date cells: a day number, shown as a date; one before
		// 1900-03-01, which a spreadsheet date cannot hold, is text.
		if on, err := time.Parse("2006-01-02", value("incurred_on")); err == nil && on.Before(time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)) {
			continue
		}
		for _, c := range []string{"incurred_on", "recorded_at"} {
			serial, err := decimal.NewFromString(value(c))
			if err != nil || serial.LessThan(decimal.NewFromInt(45000)) {
				t.Fatalf("row %d: %s %q is not a date serial", i, c, value(c))
			}
		}
		if numFmt(cell("incurred_on", i)) != "yyyy-mm-dd" {
			t.Errorf("row %d: incurred_on format %q", i, numFmt(cell("incurred_on", i)))
		}
		if on, err := f.GetCellValue(export.SheetLedger, cell("incurred_on", i)); err != nil || !validDate(on) {
			t.Errorf("row %d: incurred_on shows %q", i, on)
		}
		// Text stays text in the text format, never a formula, and as
		// written: a text cell needs no apostrophe.
		for _, c := range []string{"funding_line", "programme", "award", "payee", "category", "reference", "description", "purpose",
			"vfm_reason", "recorded_by", "decision", "decided_by", "rejection_reason", "reversal_reason"} {
			v := value(c)
			if v == "" {
				continue
			}
			if typ, _ := f.GetCellType(export.SheetLedger, cell(c, i)); typ != excelize.CellTypeInlineString {
				t.Errorf("row %d: %s cell %q is of type %v, want a string", i, c, v, typ)
			}
			if id, _ := f.GetCellStyle(export.SheetLedger, cell(c, i)); id == 0 {
				t.Errorf("row %d: %s cell has no style, want the text format", i, c)
			} else if st, err := f.GetStyle(id); err != nil || st.NumFmt != 49 {
				t.Errorf("row %d: %s cell's number format is %d, want 49 (@, text)", i, c, st.NumFmt)
			}
			if strings.HasPrefix(v, "'") {
				t.Errorf("row %d: %s cell %q starts with an apostrophe", i, c, v)
			}
			if formula, _ := f.GetCellFormula(export.SheetLedger, cell(c, i)); formula != "" {
				t.Errorf("row %d: %s cell holds the formula %q", i, c, formula)
			}
		}
	}
	if !sawReversal {
		t.Error("the reversal should read -321.09, a negative number, reversing its entry")
	}
	compareTotals(t, "funding line", got, byLine)
	// Nothing below the entries: the totals are on their own sheet, by
	// status, as figures rather than formulas.
	if len(rows) != 1+m.Rows {
		t.Errorf("the Ledger sheet has %d rows, want the header and %d entries", len(rows), m.Rows)
	}
	wantTotals := map[string][2]string{}
	var byStatus []struct {
		Status  string
		Entries int
		Amount  decimal.Decimal
	}
	if err := st.DB().NewRaw(`SELECT status, count(*) AS entries, sum(amount) AS amount FROM spend_entries GROUP BY status
		UNION ALL SELECT ?, count(*), coalesce(sum(amount), 0) FROM spend_entries WHERE status = 'approved' AND reverses_id IS NOT NULL`,
		export.TotalReversals).Scan(ctx, &byStatus); err != nil {
		t.Fatal(err)
	}
	for _, r := range byStatus {
		wantTotals[r.Status] = [2]string{fmt.Sprint(r.Entries), r.Amount.StringFixed(2)}
	}
	totals, err := f.GetRows(export.SheetTotals, raw)
	if err != nil || len(totals) != 5 || strings.Join(totals[0], ",") != "status,entries,amount" {
		t.Fatalf("Totals sheet %v %v", totals, err)
	}
	for i, r := range totals[1:] {
		want := wantTotals[r[0]]
		ref := fmt.Sprintf("C%d", i+2)
		if formula, _ := f.GetCellFormula(export.SheetTotals, ref); formula != "" || r[1] != want[0] || !decimal.RequireFromString(r[2]).Equal(decimal.RequireFromString(want[1])) {
			t.Errorf("Totals %s: %v (formula %q), want %v", r[0], r, formula, want)
		}
	}
	if total.StringFixed(2) != m.Total || approved.StringFixed(2) != m.Approved {
		t.Errorf("sheet sums %s / %s, manifest %s / %s", total, approved, m.Total, m.Approved)
	}

	manifest, err := f.GetRows(export.SheetManifest, raw)
	if err != nil {
		t.Fatal(err)
	}
	fields := map[string]string{}
	for _, r := range manifest {
		if len(r) == 2 {
			fields[r[0]] = r[1]
		}
	}
	for k, want := range map[string]string{"format": "xlsx", "rows": fmt.Sprint(m.Rows), "total": m.Total, "approved_total": m.Approved,
		"audit_head_seq": fmt.Sprint(m.AuditSeq), "audit_head_hash": m.AuditHash, "generated_at": m.GeneratedAt.Format(time.RFC3339Nano)} {
		if got := fields[k]; got != want && !(strings.Contains(k, "total") && decimal.RequireFromString(got).Equal(decimal.RequireFromString(want))) {
			t.Errorf("manifest sheet %s = %q, want %q", k, got, want)
		}
	}

	// excelize writes a Go string as an inline string cell, which a
	// spreadsheet shows and never runs. Check the XML itself.
	sheet := sheetXML(t, path)
	if !strings.Contains(sheet, `t="inlineStr"><is><t>=cmd|&#39; /C calc&#39;!A0</t></is>`) {
		t.Error("a would-be formula is not an inline string as written")
	}
	if strings.Contains(sheet, "<f>") {
		t.Error("the sheet holds a formula")
	}
	if !strings.Contains(sheet, "<v>1234567.89</v>") || !strings.Contains(sheet, "<v>0.01</v>") {
		t.Error("amounts are not written as their exact digits")
	}
	_ = ctx
}

func validDate(s string) bool { _, err := time.Parse("2006-01-02", s); return err == nil }

// sheetXML is the Ledger sheet's XML, read from the zip.
func sheetXML(t *testing.T, path string) string {
	t.Helper()
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		t.Fatal(err)
	}
	r, err := z.Open("xl/worksheets/sheet1.xml")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
