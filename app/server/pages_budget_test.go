package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestBudgetPages: the line page shows the profile by year and lets the
// officer edit a draft's; the change form shows the effect before anything
// is proposed, and a second person approves the change on its page.
func TestBudgetPages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("WEB-DS"), "title": "Drug supply", "kind": "allocation",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "2000000.00", "starts_on": "2023-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	var line struct{ ID int64 }
	r.json(t, &line)
	page := fmt.Sprintf("/funding-lines/%d", line.ID)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	r = officer.request("GET", page, nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `name="year_2023-24" value="1001368.00"`) {
		t.Fatalf("the draft's proposed profile should be editable on its page:\n%s", r.Body)
	}
	r = officer.request("POST", page+"/budget-profile", url.Values{"year_2023-24": {"1200000.00"}, "year_2024-25": {"799999.99"}})
	e.mustStatus(r, 422)
	if body := string(r.Body); !strings.Contains(body, `id="years-error"`) || !strings.Contains(body, "£1,999,999.99") || !strings.Contains(body, `value="799999.99"`) {
		t.Fatalf("the sum's error belongs above the years, with what was typed kept:\n%s", body)
	}
	r = officer.request("POST", page+"/budget-profile", url.Values{"year_2023-24": {"1200000.00"}, "year_2024-25": {"800000.005"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "more than two decimal places") {
		t.Fatalf("a fraction of a penny is refused beside its year:\n%s", r.Body)
	}
	e.mustStatus(officer.request("POST", page+"/budget-profile", url.Values{"year_2023-24": {"1200000.00"}, "year_2024-25": {"800000.00"}}), 303)
	// Approved and activated by two people, as every line is.
	if err := storetest.Activate(context.Background(), e.st, line.ID); err != nil {
		t.Fatal(err)
	}
	r = officer.request("GET", page, nil)
	if body := string(r.Body); !strings.Contains(body, "£1,200,000.00") || !strings.Contains(body, "Re-profile between years") {
		t.Fatalf("the approved line's profile:\n%s", body)
	}

	// The effect first: nothing is stored by a preview.
	form := fmt.Sprintf("/budget-changes/new?funding_line_id=%d", line.ID)
	e.mustStatus(officer.request("GET", form, nil), 200)
	before := e.count("budget_changes")
	change := url.Values{"funding_line_id": {fmt.Sprint(line.ID)}, "kind": {"reprofile"}, "year_2023-24": {"1100000.00"},
		"year_2024-25": {"900000.00"}, "effective_on": {"2024-01-15"}, "reason": {"Operations start early"}, "step": {"preview"}}
	r = officer.request("POST", "/budget-changes/new", change)
	e.mustStatus(r, 200)
	if body := string(r.Body); !strings.Contains(body, `id="preview"`) || !strings.Contains(body, "£800,000.00") || !strings.Contains(body, "£900,000.00") ||
		!strings.Contains(body, "Propose this change") {
		t.Fatalf("the preview should show before and after:\n%s", body)
	}
	if e.count("budget_changes") != before {
		t.Fatal("a preview stored a change")
	}
	change.Set("step", "propose")
	r = officer.request("POST", "/budget-changes/new", change)
	e.mustStatus(r, 303)
	changePage := r.Header.Get("Location")
	r = officer.request("GET", changePage, nil)
	if body := string(r.Body); !strings.Contains(body, "someone else must approve") || strings.Contains(body, "Approve and apply") {
		t.Fatalf("the proposer is offered the approval:\n%s", body)
	}
	admin := spendWebSignIn(t, e, models.RoleFinanceManager)
	// It waits on the admin's approvals page, with a button to decide it there,
	// and not on its proposer's.
	changeID := strings.TrimPrefix(changePage, "/budget-changes/")
	decide := `action="/approvals/budget_change/` + changeID + `/approve"`
	if body := string(admin.request("GET", "/approvals?per_page=500", nil).Body); !strings.Contains(body, decide) || !strings.Contains(body, "Operations start early") {
		t.Fatalf("the re-profiling is not among the admin's approvals:\n%s", body)
	}
	if body := string(officer.request("GET", "/approvals?per_page=500", nil).Body); strings.Contains(body, decide) {
		t.Fatal("the proposer is offered their own re-profiling on the approvals page")
	}
	e.mustStatus(admin.request("POST", "/approvals/budget_change/"+changeID+"/approve", url.Values{}), 303)
	r = admin.request("GET", page, nil)
	if body := string(r.Body); !strings.Contains(body, "£1,100,000.00") || !strings.Contains(body, `<span class="status approved">Approved</span>`) {
		t.Fatalf("after approval the line shows the new profile and the change in its history:\n%s", body)
	}

	// A virement that would undercut a year is shown refused, with no way to propose it.
	spend := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": line.ID, "payee_id": f.RecipientID,
		"amount": "850000.00", "incurred_on": "2024-07-01", "category": "grant_payment", "purpose": "Operations", "vfm_reason": "Agreed schedule"})
	e.mustStatus(spend, 201)
	var entry struct{ ID int64 }
	spend.json(t, &entry)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", entry.ID), nil), 200)
	officer.request("GET", form+"&kind=virement", nil)
	r = officer.request("POST", "/budget-changes/new", url.Values{"funding_line_id": {fmt.Sprint(line.ID)}, "kind": {"virement"},
		"from_year": {"2024-25"}, "amount": {"100000.00"}, "to_line_id": {fmt.Sprint(f.LineID)}, "to_year": {"2024-25"},
		"effective_on": {"2024-10-01"}, "reason": {"Unspent"}, "step": {"preview"}})
	e.mustStatus(r, 200)
	if body := string(r.Body); !strings.Contains(body, `id="refusal"`) || !strings.Contains(body, "£50,000.00 short") || strings.Contains(body, "Propose this change") {
		t.Fatalf("the refused virement's preview:\n%s", body)
	}
}
