package server_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"granttrack/models"
)

// TestLinePageAddsIndicatorsAndCorrectsReadings: on the web, an officer
// adds an indicator with its baseline and target sourced and dated, records
// a reading, is refused a second reading of the same period with the
// message beside "Corrects", and records it as a correction naming the
// first, which stays on record.
func TestLinePageAddsIndicatorsAndCorrectsReadings(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	f := e.mustFixture("25000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	linePath := fmt.Sprintf("/funding-lines/%d", f.LineID)
	officer.request("GET", linePath, nil)

	add := url.Values{"name": {"Young people reached"}, "unit": {"count"}, "direction": {"higher_is_better"}, "frequency": {"quarterly"},
		"baseline_value": {"0"}, "baseline_on": {"2024-04-01"}, "baseline_source": {""}, "target_value": {"200"}, "target_on": {"2025-03-31"},
		"target_source": {"Grant agreement"}}
	r := officer.request("POST", linePath+"/indicators", add)
	e.mustStatus(r, 422)
	if page := string(r.Body); !strings.Contains(page, "say where the baseline comes from") || !strings.Contains(page, `value="Grant agreement"`) {
		t.Fatal("the missing baseline source is not beside its field, or the typed values are lost")
	}
	add.Set("baseline_source", "Provider register")
	e.mustStatus(officer.request("POST", linePath+"/indicators", add), 303)
	var ind models.Indicator
	if err := e.st.DB().NewSelect().Model(&ind).Where("funding_line_id = ?", f.LineID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	if ind.BaselineSource != "Provider register" || ind.TargetSource != "Grant agreement" || ind.TargetOn == nil {
		t.Fatalf("indicator %+v", ind)
	}

	reading := url.Values{"indicator_id": {fmt.Sprint(ind.ID)}, "period_start": {"2024-04-01"}, "period_end": {"2024-06-30"}, "value": {"40"},
		"source": {"Provider return"}}
	e.mustStatus(officer.request("POST", linePath+"/measurements", reading), 303)
	var first int64
	if err := e.st.DB().NewRaw("SELECT id FROM measurements WHERE indicator_id = ?", ind.ID).Scan(ctx, &first); err != nil {
		t.Fatal(err)
	}
	page := string(officer.request("GET", linePath, nil).Body)
	if !strings.Contains(page, fmt.Sprintf(`<option value="%d" >Young people reached: 2024-04-01 to 2024-06-30 = 40`, first)) ||
		!strings.Contains(page, "Provider register") {
		t.Fatal("the line page offers no correction of the reading, or hides the baseline's source")
	}
	reading.Set("value", "38")
	r = officer.request("POST", linePath+"/measurements", reading)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), fmt.Sprintf("give %d, the reading this corrects", first)) {
		t.Fatal("a second reading of the period is not refused beside Corrects")
	}
	reading.Set("supersedes", fmt.Sprint(first))
	e.mustStatus(officer.request("POST", linePath+"/measurements", reading), 303)
	if n := e.count("measurements WHERE indicator_id = " + fmt.Sprint(ind.ID)); n != 2 {
		t.Fatalf("%d readings, want the first and its correction", n)
	}
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(board.request("POST", linePath+"/indicators", add), 403)
}
