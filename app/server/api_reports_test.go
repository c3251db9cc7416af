package server_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"granttrack/models"
)

// spendApproved records spend through the API and has a second officer
// approve it.
func (e *env) spendApproved(f fixture, amount, on string) int64 {
	e.t.Helper()
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": amount, "incurred_on": on, "category": "services", "purpose": "Delivery", "vfm_reason": "Tendered"})
	e.mustStatus(r, 201)
	var got struct{ ID int64 }
	r.json(e.t, &got)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", got.ID), nil), 200)
	return got.ID
}

func TestReservationsThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("25000.00")
	path := fmt.Sprintf("/api/v1/funding-lines/%d/reservations", f.LineID)
	e.mustStatus(e.do(models.RoleBoardMember, "POST", path, map[string]any{"amount": "1.00", "purpose": "x", "expected_on": "2024-06-01"}), 403)
	r := e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{"amount": "25000.001", "purpose": "", "expected_on": "2024-13-01"})
	e.mustStatus(r, 422)
	if p := r.problem(t); len(p.Errors) != 3 {
		t.Fatalf("problem %+v", p)
	}
	r = e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{"amount": "25000.00", "purpose": "Allyship training tender",
		"reference": "mopac-2024-17", "expected_on": "2024-04-10"})
	e.mustStatus(r, 201)
	var res struct {
		ID     int64
		Status string
		Amount string
	}
	r.json(t, &res)
	if res.Status != "held" || res.Amount != "25000.00" {
		t.Fatalf("reservation %+v", res)
	}
	var line struct {
		Totals struct{ Reserved, Uncommitted string }
	}
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil).json(t, &line)
	if line.Totals.Reserved != "25000.00" || line.Totals.Uncommitted != "0.00" {
		t.Fatalf("totals %+v", line.Totals)
	}
	// An award past the reservation is refused; converting it works.
	award := map[string]any{"recipient_id": f.RecipientID, "reference": unique("ALLY"), "amount": "18500.00",
		"awarded_on": "2024-04-12", "starts_on": "2024-04-15", "ends_on": "2024-09-30"}
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), award), 409)
	r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/reservations/%d/convert", res.ID), award)
	e.mustStatus(r, 201)
	var a struct {
		ReservationID *int64 `json:"reservation_id"`
	}
	r.json(t, &a)
	if a.ReservationID == nil || *a.ReservationID != res.ID {
		t.Fatalf("award %+v", a)
	}
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/reservations/%d/release", res.ID), map[string]any{"reason": "x"}), 409)
	var rs struct{ Items []struct{ Status string } }
	e.do(models.RoleAuditor, "GET", path, nil).json(t, &rs)
	if len(rs.Items) != 1 || rs.Items[0].Status != "converted" {
		t.Fatalf("reservations %+v", rs)
	}
}

func TestBudgetReportThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("36500.00") // 2024-25: Q1 91 days, Q2 92, Q3 92, Q4 90
	e.spendApproved(f, "4000.00", "2024-05-10")
	e.spendApproved(f, "5000.00", "2024-08-10")
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/reservations", f.LineID),
		map[string]any{"amount": "1000.00", "purpose": "Evaluation tender", "expected_on": "2024-10-01"}), 201)

	var rep struct {
		FY      string
		GroupBy string `json:"group_by"`
		Quarter *string
		Groups  []map[string]any
		Total   figureMap
	}
	r := e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/reports/budget?fy=2024-25&group_by=funding_line&as_of=2024-09-30&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	r.json(t, &rep)
	want := map[string]string{"budget": "36500.00", "reserved": "1000.00", "committed": "0.00", "pending": "0.00", "spent": "9000.00",
		"remaining": "27500.00", "uncommitted": "35500.00",
		// 9,000 over 183 of 365 days, projected: 17,950.82; 18,549.18 under budget is red.
		"forecast": "17950.82", "variance": "-18549.18", "rag": "red",
		// 9,000 over 183 days is 1,495.90 a month of 365/12 days.
		"burn_rate": "1495.90"}
	for k, v := range want {
		if rep.Total[k] != v {
			t.Errorf("total %s = %q, want %q", k, rep.Total[k], v)
		}
	}
	if len(rep.Groups) != 1 || rep.Groups[0]["spent"] != "9000.00" || rep.FY != "2024-25" || rep.Quarter != nil {
		t.Fatalf("report %+v", rep)
	}

	// Q2 alone: its share of the budget by day, and only its spend.
	r = e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/reports/budget?fy=2024-25&quarter=q2&as_of=2024-09-30&programme_id=%d", f.ProgrammeID), nil)
	e.mustStatus(r, 200)
	r.json(t, &rep)
	if rep.Total["budget"] != "9200.00" || rep.Total["spent"] != "5000.00" || rep.Total["forecast"] != "5000.00" || rep.GroupBy != "programme" ||
		rep.Total["rag"] != "red" {
		t.Fatalf("Q2 %+v", rep.Total)
	}

	r = e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget?fy=2024&quarter=Q5&group_by=borough&as_of=yesterday&programme_id=x", nil)
	e.mustStatus(r, 422)
	fields := map[string]bool{}
	for _, fe := range r.problem(t).Errors {
		fields[fe.Field] = true
	}
	for _, f := range []string{"fy", "quarter", "group_by", "as_of", "programme_id"} {
		if !fields[f] {
			t.Errorf("no error for %s: %v", f, fields)
		}
	}
}

func TestValueForMoneyThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	e.spendApproved(f, "30000.00", "2024-06-01")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/indicators", map[string]any{"funding_line_id": f.LineID, "name": "Young people stabbed",
		"unit": "count", "direction": "lower_is_better", "baseline_value": "1200", "baseline_on": "2019-03-31", "baseline_source": "MPS recorded crime", "target_source": "Police and Crime Plan",
		"target_value": "900", "target_on": "2025-03-31", "frequency": "quarterly"})
	e.mustStatus(r, 201)
	var ind struct{ ID int64 }
	r.json(t, &ind)
	mpath := fmt.Sprintf("/api/v1/indicators/%d/measurements", ind.ID)
	r = e.do(models.RoleFinanceOfficer, "POST", mpath, map[string]any{"period_start": "2024-04-01", "period_end": "2024-06-30", "value": "1150",
		"source": "MPS recorded crime", "extracted_on": "2024-07-05", "method_note": "rolling 12 months"})
	e.mustStatus(r, 201)
	var m struct{ ID int64 }
	r.json(t, &m)
	// A correction: the old reading stays, the new one counts.
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", mpath, map[string]any{"period_start": "2024-04-01", "period_end": "2024-06-30",
		"value": "1140", "source": "MPS recorded crime", "supersedes": m.ID}), 201)
	e.mustStatus(e.do(models.RoleBoardMember, "POST", mpath, map[string]any{"period_start": "2024-04-01", "period_end": "2024-06-30",
		"value": "1", "source": "x"}), 403)
	var ms struct {
		Items []struct {
			Value    string
			Current  bool
			Revision int
		}
	}
	e.do(models.RoleBoardMember, "GET", mpath, nil).json(t, &ms)
	if len(ms.Items) != 2 || ms.Items[0].Current || !ms.Items[1].Current || ms.Items[1].Value != "1140" || ms.Items[1].Revision != 2 {
		t.Fatalf("measurements %+v", ms)
	}

	var rep struct {
		Outcomes []struct {
			Owner string
			Cost  struct {
				Spend       string
				Improvement *string
				Cost        *string `json:"cost_per_unit"`
				Reason      string
			} `json:"cost_per_outcome"`
			Progress    *string `json:"progress_to_target_percent"`
			Overdue     bool
			Attribution string
		}
	}
	r = e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/reports/value-for-money?fy=2024-25&as_of=2024-12-01&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	r.json(t, &rep)
	if len(rep.Outcomes) != 1 {
		t.Fatalf("outcomes %+v", rep)
	}
	o := rep.Outcomes[0]
	// 30,000.00 ÷ (1,200 − 1,140 = 60 fewer) = 500.00 per young person not stabbed.
	if o.Cost.Spend != "30000.00" || o.Cost.Improvement == nil || *o.Cost.Improvement != "60" || o.Cost.Cost == nil || *o.Cost.Cost != "500.00" {
		t.Fatalf("cost %+v", o.Cost)
	}
	// 60 of the 300 to go: 20 %; the Q2 reading was due by 30 September.
	if o.Progress == nil || *o.Progress != "20" || !o.Overdue || o.Attribution == "" {
		t.Fatalf("outcome %+v", o)
	}
}

// figureMap reads a report's group or total as text by name: strings as
// they are, and anything else (counts, the rating's roll-up) as its JSON.
type figureMap map[string]string

func (f *figureMap) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*f = figureMap{}
	for k, v := range raw {
		var s string
		if json.Unmarshal(v, &s) != nil {
			s = string(v)
		}
		(*f)[k] = s
	}
	return nil
}
