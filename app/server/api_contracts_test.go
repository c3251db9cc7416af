package server_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

// contractBody is a contract line's JSON with a whole procurement: an open
// tender of £10,000–£25,000 won by winner, contracted at value ("" for none
// yet).
func contractBody(f fixture, winner int64, value string) map[string]any {
	tender := map[string]any{"reference": unique("T-"), "min_value": "10000.00", "max_value": "25000.00",
		"published_on": "2024-03-01", "closes_on": "2024-04-02", "awarded_supplier_id": winner, "procurement_method": "open",
		"main_procurement_category": "services", "contract_title": "Anti-racism allyship training"}
	if value != "" {
		tender["contract_value"], tender["contract_starts_on"], tender["contract_ends_on"] = value, "2024-05-01", "2025-03-31"
	}
	return map[string]any{"code": unique("CON"), "title": "Contract line", "kind": "contract", "programme_id": f.ProgrammeID,
		"funder_id": f.FunderID, "budget": "60000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31", "tender": tender}
}

// mustSupplier makes a supplier through the API and returns its id.
func (e *env) mustSupplier() int64 {
	e.t.Helper()
	var got struct{ ID int64 }
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/organisations", map[string]any{"name": unique("Supplier "), "is_supplier": true,
		"org_id": *storetest.OrgID()})
	e.mustStatus(r, 201)
	r.json(e.t, &got)
	return got.ID
}

func TestContractProcurementThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00")
	winner := e.mustSupplier()
	t.Run("OKRecordedAndRead", func(t *testing.T) {
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", contractBody(f, winner, "18500.00"))
		e.mustStatus(r, 201)
		var got struct {
			ID     int64
			Tender map[string]any
		}
		r.json(t, &got)
		r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", got.ID), nil)
		e.mustStatus(r, 200)
		r.json(t, &got)
		for k, want := range map[string]any{"procurement_method": "open", "main_procurement_category": "services",
			"contract_value": "18500.00", "published_on": "2024-03-01", "contract_starts_on": "2024-05-01",
			"contract_title": "Anti-racism allyship training", "awarded_supplier_id": float64(winner)} {
			if got.Tender[k] != want {
				t.Errorf("tender.%s = %v, want %v", k, got.Tender[k], want)
			}
		}
	})
	tests := []struct {
		name, field string
		modify      func(tender map[string]any)
	}{
		{"ErrDirectAwardWithoutReason", "tender.direct_award_reason", func(m map[string]any) { m["procurement_method"] = "direct_award" }},
		{"ErrCallOffWithoutFramework", "tender.framework_name", func(m map[string]any) { m["procurement_method"] = "framework_call_off" }},
		{"ErrUnknownCategory", "tender.main_procurement_category", func(m map[string]any) { m["main_procurement_category"] = "consultancy" }},
		{"ErrValueWithoutWinner", "tender.awarded_supplier_id", func(m map[string]any) { delete(m, "awarded_supplier_id") }},
		{"ErrValueWithThreeDecimals", "tender.contract_value", func(m map[string]any) { m["contract_value"] = "18500.001" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := contractBody(f, winner, "18500.00")
			tc.modify(body["tender"].(map[string]any))
			before := e.count("funding_lines")
			r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", body)
			e.mustStatus(r, 422)
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Fatalf("content type %q", ct)
			}
			p := r.problem(t)
			if len(p.Errors) != 1 || p.Errors[0].Field != tc.field {
				t.Fatalf("problem errors %+v, want one on %s", p.Errors, tc.field)
			}
			if e.count("funding_lines") != before {
				t.Fatal("a refused line was stored")
			}
		})
	}
}

func TestContractProcurementForm(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00")
	winner := e.mustSupplier()
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	form := url.Values{"code": {unique("WEBCON")}, "title": {"Facilitation"}, "kind": {"contract"}, "programme_id": {fmt.Sprint(f.ProgrammeID)},
		"funder_id": {fmt.Sprint(f.FunderID)}, "budget": {"25000.00"}, "starts_on": {"2024-04-01"}, "ends_on": {"2025-03-31"},
		"tender_min_value": {"10000.00"}, "tender_max_value": {"25000.00"}, "tender_published_on": {"2024-03-01"},
		"tender_closes_on": {"2024-04-02"}, "awarded_supplier_id": {fmt.Sprint(winner)}, "procurement_method": {"framework_call_off"},
		"main_procurement_category": {"services"}, "contract_title": {"Allyship session"}, "contract_value": {"18500.00"},
		"contract_starts_on": {"2024-05-01"}, "contract_ends_on": {"2024-09-30"}}
	officer.request("GET", "/funding-lines/new", nil)
	before := e.count("funding_lines")
	r := officer.request("POST", "/funding-lines/new", form)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`name="framework_name"[^>]*aria-invalid="true">\s*<small class="field-error">a call-off must name the framework`).Match(r.Body) ||
		!strings.Contains(string(r.Body), `value="Allyship session"`) {
		t.Fatalf("the error belongs beside the framework, with the typed values kept:\n%s", r.Body)
	}
	if e.count("funding_lines") != before {
		t.Fatal("a refused form stored a line")
	}
	form.Set("framework_name", "Crown Commercial Service RM6145")
	r = officer.request("POST", "/funding-lines/new", form)
	e.mustStatus(r, 303)
	r = officer.request("GET", r.Header.Get("Location"), nil)
	e.mustStatus(r, 200)
	for _, want := range []string{"Call-off from a framework: Crown Commercial Service RM6145", "published 2024-03-01", "£18,500.00",
		"The contract's value is within band.", "£0.00 spent of £18,500.00 contracted"} {
		if !strings.Contains(string(r.Body), want) {
			t.Fatalf("the line's page should show %q:\n%s", want, r.Body)
		}
	}
}

// TestContractAwardRulesThroughTheAPI makes the award the brief describes,
// £40,000.00 on a £10,000–£25,000 tender and to a supplier who did not
// win, and sees each refused with problem+json naming the field; then a
// band exception goes through the approvals queue.
func TestContractAwardRulesThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00")
	winner := e.mustSupplier()
	var got struct{ ID int64 }
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", contractBody(f, winner, "18500.00"))
	e.mustStatus(r, 201)
	r.json(t, &got)
	line := got.ID
	for _, s := range []string{"approved", "active"} {
		r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/decisions", line), map[string]any{"to_status": s})
		e.mustStatus(r, 201)
		r.json(t, &got)
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/approve", got.ID), nil), 200)
	}
	award := func(recipient int64, amount string) response {
		return e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", line), map[string]any{
			"recipient_id": recipient, "reference": unique("CA-"), "amount": amount, "awarded_on": "2024-04-20",
			"starts_on": "2024-05-01", "ends_on": "2025-03-31"})
	}
	for _, tc := range []struct {
		name      string
		recipient int64
		amount    string
		field     string
	}{
		{"ErrBeyondTheContract", winner, "40000.00", "amount"},
		{"ErrNotTheWinner", f.RecipientID, "18500.00", "recipient_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count("awards")
			r := award(tc.recipient, tc.amount)
			e.mustStatus(r, 422)
			if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Field != tc.field {
				t.Fatalf("problem = %+v, want the field %s", p, tc.field)
			}
			if e.count("awards") != before {
				t.Fatal("a refused award was stored")
			}
		})
	}
	t.Run("ErrContractOutsideTheBand", func(t *testing.T) {
		body := contractBody(f, winner, "40000.00")
		body["code"] = unique("CONX")
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", body)
		e.mustStatus(r, 409)
		if p := r.problem(t); len(p.Errors) == 0 || p.Errors[0].Field != "tender.contract_value" {
			t.Fatalf("problem = %+v", p)
		}
	})
	t.Run("OKBandExceptionOnTheApprovalsQueue", func(t *testing.T) {
		r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/band-exceptions", line),
			map[string]any{"contract_value": "40000.00", "reason": "Scope widened to every borough by the board"})
		e.mustStatus(r, 201)
		r.json(t, &got)
		r = e.do(models.RoleFinanceManager, "GET", "/api/v1/approvals?per_page=500", nil)
		e.mustStatus(r, 200)
		var queue struct {
			Items []struct {
				DecisionKind    string `json:"decision_kind"`
				Entity, Approve string
				ID              int64
			}
		}
		r.json(t, &queue)
		found := ""
		for _, a := range queue.Items {
			if a.Entity == "contract_band_exception" && a.ID == got.ID && a.DecisionKind == "contract_band_exception" {
				found = a.Approve
			}
		}
		if found != fmt.Sprintf("/api/v1/band-exceptions/%d/approve", got.ID) {
			t.Fatalf("the exception is not on the approvals queue: %+v", queue.Items)
		}
		e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", found, nil), 403)
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", found, nil), 200)
	})
}
