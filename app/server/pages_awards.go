package server

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// The award's page: the award, its tranches, its variations and
// cancellations with who proposed and decided them, its history in the
// audit trail, and the forms to propose a variation or a cancellation.

func (s *Server) registerAwardPages() {
	s.app.Get("/awards/:id", s.requireWebUser, s.awardPage)
	s.app.Post("/awards/:id/variations", s.requireWebRole(writers), s.awardVariationSave)
	s.app.Get("/award-variations/:id", s.requireWebUser, s.awardVariationPage)
}

// variationForm is what the variation and cancellation forms were sent
// with, kept to show them again beside their errors.
type variationForm struct {
	Kind, Amount, StartsOn, EndsOn, Tranches, Reason, DecisionRecordID string
}

func (s *Server) awardPage(c *fiber.Ctx) error {
	return s.awardShow(c, variationForm{}, nil)
}

func (s *Server) awardShow(c *fiber.Ctx, form variationForm, errs map[string]string) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return s.awardView(c, id, form, errs, 0, nil)
}

// awardView renders award id: its payment figures and tranches, its
// variations and history, and the forms to move a tranche or vary the
// award. errs are the variation form's; trancheErrs a refused move of
// tranche trancheID, shown beside its form.
func (s *Server) awardView(c *fiber.Ctx, id int64, form variationForm, errs map[string]string, trancheID int64, trancheErrs map[string]string) error {
	ctx := c.UserContext()
	a, err := s.store.Award(ctx, id)
	if err != nil {
		return err
	}
	fl, err := s.store.FundingLine(ctx, a.FundingLineID)
	if err != nil {
		return err
	}
	recipient, err := s.store.Organisation(ctx, a.RecipientID)
	if err != nil {
		return err
	}
	variations, err := s.store.AwardVariations(ctx, id)
	if err != nil {
		return err
	}
	history, _, err := s.store.AuditEvents(ctx, store.AuditFilter{Entity: "award", EntityID: strconv.FormatInt(id, 10)})
	if err != nil {
		return err
	}
	records, err := s.store.DecisionRecords(ctx)
	if err != nil {
		return err
	}
	var cites *models.DecisionRecord // the record that authorised the award
	for _, r := range records {
		if a.DecisionRecordID != nil && r.ID == *a.DecisionRecordID {
			cites = r
		}
	}
	open := false
	rows := make([]awardVariationJSON, len(variations))
	for i, v := range variations {
		open = open || v.Status == models.DecisionPending
		rows[i] = toAwardVariationJSON(v)
	}
	if form.Kind == "" {
		var lines []string
		for _, t := range a.Tranches {
			lines = append(lines, t.DueOn.Format(models.DateLayout)+" "+models.FormatMoney(t.Amount))
		}
		form = variationForm{Amount: models.FormatMoney(a.Amount), StartsOn: a.StartsOn.Format(models.DateLayout),
			EndsOn: a.EndsOn.Format(models.DateLayout), Tranches: strings.Join(lines, "\n")}
	}
	if errs != nil || trancheErrs != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, "lines/award_show", fiber.Map{"Title": "Award " + a.Reference, "A": toAwardJSON(a), "Line": fl, "Recipient": recipient.Name,
		"Variations": rows, "Open": open, "History": history, "Records": records, "Cites": cites, "Form": form, "Errors": errs,
		"ErrTranche": trancheID, "TrancheErrors": trancheErrs, "Today": date(s.today())})
}

// parseTranches reads the form's schedule: one tranche a line, its due date
// then its amount ("2024-07-01 2500.00").
func parseTranches(text string) []models.TrancheInput {
	var out []models.TrancheInput
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		switch len(f) {
		case 0:
			continue
		case 1:
			out = append(out, models.TrancheInput{DueOn: f[0]})
		default:
			out = append(out, models.TrancheInput{DueOn: f[0], Amount: strings.Join(f[1:], " ")})
		}
	}
	return out
}

func (s *Server) awardVariationSave(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	form := variationForm{Kind: c.FormValue("kind"), Amount: c.FormValue("amount"), StartsOn: c.FormValue("starts_on"), EndsOn: c.FormValue("ends_on"),
		Tranches: c.FormValue("tranches"), Reason: c.FormValue("reason"), DecisionRecordID: c.FormValue("decision_record_id")}
	in := models.AwardVariationInput{Kind: form.Kind, Reason: form.Reason}
	if rid := formID(c, "decision_record_id"); rid != 0 {
		in.DecisionRecordID = &rid
	}
	if form.Kind == string(models.VariationCancellation) {
		if c.FormValue("confirm") != "yes" {
			return s.awardShow(c, form, map[string]string{"confirm": "tick the box to confirm the cancellation"})
		}
	} else {
		in.Amount, in.StartsOn, in.EndsOn, in.Tranches = form.Amount, form.StartsOn, form.EndsOn, parseTranches(form.Tranches)
	}
	if _, err := s.store.ProposeAwardVariation(c.UserContext(), actorOf(c), id, in); err != nil {
		errs, err2 := formErrors(err)
		if err2 != nil {
			return err2
		}
		errs["_"] = models.ErrorMessage(err)
		return s.awardShow(c, form, errs)
	}
	return c.Redirect(fmt.Sprintf("/awards/%d", id), fiber.StatusSeeOther)
}

// awardVariationPage leads from the approvals list to the variation on its
// award's page.
func (s *Server) awardVariationPage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := s.store.AwardVariation(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("/awards/%d#variation-%d", v.AwardID, v.ID), fiber.StatusSeeOther)
}
