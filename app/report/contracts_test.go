package report_test

import (
	"context"
	"testing"
	"time"

	"granttrack/app/report"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestEveryTableAgreesOnAContractsBand records £19,700.00 of spend (£10,000.00
// in Q1 and £9,700.00 in Q3) on an £18,500.00 contract tendered at
// £10,000–£25,000. The band is the contract's value's, so the quarter's
// line table, the year's and the contracts table agree (within band), and
// the spend is shown against the contract as an overspend.
func TestEveryTableAgreesOnAContractsBand(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	p := &models.Programme{Code: "CONTRACTBAND", Name: "Trust", Plan: "Plan"}
	must(t, st.CreateProgramme(ctx, sys, p))
	funder := &models.Organisation{Name: "Contract band funder", IsFunder: true}
	must(t, st.CreateOrganisation(ctx, sys, funder))
	supplier := &models.Organisation{Name: "Contract band supplier", IsSupplier: true}
	must(t, st.CreateOrganisation(ctx, sys, supplier))
	ptr := func(s string) *string { return &s }
	fl, err := models.FundingLineInput{Code: "CONTRACT-BAND", Title: "Allyship training", Kind: "contract", ProgrammeID: p.ID,
		FunderID: funder.ID, Budget: "25000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31",
		Tender: &models.TenderInput{MinValue: ptr("10000.00"), MaxValue: ptr("25000.00"), AwardedSupplierID: &supplier.ID,
			ProcurementMethod: ptr("open"), MainCategory: ptr("services"), ContractTitle: ptr("Allyship session"),
			ContractValue: ptr("18500.00"), ContractStartsOn: ptr("2024-04-15"), ContractEndsOn: ptr("2025-03-31")}}.Validate()
	must(t, err)
	must(t, st.CreateFundingLine(ctx, sys, fl))
	must(t, storetest.Activate(ctx, st, fl.ID))
	officers := storetest.Officers(t, st, "band-maker@test.example", "band-checker@test.example")
	for _, sp := range []struct{ amount, on string }{{"10000.00", "2024-05-01"}, {"9700.00", "2024-11-01"}} {
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: supplier.ID, Amount: sp.amount, IncurredOn: sp.on, Category: "training",
			Purpose: "Allyship session", VFMReason: "Open tender"}.Validate()
		must(t, err)
		_, err = st.RecordSpend(ctx, officers[0], e, "", nil)
		must(t, err)
		_, err = st.ApproveSpend(ctx, officers[1], e.ID)
		must(t, err)
	}
	positions := map[string]string{}
	for _, quarter := range []string{"", "Q1", "Q3"} {
		q, err := report.ParseQuery("2024-25", quarter, "funding_line", "2025-03-31", time.Now())
		must(t, err)
		b, err := report.BudgetReport(ctx, st, q)
		must(t, err)
		for _, g := range b.Groups {
			if g.Code == fl.Code {
				positions["lines "+quarter] = g.BandPosition
			}
		}
		v, err := report.ValueForMoneyReport(ctx, st, q)
		must(t, err)
		for _, c := range v.Contracts {
			if c.Code != fl.Code {
				continue
			}
			positions["contracts "+quarter] = c.BandPosition
			if c.SpendText != "£19,700.00 spent of £18,500.00 contracted: £1,200.00 over the contract" || c.Overspend.StringFixed(2) != "1200.00" {
				t.Errorf("spend against the contract: %q, %s", c.SpendText, c.Overspend)
			}
		}
	}
	if len(positions) != 6 {
		t.Fatalf("positions = %v, want the line in six tables", positions)
	}
	for table, pos := range positions {
		if pos != models.BandWithin {
			t.Errorf("%s: %q, want %q", table, pos, models.BandWithin)
		}
	}
}
