package server

import (
	"encoding/json"
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/errgroup"

	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// registerBoardPages adds the board's dashboard and printable pack.
func (s *Server) registerBoardPages() {
	s.app.Get("/dashboard", s.requireWebUser, s.dashboardPage("dashboard"))
	s.app.Get("/board-pack", s.requireWebUser, s.dashboardPage("board_pack"))
}

// How much of the lists the dashboard shows.
const (
	dashboardLines    = 25
	dashboardOutcomes = 24
	dashboardAlerts   = 20
)

type monthJSON struct {
	Month      string `json:"month"`
	Spent      Money  `json:"spent"`
	Cumulative Money  `json:"cumulative"`
	Plan       Money  `json:"plan"`
}

// dashboardJSON is what the page shows; the charts read the same values
// from a JSON block (chartJSON), so the drawing and the tables cannot
// disagree.
type dashboardJSON struct {
	Programmes budgetReportJSON `json:"programmes"`
	Lines      budgetReportJSON `json:"lines"`
	Months     []monthJSON      `json:"months"`
	VFM        vfmReportJSON    `json:"value_for_money"`
}

// chartJSON is what the page's charts draw, written beside the tables from
// the same figures: the programmes, the months, and each outcome's
// indicator and readings, period and value only. The tables show the rest,
// and the API has all of it: two dozen trends in the API's own form made
// half a megabyte of page.
type chartJSON struct {
	Programmes budgetReportJSON `json:"programmes"`
	Months     []monthJSON      `json:"months"`
	VFM        struct {
		Outcomes []chartOutcomeJSON `json:"outcomes"`
	} `json:"value_for_money"`
}

type chartOutcomeJSON struct {
	Indicator struct {
		Name          string  `json:"name"`
		BaselineValue *string `json:"baseline_value"`
		TargetValue   *string `json:"target_value"`
	} `json:"indicator"`
	Series []chartReadingJSON `json:"series"`
}

type chartReadingJSON struct {
	PeriodEnd Date   `json:"period_end"`
	Value     string `json:"value"`
}

func chartOf(d dashboardJSON) chartJSON {
	c := chartJSON{Programmes: d.Programmes, Months: d.Months}
	c.VFM.Outcomes = make([]chartOutcomeJSON, 0, len(d.VFM.Outcomes))
	for _, o := range d.VFM.Outcomes {
		var co chartOutcomeJSON
		co.Indicator.Name, co.Indicator.BaselineValue, co.Indicator.TargetValue = o.Indicator.Name, o.Indicator.BaselineValue, o.Indicator.TargetValue
		co.Series = make([]chartReadingJSON, 0, len(o.Series))
		for _, m := range o.Series {
			co.Series = append(co.Series, chartReadingJSON{PeriodEnd: m.PeriodEnd, Value: m.Value})
		}
		c.VFM.Outcomes = append(c.VFM.Outcomes, co)
	}
	return c
}

// dashboardPage draws the dashboard for the financial year (and quarter)
// asked, the current one by default, optionally for one programme: the
// drill-down from programme to its lines.
func (s *Server) dashboardPage(tmpl string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		q, qerr := s.reportQueryOf(c)
		errs, err := formErrors(qerr)
		if err != nil {
			return err
		}
		if errs != nil {
			q, _ = report.ParseQuery("", "", "", "", s.today())
		}
		// The dashboard is for a glance: the lines furthest over budget
		// and the first outcomes; the board pack and the API have all.
		topLines, outcomes := -1, -1
		if tmpl == "dashboard" {
			topLines, outcomes = dashboardLines, dashboardOutcomes
		}
		// The dashboard's alerts are the user's most urgent, read at the
		// same time as its figures, on a connection of their own: all of
		// them, or, when the dashboard works out the very line figures
		// the red lines come from, what the database finds, to which the
		// dashboard's lines are then added.
		var urgent []models.Alert
		var allAlerts int
		var found *report.FoundAlerts
		var progs []*models.Programme
		var alongside errgroup.Group
		ctx, uid, today := c.UserContext(), actorOf(c).UserID, s.today()
		shared := report.SharesAlertLines(q, today)
		page := store.Page{Number: 1, PerPage: dashboardAlerts}
		// So are the programmes the page offers to narrow it to.
		alongside.Go(func() (err error) {
			progs, err = s.store.Programmes(ctx)
			return err
		})
		if tmpl == "dashboard" {
			alongside.Go(func() (err error) {
				if shared {
					found, err = report.FindAlerts(ctx, s.store, uid, today)
					return err
				}
				urgent, allAlerts, err = report.AlertsPage(ctx, s.store, uid, today, page, nil)
				return err
			})
		}
		d, err := report.DashboardReport(ctx, s.reads(c), q, topLines, outcomes)
		if err != nil {
			alongside.Wait()
			return err
		}
		if err := alongside.Wait(); err != nil {
			return err
		}
		if found != nil {
			if urgent, allAlerts, err = found.DashboardPage(d, page); err != nil {
				return err
			}
		}
		allLines, allOutcomes := d.AllLines, d.VFM.AllOutcomes
		data := dashboardJSON{Programmes: toBudgetReportJSON(d.Programmes), Lines: toBudgetReportJSON(d.Lines),
			VFM: toVFMReportJSON(d.VFM), Months: []monthJSON{}}
		for _, m := range d.Months {
			data.Months = append(data.Months, monthJSON{Month: m.Month.Format("Jan 2006"), Spent: money(m.Spent),
				Cumulative: money(m.Cumulative), Plan: money(m.Plan)})
		}
		chart, err := json.Marshal(chartOf(data))
		if err != nil {
			return err
		}
		var scope *models.Programme
		for _, p := range progs {
			if p.ID == q.Scope.ProgrammeID {
				scope = p
			}
		}
		current := models.FinancialYearOf(s.today())
		var years []string
		for y := current - 4; y <= current+1; y++ {
			years = append(years, y.String())
		}
		quarter := ""
		if q.Period.Quarter != 0 {
			quarter = q.Period.Quarter.String()
		}
		var alerts alertList
		if tmpl == "dashboard" {
			// The most urgent come first; the alerts page lists them all.
			alerts = alertList{Items: toAlertsJSON(urgent), All: allAlerts, More: "/alerts"}
		}
		status := fiber.StatusOK
		if errs != nil {
			status = fiber.StatusUnprocessableEntity
		}
		title := "Dashboard " + q.Period.String()
		if tmpl == "board_pack" {
			title = "Board pack " + q.Period.String()
		}
		return s.render(c.Status(status), "board/"+tmpl, fiber.Map{"Title": title, "D": data, "Period": q.Period.String(),
			"ChartJSON": template.JS(chart), "Errors": errs, "Years": years, "Programmes": progs, "Scope": scope,
			"Quarters": []string{"Q1", "Q2", "Q3", "Q4"}, "Attribution": report.Attribution, "CostMethod": report.CostMethod, "AllLines": allLines, "AllOutcomes": allOutcomes,
			"Alerts": alerts,
			"Q":      fiber.Map{"fy": q.Period.Year.String(), "quarter": quarter, "programme_id": strconv.FormatInt(q.Scope.ProgrammeID, 10)}})
	}
}
