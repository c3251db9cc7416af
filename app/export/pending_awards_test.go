package export_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestOnlyApprovedAwardsArePublished: an award still awaiting its second
// person's approval, or rejected, is no grant made, so neither the
// 360Giving nor the OCDS package carries it; the approved award beside it
// is published.
func TestOnlyApprovedAwardsArePublished(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	grant := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "PUBG", PayeeName: "Galop", Budget: "100000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	system := models.SystemActor("test")
	ptr := func(s string) *string { return &s }
	fl, err := models.FundingLineInput{Code: "PUBC-1", Title: "Allyship training", Kind: "contract", ProgrammeID: grant.Programme.ID,
		FunderID: grant.Payee.ID, Budget: "25000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31",
		Tender: &models.TenderInput{MinValue: ptr("10000.00"), MaxValue: ptr("25000.00"), AwardedSupplierID: &grant.Payee.ID,
			ProcurementMethod: ptr("open"), MainCategory: ptr("services"), ContractTitle: ptr("Allyship session"),
			ContractValue: ptr("18500.00"), ContractStartsOn: ptr("2024-04-15"), ContractEndsOn: ptr("2025-03-31")}}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateFundingLine(ctx, system, fl); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Activate(ctx, st, fl.ID); err != nil {
		t.Fatal(err)
	}
	proposer, approver, err := storetest.Deciders(ctx, st, "publish")
	if err != nil {
		t.Fatal(err)
	}
	award := func(lineID int64, ref string, decide func(a *models.Award) error) {
		t.Helper()
		a, err := models.AwardInput{RecipientID: grant.Payee.ID, Reference: ref, Amount: "1000.00", AwardedOn: "2024-05-01",
			StartsOn: "2024-05-01", EndsOn: "2025-03-31"}.Validate(lineID)
		if err != nil {
			t.Fatal(err)
		}
		if err := decide(a); err != nil {
			t.Fatal(err)
		}
	}
	for _, lineID := range []int64{grant.ID, fl.ID} {
		prefix := map[bool]string{true: "G", false: "C"}[lineID == grant.ID]
		award(lineID, prefix+"-APPROVED", func(a *models.Award) error { return storetest.Award(ctx, st, a) })
		award(lineID, prefix+"-PENDING", func(a *models.Award) error { return st.CreateAward(ctx, proposer, a) })
		award(lineID, prefix+"-REJECTED", func(a *models.Award) error {
			if err := st.CreateAward(ctx, proposer, a); err != nil {
				return err
			}
			_, err := st.DecideAward(ctx, approver, a.ID, models.DecisionRejected, "Not value for money")
			return err
		})
	}
	for format, prefix := range map[string]string{"360giving": "G", "ocds": "C"} {
		var buf bytes.Buffer
		if _, err := export.Ledger(ctx, st, &buf, format, export.Filter{}, nil, export.WithPublisher(testPublisher)); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		out := buf.String()
		if !strings.Contains(out, prefix+"-APPROVED") || strings.Contains(out, prefix+"-PENDING") || strings.Contains(out, prefix+"-REJECTED") {
			t.Errorf("%s carries only the approved award? %s", format, out)
		}
	}
}
