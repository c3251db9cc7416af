package server_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

// figure reads the text of the element marked data-figure="name" inside
// the row marked attr="key" (or anywhere, when attr is empty).
func figure(t *testing.T, page, attr, key, name string) string {
	t.Helper()
	scope := page
	if attr != "" {
		row := regexp.MustCompile(`(?s)<tr ` + attr + `="` + key + `">(.*?)</tr>`).FindStringSubmatch(page)
		if row == nil {
			t.Fatalf("no row %s=%s on the page", attr, key)
		}
		scope = row[1]
	}
	m := regexp.MustCompile(`data-figure="` + regexp.QuoteMeta(name) + `">([^<]*)<`).FindStringSubmatch(scope)
	if m == nil {
		t.Fatalf("no figure %s in %s=%s", name, attr, key)
	}
	return html.UnescapeString(m[1])
}

// plain turns a page's "-£27,500.00" back into the API's "-27500.00".
func plain(shown string) string {
	return strings.NewReplacer("£", "", ",", "").Replace(shown)
}

func TestDashboardShowsTheAPIFigures(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("36500.00")
	e.spendApproved(f, "4000.00", "2024-05-10")
	e.spendApproved(f, "5000.00", "2024-08-10")
	board := spendWebSignIn(t, e, models.RoleBoardMember)

	r := board.request("GET", "/", nil)
	if r.Status != 303 || r.Header.Get("Location") != "/dashboard" {
		t.Fatalf("a board member lands on %d %s", r.Status, r.Header.Get("Location"))
	}
	r = board.request("GET", "/dashboard?fy=2024-25", nil)
	e.mustStatus(r, 200)
	page := string(r.Body)

	var api struct {
		Groups []figureMap
		Total  figureMap
	}
	e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget?fy=2024-25", nil).json(t, &api)
	for _, k := range []string{"budget", "reserved", "committed", "pending", "spent", "remaining", "forecast", "variance", "burn_rate"} {
		if got, want := plain(figure(t, page, "", "", "total."+k)), api.Total[k]; got != want {
			t.Errorf("total %s: page %q, API %q", k, got, want)
		}
	}
	if got := figure(t, page, "", "", "total.rag"); !strings.EqualFold(got, strings.ReplaceAll(api.Total["rag"], "_", " ")) {
		t.Errorf("rag: page %q, API %q", got, api.Total["rag"])
	}
	var line struct{ Groups []figureMap }
	e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget?fy=2024-25&group_by=funding_line", nil).json(t, &line)
	// The whole year's page lists the 25 lines furthest over budget, which
	// other tests' lines may fill; the line's own programme lists it.
	r = board.request("GET", fmt.Sprintf("/dashboard?fy=2024-25&programme_id=%d", f.ProgrammeID), nil)
	e.mustStatus(r, 200)
	for _, g := range line.Groups {
		if g["key"] != fmt.Sprint(f.LineID) {
			continue
		}
		for _, k := range []string{"budget", "spent", "forecast", "variance"} {
			if got, want := plain(figure(t, string(r.Body), "data-line", g["key"], k)), g[k]; got != want {
				t.Errorf("line %s: page %q, API %q", k, got, want)
			}
		}
	}
	for _, want := range []string{`id="chart-programmes"`, `id="chart-cumulative"`, `/static/vendor/chart.umd.min.js`, `id="dashboard-data"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	// The chart data is the API's too, and nothing comes from another host.
	if strings.Contains(page, "https://") || strings.Contains(page, "http://") {
		t.Error("the page refers to another host")
	}

	// Drill-down: one programme.
	r = board.request("GET", fmt.Sprintf("/dashboard?fy=2024-25&programme_id=%d", f.ProgrammeID), nil)
	e.mustStatus(r, 200)
	if got := figure(t, string(r.Body), "", "", "total.spent"); got != "£9,000.00" {
		t.Errorf("programme's spent %q", got)
	}
	// A bad quarter is named beside the field and the current year shown.
	r = board.request("GET", "/dashboard?fy=2024-25&quarter=Q9", nil)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "must be a quarter") {
		t.Error("no message beside the quarter")
	}
	r = board.request("GET", "/board-pack?fy=2024-25", nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `class="pack-section" data-line="`+fmt.Sprint(f.LineID)+`"`) {
		t.Error("the board pack has no section for the line")
	}
	for _, asset := range []string{"/static/dashboard.js", "/static/vendor/chart.umd.min.js"} {
		e.mustStatus(board.request("GET", asset, nil), 200)
	}
}

func TestLinePageReservesBudgetAndRecordsMeasurements(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("25000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	linePath := fmt.Sprintf("/funding-lines/%d", f.LineID)
	officer.request("GET", linePath, nil)

	before := e.count("reservations")
	r := officer.request("POST", linePath+"/reservations", url.Values{"amount": {"25000.001"}, "purpose": {""}, "expected_on": {"2024-06-01"}})
	e.mustStatus(r, 422)
	page := string(r.Body)
	for _, want := range []string{"more than two decimal places", "is required", `value="25000.001"`} {
		if !strings.Contains(page, want) {
			t.Errorf("refused form lacks %q", want)
		}
	}
	if e.count("reservations") != before {
		t.Fatal("a refused reservation was stored")
	}
	r = officer.request("POST", linePath+"/reservations", url.Values{"amount": {"20000.00"}, "purpose": {"Tender in progress"},
		"reference": {"t-9"}, "expected_on": {"2024-06-01"}})
	e.mustStatus(r, 303)
	r = officer.request("POST", linePath+"/reservations", url.Values{"amount": {"5000.01"}, "purpose": {"Too much"}, "expected_on": {"2024-06-01"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "at most £5,000.00 can still be reserved") {
		t.Errorf("over-budget reservation message missing")
	}
	var rid int64
	if err := e.st.DB().NewRaw("SELECT id FROM reservations WHERE funding_line_id = ?", f.LineID).Scan(context.Background(), &rid); err != nil {
		t.Fatal(err)
	}
	e.mustStatus(officer.request("POST", fmt.Sprintf("%s/reservations/%d/release", linePath, rid), url.Values{"reason": {""}}), 422)
	e.mustStatus(officer.request("POST", fmt.Sprintf("%s/reservations/%d/release", linePath, rid), url.Values{"reason": {"Tender withdrawn"}}), 303)
	page = string(officer.request("GET", linePath, nil).Body)
	if !strings.Contains(page, "Tender withdrawn") || !strings.Contains(page, "Released") {
		t.Error("the released reservation is not shown with its reason")
	}

	var ind struct{ ID int64 }
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/indicators", map[string]any{"funding_line_id": f.LineID, "name": "Sessions delivered",
		"unit": "count", "direction": "higher_is_better", "baseline_value": "0", "baseline_on": "2024-04-01", "baseline_source": "register", "frequency": "monthly"})
	e.mustStatus(r, 201)
	r.json(t, &ind)
	form := url.Values{"indicator_id": {fmt.Sprint(ind.ID)}, "period_start": {"2024-04-01"}, "period_end": {"2024-03-01"}, "value": {"1e3"}, "source": {""}}
	r = officer.request("POST", linePath+"/measurements", form)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "must be on or after 2024-04-01") || !strings.Contains(string(r.Body), "must be a number") {
		t.Error("measurement errors are not beside the fields")
	}
	form.Set("period_end", "2024-04-30")
	form.Set("value", "12")
	form.Set("source", "Provider return")
	e.mustStatus(officer.request("POST", linePath+"/measurements", form), 303)
	if page := string(officer.request("GET", linePath, nil).Body); !strings.Contains(page, "Provider return") {
		t.Error("the measurement is not on the line page")
	}
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(board.request("POST", linePath+"/measurements", form), 403)
}
