package server

import (
	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// publisherSettingsJSON is the publisher identity the open-data exports
// name. An empty setting falls back to its environment variable.
type publisherSettingsJSON struct {
	Name                   string `json:"name" doc:"the publishing body's name; empty falls back to GRANTTRACK_PUBLISHER_NAME"`
	URI                    string `json:"uri" doc:"its web address, https://…; empty falls back to GRANTTRACK_PUBLISHER_URI"`
	OrgID                  string `json:"org_id" doc:"its org-id, e.g. GB-GOR-PC000001; empty falls back to GRANTTRACK_PUBLISHER_ORG_ID"`
	ThreeSixtyGivingPrefix string `json:"three_sixty_giving_prefix" doc:"360G- and the name 360Giving registered; empty falls back to GRANTTRACK_360GIVING_PREFIX"`
	OCIDPrefix             string `json:"ocid_prefix" doc:"ocds- and the 6 characters the Open Contracting Partnership registered; empty falls back to GRANTTRACK_OCID_PREFIX"`
	Licence                string `json:"licence" doc:"the licence's web address; empty falls back to GRANTTRACK_DATA_LICENCE"`
}

// publisherRoutes read and change the publisher settings.
func (s *Server) publisherRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/publisher-settings", Summary: "The publisher identity the open-data exports name, as stored (admins and auditors)", Roles: auditors, Response: publisherSettingsJSON{}, Handler: s.getPublisherSettings},
		{Method: "PUT", Path: "/api/v1/publisher-settings", Summary: "Change the publisher identity (admins; audited)", Roles: admins, Request: publisherSettingsJSON{}, Response: publisherSettingsJSON{}, Handler: s.putPublisherSettings},
	}
}

func (s *Server) getPublisherSettings(c *fiber.Ctx) error {
	p, err := s.store.PublisherSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(publisherSettingsJSON(p))
}

func (s *Server) putPublisherSettings(c *fiber.Ctx) error {
	var in publisherSettingsJSON
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := s.store.UpdatePublisherSettings(c.UserContext(), actorOf(c), models.Publisher(in))
	if err != nil {
		return err
	}
	return c.JSON(publisherSettingsJSON(p))
}
