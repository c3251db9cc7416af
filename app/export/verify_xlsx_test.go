package export_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"granttrack/app/export"
	"granttrack/app/store/storetest"
	"granttrack/models"
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

// strangeBooks is a line of its own starting on 1 January 1900 (before
// Excel's phantom 29 February 1900), with approved, pending and rejected
// spend whose text holds what input still allows and a spreadsheet mangles:
// tabs, CR and LF, edge spaces, formula starts. (Control characters and
// dates before 1900 are refused at input now.)
func strangeBooks(t *testing.T) *verifyBooks {
	t.Helper()
	ctx := context.Background()
	b := mustVerifyBooks(t)
	l := storetest.ActiveLine(t, b.st, storetest.LineSpec{Code: fmt.Sprintf("ODD%d", fixtures.Add(1)), PayeeName: fmt.Sprintf("Odd  payee %d", fixtures.Load()),
		Budget: "10000.00", StartsOn: "1900-01-01", EndsOn: "2025-03-31"})
	b.line, b.payees[0] = l.FundingLine, l.Payee
	for i, s := range []struct{ on, desc string }{{"1900-01-01", "bell and start"}, {"1900-01-02", "tab\tcr\r\nlf\nvt end "},
		{"1900-02-28", "  spaced  "}, {"2024-06-01", "=cmd|' /C calc'!A0 "}} {
		e, err := models.SpendInput{FundingLineID: b.line.ID, PayeeID: b.payees[0].ID, Amount: "10.01", IncurredOn: s.on, Category: "other",
			Description: s.desc, Reference: "ref", Purpose: "p", VFMReason: "v"}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.st.RecordSpend(ctx, b.maker, e, "", nil); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0, 3:
			_, err = b.st.ApproveSpend(ctx, b.checker, e.ID)
		case 1:
			_, err = b.st.RejectSpend(ctx, b.checker, e.ID, "why not")
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// TestVerifyXLSXChecksContents: a workbook verifies by what it holds. An
// untouched one with line breaks and 1900 dates is OK; re-saved
// without changes it is OK, and says it was re-saved; an edited total or
// manifest cell is found, by sheet row.
func TestVerifyXLSXChecksContents(t *testing.T) {
	b := strangeBooks(t)
	file, m := b.export(t, export.FormatXLSX)
	if rep := b.verify(t, file, m); !rep.OK || rep.Resaved || rep.Rows != 4 {
		t.Fatalf("an untouched workbook should verify: %+v", rep)
	}
	resaved := editXLSX(t, file, func(f *excelize.File) { f.SetActiveSheet(1) })
	rep := b.verify(t, resaved, m)
	if !rep.OK || !rep.Resaved || len(rep.Findings) != 0 {
		t.Fatalf("a re-saved, unchanged workbook should verify as re-saved: %+v", rep)
	}
	var text strings.Builder
	if err := rep.WriteText(&text); err != nil || !strings.Contains(text.String(), "OK: contents match; the file was re-saved (its hash differs)") {
		t.Errorf("report:\n%s", text.String())
	}
	for _, tc := range []struct {
		name         string
		edit         func(f *excelize.File)
		kind, field  string
		row          int
		messageNames string
	}{
		{"EditedTotal", func(f *excelize.File) { must(t, f.SetCellFloat(export.SheetTotals, "C2", 9999.99, 2, 64)) },
			export.KindTotals, "approved", 2, "Totals sheet row 2"},
		{"EditedCount", func(f *excelize.File) { must(t, f.SetCellInt(export.SheetTotals, "B4", 0)) },
			export.KindTotals, "rejected", 4, "Totals sheet row 4"},
		{"EditedManifestSheet", func(f *excelize.File) { must(t, f.SetCellStr(export.SheetManifest, "B13", "0123")) },
			export.KindManifest, "audit_head_hash", 13, "Manifest sheet row 13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep := b.verify(t, editXLSX(t, file, tc.edit), m)
			i := slices.IndexFunc(rep.Findings, func(f export.Finding) bool { return f.Kind == tc.kind && f.Field == tc.field && f.Row == tc.row })
			if rep.OK || i < 0 || !strings.Contains(rep.Findings[i].Message, tc.messageNames) || !has(rep.Findings, export.KindFileHash, 0, "") {
				t.Fatalf("no %s finding on %s at row %d: %+v", tc.kind, tc.field, tc.row, rep.Findings)
			}
		})
	}
}

// libreOfficeResave opens a workbook in LibreOffice and saves it again as
// XLSX, untouched. The test that needs it is skipped without soffice
// (Debian: libreoffice-calc-nogui), which CI does not install.
func libreOfficeResave(t *testing.T, file []byte) []byte {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Skip("soffice is not installed (apt-get install libreoffice-calc-nogui): the LibreOffice round trip is not tested")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "ledger.xlsx"), filepath.Join(dir, "out")
	if err := os.WriteFile(in, file, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(soffice, "-env:UserInstallation=file://"+filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", out, in)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, b)
	}
	resaved, err := os.ReadFile(filepath.Join(out, "ledger.xlsx"))
	if err != nil {
		t.Fatalf("soffice wrote nothing: %v", err)
	}
	return resaved
}

// TestVerifyXLSXAfterLibreOffice: a workbook LibreOffice opened and saved
// untouched verifies as re-saved; one whose total was then edited does not,
// and says which Totals row.
func TestVerifyXLSXAfterLibreOffice(t *testing.T) {
	b := strangeBooks(t)
	file, m := b.export(t, export.FormatXLSX)
	resaved := libreOfficeResave(t, file)
	if bytes.Equal(resaved, file) {
		t.Fatal("LibreOffice wrote the same bytes: the round trip proves nothing")
	}
	if rep := b.verify(t, resaved, m); !rep.OK || !rep.Resaved {
		t.Fatalf("an untouched LibreOffice round trip should verify as re-saved: %+v", rep.Findings)
	}
	edited := editXLSX(t, resaved, func(f *excelize.File) { must(t, f.SetCellFloat(export.SheetTotals, "C3", 1, 2, 64)) })
	rep := b.verify(t, edited, m)
	if rep.OK || !has(rep.Findings, export.KindTotals, 3, "pending") {
		t.Fatalf("an edited pending total after LibreOffice should be found on Totals row 3: %+v", rep.Findings)
	}
}
