package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestReprofilingWalkedThroughInABrowser: in headless Chromium a finance
// officer asks for a re-profiling's effect, sees each year before and after,
// and proposes it; an admin approves it on the approvals page; the line's
// page then shows the new profile and the approved change in its history.
func TestReprofilingWalkedThroughInABrowser(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("BR-DS"), "title": "Drug supply", "kind": "allocation",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "2000000.00", "starts_on": "2023-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	var line struct{ ID int64 }
	r.json(t, &line)
	e.mustStatus(e.do(models.RoleFinanceOfficer, "PUT", fmt.Sprintf("/api/v1/funding-lines/%d/budget-profile", line.ID),
		years("2023-24", "1200000.00", "2024-25", "800000.00")), 200)
	if err := storetest.Activate(context.Background(), e.st, line.ID); err != nil {
		t.Fatal(err)
	}
	ctx, base := e.browse(t)
	err := chromedp.Do(ctx, signIn(base, e.users[models.RoleFinanceOfficer]), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
		chromedp.Navigate(fmt.Sprintf("%s/budget-changes/new?funding_line_id=%d&kind=reprofile", base, line.ID)),
		chromedp.WaitVisible(`input[name="year_2023-24"]`),
		chromedp.SetValue(`input[name="year_2023-24"]`, "1100000.00"),
		chromedp.SetValue(`input[name="year_2024-25"]`, "900000.00"),
		chromedp.SetValue(`input[name="effective_on"]`, "2024-01-15"),
		chromedp.SendKeys(`textarea[name="reason"]`, "The winter operation slipped into April"),
		chromedp.Click(chromedp.CSS(`button[value="preview"]`)),
		chromedp.WaitVisible(`#preview`))
	if err != nil {
		t.Fatalf("the effect before proposing: %v", err)
	}
	effect, err := chromedp.Run(ctx, chromedp.Text(`#preview`))
	if err != nil || !strings.Contains(effect, "£800,000.00") || !strings.Contains(effect, "£900,000.00") {
		t.Fatalf("the effect reads %q (%v); it must show the year before and after", effect, err)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value="propose"]`)), chromedp.WaitVisible(chromedp.CSS(`.no-print`)))
	if err != nil {
		t.Fatalf("proposing: %v", err)
	}
	changePage, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(changePage, "/budget-changes/") {
		t.Fatalf("after proposing the officer is on %q (%v)", changePage, err)
	}
	changeID := changePage[strings.LastIndex(changePage, "/")+1:]

	approve := fmt.Sprintf(`form[action="/approvals/budget_change/%s/approve"] button`, changeID)
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(`input[name="email"]`),
		signIn(base, e.users[models.RoleFinanceManager]), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
		chromedp.Navigate(base+"/approvals?per_page=500"), chromedp.WaitVisible(chromedp.CSS(approve)),
		// Gone once the decision is made and the page has come back.
		chromedp.Click(chromedp.CSS(approve)), chromedp.WaitNotPresent(chromedp.CSS(approve)),
		chromedp.Navigate(fmt.Sprintf("%s/funding-lines/%d", base, line.ID)), chromedp.WaitVisible(chromedp.CSS(`h1`)))
	if err != nil {
		t.Fatalf("the finance manager approving on the approvals page: %v", err)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil || !strings.Contains(page, "£1,100,000.00") || !strings.Contains(page, "£900,000.00") || !strings.Contains(page, "The winter operation slipped into April") {
		t.Fatalf("the line's page after approval reads:\n%s\n(%v)", page, err)
	}
	var status string
	if err := e.st.DB().NewRaw("SELECT status FROM budget_changes WHERE id = ?", changeID).Scan(context.Background(), &status); err != nil || status != "approved" {
		t.Fatalf("the change is %q (%v)", status, err)
	}
	screenshot(t, ctx, "reprofiling-approved.png")
}
