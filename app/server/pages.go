package server

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// registerPages adds the web app's pages for funding lines, programmes and
// organisations. They call the same store methods as the API.
func (s *Server) registerPages() {
	s.app.Get("/funding-lines", s.requireWebUser, s.linesPage)
	s.app.Get("/funding-lines/new", s.requireWebRole(writers), s.lineNewPage)
	s.app.Post("/funding-lines/new", s.requireWebRole(writers), s.lineSave)
	s.app.Get("/funding-lines/:id", s.requireWebUser, s.linePage)
	s.app.Get("/funding-lines/:id/edit", s.requireWebRole(writers), s.lineEditPage)
	s.app.Post("/funding-lines/:id/edit", s.requireWebRole(writers), s.lineSave)
	s.app.Post("/funding-lines/:id/status", s.requireWebRole(writers), s.lineStatus)
	s.app.Get("/programmes", s.requireWebUser, s.programmesPage)
	s.app.Get("/organisations", s.requireWebUser, s.organisationsPage)
}

func (s *Server) linesPage(c *fiber.Ctx) error {
	f, ferr := fundingLineFilter(c)
	errs, err := formErrors(ferr)
	if err != nil {
		return err
	}
	if errs != nil {
		f = store.FundingLineFilter{Page: store.Page{Number: 1, PerPage: 50}}
	}
	fls, total, err := s.store.FundingLines(c.UserContext(), f)
	if err != nil {
		return err
	}
	budget, err := s.store.FundingLinesBudget(c.UserContext(), f)
	if err != nil {
		return err
	}
	pg := numberedPager(c, "funding lines", f.Page, len(fls), total)
	pg.Amount = moneyOf(budget)
	totals, err := s.totalsOf(c, fls)
	if err != nil {
		return err
	}
	progs, err := s.store.Programmes(c.UserContext())
	if err != nil {
		return err
	}
	progName := map[int64]string{}
	for _, p := range progs {
		progName[p.ID] = p.Name
	}
	type row struct {
		fundingLineJSON
		Programme string
	}
	rows := make([]row, len(fls))
	for i, fl := range fls {
		t := totals[fl.ID]
		rows[i] = row{toFundingLineJSON(fl, &t), progName[fl.ProgrammeID]}
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "lines/list", fiber.Map{"Title": "Funding lines", "Rows": rows, "Pager": pg, "Errors": errs,
		"Programmes": progs, "Statuses": models.AllFundingLineStatuses(),
		"Q": fiber.Map{"programme_id": c.Query("programme_id"), "status": c.Query("status"), "kind": c.Query("kind"), "fy": c.Query("fy"), "q": c.Query("q")}})
}

func (s *Server) linePage(c *fiber.Ctx) error { return s.lineShowWith(c, lineView{}) }

// lineAwardsShown bounds the awards a line's page lists; the awards list,
// filtered by the line, pages through the rest.
const lineAwardsShown = 50

// lineShow draws a funding line with a refused status change at the top.
func (s *Server) lineShow(c *fiber.Ctx, problem string) error {
	return s.lineShowWith(c, lineView{Problem: problem})
}

// lineShowWith draws a funding line with its totals, awards, reservations
// and indicators, and the state of a form that was refused, if any.
func (s *Server) lineShowWith(c *fiber.Ctx, v lineView) error {
	problem := v.Problem
	id, err := pathID(c)
	if err != nil {
		return err
	}
	fl, err := s.store.FundingLine(c.UserContext(), id)
	if err != nil {
		return err
	}
	totals, err := s.store.LineTotals(c.UserContext(), id)
	if err != nil {
		return err
	}
	t := totals[id]
	// The line's first awards; the awards list pages through the rest.
	awards, err := s.store.AwardsPage(c.UserContext(), store.AwardListFilter{FundingLineID: id, Page: store.Page{Number: 1, PerPage: lineAwardsShown}})
	if err != nil {
		return err
	}
	as, err := s.awardRows(c, awards.Awards)
	if err != nil {
		return err
	}
	names, err := s.names(c)
	if err != nil {
		return err
	}
	prog, err := s.store.Programme(c.UserContext(), fl.ProgrammeID)
	if err != nil {
		return err
	}
	decisions, err := s.store.LineDecisions(c.UserContext(), id)
	if err != nil {
		return err
	}
	records, err := s.store.DecisionRecords(c.UserContext())
	if err != nil {
		return err
	}
	users, err := s.store.Users(c.UserContext())
	if err != nil {
		return err
	}
	recordRefs := map[int64]string{}
	for _, r := range records {
		recordRefs[r.ID] = r.Reference
	}
	people := map[int64]string{}
	for _, u := range users {
		people[u.ID] = u.Name
	}
	status := fiber.StatusOK
	if problem != "" {
		status = fiber.StatusUnprocessableEntity
	}
	var supplier string
	if fl.AwardedSupplierID != nil {
		supplier = names.orgs[*fl.AwardedSupplierID]
	}
	outcomes, err := s.lineOutcomes(c, id, v)
	if err != nil {
		return err
	}
	if v.Errors != nil {
		status = fiber.StatusUnprocessableEntity
	}
	budget, err := s.lineBudget(c, id, v.Typed)
	if err != nil {
		return err
	}
	var docs []contractDocumentJSON
	var bands []bandExceptionJSON
	if fl.Kind == models.KindContract {
		ds, err := s.store.ContractDocuments(c.UserContext(), id)
		if err != nil {
			return err
		}
		docs = contractDocumentsJSON(ds)
		xs, err := s.store.BandExceptions(c.UserContext(), id)
		if err != nil {
			return err
		}
		for _, x := range xs {
			bands = append(bands, toBandExceptionJSON(x))
		}
	}
	return s.render(c.Status(status), "lines/show", fiber.Map{"Documents": docs, "DocKinds": models.ContractDocumentKinds(), "BandExceptions": bands,
		"Title": fl.Code, "L": toFundingLineJSON(fl, &t), "Programme": prog.Name,
		"Funder": names.orgs[fl.FunderID], "Supplier": supplier, "Awards": as, "AwardCount": awards.Count, "AwardAmount": money(awards.Amount), "Next": fl.Status.Next(), "Problem": problem,
		"Reservations": outcomes.reservations, "Indicators": outcomes.indicators, "V": v, "Today": s.today().Format(models.DateLayout),
		"Decisions": decisions, "Records": records, "RecordRefs": recordRefs, "People": people,
		"Budget": budget, "Procedure": fl.Procedure(), "Contract": contractPositionOf(fl, t)})
}

// contractPosition is a contract line's value in its band and its spend
// against its value, as the reports give them.
type contractPosition struct {
	Band, SpendText string
	Overspent       bool
}

func contractPositionOf(fl *models.FundingLine, t models.LineTotals) *contractPosition {
	if fl.Kind != models.KindContract {
		return nil
	}
	p := &contractPosition{Band: models.ContractBand(fl.ContractValue, fl.TenderMinValue, fl.TenderMaxValue)}
	var over decimal.Decimal
	p.SpendText, over = models.ContractSpend(t.Spent, fl.ContractValue)
	p.Overspent = over.IsPositive()
	return p
}

// lineStatus proposes approving or activating a line for a second person's
// decision, or closes or cancels it with a reason once confirmed.
func (s *Server) lineStatus(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	to := models.FundingLineStatus(c.FormValue("status"))
	if models.LineDecisionKind(to) != "" {
		var record *int64
		if v, err := strconv.ParseInt(c.FormValue("decision_record_id"), 10, 64); err == nil && v > 0 {
			record = &v
		}
		_, err = s.store.ProposeLineStatus(c.UserContext(), actorOf(c), id, to, c.FormValue("reason"), record)
	} else if c.FormValue("confirm") != "yes" {
		err = models.Errorf(models.EINVALID, "Tick the box to confirm that the line should become %s.", to)
	} else {
		_, err = s.store.ChangeFundingLineStatus(c.UserContext(), actorOf(c), id, to, c.FormValue("reason"))
	}
	if err != nil {
		if code := models.ErrorCode(err); code == models.EINVALID || code == models.ECONFLICT || code == models.EFORBIDDEN {
			return s.lineShow(c, models.ErrorMessage(err))
		}
		return err
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d", id), fiber.StatusSeeOther)
}

// lineForm draws the create/edit form with typed values and errors.
func (s *Server) lineForm(c *fiber.Ctx, id int64, in models.FundingLineInput, errs map[string]string) error {
	progs, err := s.store.Programmes(c.UserContext())
	if err != nil {
		return err
	}
	orgs, _, err := s.store.Organisations(c.UserContext(), store.OrganisationFilter{})
	if err != nil {
		return err
	}
	if in.Tender == nil {
		in.Tender = &models.TenderInput{}
	}
	var supplierID int64
	if in.Tender.AwardedSupplierID != nil {
		supplierID = *in.Tender.AwardedSupplierID
	}
	var method, category string
	if in.Tender.ProcurementMethod != nil {
		method = *in.Tender.ProcurementMethod
	}
	if in.Tender.MainCategory != nil {
		category = *in.Tender.MainCategory
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	title := "New funding line"
	if id != 0 {
		title = "Edit " + in.Code
	}
	return s.render(c.Status(status), "lines/form", fiber.Map{"Title": title, "ID": id, "In": in, "Errors": errs,
		"Programmes": progs, "Orgs": orgs, "SupplierID": supplierID, "Kinds": []string{"grant", "contract", "allocation"},
		"Methods": models.ProcurementMethods(), "Categories": models.ProcurementCategories, "Method": method, "Category": category})
}

func (s *Server) lineNewPage(c *fiber.Ctx) error {
	return s.lineForm(c, 0, models.FundingLineInput{}, nil)
}

func (s *Server) lineEditPage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	fl, err := s.store.FundingLine(c.UserContext(), id)
	if err != nil {
		return err
	}
	j := toFundingLineJSON(fl, nil)
	in := models.FundingLineInput{Code: fl.Code, Title: fl.Title, Description: fl.Description, Kind: string(fl.Kind),
		ProgrammeID: fl.ProgrammeID, FunderID: fl.FunderID, Budget: string(j.Budget), StartsOn: string(j.StartsOn), EndsOn: string(j.EndsOn),
		CostCentre: derefText(fl.CostCentre), GLAccount: derefText(fl.GLAccount)}
	if t := j.Tender; t != nil {
		in.Tender = &models.TenderInput{Reference: t.Reference, MinValue: (*string)(t.MinValue), MaxValue: (*string)(t.MaxValue),
			ClosesOn: (*string)(t.ClosesOn), AwardedSupplierID: t.AwardedSupplierID, ProcurementMethod: (*string)(t.ProcurementMethod),
			DirectAwardReason: t.DirectAwardReason, FrameworkName: t.FrameworkName, ContractTitle: t.ContractTitle,
			PublishedOn: (*string)(t.PublishedOn), ContractValue: (*string)(t.ContractValue), ContractStartsOn: (*string)(t.ContractStartsOn),
			ContractEndsOn: (*string)(t.ContractEndsOn), MainCategory: t.MainCategory}
	}
	return s.lineForm(c, id, in, nil)
}

func optForm(c *fiber.Ctx, name string) *string {
	v := c.FormValue(name)
	if v == "" {
		return nil
	}
	return &v
}

// lineSave creates a funding line (no :id) or replaces one.
func (s *Server) lineSave(c *fiber.Ctx) error {
	var id int64
	if c.Params("id") != "" {
		var err error
		if id, err = pathID(c); err != nil {
			return err
		}
	}
	in := models.FundingLineInput{Code: c.FormValue("code"), Title: c.FormValue("title"), Description: c.FormValue("description"),
		Kind: c.FormValue("kind"), ProgrammeID: formID(c, "programme_id"), FunderID: formID(c, "funder_id"),
		Budget: c.FormValue("budget"), StartsOn: c.FormValue("starts_on"), EndsOn: c.FormValue("ends_on"),
		CostCentre: c.FormValue("cost_centre"), GLAccount: c.FormValue("gl_account"),
		Tender: &models.TenderInput{Reference: optForm(c, "tender_reference"), MinValue: optForm(c, "tender_min_value"),
			MaxValue: optForm(c, "tender_max_value"), ClosesOn: optForm(c, "tender_closes_on"),
			ProcurementMethod: optForm(c, "procurement_method"), DirectAwardReason: optForm(c, "direct_award_reason"),
			FrameworkName: optForm(c, "framework_name"), ContractTitle: optForm(c, "contract_title"),
			PublishedOn: optForm(c, "tender_published_on"), ContractValue: optForm(c, "contract_value"),
			ContractStartsOn: optForm(c, "contract_starts_on"), ContractEndsOn: optForm(c, "contract_ends_on"),
			MainCategory: optForm(c, "main_procurement_category")}}
	if sup := formID(c, "awarded_supplier_id"); sup != 0 {
		in.Tender.AwardedSupplierID = &sup
	}
	fl, err := in.Validate()
	if err == nil {
		if id == 0 {
			err = s.store.CreateFundingLine(c.UserContext(), actorOf(c), fl)
		} else {
			err = s.store.UpdateFundingLine(c.UserContext(), actorOf(c), id, fl)
		}
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.lineForm(c, id, in, errs)
	}
	return c.Redirect("/funding-lines/"+strconv.FormatInt(fl.ID, 10), fiber.StatusSeeOther)
}

func (s *Server) programmesPage(c *fiber.Ctx) error {
	ps, err := s.store.Programmes(c.UserContext())
	if err != nil {
		return err
	}
	return s.render(c, "orgs/programmes", fiber.Map{"Title": "Programmes", "Programmes": ps})
}

func (s *Server) organisationsPage(c *fiber.Ctx) error {
	f, ferr := organisationFilter(c)
	errs, err := formErrors(ferr)
	if err != nil {
		return err
	}
	if errs != nil {
		f = store.OrganisationFilter{Page: store.Page{Number: 1, PerPage: 50}}
	}
	os, total, err := s.store.Organisations(c.UserContext(), f)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "orgs/organisations", fiber.Map{"Title": "Organisations", "Orgs": os, "Errors": errs,
		"Pager": numberedPager(c, "organisations", f.Page, len(os), total), "Q": fiber.Map{"role": c.Query("role"), "q": c.Query("q")}})
}
