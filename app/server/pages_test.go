package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

func TestSignInNeedsCSRFAndTheRightPassword(t *testing.T) {
	e := MustEnv(t)
	b := &spendBrowser{e: e, cookies: map[string]*http.Cookie{}}
	r := b.request("GET", "/login", nil)
	e.mustStatus(r, 200)
	if r.Header.Get("Content-Security-Policy") == "" || regexp.MustCompile(`(src|href)="https?://`).Match(r.Body) {
		t.Fatal("pages need a CSP and no assets from elsewhere")
	}
	token := b.csrf
	b.csrf = ""
	e.mustStatus(b.request("POST", "/login", url.Values{"email": {e.users[models.RoleAuditor].Email}, "password": {testPassword}}), 403)
	b.csrf = token
	r = b.request("POST", "/login", url.Values{"email": {e.users[models.RoleAuditor].Email}, "password": {"wrong password!"}})
	e.mustStatus(r, 401)
	if !strings.Contains(string(r.Body), "do not match") {
		t.Fatal("a failed sign-in should say so")
	}
	e.mustStatus(b.request("GET", "/funding-lines", nil), 303) // still signed out
	e.mustStatus(b.request("POST", "/login", url.Values{"email": {e.users[models.RoleAuditor].Email}, "password": {testPassword}}), 303)
	e.mustStatus(b.request("GET", "/funding-lines", nil), 200)
	e.mustStatus(b.request("POST", "/logout", url.Values{}), 303)
	e.mustStatus(b.request("GET", "/funding-lines", nil), 303)
}

func TestFundingLinePages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("2000000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	r := officer.request("GET", fmt.Sprintf("/funding-lines?programme_id=%d", f.ProgrammeID), nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "£2,000,000.00") {
		t.Fatalf("the list should show the budget:\n%s", r.Body)
	}
	e.mustStatus(officer.request("GET", "/funding-lines?fy=2024", nil), 422)
	r = officer.request("GET", fmt.Sprintf("/funding-lines/%d", f.LineID), nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "Remaining") || !strings.Contains(string(r.Body), "Make it closed") {
		t.Fatalf("detail page:\n%s", r.Body)
	}

	form := url.Values{"code": {"WEB-LINE"}, "title": {"From the web"}, "kind": {"contract"}, "programme_id": {fmt.Sprint(f.ProgrammeID)},
		"funder_id": {fmt.Sprint(f.FunderID)}, "budget": {"12.345"}, "starts_on": {"2024-04-01"}, "ends_on": {"2025-03-31"},
		"tender_min_value": {"10000.00"}, "tender_max_value": {"25000.00"}}
	officer.request("GET", "/funding-lines/new", nil)
	before := e.count("funding_lines")
	r = officer.request("POST", "/funding-lines/new", form)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="budget-error">[^<]*two decimal places`).Match(r.Body) || !strings.Contains(string(r.Body), `value="From the web"`) {
		t.Fatalf("the error belongs beside the budget, with the typed values kept:\n%s", r.Body)
	}
	if e.count("funding_lines") != before {
		t.Fatal("a refused form stored a line")
	}
	form.Set("budget", "25000.00")
	r = officer.request("POST", "/funding-lines/new", form)
	e.mustStatus(r, 303)
	line := r.Header.Get("Location")
	r = officer.request("GET", line, nil)
	if !strings.Contains(string(r.Body), "£10,000.00 – £25,000.00") {
		t.Fatalf("the tender band should show:\n%s", r.Body)
	}
	officer.request("GET", line+"/edit", nil)
	form.Set("budget", "30000.00")
	e.mustStatus(officer.request("POST", line+"/edit", form), 303)
	e.mustStatus(officer.request("POST", line+"/status", url.Values{"status": {"closed"}}), 422)
	// Approving the line is proposed by the officer and decided by the admin
	// on the approvals page; the officer may only withdraw it.
	e.mustStatus(officer.request("POST", line+"/status", url.Values{"status": {"approved"}, "reason": {"Tender agreed"}}), 303)
	if r := officer.request("GET", line, nil); !strings.Contains(string(r.Body), "Withdraw") || strings.Contains(string(r.Body), ">Approve<") {
		t.Fatalf("the proposer should see withdraw, not approve:\n%s", r.Body)
	}
	admin := spendWebSignIn(t, e, models.RoleFinanceManager)
	r = admin.request("GET", "/approvals?per_page=500", nil)
	e.mustStatus(r, 200)
	m := regexp.MustCompile(`action="/approvals/line_decision/(\d+)/approve"`).FindSubmatch(r.Body)
	if m == nil || !strings.Contains(string(r.Body), "Make WEB-LINE approved: From the web (Tender agreed)") {
		t.Fatalf("the admin's approvals should list the proposal:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", "/approvals/line_decision/"+string(m[1])+"/approve", url.Values{}), 303)
	if r := officer.request("GET", line, nil); !strings.Contains(string(r.Body), `<span class="status approved">Approved</span></h1>`) {
		t.Fatalf("the line should be approved:\n%s", r.Body)
	}
	// Closing asks for a reason and a confirmation.
	e.mustStatus(officer.request("POST", line+"/status", url.Values{"status": {"cancelled"}, "reason": {"Tender withdrawn"}}), 422)
	e.mustStatus(officer.request("POST", line+"/status", url.Values{"status": {"cancelled"}, "reason": {"Tender withdrawn"}, "confirm": {"yes"}}), 303)

	board := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(board.request("GET", "/funding-lines/new", nil), 403)
	e.mustStatus(board.request("GET", "/programmes", nil), 200)
	e.mustStatus(board.request("GET", "/organisations", nil), 200)
	if r := board.request("GET", fmt.Sprintf("/funding-lines/%d", f.LineID), nil); strings.Contains(string(r.Body), "/status\"") {
		t.Fatal("a board member is offered status changes")
	}
}

func TestProgrammeOrganisationAndAwardForms(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	b := spendWebSignIn(t, e, models.RoleFinanceOfficer)

	b.request("GET", "/organisations/new", nil)
	r := b.request("POST", "/organisations/new", url.Values{"name": {"Bad Id Charity"}, "org_id": {"GB-CHC-12AB"}, "is_recipient": {"on"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), `id="org_id-error"`) {
		t.Fatalf("the org-id error belongs beside the org-id:\n%s", r.Body)
	}
	e.mustStatus(b.request("POST", "/organisations/new", url.Values{"name": {"Good Charity"}, "org_id": {"gb-chc-1077811"}, "is_recipient": {"on"}}), 303)
	if r := b.request("GET", "/organisations?q=gb-chc-1077811", nil); !strings.Contains(string(r.Body), "GB-CHC-1077811") {
		t.Fatal("the org-id should be stored in canonical form")
	}

	b.request("GET", "/programmes/new", nil)
	r = b.request("POST", "/programmes/new", url.Values{"code": {"bad code!"}, "name": {""}, "plan": {"Plan"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), `id="code-error"`) || !strings.Contains(string(r.Body), `id="name-error"`) {
		t.Fatalf("every bad field is marked:\n%s", r.Body)
	}
	e.mustStatus(b.request("POST", fmt.Sprintf("/programmes/%d/edit", f.ProgrammeID), url.Values{"code": {"RENAMED"}, "name": {"Renamed"}, "plan": {"Plan"}}), 303)

	path := fmt.Sprintf("/funding-lines/%d/awards/new", f.LineID)
	b.request("GET", path, nil)
	award := url.Values{"recipient_id": {fmt.Sprint(f.RecipientID)}, "reference": {"WEB-AW-1"}, "amount": {"1000.01"},
		"awarded_on": {"2024-04-02"}, "starts_on": {"2024-04-01"}, "ends_on": {"2025-03-31"}, "tranche_count": {"4"}}
	r = b.request("POST", path, award)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="amount-error">[^<]*remains`).Match(r.Body) {
		t.Fatalf("the over-budget error belongs beside the amount:\n%s", r.Body)
	}
	award.Set("amount", "1000.00")
	e.mustStatus(b.request("POST", path, award), 303)
	if r := b.request("GET", fmt.Sprintf("/funding-lines/%d", f.LineID), nil); !strings.Contains(string(r.Body), "WEB-AW-1") || !strings.Contains(string(r.Body), "£250.00") {
		t.Fatalf("the award and its tranches show on the line:\n%s", r.Body)
	}
	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	e.mustStatus(auditor.request("GET", "/organisations/new", nil), 403)
	e.mustStatus(auditor.request("GET", path, nil), 403)
}
