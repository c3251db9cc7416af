package server_test

import (
	"fmt"
	"strings"
	"testing"

	"granttrack/models"
)

// paymentFixture is an approved £10,000.00 award on the fixture's line, in
// tranches of £3,333.33 (due 2024-06-01), £3,333.33 (2024-09-01) and
// £3,333.34 (2024-12-01).
type paymentFixture struct {
	AwardID  int64
	Tranches []int64
}

func (e *env) mustTrancheAward(f fixture) paymentFixture {
	e.t.Helper()
	r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{
		"recipient_id": f.RecipientID, "reference": unique("PAY-"), "amount": "10000.00", "awarded_on": "2024-05-01",
		"starts_on": "2024-05-01", "ends_on": "2025-03-31", "tranches": []map[string]any{
			{"due_on": "2024-06-01", "amount": "3333.33"}, {"due_on": "2024-09-01", "amount": "3333.33"}, {"due_on": "2024-12-01", "amount": "3333.34"}}})
	e.mustStatus(r, 201)
	var a struct {
		ID       int64
		Tranches []struct{ ID int64 }
	}
	r.json(e.t, &a)
	e.mustApproveAward(a.ID)
	out := paymentFixture{AwardID: a.ID}
	for _, t := range a.Tranches {
		out.Tranches = append(out.Tranches, t.ID)
	}
	return out
}

// TestTrancheBeyondOutstandingIsAClearProblem: £6,000.00 against a
// £3,333.34 tranche is refused with a problem naming the tranche, what it
// has outstanding and the excess, and nothing is stored.
func TestTrancheBeyondOutstandingIsAClearProblem(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	p := e.mustTrancheAward(f)
	before := e.count("spend_entries")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "award_id": p.AwardID,
		"tranche_id": p.Tranches[2], "payee_id": f.RecipientID, "amount": "6000.00", "incurred_on": "2024-12-02", "category": "grant_payment",
		"purpose": "Tranche 3", "vfm_reason": "Agreed schedule"})
	e.mustStatus(r, 409)
	pr := r.problem(t)
	if !strings.Contains(pr.Detail, "tranche 3 of award PAY-") || !strings.Contains(pr.Detail, "£3,333.34 is outstanding") ||
		!strings.Contains(pr.Detail, "£2,666.66 is too much") || len(pr.Errors) != 1 || pr.Errors[0].Field != "tranche_id" {
		t.Fatalf("problem = %+v", pr)
	}
	if n := e.count("spend_entries"); n != before {
		t.Fatalf("%d entries stored", n-before)
	}

	// Within it, recorded and approved: the tranche is paid and the award
	// shows paid, outstanding and overdue (every date has passed by now).
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "award_id": p.AwardID,
		"tranche_id": p.Tranches[0], "payee_id": f.RecipientID, "amount": "3333.33", "incurred_on": "2024-06-02", "category": "grant_payment",
		"purpose": "Tranche 1", "vfm_reason": "Agreed schedule"})
	e.mustStatus(r, 201)
	var entry struct{ ID int64 }
	r.json(t, &entry)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", entry.ID), nil), 200)
	var award struct {
		Paid, Outstanding, Overdue string
		Tranches                   []struct {
			Status, Paid, Outstanding string
			Overdue                   bool
		}
	}
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/awards/%d", p.AwardID), nil).json(t, &award)
	if award.Paid != "3333.33" || award.Outstanding != "6666.67" || award.Overdue != "6666.67" || award.Tranches[0].Status != "paid" ||
		award.Tranches[0].Overdue || !award.Tranches[1].Overdue || award.Tranches[2].Outstanding != "3333.34" {
		t.Fatalf("award = %+v", award)
	}
}

// TestTrancheMovesAndPaymentRunsThroughTheAPI: a tranche is claimed,
// withheld and released; a finance officer proposes a run, cannot approve
// it, an admin does, and the remittance and the journal follow.
func TestTrancheMovesAndPaymentRunsThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	p := e.mustTrancheAward(f)
	fo, ad := models.RoleFinanceOfficer, models.RoleFinanceManager

	e.mustStatus(e.do(fo, "POST", fmt.Sprintf("/api/v1/tranches/%d/claim", p.Tranches[1]), map[string]any{}), 422)
	e.mustStatus(e.do(fo, "POST", fmt.Sprintf("/api/v1/tranches/%d/claim", p.Tranches[1]), map[string]any{"claimed_on": "2024-09-02"}), 200)
	e.mustStatus(e.do(fo, "POST", fmt.Sprintf("/api/v1/tranches/%d/withhold", p.Tranches[2]), map[string]any{"reason": "Monitoring report late"}), 200)
	pr := e.do(fo, "POST", fmt.Sprintf("/api/v1/tranches/%d/claim", p.Tranches[2]), map[string]any{"claimed_on": "2024-12-02"})
	e.mustStatus(pr, 422)

	r := e.do(fo, "POST", "/api/v1/payment-runs", map[string]any{"pay_on": "2024-12-05", "tranche_ids": []int64{p.Tranches[0], p.Tranches[2]}})
	e.mustStatus(r, 422)
	if prob := r.problem(t); len(prob.Errors) == 0 || !strings.Contains(prob.Errors[0].Message, "withheld") {
		t.Fatalf("problem = %+v", prob)
	}
	e.mustStatus(e.do(fo, "POST", fmt.Sprintf("/api/v1/tranches/%d/release", p.Tranches[2]), map[string]any{"reason": "Report arrived"}), 200)

	r = e.do(fo, "POST", "/api/v1/payment-runs", map[string]any{"pay_on": "2024-12-05", "note": "December",
		"tranche_ids": []int64{p.Tranches[0], p.Tranches[1]}})
	e.mustStatus(r, 201)
	var run struct {
		ID        int64
		Reference string
		Total     string
		Status    string
		Payments  []struct {
			Reference    string
			SpendEntryID *int64 `json:"spend_entry_id"`
		}
	}
	r.json(t, &run)
	if run.Total != "6666.66" || len(run.Payments) != 2 {
		t.Fatalf("run = %+v", run)
	}
	e.mustStatus(e.do(fo, "POST", fmt.Sprintf("/api/v1/payment-runs/%d/approve", run.ID), nil), 403)
	e.mustStatus(e.do(fo, "GET", fmt.Sprintf("/api/v1/payment-runs/%d/remittance", run.ID), nil), 409)
	r = e.do(ad, "POST", fmt.Sprintf("/api/v1/payment-runs/%d/approve", run.ID), nil)
	e.mustStatus(r, 200)
	r.json(t, &run)
	if run.Status != "approved" || run.Payments[0].SpendEntryID == nil || run.Payments[1].SpendEntryID == nil {
		t.Fatalf("approved run = %+v", run)
	}
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/payment-runs/%d/remittance", run.ID), nil)
	e.mustStatus(r, 200)
	lines := strings.Split(string(r.Body), "\r\n")
	if len(lines) != 4 || lines[0] != "payment_reference,payment_run,pay_on,payee,payee_org_id,award,tranche,tranche_due_on,funding_line,amount,spend_entry_id" ||
		!strings.HasPrefix(lines[1], run.Payments[0].Reference+","+run.Reference+",2024-12-05,") || !strings.Contains(lines[1], ",3333.33,") {
		t.Fatalf("remittance:\n%s", r.Body)
	}
	e.mustStatus(e.do(fo, "GET", fmt.Sprintf("/api/v1/payment-runs/%d/journal", run.ID), nil), 409)
}

// exercisePaymentRoutes calls each payment route once successfully and
// once failing, for TestOpenAPIDescribesEveryRoute.
func exercisePaymentRoutes(t *testing.T, e *env, f fixture, call func(models.Role, string, string, any) response,
	note func(string, string, response) response) {
	t.Helper()
	fo, ad, bm := models.RoleFinanceOfficer, models.RoleFinanceManager, models.RoleBoardMember
	const missing = 999999999
	p := e.mustTrancheAward(f)
	tranche := func(id int64, verb string) string { return fmt.Sprintf("/api/v1/tranches/%d/%s", id, verb) }
	call(fo, "POST", tranche(p.Tranches[1], "claim"), map[string]any{"claimed_on": "2024-09-02"})
	call(fo, "POST", tranche(p.Tranches[1], "claim"), map[string]any{"claimed_on": "2024-09-31"})
	call(fo, "POST", tranche(p.Tranches[2], "withhold"), map[string]any{"reason": "Report late"})
	call(fo, "POST", tranche(p.Tranches[2], "withhold"), map[string]any{"reason": "Again"})
	call(fo, "POST", tranche(p.Tranches[2], "release"), map[string]any{"reason": "Report arrived"})
	call(fo, "POST", tranche(missing, "release"), map[string]any{"reason": "Gone"})
	call(bm, "GET", "/api/v1/payable-tranches?due_by=2024-12-31", nil)
	call(bm, "GET", "/api/v1/payable-tranches?due_by=soon", nil)
	run := func(r response) int64 {
		var v struct{ ID int64 }
		r.json(t, &v)
		return v.ID
	}
	runs := "/api/v1/payment-runs"
	id := run(call(fo, "POST", runs, map[string]any{"pay_on": "2024-12-05", "tranche_ids": []int64{p.Tranches[0]}}))
	call(fo, "POST", runs, map[string]any{"pay_on": "2024-12-05", "tranche_ids": []int64{}})
	call(bm, "GET", runs, nil)
	call("", "GET", runs, nil)
	call(bm, "GET", fmt.Sprintf("%s/%d", runs, id), nil)
	call(bm, "GET", fmt.Sprintf("%s/%d", runs, missing), nil)
	call(bm, "GET", fmt.Sprintf("%s/%d/remittance", runs, id), nil) // not approved yet
	call(fo, "POST", fmt.Sprintf("%s/%d/approve", runs, id), nil)   // the proposer may not
	call(ad, "POST", fmt.Sprintf("%s/%d/approve", runs, id), nil)
	call(bm, "GET", fmt.Sprintf("%s/%d/remittance", runs, id), nil)
	call(bm, "GET", fmt.Sprintf("%s/%d/journal", runs, id), nil) // the line has no finance codes
	line := map[string]any{"code": unique("PJ"), "title": "Line", "kind": "grant", "programme_id": f.ProgrammeID, "funder_id": f.FunderID,
		"budget": "100000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31", "cost_centre": "VRU410", "gl_account": "54100"}
	var fl struct {
		Code string
	}
	e.do(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil).json(t, &fl)
	line["code"] = fl.Code
	e.mustStatus(e.do(fo, "PUT", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), line), 200)
	journal := call(bm, "GET", fmt.Sprintf("%s/%d/journal", runs, id), nil)
	if rows := strings.Split(string(journal.Body), "\r\n"); len(rows) != 3 || rows[0] != "date,cost_centre,gl_code,supplier,amount,reference" ||
		!strings.HasPrefix(rows[1], "2024-12-05,VRU410,54100,") || !strings.Contains(rows[1], ",3333.33,PR-") {
		t.Fatalf("journal:\n%q", journal.Body)
	}
	var approved struct {
		Payments []struct{ Reference string }
	}
	e.do(bm, "GET", fmt.Sprintf("%s/%d", runs, id), nil).json(t, &approved)
	confirm := "/api/v1/payment-confirmations"
	csv := "reference,date,amount\r\n" + approved.Payments[0].Reference + ",2024-12-06,3333.33\r\nNOT-OURS,2024-12-06,1.00\r\n"
	r := note("POST", confirm, e.upload(fo, confirm, "paid.csv", "text/csv", []byte(csv)))
	var report struct {
		Rows []struct{ Outcome string }
	}
	r.json(t, &report)
	if len(report.Rows) != 2 || report.Rows[0].Outcome != "confirmed" || report.Rows[1].Outcome != "unmatched" {
		t.Fatalf("confirmations = %s", r.Body)
	}
	note("POST", confirm, e.upload(fo, confirm, "paid.csv", "text/csv", []byte("reference,date,amount\r\nX,someday,1\r\n")))
	id = run(call(fo, "POST", runs, map[string]any{"pay_on": "2024-12-05", "tranche_ids": []int64{p.Tranches[1]}}))
	call(ad, "POST", fmt.Sprintf("%s/%d/reject", runs, id), map[string]any{"reason": "Wrong bank details"})
	call(ad, "POST", fmt.Sprintf("%s/%d/reject", runs, id), map[string]any{"reason": "Again"})
	id = run(call(fo, "POST", runs, map[string]any{"pay_on": "2024-12-05", "tranche_ids": []int64{p.Tranches[1]}}))
	call(fo, "POST", fmt.Sprintf("%s/%d/withdraw", runs, id), nil)
	call(fo, "POST", fmt.Sprintf("%s/%d/withdraw", runs, missing), nil)
}
