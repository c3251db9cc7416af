package server

import "github.com/gofiber/fiber/v2"

// alertsPerPage is how many alerts the alerts page shows at a time, and
// the approvals page its most urgent.
const alertsPerPage = 50

// alertsPage lists all the signed-in user's alerts, a page at a time; the
// dashboard and the approvals page link to it beneath their most urgent.
func (s *Server) alertsPage(c *fiber.Ctx) error {
	pg, _ := webPageOf(c) // a bad page shows the first, as every list does
	pg.PerPage = alertsPerPage
	items, total, err := s.alertsOf(c, pg)
	if err != nil {
		return err
	}
	pager := numberedPager(c, "alerts", pg, len(items), total)
	return s.render(c, "alerts/page", fiber.Map{"Title": "My alerts", "Alerts": alertList{Items: items, All: total, Pager: &pager}})
}
