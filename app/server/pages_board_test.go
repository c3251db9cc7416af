package server_test

import (
	"fmt"
	"html"
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
		Groups []map[string]string
		Total  map[string]string
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
	var line struct{ Groups []map[string]string }
	e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget?fy=2024-25&group_by=funding_line", nil).json(t, &line)
	for _, g := range line.Groups {
		if g["key"] != fmt.Sprint(f.LineID) {
			continue
		}
		for _, k := range []string{"budget", "spent", "forecast", "variance"} {
			if got, want := plain(figure(t, page, "data-line", g["key"], k)), g[k]; got != want {
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
