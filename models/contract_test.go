package models

import (
	"testing"
)

// contractInput is a contract line with a whole procurement recorded: an
// open tender won by supplier 9 for £18,500.00 inside a £10,000–£25,000 band.
func contractInput() FundingLineInput {
	in := validFundingLineInput()
	in.Kind = "contract"
	in.Tender = &TenderInput{Reference: ptr("MOPAC-T-2024-017"), MinValue: ptr("10000.00"), MaxValue: ptr("25000.00"),
		PublishedOn: ptr("2024-04-02"), ClosesOn: ptr("2024-04-20"), AwardedSupplierID: ptr(int64(9)),
		ProcurementMethod: ptr("open"), MainCategory: ptr("services"), ContractTitle: ptr("Allyship training"),
		ContractValue: ptr("18500.00"), ContractStartsOn: ptr("2024-05-01"), ContractEndsOn: ptr("2024-09-30")}
	return in
}

func TestContractProcurementAccepted(t *testing.T) {
	fl, err := contractInput().Validate()
	if err != nil {
		t.Fatal(err)
	}
	if *fl.ProcurementMethod != MethodOpen || *fl.MainCategory != "services" || fl.ContractValue.StringFixed(2) != "18500.00" ||
		fl.TenderPublishedOn.Format(DateLayout) != "2024-04-02" || *fl.ContractTitle != "Allyship training" {
		t.Fatalf("line = %+v", fl)
	}
	if got := fl.Procedure(); got != "Open procedure" {
		t.Fatalf("Procedure() = %q", got)
	}
	in := contractInput()
	in.Tender.ProcurementMethod, in.Tender.FrameworkName = ptr("framework_call_off"), ptr("Crown Commercial Service RM6145")
	fl, err = in.Validate()
	if err != nil || fl.Procedure() != "Call-off from a framework: Crown Commercial Service RM6145" {
		t.Fatalf("call-off: %v, %q", err, fl.Procedure())
	}
	in = contractInput()
	in.Tender.ProcurementMethod, in.Tender.DirectAwardReason = ptr("direct_award"), ptr("Only one facilitator accredited")
	if fl, err = in.Validate(); err != nil || fl.Procedure() != "Direct award (Only one facilitator accredited)" {
		t.Fatalf("direct award: %v, %q", err, fl.Procedure())
	}
}

func TestContractProcurementRefused(t *testing.T) {
	tests := []struct {
		name, field, want string
		modify            func(t *TenderInput)
	}{
		{"ErrUnknownMethod", "tender.procurement_method", "must be one of open", func(t *TenderInput) { t.ProcurementMethod = ptr("negotiated") }},
		{"ErrDirectAwardWithoutReason", "tender.direct_award_reason", "say why", func(t *TenderInput) { t.ProcurementMethod = ptr("direct_award") }},
		{"ErrReasonWithoutDirectAward", "tender.direct_award_reason", "only a direct award", func(t *TenderInput) { t.DirectAwardReason = ptr("Urgent") }},
		{"ErrCallOffWithoutFramework", "tender.framework_name", "name the framework", func(t *TenderInput) { t.ProcurementMethod = ptr("framework_call_off") }},
		{"ErrFrameworkWithoutCallOff", "tender.framework_name", "only a call-off", func(t *TenderInput) { t.FrameworkName = ptr("RM6145") }},
		{"ErrUnknownCategory", "tender.main_procurement_category", "goods, services or works", func(t *TenderInput) { t.MainCategory = ptr("consultancy") }},
		{"ErrClosesBeforePublished", "tender.closes_on", "on or after 2024-04-02", func(t *TenderInput) { t.ClosesOn = ptr("2024-04-01") }},
		{"ErrContractEndsBeforeStart", "tender.contract_ends_on", "on or after 2024-05-01", func(t *TenderInput) { t.ContractEndsOn = ptr("2024-04-30") }},
		{"ErrContractOutsideLine", "tender.contract_ends_on", "when the funding line ends", func(t *TenderInput) { t.ContractEndsOn = ptr("2025-04-01") }},
		{"ErrValueZero", "tender.contract_value", "greater than zero", func(t *TenderInput) { t.ContractValue = ptr("0.00") }},
		{"ErrValueThreeDecimals", "tender.contract_value", "two decimal places", func(t *TenderInput) { t.ContractValue = ptr("18500.005") }},
		{"ErrValueWithoutWinner", "tender.awarded_supplier_id", "the winning supplier", func(t *TenderInput) { t.AwardedSupplierID = nil }},
		{"ErrValueWithoutTitle", "tender.contract_title", "the contract's title", func(t *TenderInput) { t.ContractTitle = ptr("  ") }},
		{"ErrValueWithoutMethod", "tender.procurement_method", "how the supplier was chosen", func(t *TenderInput) { t.ProcurementMethod = nil }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := contractInput()
			tc.modify(in.Tender)
			_, err := in.Validate()
			expectOnly(t, err, tc.field, tc.want)
		})
	}
	t.Run("ErrProcurementOnGrant", func(t *testing.T) {
		in := validFundingLineInput()
		in.Tender = &TenderInput{ProcurementMethod: ptr("open")}
		_, err := in.Validate()
		expectOnly(t, err, "tender", "only a contract")
	})
}

func TestContractBandIsTheContractsValue(t *testing.T) {
	lo, hi := decp("10000.00"), decp("25000.00")
	for value, want := range map[string]string{"9999.99": BandBelow, "10000.00": BandWithin, "25000.00": BandWithin,
		"25000.01": BandAbove, "60100.00": BandAbove} {
		if got := ContractBand(decp(value), lo, hi); got != want {
			t.Errorf("%s: %s, want %s", value, got, want)
		}
	}
	if got := ContractBand(nil, lo, hi); got != BandNoContract {
		t.Errorf("no value: %q", got)
	}
	if ContractBand(decp("1.00"), nil, nil) != "" {
		t.Error("a line without a band has a position")
	}
}

func TestContractSpendShowsAnOverspend(t *testing.T) {
	text, over := ContractSpend(dec("19700.00"), decp("18500.00"))
	if text != "£19,700.00 spent of £18,500.00 contracted: £1,200.00 over the contract" || over.StringFixed(2) != "1200.00" {
		t.Fatalf("%q, %s", text, over)
	}
	if text, over = ContractSpend(dec("18500.00"), decp("18500.00")); text != "£18,500.00 spent of £18,500.00 contracted" || !over.IsZero() {
		t.Fatalf("%q, %s", text, over)
	}
	if text, _ = ContractSpend(dec("5.00"), nil); text != "£5.00 spent; no contract value recorded" {
		t.Fatalf("%q", text)
	}
}
