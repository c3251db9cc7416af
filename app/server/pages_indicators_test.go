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

// TestLinePageCorrectsAnIndicatorsDefinition: on the web, an officer
// corrects an indicator's baseline through the form beside it; a
// correction without a reason or with a baseline source missing is refused
// with the message beside the field and the typed values kept; the
// accepted one becomes the current revision, the old one stays in the
// history on the page, and a board member may not correct.
func TestLinePageCorrectsAnIndicatorsDefinition(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	f := e.mustFixture("25000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	linePath := fmt.Sprintf("/funding-lines/%d", f.LineID)
	officer.request("GET", linePath, nil)
	add := url.Values{"name": {"Young people reached"}, "unit": {"count"}, "direction": {"higher_is_better"}, "frequency": {"quarterly"},
		"baseline_value": {"0"}, "baseline_on": {"2024-04-01"}, "baseline_source": {"Provider register"}, "target_value": {"200"},
		"target_on": {"2025-03-31"}, "target_source": {"Grant agreement"}}
	e.mustStatus(officer.request("POST", linePath+"/indicators", add), 303)
	var ind models.Indicator
	if err := e.st.DB().NewSelect().Model(&ind).Where("funding_line_id = ?", f.LineID).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	revs, err := e.st.IndicatorRevisions(ctx, ind.ID)
	if err != nil || len(revs) != 1 {
		t.Fatalf("revisions %v %v", revs, err)
	}
	page := string(officer.request("GET", linePath, nil).Body)
	if !strings.Contains(page, fmt.Sprintf(`action="%s/indicators/%d/revisions"`, linePath, ind.ID)) ||
		!strings.Contains(page, fmt.Sprintf(`name="supersedes" value="%d"`, revs[0].ID)) {
		t.Fatal("the line page offers no correction of the indicator naming its current revision")
	}

	correctPath := fmt.Sprintf("%s/indicators/%d/revisions", linePath, ind.ID)
	correct := url.Values{"name": {"Young people reached"}, "unit": {"count"}, "direction": {"higher_is_better"},
		"baseline_value": {"15"}, "baseline_on": {"2024-04-01"}, "baseline_source": {""}, "target_value": {"200"},
		"target_on": {"2025-03-31"}, "target_source": {"Grant agreement"}, "supersedes": {fmt.Sprint(revs[0].ID)}, "reason": {""}}
	r := officer.request("POST", correctPath, correct)
	e.mustStatus(r, 422)
	body := string(r.Body)
	if !strings.Contains(body, "say where the baseline comes from") || !strings.Contains(body, `value="15"`) ||
		!strings.Contains(body, fmt.Sprintf(`<details id="indicator-%d" open>`, ind.ID)) {
		t.Fatal("the refused correction does not say why beside its field, or loses what was typed")
	}
	if got, _ := e.st.Indicator(ctx, ind.ID); got.BaselineValue.String() != "0" {
		t.Fatalf("a refused correction changed the baseline to %s", got.BaselineValue)
	}

	correct.Set("baseline_source", "Provider register, re-extracted")
	correct.Set("reason", "The register missed the spring intake")
	e.mustStatus(officer.request("POST", correctPath, correct), 303)
	got, err := e.st.Indicator(ctx, ind.ID)
	if err != nil || got.BaselineValue.String() != "15" || got.BaselineSource != "Provider register, re-extracted" {
		t.Fatalf("after the correction: %+v %v", got, err)
	}
	page = string(officer.request("GET", linePath, nil).Body)
	for _, want := range []string{"Revision 1 (replaced): Young people reached", "baseline 0 on 2024-04-01 (Provider register)",
		"Revision 2 (current)", "why: The register missed the spring intake"} {
		if !strings.Contains(page, want) {
			t.Errorf("the indicator's history on the page lacks %q", want)
		}
	}

	// The replaced revision cannot be corrected again: the message is beside the form.
	r = officer.request("POST", correctPath, correct)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "the current revision") {
		t.Fatal("a correction of a replaced revision is not refused on the page")
	}
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(board.request("POST", correctPath, correct), 403)
	if n := e.count(fmt.Sprintf("indicator_revisions WHERE indicator_id = %d", ind.ID)); n != 2 {
		t.Fatalf("%d revisions, want the first and its correction", n)
	}
}
