package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

type profileBody struct {
	Status string
	Budget string
	Years  []struct {
		FinancialYear string `json:"financial_year"`
		Amount        string
	}
	ProposedChange *struct {
		ID     int64
		Status string
		Kind   string
	} `json:"proposed_change"`
}

func (p profileBody) text() string {
	var parts []string
	for _, y := range p.Years {
		parts = append(parts, y.FinancialYear+" "+y.Amount)
	}
	return strings.Join(parts, ", ")
}

func years(amounts ...string) map[string]any {
	var ys []map[string]string
	for i := 0; i+1 < len(amounts); i += 2 {
		ys = append(ys, map[string]string{"financial_year": amounts[i], "amount": amounts[i+1]})
	}
	return map[string]any{"years": ys}
}

// TestBudgetProfilesAndChangesThroughTheAPI: a draft line's profile is
// proposed from its dates and edited directly; once approved, a PUT
// proposes a re-profiling that a second person approves; spend beyond a
// year's profile and a change undercutting a year are refused with the
// year, the figures and the shortfall named.
func TestBudgetProfilesAndChangesThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("DS"), "title": "Drug supply", "kind": "allocation",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "2000000.00", "starts_on": "2023-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	var line struct{ ID int64 }
	r.json(t, &line)
	path := fmt.Sprintf("/api/v1/funding-lines/%d/budget-profile", line.ID)
	var p profileBody
	e.do(models.RoleBoardMember, "GET", path, nil).json(t, &p)
	if p.text() != "2023-24 1001368.00, 2024-25 998632.00" || p.Status != "draft" {
		t.Fatalf("proposed profile: %+v", p)
	}
	r = e.do(models.RoleFinanceOfficer, "PUT", path, years("2023-24", "1200000.00", "2024-25", "799999.99"))
	e.mustStatus(r, 422)
	if pr := r.problem(t); len(pr.Errors) != 1 || pr.Errors[0].Field != "years" || !strings.Contains(pr.Errors[0].Message, "£1,999,999.99") {
		t.Fatalf("a profile a penny short: %+v", pr)
	}
	r = e.do(models.RoleFinanceOfficer, "PUT", path, years("2023-24", "1200000.00", "2025-26", "800000.00"))
	e.mustStatus(r, 422)
	if pr := r.problem(t); pr.Errors[0].Field != "years[1].financial_year" {
		t.Fatalf("a year outside the line: %+v", pr)
	}
	r = e.do(models.RoleFinanceOfficer, "PUT", path, years("2023-24", "1200000.00", "2024-25", "800000.00"))
	e.mustStatus(r, 200)
	// Approved and activated by two people, as every line is.
	if err := storetest.Activate(context.Background(), e.st, line.ID); err != nil {
		t.Fatal(err)
	}

	// Once approved, a PUT proposes a re-profiling, which needs a reason.
	r = e.do(models.RoleFinanceOfficer, "PUT", path, years("2023-24", "1100000.00", "2024-25", "900000.00"))
	e.mustStatus(r, 422)
	if pr := r.problem(t); len(pr.Errors) != 2 || pr.Errors[0].Field != "reason" || pr.Errors[1].Field != "effective_on" {
		t.Fatalf("a re-profiling without a reason: %+v", pr)
	}
	body := years("2023-24", "1100000.00", "2024-25", "900000.00")
	body["reason"], body["effective_on"] = "Second-year operations start early", "2024-01-15"
	r = e.do(models.RoleFinanceOfficer, "PUT", path, body)
	e.mustStatus(r, 202)
	r.json(t, &p)
	if p.ProposedChange == nil || p.ProposedChange.Status != "pending" || p.ProposedChange.Kind != "reprofile" || p.text() != "2023-24 1200000.00, 2024-25 800000.00" {
		t.Fatalf("after proposing: %+v", p)
	}
	change := fmt.Sprintf("/api/v1/budget-changes/%d", p.ProposedChange.ID)
	var got struct {
		Status string
		Amount string
		Effect struct {
			DecisionKind string `json:"decision_kind"`
			Lines        []struct {
				Years []struct {
					FinancialYear string `json:"financial_year"`
					Before, After string
				}
			}
		}
	}
	e.do(models.RoleAuditor, "GET", change, nil).json(t, &got)
	if got.Amount != "100000.00" || got.Effect.DecisionKind != "budget_reprofile" || len(got.Effect.Lines) != 1 ||
		got.Effect.Lines[0].Years[1].Before != "800000.00" || got.Effect.Lines[0].Years[1].After != "900000.00" {
		t.Fatalf("the pending change and its effect: %+v", got)
	}
	r = e.do(models.RoleFinanceOfficer, "POST", change+"/approve", nil)
	e.mustStatus(r, 403)
	r.problem(t)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", change+"/approve", nil), 200)
	e.do(models.RoleBoardMember, "GET", path, nil).json(t, &p)
	if p.text() != "2023-24 1100000.00, 2024-25 900000.00" {
		t.Fatalf("after approval: %s", p.text())
	}

	// Spend beyond 2024-25's £900,000.00 is refused, naming the year.
	spend := func(amount, on string) int64 {
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": line.ID, "payee_id": f.RecipientID,
			"amount": amount, "incurred_on": on, "category": "grant_payment", "purpose": "Operations", "vfm_reason": "Agreed schedule"})
		e.mustStatus(r, 201)
		var s struct{ ID int64 }
		r.json(t, &s)
		return s.ID
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", spend("700000.00", "2024-07-01")), nil), 200)
	over := spend("250000.00", "2025-02-03")
	r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", over), nil)
	e.mustStatus(r, 409)
	if pr := r.problem(t); !strings.Contains(pr.Detail, "in 2024-25: the year's budget is £900,000.00") || !strings.Contains(pr.Detail, "£50,000.00 short") {
		t.Fatalf("spend beyond the year: %+v", pr)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", over), map[string]any{"reason": "Over the year's budget"}), 200)

	// Moving £250,000.00 out of 2024-25 would leave it under the £700,000.00 spent.
	move := map[string]any{"kind": "reprofile", "reason": "Slippage", "effective_on": "2024-03-01", "moves": []map[string]any{
		{"funding_line_id": line.ID, "financial_year": "2024-25", "delta": "-250000.00"},
		{"funding_line_id": line.ID, "financial_year": "2023-24", "delta": "250000.00"}}}
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/budget-changes/preview", move)
	e.mustStatus(r, 200)
	var preview struct{ Refusal string }
	r.json(t, &preview)
	if !strings.Contains(preview.Refusal, "2024-25 would have £650,000.00 but £700,000.00 is already approved and committed in it, so it is £50,000.00 short") {
		t.Fatalf("the preview should say why it would be refused: %+v", preview)
	}
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/budget-changes", move)
	e.mustStatus(r, 409)
	if pr := r.problem(t); !strings.Contains(pr.Detail, "£50,000.00 short") {
		t.Fatalf("undercutting a year: %+v", pr)
	}

	// Proposing is idempotent with a key.
	move["moves"] = []map[string]any{{"funding_line_id": line.ID, "financial_year": "2024-25", "delta": "-100000.00"},
		{"funding_line_id": line.ID, "financial_year": "2023-24", "delta": "100000.00"}}
	var ids []int64
	for range 2 {
		req := httptest.NewRequest("POST", "/api/v1/budget-changes", strings.NewReader(mustJSON(t, move)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
		req.Header.Set("Idempotency-Key", "reprofile-"+fmt.Sprint(line.ID))
		r := e.send(req)
		e.mustStatus(r, 201)
		var c struct{ ID int64 }
		r.json(t, &c)
		ids = append(ids, c.ID)
	}
	if ids[0] != ids[1] {
		t.Fatalf("a retry proposed a second change: %v", ids)
	}
	var pending struct{ Total int }
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/budget-changes?funding_line_id=%d&status=pending", line.ID), nil).json(t, &pending)
	if pending.Total != 1 {
		t.Fatalf("%d pending changes, want 1", pending.Total)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/withdraw", ids[0]), nil), 403)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/reject", ids[0]), map[string]any{"reason": "Not now"}), 200)

	// A virement to a line of another programme must cite a decision record.
	other := e.mustFixture("1000.00")
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/budget-changes", map[string]any{"kind": "virement", "reason": "Unspent", "effective_on": "2024-10-01",
		"moves": []map[string]any{{"funding_line_id": line.ID, "financial_year": "2024-25", "delta": "-1000.00"},
			{"funding_line_id": other.LineID, "financial_year": "2024-25", "delta": "1000.00"}}})
	e.mustStatus(r, 422)
	if pr := r.problem(t); len(pr.Errors) != 1 || pr.Errors[0].Field != "decision_record_id" {
		t.Fatalf("a virement across programmes citing nothing: %+v", pr)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
