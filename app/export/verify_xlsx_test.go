package export_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"

	"granttrack/app/export"
)

// editXLSX opens an exported workbook, lets edit change its Ledger sheet as
// someone with a spreadsheet would, and returns the saved file.
func editXLSX(t *testing.T, file []byte, edit func(f *excelize.File)) []byte {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	edit(f)
	var out bytes.Buffer
	if err := f.Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// cell names the Ledger sheet's cell of entry row n (1 is the first entry,
// on sheet row 2) in the named column.
func cell(t *testing.T, name string, n int) string {
	t.Helper()
	c, err := excelize.CoordinatesToCellName(col(name)+1, n+1)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVerifyXLSX(t *testing.T) {
	b := mustVerifyBooks(t)
	file, m := b.export(t, export.FormatXLSX)
	if rep := b.verify(t, file, m); !rep.OK || rep.Rows != 5 || rep.Approved != "850.25" {
		t.Fatalf("a clean workbook should verify: %+v", rep)
	}
	// Opened and saved by a spreadsheet program without changes: the bytes
	// differ, the rows do not.
	resaved := editXLSX(t, file, func(*excelize.File) {})
	rep := b.verify(t, resaved, m)
	for _, f := range rep.Findings {
		if f.Kind != export.KindFileHash {
			t.Fatalf("re-saving the same rows: %+v", f)
		}
	}
	for _, tc := range []struct {
		name  string
		edit  func(f *excelize.File)
		kind  string
		row   int
		field string
	}{
		{"ChangedAmount", func(f *excelize.File) {
			must(t, f.SetCellFloat(export.SheetLedger, cell(t, "amount", 2), 2500.25, 2, 64))
		},
			export.KindAmountChanged, 2, "amount"},
		{"SwappedPayee", func(f *excelize.File) {
			must(t, f.SetCellStr(export.SheetLedger, cell(t, "payee", 1), b.payees[1].Name))
		},
			export.KindPayeeChanged, 1, "payee"},
		{"DeletedRow", func(f *excelize.File) { must(t, f.RemoveRow(export.SheetLedger, 4)) }, export.KindRowDeleted, 0, ""},
		{"ReorderedRows", func(f *excelize.File) {
			a, _ := f.GetRows(export.SheetLedger, excelize.Options{RawCellValue: true})
			for i, v := range a[3] {
				c, _ := excelize.CoordinatesToCellName(i+1, 5)
				must(t, f.SetCellValue(export.SheetLedger, c, v))
			}
			for i, v := range a[4] {
				c, _ := excelize.CoordinatesToCellName(i+1, 4)
				must(t, f.SetCellValue(export.SheetLedger, c, v))
			}
		}, export.KindRowReordered, 4, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := b.verify(t, editXLSX(t, file, tc.edit), m)
			if rep.OK || !has(rep.Findings, tc.kind, tc.row, tc.field) || !has(rep.Findings, export.KindFileHash, 0, "") {
				t.Fatalf("no %s finding at row %d (%s): %+v", tc.kind, tc.row, tc.field, rep.Findings)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
