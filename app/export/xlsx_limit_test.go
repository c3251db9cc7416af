package export

import (
	"bytes"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// TestXLSXHoldsExactlyASheetOfEntries writes the last entry a sheet can
// hold, is refused the next, and still closes into a workbook whose last
// row is that entry (the totals are on a sheet of their own). Skipping ahead to the limit (rather than
// writing a million rows) is what the row counter allows.
func TestXLSXHoldsExactlyASheetOfEntries(t *testing.T) {
	var buf bytes.Buffer
	rw, err := newXLSXWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	x := rw.(*xlsxWriter)
	entry := store.LedgerRow{ID: 1, FundingLine: "L", Programme: "P", Payee: "Payee", Amount: decimal.RequireFromString("10.00"),
		Status: models.SpendApproved, IncurredOn: time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC), Category: "services",
		RecordedBy: "a@example.org", RecordedAt: time.Now()}
	if err := x.Row(entry); err != nil {
		t.Fatal(err)
	}
	x.row = xlsxMaxEntries // as if xlsxMaxEntries-1 entries were written
	if err := x.Row(entry); err != nil {
		t.Fatalf("the last entry a sheet holds was refused: %v", err)
	}
	if err := x.Row(entry); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("one entry past the sheet's limit: %v, want EINVALID", err)
	}
	if err := x.Close(&Manifest{Format: "xlsx", Total: "20.00", Approved: "20.00"}); err != nil {
		t.Fatalf("closing a full sheet: %v", err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	last, _ := excelize.CoordinatesToCellName(1, excelize.TotalRows)
	if v, err := f.GetCellValue(SheetLedger, last); err != nil || v != "1" {
		t.Fatalf("Excel's last row holds %q (%v), want the last entry", v, err)
	}
	if v, err := f.GetCellValue(SheetTotals, "B2"); err != nil || v != "2" {
		t.Fatalf("the Totals sheet counts %q approved entries (%v), want the 2 written", v, err)
	}
}
