package server_test

import (
	"fmt"
	"testing"

	"granttrack/models"
)

// Reasons that no Validate checks (proposing a line decision, withdrawing
// one, proposing a scheme change) once took a NUL byte to the database and
// answered 500. Every JSON string is now held to the widest text rule: a 422
// naming the field, and nothing stored.
func TestHostileTextInDecisionReasons(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("HRS"), "title": "Hostile reasons",
		"kind": "grant", "programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "5000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	var line struct{ ID int64 }
	r.json(t, &line)
	decisions := fmt.Sprintf("/api/v1/funding-lines/%d/decisions", line.ID)
	r = e.do(models.RoleFinanceOfficer, "POST", decisions, map[string]any{"to_status": "approved", "reason": "Tender agreed"})
	e.mustStatus(r, 201)
	var d struct{ ID int64 }
	r.json(t, &d)

	for _, bad := range []string{"a\x00b", "a\x07b", "pay \u202eevil", "a\rb"} {
		for _, c := range []struct {
			role       models.Role
			path, what string
			body       map[string]any
		}{
			{models.RoleFinanceOfficer, decisions, "line_decisions", map[string]any{"to_status": "active", "reason": bad}},
			{models.RoleFinanceOfficer, fmt.Sprintf("/api/v1/line-decisions/%d/withdraw", d.ID), "line_decisions", map[string]any{"reason": bad}},
			{models.RoleAdmin, "/api/v1/delegation/changes", "delegation_changes",
				map[string]any{"decision_kind": "award", "role": "finance_officer", "max_amount": "1.00", "reason": bad}},
			{models.RoleFinanceOfficer, "/api/v1/programmes", "programmes",
				map[string]any{"code": unique("HRS"), "name": "Programme", "plan": "Plan", "description": bad}},
		} {
			before := e.count(c.what)
			r := e.do(c.role, "POST", c.path, c.body)
			e.mustStatus(r, 422)
			p := r.problem(t)
			if len(p.Errors) != 1 || (p.Errors[0].Field != "reason" && p.Errors[0].Field != "description") {
				t.Errorf("%s with %q: errors %+v, want the text field named", c.path, bad, p.Errors)
			}
			if e.count(c.what) != before {
				t.Errorf("%s with %q: %s changed", c.path, bad, c.what)
			}
		}
	}
	// The proposal is untouched: still pending, withdrawn only by a good request.
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/withdraw", d.ID), map[string]any{"reason": "Too early"}), 200)
}
