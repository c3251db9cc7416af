package server_test

import (
	"fmt"
	"strings"
	"testing"

	"granttrack/models"
)

// TestLineNeedsTwoPeople is the first example through the API: one
// finance officer alone cannot approve and activate a line, nor approve a
// budget beyond their authority, nor an award they proposed. Each refusal is
// a problem naming the rule; the second person's approval works.
func TestLineNeedsTwoPeople(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00") // the fixture's own line, made by two people
	var got struct {
		ID     int64
		Status string
	}
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("TWO"), "title": "Line", "kind": "grant",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "150000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	r.json(t, &got)
	line := got.ID

	// Marking it approved directly is refused: it must be proposed.
	r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/status", line), map[string]any{"status": "approved"})
	e.mustStatus(r, 422)
	r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/decisions", line), map[string]any{"to_status": "approved"})
	e.mustStatus(r, 201)
	r.json(t, &got)
	decision := got.ID
	if got.Status != "pending" {
		t.Fatalf("proposal status %q", got.Status)
	}
	approve := fmt.Sprintf("/api/v1/line-decisions/%d/approve", decision)
	// The proposer cannot approve it; a board member cannot (403, role);
	// another finance officer's authority stops at £100,000.00.
	r = e.do(models.RoleFinanceOfficer, "POST", approve, nil)
	e.mustStatus(r, 403)
	if !strings.Contains(string(r.Body), "someone else must approve it") {
		t.Fatalf("self-approval: %s", r.Body)
	}
	e.mustStatus(e.do(models.RoleBoardMember, "POST", approve, nil), 403)
	var approvals struct {
		Items []struct {
			DecisionKind string `json:"decision_kind"`
			Entity       string
			ID           int64
			Amount       string
		}
	}
	// It waits for the admin, not for the officer who proposed it.
	e.do(models.RoleFinanceManager, "GET", "/api/v1/approvals?per_page=500", nil).json(t, &approvals)
	found := false
	for _, a := range approvals.Items {
		found = found || (a.Entity == "line_decision" && a.ID == decision && a.DecisionKind == "line_approval" && a.Amount == "150000.00")
	}
	if !found {
		t.Fatalf("the admin's approvals do not list the proposal: %+v", approvals.Items)
	}
	e.do(models.RoleFinanceOfficer, "GET", "/api/v1/approvals?per_page=500", nil).json(t, &approvals)
	for _, a := range approvals.Items {
		if a.Entity == "line_decision" && a.ID == decision {
			t.Fatal("the proposer's approvals list their own proposal")
		}
	}
	r = e.do(models.RoleFinanceManager, "POST", approve, nil)
	e.mustStatus(r, 200)
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", line), nil)
	r.json(t, &got)
	if got.Status != "approved" {
		t.Fatalf("line status after approval %q", got.Status)
	}
	// An award is proposed pending and approved by someone else.
	r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", line), map[string]any{
		"recipient_id": f.RecipientID, "reference": unique("AW-"), "amount": "1000.00",
		"awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	r.json(t, &got)
	if got.Status != "pending" {
		t.Fatalf("award status %q", got.Status)
	}
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/awards/%d/approve", got.ID), nil), 403)
	e.mustApproveAward(got.ID)

	// The scheme is public to every role.
	var scheme struct {
		Items []struct {
			DecisionKind string `json:"decision_kind"`
			Approvers    []struct {
				Role      string
				MaxAmount *string `json:"max_amount"`
			}
		}
	}
	e.do(models.RoleBoardMember, "GET", "/api/v1/delegation", nil).json(t, &scheme)
	for _, k := range scheme.Items {
		if k.DecisionKind == "spend" {
			for _, a := range k.Approvers {
				if a.Role == "finance_officer" && (a.MaxAmount == nil || *a.MaxAmount != "100000.00") {
					t.Fatalf("spend rule for finance officers: %+v", a)
				}
			}
			return
		}
	}
	t.Fatal("the scheme has no spend kind")
}
