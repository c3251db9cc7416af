package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

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
	winner := &models.Organisation{Name: unique("Winner "), IsSupplier: true, OrgID: storetest.OrgID()}
	other := &models.Organisation{Name: unique("Other "), IsSupplier: true, IsRecipient: true, OrgID: storetest.OrgID()}
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
		{"ErrZeroValue", "tender_min_value = NULL, tender_max_value = NULL, contract_value = 0", "funding_lines_contract_value_check"},
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

// TestAwardOnAContractLineIsTheContract breaks each rule of a contract
// line's award through the store and through raw SQL as the application
// role: the £40,000.00 award on a £10,000–£25,000 tender, an award to a
// supplier who did not win, and a contract value outside the band, until a
// band exception is proposed by one person and approved by another.
func TestAwardOnAContractLineIsTheContract(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	f := contractLine(t, st, "18500.00")
	officer, second, board := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleBoardMember)
	propose := func(recipient int64, amount string) error {
		a := award(t, f.Line.ID, recipient, amount)
		return st.CreateAward(ctx, officer, a)
	}
	insertAward := func(recipient int64, amount string) error {
		return raw(st, `INSERT INTO awards (funding_line_id, recipient_id, reference, purpose, amount, awarded_on, starts_on, ends_on, proposed_by)
			VALUES (?, ?, ?, '', ?, '2024-06-01', '2024-06-01', '2025-03-31', ?)`, f.Line.ID, recipient, unique("RAW"), amount, officer.UserID)
	}
	fieldErr := func(t *testing.T, err error, code, field, want string) {
		t.Helper()
		var coded *models.Error
		if !errors.As(err, &coded) || coded.Code != code || len(coded.Fields) == 0 || coded.Fields[0].Field != field ||
			!strings.Contains(coded.Fields[0].Message, want) {
			t.Fatalf("err = %#v, want %s on %s saying %q", err, code, field, want)
		}
	}

	t.Run("ErrAwardBeyondTheContract", func(t *testing.T) {
		fieldErr(t, propose(f.Winner.ID, "40000.00"), models.EINVALID, "amount", "at most £18,500.00")
		refusedBy(t, insertAward(f.Winner.ID, "40000.00"), "award_within_contract")
	})
	t.Run("ErrAwardToASupplierWhoDidNotWin", func(t *testing.T) {
		fieldErr(t, propose(f.Other.ID, "18500.00"), models.EINVALID, "recipient_id", "must be "+f.Winner.Name)
		refusedBy(t, insertAward(f.Other.ID, "18500.00"), "award_to_winning_supplier")
	})
	t.Run("ErrContractOutsideTheBand", func(t *testing.T) {
		changed := *f.Line
		changed.ContractValue = ptrDecimal("40000.00")
		err := st.UpdateFundingLine(ctx, officer, f.Line.ID, &changed)
		fieldErr(t, err, models.ECONFLICT, "tender.contract_value", "propose a band exception")
		if !errors.Is(err, models.ErrContractOutsideBand) {
			t.Fatalf("err = %v, want contract_within_band", err)
		}
		refusedBy(t, raw(st, "UPDATE funding_lines SET contract_value = 40000.00 WHERE id = ?", f.Line.ID), "contract_within_band")
		refusedBy(t, raw(st, "UPDATE funding_lines SET tender_max_value = 18000.00 WHERE id = ?", f.Line.ID), "contract_within_band")
	})
	var x *models.ContractBandException
	t.Run("OKBandExceptionByTwoPeople", func(t *testing.T) {
		var err error
		if _, err = (models.BandExceptionInput{ContractValue: "40000.00", Reason: " "}).Validate(f.Line.ID); models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("an exception without a reason: %v", err)
		}
		inBand, _ := models.BandExceptionInput{ContractValue: "20000.00", Reason: "No need"}.Validate(f.Line.ID)
		if err := st.ProposeBandException(ctx, officer, inBand); models.ErrorCode(err) != models.EINVALID {
			t.Fatalf("an exception inside the band: %v", err)
		}
		x, err = models.BandExceptionInput{ContractValue: "40000.00",
			Reason: "The board widened the scope to every borough; re-tendering would miss the spring sessions"}.Validate(f.Line.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.ProposeBandException(ctx, officer, x); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DecideBandException(ctx, officer, x.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrFourEyes) {
			t.Fatalf("the proposer approved it: %v", err)
		}
		if _, err := st.DecideBandException(ctx, board, x.ID, models.DecisionApproved, ""); !errors.Is(err, models.ErrRoleAuthority) {
			t.Fatalf("a board member approved it: %v", err)
		}
		refusedBy(t, raw(st, "UPDATE contract_band_exceptions SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?",
			board.UserID, x.ID), "decision_role_authority")
		refusedBy(t, raw(st, `INSERT INTO contract_band_exceptions (funding_line_id, contract_value, reason, status, proposed_by, decided_by, decided_at)
			VALUES (?, 40000.00, 'Born approved', 'approved', ?, ?, now())`, f.Line.ID, officer.UserID, second.UserID), "contract_band_exceptions_decided_once")
		if _, err := st.DecideBandException(ctx, second, x.ID, models.DecisionApproved, ""); err != nil {
			t.Fatal(err)
		}
		// The application may not touch an exception's value at all, and
		// the owner may not change a decided one.
		if err := raw(st, "UPDATE contract_band_exceptions SET contract_value = 90000.00 WHERE id = ?", x.ID); err == nil ||
			!strings.Contains(err.Error(), "permission denied") {
			t.Fatalf("the application changed an exception's value: %v", err)
		}
		refusedBy(t, asOwner(t, "UPDATE contract_band_exceptions SET contract_value = 90000.00 WHERE id = ?", x.ID), "contract_band_exceptions_decided_once")
		refusedBy(t, raw(st, "UPDATE funding_lines SET contract_value = 40000.01 WHERE id = ?", f.Line.ID), "contract_within_band")
		changed := *f.Line
		changed.ContractValue = ptrDecimal("40000.00")
		if err := st.UpdateFundingLine(ctx, officer, f.Line.ID, &changed); err != nil {
			t.Fatalf("the excepted value: %v", err)
		}
		if err := propose(f.Winner.ID, "40000.00"); err != nil {
			t.Fatalf("the award of the excepted contract: %v", err)
		}
		events, _, err := st.AuditEvents(ctx, store.AuditFilter{Action: "contract_band_exception.", Entity: "funding_line", EntityID: fmt.Sprint(f.Line.ID)})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range events {
			seen[e.Action] = true
		}
		if !seen["contract_band_exception.propose"] || !seen["contract_band_exception.approve"] {
			t.Fatalf("audit events %v", seen)
		}
	})
	t.Run("ErrContractBelowItsAwards", func(t *testing.T) {
		refusedBy(t, raw(st, "UPDATE funding_lines SET contract_value = 20000.00 WHERE id = ?", f.Line.ID), "award_within_contract")
		refusedBy(t, raw(st, "UPDATE funding_lines SET awarded_supplier_id = ? WHERE id = ?", f.Other.ID, f.Line.ID), "award_to_winning_supplier")
	})
}

func ptrDecimal(s string) *decimal.Decimal {
	d := decimal.RequireFromString(s)
	return &d
}
