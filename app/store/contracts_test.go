package store_test

import (
	"context"
	"testing"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// contractFixture is an active contract line tendered at £10,000–£25,000,
// won by Winner, with Other a second supplier who did not win.
type contractFixture struct {
	Line          *models.FundingLine
	Winner, Other *models.Organisation
}

// contractLine makes an active £60,000 contract line whose tender
// (£10,000–£25,000, open, services) was won by a supplier, with the
// contract's value as given ("" records no contract yet).
func contractLine(t *testing.T, st *store.Store, value string) contractFixture {
	t.Helper()
	ctx := context.Background()
	p := &models.Programme{Code: unique("CP"), Name: "Programme", Plan: "Plan"}
	funder := &models.Organisation{Name: unique("Funder "), IsFunder: true}
	winner := &models.Organisation{Name: unique("Winner "), IsSupplier: true}
	other := &models.Organisation{Name: unique("Other "), IsSupplier: true, IsRecipient: true}
	for _, err := range []error{st.CreateProgramme(ctx, actor, p), st.CreateOrganisation(ctx, actor, funder),
		st.CreateOrganisation(ctx, actor, winner), st.CreateOrganisation(ctx, actor, other)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ptr := func(s string) *string { return &s }
	tender := &models.TenderInput{Reference: ptr(unique("T-")), MinValue: ptr("10000.00"), MaxValue: ptr("25000.00"),
		PublishedOn: ptr("2024-03-01"), ClosesOn: ptr("2024-04-02"), AwardedSupplierID: &winner.ID, ProcurementMethod: ptr("open"),
		MainCategory: ptr("services"), ContractTitle: ptr("Training sessions")}
	if value != "" {
		tender.ContractValue, tender.ContractStartsOn, tender.ContractEndsOn = ptr(value), ptr("2024-05-01"), ptr("2025-03-31")
	}
	fl, err := models.FundingLineInput{Code: unique("CON-"), Title: "Contract line", Kind: "contract", ProgrammeID: p.ID,
		FunderID: funder.ID, Budget: "60000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31", Tender: tender}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateFundingLine(ctx, actor, fl); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Activate(ctx, st, fl.ID); err != nil {
		t.Fatal(err)
	}
	if fl, err = st.FundingLine(ctx, fl.ID); err != nil {
		t.Fatal(err)
	}
	return contractFixture{Line: fl, Winner: winner, Other: other}
}

// TestProcurementHeldByTheDatabase writes what the Go validation refuses
// straight into funding_lines as the application role.
func TestProcurementHeldByTheDatabase(t *testing.T) {
	st := MustStore(t)
	f := contractLine(t, st, "18500.00")
	id := f.Line.ID
	tests := []struct {
		name, set, constraint string
	}{
		{"ErrUnknownMethod", "procurement_method = 'negotiated'", "funding_lines_procurement_method_check"},
		{"ErrDirectAwardWithoutReason", "procurement_method = 'direct_award'", "funding_lines_direct_award_reason"},
		{"ErrBlankReason", "procurement_method = 'direct_award', direct_award_reason = '  '", "funding_lines_direct_award_reason"},
		{"ErrCallOffWithoutFramework", "procurement_method = 'framework_call_off'", "funding_lines_framework_named"},
		{"ErrFrameworkOnOpenTender", "framework_name = 'RM6145'", "funding_lines_framework_named"},
		{"ErrUnknownCategory", "main_procurement_category = 'consultancy'", "funding_lines_main_procurement_category_check"},
		{"ErrClosesBeforePublished", "tender_published_on = '2024-04-03'", "funding_lines_tender_period_check"},
		{"ErrContractEndsBeforeStart", "contract_ends_on = '2024-04-30'", "funding_lines_contract_period_check"},
		{"ErrContractOutsideLine", "contract_ends_on = '2025-04-30'", "funding_lines_contract_within_line"},
		{"ErrValueWithoutWinner", "awarded_supplier_id = NULL", "funding_lines_contract_complete"},
		{"ErrValueWithoutCategory", "main_procurement_category = NULL", "funding_lines_contract_complete"},
		{"ErrZeroValue", "contract_value = 0", "funding_lines_contract_value_check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			refusedBy(t, raw(st, "UPDATE funding_lines SET "+tc.set+" WHERE id = ?", id), tc.constraint)
		})
	}
	t.Run("ErrProcurementOnGrant", func(t *testing.T) {
		g := line(t, st, "100.00")
		refusedBy(t, raw(st, "UPDATE funding_lines SET procurement_method = 'open' WHERE id = ?", g.ID), "funding_lines_procurement_kind_check")
	})
	t.Run("OKCallOffNamingItsFramework", func(t *testing.T) {
		if err := raw(st, "UPDATE funding_lines SET procurement_method = 'framework_call_off', framework_name = 'RM6145' WHERE id = ?", id); err != nil {
			t.Fatal(err)
		}
	})
}
