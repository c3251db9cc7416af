package server_test

import (
	"fmt"
	"strings"
	"testing"

	"granttrack/models"
)

// TestAwardVariationsThroughTheAPI: an approved award is varied by one
// person and approved by another; a variation below the spend approved
// against it is refused with the floor and the shortfall named; a
// cancellation waits on the approvals list and ends the award.
func TestAwardVariationsThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("10000.00")
	a := e.mustAwardWithSpend(f, "4000.00", "1500.00")

	path := fmt.Sprintf("/api/v1/awards/%d/variations", a.ID)
	r := e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{"amount": "1000.00", "reason": "Fewer sessions",
		"tranches": []map[string]string{{"due_on": "2024-04-01", "amount": "1000.00"}}})
	e.mustStatus(r, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "cannot go below £1,500.00") || !strings.Contains(p.Detail, "£500.00 short") ||
		len(p.Errors) != 1 || p.Errors[0].Field != "amount" {
		t.Fatalf("variation below spend: %+v", p)
	}
	r = e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{"amount": "5000.00", "ends_on": "2025-03-31", "reason": "Two more sessions",
		"tranches": []map[string]string{{"due_on": "2024-04-01", "amount": "2000.00"}, {"due_on": "2024-07-01", "amount": "3000.00"}}})
	e.mustStatus(r, 201)
	var v struct {
		ID             int64
		Status         string
		PreviousAmount string `json:"previous_amount"`
		Amount         string
	}
	r.json(t, &v)
	if v.Status != "pending" || v.PreviousAmount != "4000.00" || v.Amount != "5000.00" {
		t.Fatalf("proposed variation: %+v", v)
	}
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/award-variations/%d/approve", v.ID), nil), 403)
	var queue struct {
		Items []struct {
			Entity  string
			ID      int64
			Approve string
		}
	}
	e.do(models.RoleFinanceManager, "GET", "/api/v1/approvals?per_page=500", nil).json(t, &queue)
	found := false
	for _, q := range queue.Items {
		found = found || (q.Entity == "award_variation" && q.ID == v.ID && q.Approve == fmt.Sprintf("/api/v1/award-variations/%d/approve", v.ID))
	}
	if !found {
		t.Fatalf("variation %d not on the admin's approvals: %+v", v.ID, queue)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/award-variations/%d/approve", v.ID), nil), 200)
	var got struct {
		Amount   string
		Status   string
		Tranches []struct{ Amount string }
	}
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/awards/%d", a.ID), nil).json(t, &got)
	if got.Amount != "5000.00" || len(got.Tranches) != 2 || got.Tranches[1].Amount != "3000.00" {
		t.Fatalf("award after variation: %+v", got)
	}
	r = e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{"kind": "cancellation", "reason": "The charity closed"})
	e.mustStatus(r, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "£1,500.00 is already approved as spend against it") {
		t.Fatalf("cancelling with spend: %+v", p)
	}
}

// mustAwardWithSpend makes an approved award of amount on the fixture's
// line, in two quarterly tranches from 2024-04-01, with spent approved
// against it (incurred on 2024-05-01).
func (e *env) mustAwardWithSpend(f fixture, amount, spent string) (a struct{ ID int64 }) {
	e.t.Helper()
	r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{"recipient_id": f.RecipientID,
		"reference": unique("VAR-"), "amount": amount, "awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31", "tranche_count": 2})
	e.mustStatus(r, 201)
	r.json(e.t, &a)
	e.mustApproveAward(a.ID)
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID, "award_id": a.ID,
		"amount": spent, "incurred_on": "2024-05-01", "category": "services", "purpose": "Delivery", "vfm_reason": "Tendered"})
	e.mustStatus(r, 201)
	var sp struct{ ID int64 }
	r.json(e.t, &sp)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", sp.ID), nil), 200)
	return a
}
