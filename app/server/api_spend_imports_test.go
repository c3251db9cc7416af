package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

// mustImport imports amounts on f's line as the finance officer, paid to
// f's recipient, and returns the import's id.
func (e *env) mustImport(f fixture, amounts ...string) int64 {
	e.t.Helper()
	ctx := context.Background()
	fl, err := e.st.FundingLine(ctx, f.LineID)
	if err != nil {
		e.t.Fatal(err)
	}
	payee, err := e.st.Organisation(ctx, f.RecipientID)
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(strings.Join(models.SpendImportColumns, ",") + "\n")
	for i, a := range amounts {
		fmt.Fprintf(&b, "%s,,\"%s\",%s,2024-06-01,services,BATCH-%d,Sessions,Youth work,Framework rate\n", fl.Code, payee.Name, a, i)
	}
	u := e.users[models.RoleFinanceOfficer]
	res, err := e.st.ImportSpend(ctx, models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}, strings.NewReader(b.String()),
		store.ImportOptions{FileName: "batch.csv", Force: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.ID
}

func TestSpendImportDecisionsThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	id := e.mustImport(f, "100.00", "250.50")
	path := fmt.Sprintf("/api/v1/spend-imports/%d", id)

	var awaiting struct {
		Items []struct {
			ID           int64
			Pending      int
			PendingTotal string `json:"pending_total"`
		}
	}
	e.do(models.RoleBoardMember, "GET", "/api/v1/spend-imports?per_page=500", nil).json(t, &awaiting)
	found := false
	for _, it := range awaiting.Items {
		if it.ID == id {
			found = it.Pending == 2 && it.PendingTotal == "350.50"
		}
	}
	if !found {
		t.Fatalf("import %d is not listed as awaiting with 2 entries, £350.50: %+v", id, awaiting)
	}

	r := e.do(models.RoleFinanceOfficer, "POST", path+"/approve", nil)
	e.mustStatus(r, 403)
	if p := r.problem(t); !strings.Contains(p.Detail, "someone else") {
		t.Fatalf("the importer's approval was refused with %q", p.Detail)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", path+"/reject", map[string]any{"reason": " "}), 422)

	r = e.do(models.RoleFinanceManager, "POST", path+"/approve", nil)
	e.mustStatus(r, 200)
	var d struct {
		Status  string
		Entries int
		Total   string
	}
	r.json(t, &d)
	if d.Status != "approved" || d.Entries != 2 || d.Total != "350.50" {
		t.Fatalf("decision %+v", d)
	}
	var entries struct{ Total int }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/spend?import_id=%d&status=approved", id), nil).json(t, &entries)
	if entries.Total != 2 {
		t.Fatalf("%d approved entries listed for the import, want 2", entries.Total)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", path+"/approve", nil), 409)

	// An import beyond what remains: refused whole, naming the line.
	over := e.mustImport(f, "600.00", "49.51")
	r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/approve", over), nil)
	e.mustStatus(r, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "£0.01 short") {
		t.Fatalf("over-budget import refused with %q", p.Detail)
	}
	r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/reject", over), map[string]any{"reason": "Wrong line"})
	e.mustStatus(r, 200)
	var imp struct{ Pending, Rejected int }
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/spend-imports/%d", over), nil).json(t, &imp)
	if imp.Pending != 0 || imp.Rejected != 2 {
		t.Fatalf("import after rejection: %+v", imp)
	}
}
