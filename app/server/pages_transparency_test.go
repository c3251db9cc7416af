package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"granttrack/models"
)

func TestTransparencyPackPageAndDownloads(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	complete, bare := unique("PACK-OK-"), unique("PACK-BARE-")
	r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{
		"recipient_id": f.RecipientID, "reference": complete, "amount": "20000.00", "awarded_on": "2024-11-05", "starts_on": "2024-11-05", "ends_on": "2025-03-31",
		"purpose": "Youth outreach", "conditions": "Quarterly returns", "crime_reduction_reason": "Diverts young people from violence"})
	e.mustStatus(r, 201)
	var got struct {
		Conditions           *string `json:"conditions"`
		CrimeReductionReason *string `json:"crime_reduction_reason"`
	}
	var id struct{ ID int64 }
	r.json(t, &got)
	r.json(t, &id)
	if got.Conditions == nil || *got.Conditions != "Quarterly returns" || got.CrimeReductionReason == nil {
		t.Fatalf("the award should keep its conditions and reason: %s", r.Body)
	}
	e.mustApproveAward(id.ID) // only approved awards are published
	r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{
		"recipient_id": f.RecipientID, "reference": bare, "amount": "1000.00", "awarded_on": "2024-11-06", "starts_on": "2024-11-06",
		"ends_on": "2025-03-31", "purpose": "=SUM(A1:A9)"})
	e.mustStatus(r, 201)
	r.json(t, &id)
	e.mustApproveAward(id.ID)

	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	r = auditor.request("GET", "/transparency?month=2024-11", nil)
	e.mustStatus(r, 200)
	body := string(r.Body)
	top := strings.Index(body, "to fix before publication")
	if top < 0 || !strings.Contains(body, "grants.csv: grant "+bare) || strings.Contains(body, "grants.csv: grant "+complete) ||
		!strings.Contains(body, "has no conditions") || !strings.Contains(body, "has no crime reduction reason") {
		t.Fatalf("the page should list the bare grant's missing fields, and only its:\n%s", body)
	}
	if table := strings.Index(body, "<table"); table < top || !strings.Contains(body[table:], complete) {
		t.Fatal("the missing fields belong above the tables, which list every grant")
	}
	if !strings.Contains(body, `href="/transparency/spend-over-500.csv?month=2024-11"`) {
		t.Fatal("the page should link each CSV for the month")
	}

	r = auditor.request("GET", "/transparency/grants.csv?month=2024-11", nil)
	e.mustStatus(r, 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(string(r.Body), complete+",2024-11-05,") ||
		!strings.Contains(string(r.Body), ",'=SUM(A1:A9),") {
		t.Fatalf("grants.csv (%s) should list both grants with formulas neutralised:\n%s", ct, r.Body)
	}
	e.mustStatus(auditor.request("GET", "/transparency/secrets.csv?month=2024-11", nil), 404)
	e.mustStatus(auditor.request("GET", "/transparency?month=November", nil), 422)

	for _, role := range []models.Role{models.RoleBoardMember, models.RoleFinanceOfficer} {
		b := spendWebSignIn(t, e, role)
		e.mustStatus(b.request("GET", "/transparency?month=2024-11", nil), 403)
		e.mustStatus(b.request("GET", "/transparency/grants.csv?month=2024-11", nil), 403)
		e.mustStatus(e.do(role, "GET", "/api/v1/exports/transparency/grants.csv?month=2024-11", nil), 403)
	}
	admin := spendWebSignIn(t, e, models.RoleAdmin)
	e.mustStatus(admin.request("GET", "/transparency?month=2024-11", nil), 200)
	r = e.do(models.RoleAuditor, "GET", "/api/v1/exports/transparency/grants.csv?month=2024-11", nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), bare) {
		t.Fatalf("the API download should match the page:\n%s", r.Body)
	}
}

func TestLedgerExportOffersTheOpenStandards(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("5000.00")
	ref := unique("OPEN-")
	r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{
		"recipient_id": f.RecipientID, "reference": ref, "amount": "1234.56", "awarded_on": "2024-05-01", "starts_on": "2024-05-01", "ends_on": "2025-03-31",
		"purpose": "Test"})
	e.mustStatus(r, 201)
	var award struct{ ID int64 }
	r.json(t, &award)
	e.mustApproveAward(award.ID) // only approved awards are published
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=360giving&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `"amountAwarded":1234.56`) || !strings.Contains(r.Header.Get("Granttrack-Manifest"), `"rows":1`) ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "ledger.json") {
		t.Fatalf("360Giving export: %v %s", r.Header, r.Body)
	}
	// A grant line has no contracts: a clear 404, not an empty invalid package.
	p := e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=ocds&funding_line_id=%d", f.LineID), nil).problem(t)
	if p.Status != 404 || !strings.Contains(p.Detail, "No contracts") {
		t.Fatalf("problem %+v", p)
	}
}

func TestAwardFormAndOrganisationsTakeWhatPublishingNeeds(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("50000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	ref := unique("FORM-")
	r := officer.request("POST", fmt.Sprintf("/funding-lines/%d/awards/new", f.LineID), url.Values{"recipient_id": {fmt.Sprint(f.RecipientID)},
		"reference": {ref}, "amount": {"1000.00"}, "tranche_count": {"1"}, "awarded_on": {"2024-05-01"}, "starts_on": {"2024-05-01"},
		"ends_on": {"2024-12-31"}, "purpose": {"Mentoring"}, "conditions": {"Monthly reports"}, "crime_reduction_reason": {"Mentored young people reoffend less"}})
	e.mustStatus(r, 303)
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `"conditions":"Monthly reports"`) || !strings.Contains(string(r.Body), `"crime_reduction_reason":"Mentored young people reoffend less"`) {
		t.Fatalf("the form's conditions and reason should be stored: %s", r.Body)
	}

	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/organisations", map[string]any{"name": unique("Borough "), "is_recipient": true, "gss_code": "e09000028"})
	e.mustStatus(r, 201)
	if !strings.Contains(string(r.Body), `"gss_code":"E09000028"`) {
		t.Fatalf("the GSS code should be stored in capitals: %s", r.Body)
	}
	p := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/organisations", map[string]any{"name": unique("Borough "), "is_recipient": true, "gss_code": "Southwark"}).problem(t)
	if p.Status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "gss_code" {
		t.Fatalf("a name is not a GSS code: %+v", p)
	}
}
