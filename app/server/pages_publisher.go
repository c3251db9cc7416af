package server

import (
	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// The publisher settings page, for admins.

func (s *Server) registerPublisherPages() {
	s.app.Get("/settings/publisher", s.requireWebRole(admins), s.publisherSettingsPage)
	s.app.Post("/settings/publisher", s.requireWebRole(admins), s.publisherSettingsSave)
}

// publisherField is one input of the form.
type publisherField struct{ Name, Label, Value string }

// publisherForm lists the form's inputs, in the API's field names, showing p.
func publisherForm(p models.Publisher) []publisherField {
	return []publisherField{
		{"name", "Publisher's name", p.Name},
		{"uri", "Publisher's web address", p.URI},
		{"org_id", "Publisher's org-id, e.g. GB-GOR-PC000001", p.OrgID},
		{"three_sixty_giving_prefix", "360Giving prefix, e.g. 360G-mopac", p.ThreeSixtyGivingPrefix},
		{"ocid_prefix", "OCDS ocid prefix, e.g. ocds-abc123", p.OCIDPrefix},
		{"licence", "Licence's web address", p.Licence},
	}
}

func (s *Server) publisherSettingsPage(c *fiber.Ctx) error {
	p, err := s.store.PublisherSettings(c.UserContext())
	if err != nil {
		return err
	}
	return s.renderForm(c, "settings/publisher", nil, fiber.Map{"Title": "Publisher", "Fields": publisherForm(p), "Saved": c.Query("saved") == "1"})
}

func (s *Server) publisherSettingsSave(c *fiber.Ctx) error {
	in := models.Publisher{Name: c.FormValue("name"), URI: c.FormValue("uri"), OrgID: c.FormValue("org_id"),
		ThreeSixtyGivingPrefix: c.FormValue("three_sixty_giving_prefix"), OCIDPrefix: c.FormValue("ocid_prefix"), Licence: c.FormValue("licence")}
	if _, err := s.store.UpdatePublisherSettings(c.UserContext(), actorOf(c), in); err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.renderForm(c, "settings/publisher", errs, fiber.Map{"Title": "Publisher", "Fields": publisherForm(in)})
	}
	return c.Redirect("/settings/publisher?saved=1", fiber.StatusSeeOther)
}
