package server_test

import (
	"fmt"
	"testing"

	"granttrack/models"
)

// TestOfficeHolderExpensesThroughTheAPI: an office holder's expense is
// recorded one by one or as a CSV (all or nothing), pending until someone
// other than its recorder approves it; bad input is a problem naming each
// field; the list gives each financial year's totals.
func TestOfficeHolderExpensesThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	office := unique("Deputy Mayor ")
	body := func(amount, on string) map[string]any {
		return map[string]any{"office_holder": "Alex Morgan (fictional)", "office": office, "incurred_on": on, "category": "travel",
			"description": "Rail fare", "amount": amount}
	}
	type expense struct {
		ID     int64
		Status string
		Amount string
		FY     string
	}
	record := func(amount, on string) expense {
		t.Helper()
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/office-holder-expenses", body(amount, on))
		e.mustStatus(r, 201)
		var x expense
		r.json(t, &x)
		return x
	}
	t.Run("OKPendingThenApprovedBySomeoneElse", func(t *testing.T) {
		x := record("86.40", "2030-06-04")
		if x.Status != "pending" || x.Amount != "86.40" || x.FY != "2030-31" {
			t.Fatalf("recorded: %+v", x)
		}
		r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", x.ID), nil)
		if p := r.problem(t); r.Status != 403 || p.Code != models.EFORBIDDEN {
			t.Fatalf("the recorder approving: %d %+v", r.Status, p)
		}
		r = e.do(models.RoleBoardMember, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", x.ID), nil)
		e.mustStatus(r, 403)
		r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/reject", x.ID), map[string]any{"reason": ""})
		if p := r.problem(t); r.Status != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "reason" {
			t.Fatalf("a rejection needs a reason: %d %+v", r.Status, p)
		}
		r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", x.ID), nil)
		e.mustStatus(r, 200)
		r.json(t, &x)
		if x.Status != "approved" {
			t.Fatalf("approved: %+v", x)
		}
		r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", x.ID), nil)
		e.mustStatus(r, 409)
	})
	t.Run("ErrInvalidNamesEachField", func(t *testing.T) {
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/office-holder-expenses", map[string]any{"office_holder": " ", "office": office,
			"incurred_on": "2030-13-01", "category": "travel", "amount": "10.001"})
		p := r.problem(t)
		fields := map[string]bool{}
		for _, f := range p.Errors {
			fields[f.Field] = true
		}
		if r.Status != 422 || !fields["office_holder"] || !fields["incurred_on"] || !fields["amount"] {
			t.Fatalf("each bad field named: %d %+v", r.Status, p)
		}
	})
	t.Run("ImportAllOrNothing", func(t *testing.T) {
		csv := "office_holder,office,incurred_on,category,description,amount\n" +
			"Alex Morgan (fictional)," + office + ",2030-07-01,subsistence,Dinner,31.75\n"
		r := e.upload(models.RoleFinanceOfficer, "/api/v1/office-holder-expenses/import", "expenses.csv", "text/csv",
			[]byte(csv+"Alex Morgan (fictional),"+office+",2030-07-02,travel,Bad,1.001\n"))
		if p := r.problem(t); r.Status != 422 || len(p.Errors) != 1 || p.Errors[0].Field != "file" {
			t.Fatalf("a bad row refuses the file, naming its line: %d %+v", r.Status, p)
		}
		r = e.upload(models.RoleFinanceOfficer, "/api/v1/office-holder-expenses/import", "expenses.csv", "text/csv", []byte(csv))
		e.mustStatus(r, 201)
		var got struct{ Items []expense }
		r.json(t, &got)
		if len(got.Items) != 1 || got.Items[0].Status != "pending" || got.Items[0].Amount != "31.75" {
			t.Fatalf("imported: %+v", got)
		}
	})
	t.Run("ListWithTotalsByFinancialYear", func(t *testing.T) {
		x := record("100.00", "2031-03-31") // still 2030-31
		record("7.00", "2031-04-01")        // 2031-32
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", x.ID), nil), 200)
		r := e.do(models.RoleAuditor, "GET", "/api/v1/office-holder-expenses?fy=2030-31", nil)
		e.mustStatus(r, 200)
		var got struct {
			Items  []expense
			Totals []struct {
				FY, Approved, Pending string
				Entries               int
			}
		}
		r.json(t, &got)
		for _, it := range got.Items {
			if it.FY != "2030-31" {
				t.Fatalf("only 2030-31's expenses: %+v", got.Items)
			}
		}
		totals := map[string]string{}
		for _, y := range got.Totals {
			totals[y.FY] = y.Approved + "/" + y.Pending
		}
		// 2030-31: 86.40 and 100.00 approved; 31.75 pending (the import).
		if totals["2030-31"] != "186.40/31.75" || totals["2031-32"] != "0.00/7.00" {
			t.Fatalf("totals by financial year: %v", totals)
		}
		r = e.do(models.RoleAuditor, "GET", "/api/v1/office-holder-expenses?fy=2030", nil)
		if p := r.problem(t); r.Status != 422 || len(p.Errors) == 0 || p.Errors[0].Field != "fy" {
			t.Fatalf("a bad year: %d %+v", r.Status, p)
		}
	})
}
