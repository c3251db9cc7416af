package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"granttrack/models"
)

// TestExpensePages: an officer records an office holder's expense from the
// form (messages beside each bad field, nothing stored), a second officer
// approves it on /approvals, and /expenses shows it with its financial
// year's totals.
func TestExpensePages(t *testing.T) {
	e := MustEnv(t)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	holder := unique("Alex Morgan ")
	form := url.Values{"office_holder": {holder}, "office": {"Deputy Mayor"}, "incurred_on": {"2032-13-01"}, "category": {"travel"},
		"description": {"Rail fare"}, "amount": {"86.401"}}
	r := officer.request("POST", "/expenses/new", form)
	body := string(r.Body)
	if r.Status != 422 || !strings.Contains(body, `id="incurred_on-error"`) || !strings.Contains(body, `id="amount-error"`) ||
		strings.Contains(body, `id="office_holder-error"`) || !strings.Contains(body, `value="`+holder+`"`) {
		t.Fatalf("the form comes back with a message beside each bad field and what was typed: %d\n%s", r.Status, body)
	}
	if n := e.count("office_holder_expenses WHERE office_holder = '" + holder + "'"); n != 0 {
		t.Fatalf("nothing of a refused form is stored: %d", n)
	}
	form.Set("incurred_on", "2032-06-04")
	form.Set("amount", "86.40")
	r = officer.request("POST", "/expenses/new", form)
	if r.Status != 303 || r.Header.Get("Location") != "/expenses?fy=2032-33" {
		t.Fatalf("recorded, then to its year: %d %s", r.Status, r.Header.Get("Location"))
	}
	var id int64
	if err := e.st.DB().NewRaw("SELECT id FROM office_holder_expenses WHERE office_holder = ?", holder).Scan(t.Context(), &id); err != nil {
		t.Fatal(err)
	}
	page := func(b *spendBrowser, path string) string {
		t.Helper()
		r := b.request("GET", path, nil)
		e.mustStatus(r, 200)
		return string(r.Body)
	}
	if body := page(officer, "/expenses?fy=2032-33"); !strings.Contains(body, holder) || !strings.Contains(body, "pending") ||
		!strings.Contains(body, "<td class=\"num\">£0.00</td><td class=\"num\">£86.40</td>") {
		t.Fatalf("the list shows the pending expense and its year's totals:\n%s", body)
	}
	if strings.Contains(page(officer, "/approvals?per_page=500"), holder) {
		t.Fatal("the recorder does not see their own expense to approve")
	}
	checker := spendWebSignIn(t, e, models.RoleFinanceManager)
	if !strings.Contains(page(checker, "/approvals?per_page=500"), holder) {
		t.Fatal("a second person sees the expense to approve")
	}
	r = checker.request("POST", fmt.Sprintf("/approvals/office_holder_expense/%d/approve", id), url.Values{})
	if r.Status != 303 {
		t.Fatalf("approved from /approvals: %d %s", r.Status, r.Body)
	}
	if body := page(checker, "/expenses?fy=2032-33"); !strings.Contains(body, "approved") ||
		!strings.Contains(body, "<td class=\"num\">£86.40</td><td class=\"num\">£0.00</td>") {
		t.Fatalf("approved, and counted in the year's approved total:\n%s", body)
	}
	r = officer.request("GET", "/expenses?fy=2032", nil)
	if r.Status != 422 || !strings.Contains(string(r.Body), `id="fy-error"`) {
		t.Fatalf("a bad year is named beside its field: %d", r.Status)
	}
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	if r := board.request("GET", "/expenses/new", nil); r.Status != 403 {
		t.Fatalf("a board member records no expense: %d", r.Status)
	}
}
