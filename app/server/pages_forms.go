package server

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// The create/edit forms for programmes and organisations, and the award form.

func (s *Server) registerFormPages() {
	s.app.Get("/programmes/new", s.requireWebRole(writers), s.programmeFormPage)
	s.app.Post("/programmes/new", s.requireWebRole(writers), s.programmeSave)
	s.app.Get("/programmes/:id/edit", s.requireWebRole(writers), s.programmeFormPage)
	s.app.Post("/programmes/:id/edit", s.requireWebRole(writers), s.programmeSave)
	s.app.Get("/organisations/new", s.requireWebRole(writers), s.organisationFormPage)
	s.app.Post("/organisations/new", s.requireWebRole(writers), s.organisationSave)
	s.app.Get("/organisations/:id/edit", s.requireWebRole(writers), s.organisationFormPage)
	s.app.Post("/organisations/:id/edit", s.requireWebRole(writers), s.organisationSave)
	s.app.Get("/funding-lines/:id/awards/new", s.requireWebRole(writers), s.awardFormPage)
	s.app.Post("/funding-lines/:id/awards/new", s.requireWebRole(writers), s.awardSave)
}

// optionalID reads :id where a route serves both "new" and ":id/edit".
func optionalID(c *fiber.Ctx) (int64, error) {
	if c.Params("id") == "" {
		return 0, nil
	}
	return pathID(c)
}

// renderForm draws a form page, 422 when it carries errors.
func (s *Server) renderForm(c *fiber.Ctx, name string, errs map[string]string, data fiber.Map) error {
	if errs != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	data["Errors"] = errs
	return s.render(c, name, data)
}

func (s *Server) programmeFormPage(c *fiber.Ctx) error {
	id, err := optionalID(c)
	if err != nil {
		return err
	}
	in := models.ProgrammeInput{Plan: "Police and Crime Plan 2022-25"}
	if id != 0 {
		p, err := s.store.Programme(c.UserContext(), id)
		if err != nil {
			return err
		}
		in = models.ProgrammeInput{Code: p.Code, Name: p.Name, Description: p.Description, Plan: p.Plan}
	}
	return s.renderForm(c, "orgs/programme_form", nil, fiber.Map{"Title": "Programme", "ID": id, "In": in})
}

func (s *Server) programmeSave(c *fiber.Ctx) error {
	id, err := optionalID(c)
	if err != nil {
		return err
	}
	in := models.ProgrammeInput{Code: c.FormValue("code"), Name: c.FormValue("name"), Description: c.FormValue("description"), Plan: c.FormValue("plan")}
	p, err := in.Validate()
	if err == nil {
		if id == 0 {
			err = s.store.CreateProgramme(c.UserContext(), actorOf(c), p)
		} else {
			err = s.store.UpdateProgramme(c.UserContext(), actorOf(c), id, p)
		}
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.renderForm(c, "orgs/programme_form", errs, fiber.Map{"Title": "Programme", "ID": id, "In": in})
	}
	return c.Redirect("/programmes", fiber.StatusSeeOther)
}

func (s *Server) organisationFormPage(c *fiber.Ctx) error {
	id, err := optionalID(c)
	if err != nil {
		return err
	}
	in := models.OrganisationInput{IsRecipient: true}
	if id != 0 {
		o, err := s.store.Organisation(c.UserContext(), id)
		if err != nil {
			return err
		}
		in = models.OrganisationInput{Name: o.Name, OrgID: o.OrgID, CharityNumber: o.CharityNumber, CompanyNumber: o.CompanyNumber,
			Borough: o.Borough, GSSCode: o.GSSCode, IsFunder: o.IsFunder, IsRecipient: o.IsRecipient, IsSupplier: o.IsSupplier}
	}
	return s.renderForm(c, "orgs/organisation_form", nil, fiber.Map{"Title": "Organisation", "ID": id, "In": in})
}

func (s *Server) organisationSave(c *fiber.Ctx) error {
	id, err := optionalID(c)
	if err != nil {
		return err
	}
	in := models.OrganisationInput{Name: c.FormValue("name"), OrgID: optForm(c, "org_id"), CharityNumber: optForm(c, "charity_number"),
		CompanyNumber: optForm(c, "company_number"), Borough: optForm(c, "borough"),
		GSSCode: optForm(c, "gss_code"), IsFunder: c.FormValue("is_funder") != "", IsRecipient: c.FormValue("is_recipient") != "", IsSupplier: c.FormValue("is_supplier") != ""}
	o, err := in.Validate()
	if err == nil {
		if id == 0 {
			err = s.store.CreateOrganisation(c.UserContext(), actorOf(c), o)
		} else {
			err = s.store.UpdateOrganisation(c.UserContext(), actorOf(c), id, o)
		}
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.renderForm(c, "orgs/organisation_form", errs, fiber.Map{"Title": "Organisation", "ID": id, "In": in})
	}
	return c.Redirect("/organisations", fiber.StatusSeeOther)
}

func (s *Server) awardForm(c *fiber.Ctx, lineID int64, in models.AwardInput, errs map[string]string) error {
	fl, err := s.store.FundingLine(c.UserContext(), lineID)
	if err != nil {
		return err
	}
	totals, err := s.store.LineTotals(c.UserContext(), lineID)
	if err != nil {
		return err
	}
	orgs, _, err := s.store.Organisations(c.UserContext(), store.OrganisationFilter{})
	if err != nil {
		return err
	}
	return s.renderForm(c, "lines/award_form", errs, fiber.Map{"Title": "New award on " + fl.Code, "Line": fl,
		"Uncommitted": money(totals[lineID].Uncommitted()), "In": in, "Orgs": orgs})
}

func (s *Server) awardFormPage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	return s.awardForm(c, id, models.AwardInput{TrancheCount: 1}, nil)
}

func (s *Server) awardSave(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	n := int(formID(c, "tranche_count"))
	in := models.AwardInput{RecipientID: formID(c, "recipient_id"), Reference: c.FormValue("reference"), Purpose: c.FormValue("purpose"),
		Conditions: c.FormValue("conditions"), CrimeReductionReason: c.FormValue("crime_reduction_reason"),
		Amount: c.FormValue("amount"), AwardedOn: c.FormValue("awarded_on"), StartsOn: c.FormValue("starts_on"), EndsOn: c.FormValue("ends_on"),
		TrancheCount: n}
	a, err := in.Validate(id)
	if err == nil {
		err = s.store.CreateAward(c.UserContext(), actorOf(c), a)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.awardForm(c, id, in, errs)
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d", id), fiber.StatusSeeOther)
}
