package server_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

// TestAwardVariationWebForms: on the award's page an officer proposes a
// variation; one below the approved spend is refused beside the amount
// with the floor and the shortfall; a cancellation needs a confirmation; a
// second person approves the variation on the approvals page and the
// award's page shows the new amount and the history.
func TestAwardVariationWebForms(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("10000.00")
	a := e.mustAwardWithSpend(f, "4000.00", "1500.00")

	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	page := fmt.Sprintf("/awards/%d", a.ID)
	r := officer.request("GET", page, nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "Propose a variation") || !strings.Contains(string(r.Body), "2024-04-01 2000.00") {
		t.Fatalf("award page:\n%s", r.Body)
	}
	r = officer.request("POST", page+"/variations", url.Values{"kind": {"variation"}, "amount": {"1000.00"}, "starts_on": {"2024-04-01"},
		"ends_on": {"2025-03-31"}, "tranches": {"2024-04-01 1000.00"}, "reason": {"Fewer sessions"}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`field-error">must be at least £1,500.00`).Match(r.Body) || !strings.Contains(string(r.Body), "£500.00 short") {
		t.Fatalf("a variation below spend is refused beside the amount:\n%s", r.Body)
	}
	r = officer.request("POST", page+"/variations", url.Values{"kind": {"cancellation"}, "reason": {"Closed"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "tick the box to confirm") {
		t.Fatalf("a cancellation needs a confirmation:\n%s", r.Body)
	}
	e.mustStatus(officer.request("POST", page+"/variations", url.Values{"kind": {"variation"}, "amount": {"5000.00"}, "starts_on": {"2024-04-01"},
		"ends_on": {"2025-03-31"}, "tranches": {"2024-04-01 2000.00\r\n2024-07-01 3000.00"}, "reason": {"Two more sessions"}}), 303)
	var vs struct{ Items []struct{ ID int64 } }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/awards/%d/variations", a.ID), nil).json(t, &vs)
	if len(vs.Items) != 1 {
		t.Fatalf("variations: %+v", vs)
	}

	admin := spendWebSignIn(t, e, models.RoleFinanceManager)
	r = admin.request("GET", "/approvals?per_page=500", nil)
	if !strings.Contains(string(r.Body), fmt.Sprintf(`href="/award-variations/%d"`, vs.Items[0].ID)) {
		t.Fatalf("the variation waits on the approvals page:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", fmt.Sprintf("/approvals/award_variation/%d/approve", vs.Items[0].ID), url.Values{}), 303)
	r = admin.request("GET", page, nil)
	body := string(r.Body)
	if !strings.Contains(body, `id="award-amount">£5,000.00`) || !strings.Contains(body, "award.vary") || !strings.Contains(body, "award_variation.approve") {
		t.Fatalf("award page after the variation:\n%s", body)
	}

	// Rejecting ends a proposal: it needs a reason and a confirmation.
	officer.request("GET", page, nil)
	e.mustStatus(officer.request("POST", page+"/variations", url.Values{"kind": {"variation"}, "amount": {"4500.00"}, "starts_on": {"2024-04-01"},
		"ends_on": {"2025-03-31"}, "tranches": {"2024-04-01 2000.00\n2024-07-01 2500.00"}, "reason": {"One session fewer"}}), 303)
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/awards/%d/variations", a.ID), nil).json(t, &vs)
	reject := fmt.Sprintf("/approvals/award_variation/%d/reject", vs.Items[0].ID)
	admin.request("GET", "/approvals?per_page=500", nil)
	r = admin.request("POST", reject, url.Values{"reason": {"Keep the sessions"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "Tick the box to confirm") {
		t.Fatalf("a rejection without its confirmation:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", reject, url.Values{"reason": {"Keep the sessions"}, "confirm": {"yes"}}), 303)
	var v struct{ Status string }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/award-variations/%d", vs.Items[0].ID), nil).json(t, &v)
	if v.Status != "rejected" {
		t.Fatalf("variation after rejecting: %s", v.Status)
	}
}

// TestAwardPageShowsItsDecisionRecord: the decision record an award cites
// is shown on the award's page, with its link.
func TestAwardPageShowsItsDecisionRecord(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("10000.00")
	ref := unique("PCD ")
	var rec struct{ ID int64 }
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/decision-records", map[string]any{"reference": ref, "title": "Youth outreach grants",
		"signed_on": "2024-04-20", "decision_maker": "Deputy Mayor for Policing and Crime", "url": "https://www.london.gov.uk/decisions/pcd-1519"})
	e.mustStatus(r, 201)
	r.json(t, &rec)
	r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{"recipient_id": f.RecipientID,
		"reference": unique("AW-"), "amount": "2000.00", "awarded_on": "2024-05-01", "starts_on": "2024-05-01", "ends_on": "2025-03-31",
		"purpose": "Outreach", "decision_record_id": rec.ID})
	e.mustStatus(r, 201)
	var award struct{ ID int64 }
	r.json(t, &award)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/awards/%d/approve", award.ID), nil), 200)
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	r = board.request("GET", fmt.Sprintf("/awards/%d", award.ID), nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `<dd id="award-decision-record"><a href="https://www.london.gov.uk/decisions/pcd-1519" rel="noopener noreferrer">`+ref+`</a>: Youth outreach grants`) {
		t.Fatalf("the award's page should show the decision record it cites:\n%s", r.Body)
	}
}
