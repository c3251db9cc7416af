package server

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// The paged lists of awards and spend imports, on the web and in the API,
// read with one filter each so both faces page and filter alike.

func (s *Server) registerListPages() {
	s.app.Get("/awards", s.requireWebUser, s.awardsPage)
}

func (s *Server) listRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/awards", Summary: "List awards with their tranches, paged, with the whole filtered list's count and amount", Roles: everyone,
			Query: awardQuery{}, Response: list[awardJSON]{}, Handler: s.listAllAwards},
	}
}

// pagedList is an API list's page pg of total items, shown on this page,
// with the link to the next; its items are to be appended.
func pagedList[T any](c *fiber.Ctx, pg store.Page, shown, total int) list[T] {
	return list[T]{Items: []T{}, Page: pg.Number, PerPage: pg.PerPage, Total: total, Next: nextLink(c, pg, shown, total)}
}

// spendImportQuery is the imports list's filters.
type spendImportQuery struct {
	Awaiting string `query:"awaiting" doc:"true (the default): only imports with entries awaiting a decision, oldest first; false: every import, newest first"`
	Page     int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage  int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

// spendImportFilter reads the imports list's filters: the API lists the
// imports awaiting a decision unless told otherwise, the web page every
// import unless told otherwise.
func spendImportFilter(c *fiber.Ctx, awaiting bool) (store.SpendImportFilter, error) {
	var p models.Problems
	f := store.SpendImportFilter{Awaiting: awaiting, Page: pageOf(c, &p)}
	if v := c.Query("awaiting"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			p.Add("awaiting", "must be true or false")
		}
		f.Awaiting = b
	}
	return f, p.Err()
}

func (s *Server) listSpendImports(c *fiber.Ctx) error {
	f, err := spendImportFilter(c, true)
	if err != nil {
		return err
	}
	l, err := s.store.SpendImports(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := pagedList[spendImportJSON](c, f.Page, len(l.Imports), l.Count)
	out.Amount = moneyOf(l.Amount)
	for i := range l.Imports {
		out.Items = append(out.Items, toSpendImportJSON(&l.Imports[i]))
	}
	return c.JSON(out)
}

// spendImportsPage lists every import, newest first, or those awaiting a
// decision, oldest first.
func (s *Server) spendImportsPage(c *fiber.Ctx) error {
	f, ferr := spendImportFilter(c, false)
	errs, err := formErrors(ferr)
	if err != nil {
		return err
	}
	if errs != nil {
		f = store.SpendImportFilter{Page: store.Page{Number: 1, PerPage: 50}}
	}
	l, err := s.store.SpendImports(c.UserContext(), f)
	if err != nil {
		return err
	}
	rows := make([]importRow, len(l.Imports))
	for i, imp := range l.Imports {
		rows[i] = toImportRow(imp)
	}
	pg := numberedPager(c, "imports", f.Page, len(rows), l.Count)
	pg.Amount = moneyOf(l.Amount)
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "spend/imports", fiber.Map{"Title": "Spend imports", "Rows": rows, "Pager": pg, "Errors": errs,
		"Awaiting": f.Awaiting, "PerPage": c.Query("per_page")})
}

// awardQuery is the awards list's filters.
type awardQuery struct {
	FundingLineID int64  `query:"funding_line_id"`
	RecipientID   int64  `query:"recipient_id"`
	Status        string `query:"status" doc:"pending, approved, rejected, withdrawn or cancelled"`
	Q             string `query:"q" doc:"search the reference, purpose and recipient's name (at most 100 characters; % and _ match themselves)"`
	Page          int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage       int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

// lineAwardQuery is a funding line's awards list's filters.
type lineAwardQuery struct {
	RecipientID int64  `query:"recipient_id"`
	Status      string `query:"status" doc:"pending, approved, rejected, withdrawn or cancelled"`
	Q           string `query:"q" doc:"search the reference, purpose and recipient's name (at most 100 characters; % and _ match themselves)"`
	Page        int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage     int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

// awardFilter reads the awards list's filters; lineID, when not zero, is
// the line the list is of (from the path) rather than a filter.
func awardFilter(c *fiber.Ctx, lineID int64) (store.AwardListFilter, error) {
	var p models.Problems
	f := store.AwardListFilter{FundingLineID: lineID, RecipientID: queryID(c, "recipient_id", &p),
		Status: models.DecisionStatus(c.Query("status")), Search: querySearch(c, "q", &p), Page: pageOf(c, &p)}
	if lineID == 0 {
		f.FundingLineID = queryID(c, "funding_line_id", &p)
	}
	switch f.Status {
	case "", models.DecisionPending, models.DecisionApproved, models.DecisionRejected, models.DecisionWithdrawn, models.DecisionCancelled:
	default:
		p.Add("status", "must be pending, approved, rejected, withdrawn or cancelled")
	}
	return f, p.Err()
}

// awardsJSON answers a page of awards.
func awardsJSON(c *fiber.Ctx, f store.AwardListFilter, l *store.AwardList) error {
	out := pagedList[awardJSON](c, f.Page, len(l.Awards), l.Count)
	out.Amount = moneyOf(l.Amount)
	for _, a := range l.Awards {
		out.Items = append(out.Items, toAwardJSON(a))
	}
	return c.JSON(out)
}

func (s *Server) listAllAwards(c *fiber.Ctx) error {
	f, err := awardFilter(c, 0)
	if err != nil {
		return err
	}
	l, err := s.store.AwardsPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	return awardsJSON(c, f, l)
}

// listAwards lists one funding line's awards.
func (s *Server) listAwards(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.store.FundingLine(c.UserContext(), id); err != nil {
		return err
	}
	f, err := awardFilter(c, id)
	if err != nil {
		return err
	}
	l, err := s.store.AwardsPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	return awardsJSON(c, f, l)
}

// awardRow is an award as the lists show it, with its recipient's name and
// its line's code.
type awardRow struct {
	awardJSON
	Recipient, LineCode string
}

// awardRows names the recipients and lines of the awards listed.
func (s *Server) awardRows(c *fiber.Ctx, as []*models.Award) ([]awardRow, error) {
	var orgIDs, lineIDs []int64
	for _, a := range as {
		orgIDs, lineIDs = append(orgIDs, a.RecipientID), append(lineIDs, a.FundingLineID)
	}
	orgs, err := s.store.OrganisationNames(c.UserContext(), orgIDs...)
	if err != nil {
		return nil, err
	}
	lines, err := s.store.LineCodes(c.UserContext(), lineIDs...)
	if err != nil {
		return nil, err
	}
	rows := make([]awardRow, len(as))
	for i, a := range as {
		rows[i] = awardRow{toAwardJSON(a), orgs[a.RecipientID], lines[a.FundingLineID]}
	}
	return rows, nil
}

// awardsPage is every award, paged and filtered by line, recipient,
// status and words.
func (s *Server) awardsPage(c *fiber.Ctx) error {
	f, ferr := awardFilter(c, 0)
	errs, err := formErrors(ferr)
	if err != nil {
		return err
	}
	if errs != nil {
		f = store.AwardListFilter{Page: store.Page{Number: 1, PerPage: 50}}
	}
	l, err := s.store.AwardsPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	rows, err := s.awardRows(c, l.Awards)
	if err != nil {
		return err
	}
	pg := numberedPager(c, "awards", f.Page, len(rows), l.Count)
	pg.Amount = moneyOf(l.Amount)
	q := fiber.Map{}
	for _, k := range []string{"funding_line_id", "recipient_id", "status", "q", "per_page"} {
		q[k] = c.Query(k)
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "lines/awards", fiber.Map{"Title": "Awards", "Rows": rows, "Pager": pg, "Errors": errs, "Q": q,
		"Statuses": []models.DecisionStatus{models.DecisionPending, models.DecisionApproved, models.DecisionRejected, models.DecisionWithdrawn, models.DecisionCancelled}})
}
