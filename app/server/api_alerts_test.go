package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/models"
)

// TestAlertsThroughTheAPIAndThePages: spend one officer records is an alert
// for the admin who may decide it (not for the officer), in the API, on the
// dashboard and on the approvals page; only admins change the thresholds,
// which are checked and kept.
func TestAlertsThroughTheAPIAndThePages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": "120.00", "incurred_on": "2024-06-03", "category": "other", "description": "Alert me"})
	e.mustStatus(r, 201)
	var spend struct{ ID int64 }
	r.json(t, &spend)

	type alert struct {
		Kind, Severity, Message, Link, Entity string
		EntityID                              int64 `json:"entity_id"`
		Amount                                *string
	}
	alertsOf := func(role models.Role) []alert {
		t.Helper()
		r := e.do(role, "GET", "/api/v1/alerts", nil)
		e.mustStatus(r, 200)
		var page struct{ Items []alert }
		r.json(t, &page)
		return page.Items
	}
	find := func(as []alert) *alert {
		for _, a := range as {
			if a.Kind == "decision_waiting" && a.Entity == "spend_entry" && a.EntityID == spend.ID {
				return &a
			}
		}
		return nil
	}
	a := find(alertsOf(models.RoleFinanceManager))
	if a == nil || a.Severity != "medium" || a.Link != fmt.Sprintf("/spend/%d", spend.ID) || a.Amount == nil || *a.Amount != "120.00" ||
		!strings.HasPrefix(a.Message, "Spend awaits your decision: Alert me, £120.00 (proposed by Test finance_officer on ") {
		t.Fatalf("the finance manager's alert: %+v", a)
	}
	if mine := find(alertsOf(models.RoleFinanceOfficer)); mine != nil {
		t.Fatalf("the recorder is asked to decide their own spend: %+v", mine)
	}

	manager := spendWebSignIn(t, e, models.RoleFinanceManager)
	for _, page := range []string{"/dashboard", "/approvals"} {
		r := manager.request("GET", page, nil)
		e.mustStatus(r, 200)
		if !strings.Contains(string(r.Body), `id="alerts"`) || !strings.Contains(string(r.Body), fmt.Sprintf(`<a href="/spend/%d">Spend awaits your decision: Alert me, £120.00`, spend.ID)) {
			t.Fatalf("%s does not show the alert:\n%s", page, r.Body)
		}
	}

	// The thresholds: read by all, changed by admins, checked in Go.
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/alert-settings", nil), 200)
	e.mustStatus(e.do(models.RoleFinanceOfficer, "PUT", "/api/v1/alert-settings", models.DefaultAlertSettings), 403)
	r = e.do(models.RoleAdmin, "PUT", "/api/v1/alert-settings", map[string]any{"budget_used_percent": 101, "ending_within_days": 0, "tranche_grace_days": 0})
	e.mustStatus(r, 422)
	if p := r.problem(t); len(p.Errors) != 2 || p.Errors[0].Field != "budget_used_percent" || p.Errors[1].Field != "ending_within_days" {
		t.Fatalf("problem %+v", p)
	}
	admin := spendWebSignIn(t, e, models.RoleAdmin)
	r = admin.request("POST", "/alert-settings", url.Values{"budget_used_percent": {"ninety"}, "ending_within_days": {"30"}, "tranche_grace_days": {"91"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), `id="budget_used_percent-error">must be a whole number`) ||
		!strings.Contains(string(r.Body), `id="tranche_grace_days-error">must be a whole number of days from 0 to 90`) || !strings.Contains(string(r.Body), `value="ninety"`) {
		t.Fatalf("the errors belong beside the fields, with what was typed:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", "/alert-settings", url.Values{"budget_used_percent": {"85"}, "ending_within_days": {"30"}, "tranche_grace_days": {"5"}}), 303)
	r = e.do(models.RoleBoardMember, "GET", "/api/v1/alert-settings", nil)
	var got models.AlertSettings
	r.json(t, &got)
	if got != (models.AlertSettings{BudgetUsedPercent: 85, EndingWithinDays: 30, TrancheGraceDays: 5}) {
		t.Fatalf("settings %+v", got)
	}
	e.mustStatus(e.do(models.RoleAdmin, "PUT", "/api/v1/alert-settings", models.DefaultAlertSettings), 200)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	e.mustStatus(officer.request("GET", "/alert-settings", nil), 403)
}

// TestAlertsArePaged: a long alerts list comes a page at a time, in the API
// (with the total and a next link) and on the alerts page (with the pager),
// every alert once; the dashboard and the approvals page show the most
// urgent and link to the rest.
func TestAlertsArePaged(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t))
	f := e.mustFixture("100000.00")
	for i := range 55 {
		e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
			"amount": "10.00", "incurred_on": "2024-06-03", "category": "other", "description": fmt.Sprintf("Paged %02d", i)}), 201)
	}
	type page struct {
		Items []struct {
			Entity   string
			EntityID int64 `json:"entity_id"`
		}
		Total int
		Next  string
	}
	seen := map[string]bool{}
	path := "/api/v1/alerts?per_page=20"
	var pages []page
	for path != "" && len(pages) < 5 {
		r := e.do(models.RoleFinanceManager, "GET", path, nil)
		e.mustStatus(r, 200)
		var p page
		r.json(t, &p)
		for _, a := range p.Items {
			key := fmt.Sprintf("%s %d", a.Entity, a.EntityID)
			if seen[key] {
				t.Fatalf("%s is on two pages", key)
			}
			seen[key] = true
		}
		pages = append(pages, p)
		path = p.Next
	}
	if len(pages) != 3 || pages[0].Total < 55 || len(seen) != pages[0].Total || len(pages[0].Items) != 20 || len(pages[2].Items) != pages[0].Total-40 {
		t.Fatalf("%d pages, %d alerts seen of %d", len(pages), len(seen), pages[0].Total)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "GET", "/api/v1/alerts?per_page=501", nil), 422)

	total := pages[0].Total
	manager := spendWebSignIn(t, e, models.RoleFinanceManager)
	r := manager.request("GET", "/alerts", nil)
	e.mustStatus(r, 200)
	body := string(r.Body)
	if !strings.Contains(body, fmt.Sprintf("Alerts 1–50 of %d", total)) || !strings.Contains(body, `href="/alerts?page=2" rel="next"`) ||
		strings.Count(body, `<tr class="alert-`) != 50 {
		t.Fatalf("the alerts page's first page:\n%s", body)
	}
	r = manager.request("GET", "/alerts?page=2", nil)
	e.mustStatus(r, 200)
	if body := string(r.Body); !strings.Contains(body, fmt.Sprintf("Alerts 51–%d of %d", total, total)) || strings.Count(body, `<tr class="alert-`) != total-50 ||
		strings.Contains(body, `rel="next"`) {
		t.Fatalf("the alerts page's second page:\n%s", body)
	}
	for _, path := range []string{"/dashboard", "/approvals"} {
		r := manager.request("GET", path, nil)
		e.mustStatus(r, 200)
		if !strings.Contains(string(r.Body), fmt.Sprintf(`most urgent of %d; <a href="/alerts">all alerts</a>`, total)) {
			t.Fatalf("%s does not link to the rest of the alerts:\n%s", path, r.Body)
		}
	}
}
