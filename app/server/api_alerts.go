package server

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// Alerts: each user's list of what needs attention, and the thresholds.

func (s *Server) alertRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/alerts", Summary: "My alerts, most urgent first: decisions waiting for me, lines near their year's budget, lines ending with budget unawarded, tranches and readings overdue, spend dated after a line's end, and red lines", Roles: everyone, Query: pageQuery{}, Response: list[alertJSON]{}, Handler: s.listAlerts},
		{Method: "GET", Path: "/api/v1/alert-settings", Summary: "The thresholds the alerts use", Roles: everyone, Response: models.AlertSettings{}, Handler: s.getAlertSettings},
		{Method: "PUT", Path: "/api/v1/alert-settings", Summary: "Change the thresholds the alerts use (admins; audited)", Roles: admins, Request: models.AlertSettings{}, Response: models.AlertSettings{}, Handler: s.putAlertSettings},
	}
}

type alertJSON struct {
	Kind            string `json:"kind"`
	Severity        string `json:"severity"`
	Message         string `json:"message"`
	Link            string `json:"link"`
	Entity          string `json:"entity"`
	EntityID        int64  `json:"entity_id"`
	FundingLineID   *int64 `json:"funding_line_id"`
	FundingLineCode string `json:"funding_line_code"`
	Amount          *Money `json:"amount"` // the alert's main figure: spent, unawarded, unpaid, late spend, variance, or the decision's amount
	On              *Date  `json:"on"`     // the alert's date: when it ends, was due, or the latest late entry
}

func toAlertJSON(a models.Alert) alertJSON {
	return alertJSON{Kind: string(a.Kind), Severity: string(a.Severity), Message: a.Message, Link: a.Link, Entity: a.Entity,
		EntityID: a.EntityID, FundingLineID: a.FundingLineID, FundingLineCode: a.FundingLineCode, Amount: optMoney(a.Amount), On: optDate(a.On)}
}

// alertList is an alerts list as a page shows it: the first alerts, how
// many there are in all and, when some are left out, where they all are.
type alertList struct {
	Items []alertJSON
	All   int
	More  string
	Pager *pager // on the alerts page itself
}

// alertsOf is a page of the signed-in user's alerts today, for the API and
// the pages, and how many there are in all.
func (s *Server) alertsOf(c *fiber.Ctx, pg store.Page) ([]alertJSON, int, error) {
	as, total, err := report.AlertsPage(c.UserContext(), s.store, actorOf(c).UserID, s.today(), pg, nil)
	if err != nil {
		return nil, 0, err
	}
	return toAlertsJSON(as), total, nil
}

func toAlertsJSON(as []models.Alert) []alertJSON {
	out := make([]alertJSON, len(as))
	for i, a := range as {
		out[i] = toAlertJSON(a)
	}
	return out
}

func (s *Server) listAlerts(c *fiber.Ctx) error {
	var p models.Problems
	pg := pageOf(c, &p)
	if err := p.Err(); err != nil {
		return err
	}
	as, total, err := s.alertsOf(c, pg)
	if err != nil {
		return err
	}
	return c.JSON(list[alertJSON]{Items: as, Page: pg.Number, PerPage: pg.PerPage, Total: total, Next: nextLink(c, pg, len(as), total)})
}

func (s *Server) getAlertSettings(c *fiber.Ctx) error {
	set, err := s.store.AlertSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(set)
}

func (s *Server) putAlertSettings(c *fiber.Ctx) error {
	var in models.AlertSettings
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	set, err := s.store.UpdateAlertSettings(c.UserContext(), actorOf(c), in)
	if err != nil {
		return err
	}
	return c.JSON(set)
}

// The alerts page, and the settings page for admins.

func (s *Server) registerAlertPages() {
	s.app.Get("/alerts", s.requireWebUser, s.alertsPage)
	s.app.Get("/alert-settings", s.requireWebRole(admins), s.alertSettingsPage)
	s.app.Post("/alert-settings", s.requireWebRole(admins), s.alertSettingsSave)
}

// alertSettingsForm keeps what was typed, so a refused form shows it again.
type alertSettingsForm struct{ BudgetUsedPercent, EndingWithinDays, TrancheGraceDays string }

func (s *Server) alertSettingsPage(c *fiber.Ctx) error {
	set, err := s.store.AlertSettings(c.UserContext())
	if err != nil {
		return err
	}
	in := alertSettingsForm{strconv.Itoa(set.BudgetUsedPercent), strconv.Itoa(set.EndingWithinDays), strconv.Itoa(set.TrancheGraceDays)}
	return s.renderForm(c, "alerts/settings", nil, fiber.Map{"Title": "Alert thresholds", "In": in, "Saved": c.Query("saved") == "1"})
}

func (s *Server) alertSettingsSave(c *fiber.Ctx) error {
	in := alertSettingsForm{c.FormValue("budget_used_percent"), c.FormValue("ending_within_days"), c.FormValue("tranche_grace_days")}
	var p models.Problems
	whole := func(field, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil {
			p.Add(field, "must be a whole number")
		}
		return n
	}
	set := models.AlertSettings{BudgetUsedPercent: whole("budget_used_percent", in.BudgetUsedPercent),
		EndingWithinDays: whole("ending_within_days", in.EndingWithinDays), TrancheGraceDays: whole("tranche_grace_days", in.TrancheGraceDays)}
	// Every field is named at once: a range broken beside a number not typed.
	var me *models.Error
	if errors.As(set.Validate(), &me) {
		for _, f := range me.Fields {
			if !p.Has(f.Field) {
				p = append(p, f)
			}
		}
	}
	err := p.Err()
	if err == nil {
		_, err = s.store.UpdateAlertSettings(c.UserContext(), actorOf(c), set)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.renderForm(c, "alerts/settings", errs, fiber.Map{"Title": "Alert thresholds", "In": in})
	}
	return c.Redirect("/alert-settings?saved=1", fiber.StatusSeeOther)
}
