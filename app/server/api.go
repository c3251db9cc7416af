package server

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

func (s *Server) healthz(c *fiber.Ctx) error { return c.JSON(health{Status: "ok"}) }

func (s *Server) readyz(c *fiber.Ctx) error {
	if err := s.store.Ping(c.UserContext()); err != nil {
		return err
	}
	return c.JSON(health{Status: "ready"})
}

// pageOf reads page and per_page (default 50, at most store.MaxPerPage).
func pageOf(c *fiber.Ctx, p *models.Problems) store.Page {
	pg := store.Page{Number: 1, PerPage: 50}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			p.Add("page", "must be a whole number from 1")
		}
		pg.Number = n
	}
	if v := c.Query("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPerPage {
			p.Add("per_page", "must be a whole number from 1 to %d", store.MaxPerPage)
		}
		pg.PerPage = n
	}
	return pg
}

func queryID(c *fiber.Ctx, name string, p *models.Problems) int64 {
	v := c.Query(name)
	if v == "" {
		return 0
	}
	id, err := models.ParseID(v)
	if err != nil {
		p.Add(name, "%s", models.ErrorMessage(err))
	}
	return id
}

// queryText reads a text filter from the query, trimmed; text that could
// not have been typed (control characters, invalid UTF-8) is a problem on
// that parameter rather than a query the database refuses.
func queryText(c *fiber.Ctx, name string, p *models.Problems) string {
	v := c.Query(name)
	if err := models.CheckText(v, false); err != nil {
		p.Add(name, "%s", models.ErrorMessage(err))
		return ""
	}
	return strings.TrimSpace(v)
}

func created(c *fiber.Ctx, location string, body any) error {
	c.Location(location)
	return c.Status(fiber.StatusCreated).JSON(body)
}

// Programmes.

func (s *Server) listProgrammes(c *fiber.Ctx) error {
	ps, err := s.store.Programmes(c.UserContext())
	if err != nil {
		return err
	}
	out := list[programmeJSON]{Items: []programmeJSON{}, Page: 1, PerPage: len(ps), Total: len(ps)}
	for _, p := range ps {
		out.Items = append(out.Items, toProgrammeJSON(p))
	}
	return c.JSON(out)
}

func (s *Server) createProgramme(c *fiber.Ctx) error {
	var in models.ProgrammeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateProgramme(c.UserContext(), actorOf(c), p); err != nil {
		return err
	}
	return created(c, "/api/v1/programmes/"+strconv.FormatInt(p.ID, 10), toProgrammeJSON(p))
}

func (s *Server) getProgramme(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	p, err := s.store.Programme(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toProgrammeJSON(p))
}

func (s *Server) updateProgramme(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.ProgrammeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.store.UpdateProgramme(c.UserContext(), actorOf(c), id, p); err != nil {
		return err
	}
	return c.JSON(toProgrammeJSON(p))
}

// Organisations.

// organisationFilter reads the list filters shared by the API and the web list.
func organisationFilter(c *fiber.Ctx) (store.OrganisationFilter, error) {
	var p models.Problems
	f := store.OrganisationFilter{Role: c.Query("role"), Search: querySearch(c, "q", &p), Page: pageOf(c, &p)}
	switch f.Role {
	case "", "funder", "recipient", "supplier":
	default:
		p.Add("role", "must be funder, recipient or supplier")
	}
	return f, p.Err()
}

func (s *Server) listOrganisations(c *fiber.Ctx) error {
	f, err := organisationFilter(c)
	if err != nil {
		return err
	}
	os, total, err := s.store.Organisations(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := list[organisationJSON]{Items: []organisationJSON{}, Page: f.Page.Number, PerPage: f.Page.PerPage, Total: total,
		Next: nextLink(c, f.Page, len(os), total)}
	for _, o := range os {
		out.Items = append(out.Items, toOrganisationJSON(o))
	}
	return c.JSON(out)
}

func (s *Server) createOrganisation(c *fiber.Ctx) error {
	var in models.OrganisationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateOrganisation(c.UserContext(), actorOf(c), o); err != nil {
		return err
	}
	return created(c, "/api/v1/organisations/"+strconv.FormatInt(o.ID, 10), toOrganisationJSON(o))
}

func (s *Server) getOrganisation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	o, err := s.store.Organisation(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toOrganisationJSON(o))
}

func (s *Server) updateOrganisation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.OrganisationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	o, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.store.UpdateOrganisation(c.UserContext(), actorOf(c), id, o); err != nil {
		return err
	}
	return c.JSON(toOrganisationJSON(o))
}

// Funding lines.

// fundingLineFilter reads the list filters shared by the API and the web list.
func fundingLineFilter(c *fiber.Ctx) (store.FundingLineFilter, error) {
	var p models.Problems
	f := store.FundingLineFilter{
		ProgrammeID: queryID(c, "programme_id", &p),
		Status:      models.FundingLineStatus(c.Query("status")),
		Kind:        models.FundingLineKind(c.Query("kind")),
		Search:      querySearch(c, "q", &p),
		Page:        pageOf(c, &p),
	}
	if f.Status != "" && !f.Status.Valid() {
		p.Add("status", "must be one of draft, approved, active, closed or cancelled")
	}
	if f.Kind != "" && !f.Kind.Valid() {
		p.Add("kind", "must be one of grant, contract or allocation")
	}
	if v := c.Query("fy"); v != "" {
		fy, err := models.ParseFinancialYear(v)
		if err != nil {
			p.Add("fy", "%s", models.ErrorMessage(err))
		} else {
			f.Year = &fy
		}
	}
	return f, p.Err()
}

func (s *Server) listFundingLines(c *fiber.Ctx) error {
	f, err := fundingLineFilter(c)
	if err != nil {
		return err
	}
	fls, total, err := s.store.FundingLines(c.UserContext(), f)
	if err != nil {
		return err
	}
	totals, err := s.totalsOf(c, fls)
	if err != nil {
		return err
	}
	out := list[fundingLineJSON]{Items: []fundingLineJSON{}, Page: f.Page.Number, PerPage: f.Page.PerPage, Total: total,
		Next: nextLink(c, f.Page, len(fls), total)}
	for _, fl := range fls {
		t := totals[fl.ID]
		out.Items = append(out.Items, toFundingLineJSON(fl, &t))
	}
	return c.JSON(out)
}

// totalsOf returns the money figures of each funding line listed.
func (s *Server) totalsOf(c *fiber.Ctx, fls []*models.FundingLine) (map[int64]models.LineTotals, error) {
	ids := make([]int64, len(fls))
	for i, fl := range fls {
		ids[i] = fl.ID
	}
	return s.store.LineTotals(c.UserContext(), ids...)
}

func (s *Server) fundingLineWithTotals(c *fiber.Ctx, fl *models.FundingLine) error {
	totals, err := s.storeOf(c).LineTotals(c.UserContext(), fl.ID)
	if err != nil {
		return err
	}
	t := totals[fl.ID]
	return c.JSON(toFundingLineJSON(fl, &t))
}

func (s *Server) createFundingLine(c *fiber.Ctx) error {
	var in models.FundingLineInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	fl, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateFundingLine(c.UserContext(), actorOf(c), fl); err != nil {
		return err
	}
	c.Status(fiber.StatusCreated).Location("/api/v1/funding-lines/" + strconv.FormatInt(fl.ID, 10))
	return s.fundingLineWithTotals(c, fl)
}

func (s *Server) getFundingLine(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	fl, err := s.store.FundingLine(c.UserContext(), id)
	if err != nil {
		return err
	}
	return s.fundingLineWithTotals(c, fl)
}

func (s *Server) updateFundingLine(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.FundingLineInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	fl, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.store.UpdateFundingLine(c.UserContext(), actorOf(c), id, fl); err != nil {
		return err
	}
	return s.fundingLineWithTotals(c, fl)
}

func (s *Server) changeFundingLineStatus(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in statusInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	to := models.FundingLineStatus(strings.TrimSpace(in.Status))
	if !to.Valid() {
		var p models.Problems
		p.Add("status", "must be one of draft, approved, active, closed or cancelled")
		return p.Err()
	}
	fl, err := s.store.ChangeFundingLineStatus(c.UserContext(), actorOf(c), id, to, in.Reason)
	if err != nil {
		return err
	}
	return s.fundingLineWithTotals(c, fl)
}

// Awards.

func (s *Server) createAward(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.AwardInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	a, err := in.Validate(id)
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateAward(c.UserContext(), actorOf(c), a); err != nil {
		return err
	}
	return created(c, "/api/v1/awards/"+strconv.FormatInt(a.ID, 10), toAwardJSON(a))
}

func (s *Server) getAward(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	a, err := s.store.Award(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toAwardJSON(a))
}

type auditVerifyQuery struct {
	Anchor string `query:"anchor" doc:"HASH@SEQ from an export's manifest (audit_head_hash@audit_head_seq): the event at SEQ must still have HASH"`
}

// verifyAudit verifies the chain, and that it still holds the anchor if
// one is given; the verification is audited with its outcome.
func (s *Server) verifyAudit(c *fiber.Ctx) error {
	var anchors []models.AuditAnchor
	if v := c.Query("anchor"); v != "" {
		a, err := models.ParseAuditAnchor(v)
		if err != nil {
			return err
		}
		anchors = append(anchors, a)
	}
	chain, err := s.store.VerifyAuditChain(c.UserContext(), anchors...)
	if err != nil {
		return err
	}
	ledger, err := s.store.VerifyLedger(c.UserContext())
	if err != nil {
		return err
	}
	out := auditVerifyJSON{ChainStatus: chain, ChainOK: chain.OK, Ledger: ledger}
	out.OK = chain.OK && ledger.OK
	if chain.OK && !ledger.OK {
		out.Reason = ledger.Summary()
	}
	if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "audit.verify", Entity: "audit_chain", After: out}); err != nil {
		return err
	}
	return c.JSON(out)
}

// auditVerifyJSON is the chain's status, inline, and the ledger checked
// against the chain; ok is true only when both hold.
type auditVerifyJSON struct {
	store.ChainStatus
	ChainOK bool               `json:"chain_ok"`
	Ledger  store.LedgerStatus `json:"ledger"`
}
