package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// The spend pages: record spend, the approvals queue, an entry with its
// history, and the decisions on it. They use the same store calls as the API.

func (s *Server) registerSpendPages() {
	s.app.Get("/spend", s.requireWebUser, s.spendListPage)
	s.app.Get("/spend/new", s.requireWebRole(writers), s.spendNewPage)
	s.app.Post("/spend/new", s.requireWebRole(writers), s.spendCreate)
	s.registerImportPages() // before /spend/:id, which would take "import" for an id
	s.app.Get("/spend/:id", s.requireWebUser, s.spendShowPage)
	s.app.Post("/spend/:id/evidence", s.requireWebRole(writers), s.spendEvidenceUpload)
	s.app.Get("/spend/:id/evidence/:evidence_id", s.requireWebUser, s.downloadEvidence)
	s.limitBody("POST", "/spend/:id/evidence", models.MaxEvidenceSize, "an evidence file")
	s.limitBody("POST", "/spend/new", models.MaxEvidenceSize, "an evidence file")
	s.app.Post("/spend/:id/approve", s.requireWebRole(writers), s.spendDecide("approve"))
	s.app.Post("/spend/:id/reject", s.requireWebRole(writers), s.spendDecide("reject"))
	s.app.Post("/spend/:id/reverse", s.requireWebRole(writers), s.spendDecide("reverse"))
}

// importRow is an import awaiting decisions, its money as the pages show it.
type importRow struct {
	store.SpendImport
	Total, PendingTotal Money
}

func toImportRow(imp store.SpendImport) importRow {
	return importRow{SpendImport: imp, Total: money(imp.Total), PendingTotal: money(imp.PendingTotal)}
}

// spendRow is an entry with the names a person reads.
type spendRow struct {
	spendJSON
	Line, Payee string
	Mine        bool
}

func (s *Server) spendRows(c *fiber.Ctx, es []*models.SpendEntry) ([]spendRow, error) {
	lineIDs, orgIDs := make([]int64, len(es)), make([]int64, len(es))
	for i, e := range es {
		lineIDs[i], orgIDs[i] = e.FundingLineID, e.PayeeID
	}
	names, err := s.namesFor(c, lineIDs, orgIDs)
	if err != nil {
		return nil, err
	}
	u := currentUser(c)
	rows := make([]spendRow, len(es))
	for i, e := range es {
		rows[i] = spendRow{spendJSON: toSpendJSON(e), Line: names.lines[e.FundingLineID], Payee: names.orgs[e.PayeeID], Mine: u != nil && e.RecordedBy == u.ID}
	}
	return rows, nil
}

// namesFor reads the codes and names of the lines and organisations a page
// shows, and no others.
func (s *Server) namesFor(c *fiber.Ctx, lineIDs, orgIDs []int64) (nameMaps, error) {
	lines, err := s.store.LineCodes(c.UserContext(), lineIDs...)
	if err != nil {
		return nameMaps{}, err
	}
	orgs, err := s.store.OrganisationNames(c.UserContext(), orgIDs...)
	return nameMaps{lines: lines, orgs: orgs}, err
}

type nameMaps struct {
	lines map[int64]string
	orgs  map[int64]string
}

func (s *Server) names(c *fiber.Ctx) (nameMaps, error) {
	m := nameMaps{lines: map[int64]string{}, orgs: map[int64]string{}}
	fls, _, err := s.store.FundingLines(c.UserContext(), store.FundingLineFilter{})
	if err != nil {
		return m, err
	}
	for _, fl := range fls {
		m.lines[fl.ID] = fl.Code
	}
	os, _, err := s.store.Organisations(c.UserContext(), store.OrganisationFilter{})
	if err != nil {
		return m, err
	}
	for _, o := range os {
		m.orgs[o.ID] = o.Name
	}
	return m, nil
}

// spendPageImports bounds the imports awaiting a decision the spend page
// lists; /spend/imports pages through the rest.
const spendPageImports = 20

func (s *Server) spendListPage(c *fiber.Ctx) error {
	f, err := spendFilter(c)
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	if errs != nil {
		f = store.SpendFilter{Page: store.Page{Number: 1, PerPage: 50}}
	}
	ledger, err := s.store.SpendPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	rows, err := s.spendRows(c, ledger.Entries)
	if err != nil {
		return err
	}
	pending, _, err := s.store.SpendEntries(c.UserContext(), store.SpendFilter{Status: models.SpendPending, Page: store.Page{Number: 1, PerPage: 200}})
	if err != nil {
		return err
	}
	queue, err := s.spendRows(c, pending)
	if err != nil {
		return err
	}
	var others []spendRow // an officer's queue is what someone else recorded
	for _, r := range queue {
		if !r.Mine {
			others = append(others, r)
		}
	}
	// The first imports awaiting someone else's decision; the imports list
	// pages through the rest.
	af := store.SpendImportFilter{Awaiting: true, Page: store.Page{Number: 1, PerPage: spendPageImports}}
	if u := currentUser(c); u != nil {
		af.NotImportedBy = u.ID
	}
	awaiting, err := s.store.SpendImports(c.UserContext(), af)
	if err != nil {
		return err
	}
	var imports []importRow
	for _, imp := range awaiting.Imports {
		imports = append(imports, toImportRow(imp))
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "spend/list", fiber.Map{"Title": "Spend", "Rows": rows, "Pager": ledgerPager(c, f.Page, ledger),
		"Queue": others, "Imports": imports, "ImportCount": awaiting.Count, "Errors": errs, "Q": fiber.Map{"status": c.Query("status"), "fy": c.Query("fy"),
			"quarter": c.Query("quarter"), "import_id": c.Query("import_id"), "q": c.Query("q")}})
}

// pickerSize bounds the lines and payees the record-spend form offers at
// once; a search narrows them.
const pickerSize = 20

// spendForm is what the record-spend form shows: the active lines matching
// the line search (line_q) with what remains on each, the organisations
// matching the payee search (payee_q), and the chosen line and payee
// always. It reads the figures of the lines offered only.
func (s *Server) spendForm(c *fiber.Ctx, in models.SpendInput, errs map[string]string) error {
	ctx := c.UserContext()
	var p models.Problems
	lineQ, payeeQ := querySearch(c, "line_q", &p), querySearch(c, "payee_q", &p)
	for _, fe := range p {
		if errs == nil {
			errs = map[string]string{}
		}
		errs[fe.Field] = fe.Message
	}
	fls, lineCount, err := s.store.FundingLines(ctx, store.FundingLineFilter{Status: models.StatusActive, Search: lineQ, Page: store.Page{Number: 1, PerPage: pickerSize}})
	if err != nil {
		return err
	}
	if in.FundingLineID > 0 && !slices.ContainsFunc(fls, func(fl *models.FundingLine) bool { return fl.ID == in.FundingLineID }) {
		if fl, err := s.store.FundingLine(ctx, in.FundingLineID); err == nil && fl.Status == models.StatusActive {
			fls = append([]*models.FundingLine{fl}, fls...)
		}
	}
	totals, err := s.totalsOf(c, fls)
	if err != nil {
		return err
	}
	type lineOption struct {
		ID               int64
		Code, Title      string
		Remaining, Spent Money
	}
	var lines []lineOption
	for _, fl := range fls {
		t := totals[fl.ID]
		lines = append(lines, lineOption{ID: fl.ID, Code: fl.Code, Title: fl.Title, Remaining: money(t.Remaining()), Spent: money(t.Spent)})
	}
	orgs, orgCount, err := s.store.Organisations(ctx, store.OrganisationFilter{Search: payeeQ, Page: store.Page{Number: 1, PerPage: pickerSize}})
	if err != nil {
		return err
	}
	if in.PayeeID > 0 && !slices.ContainsFunc(orgs, func(o *models.Organisation) bool { return o.ID == in.PayeeID }) {
		if o, err := s.store.Organisation(ctx, in.PayeeID); err == nil {
			orgs = append([]*models.Organisation{o}, orgs...)
		}
	}
	var awards []awardOption
	var tranches []trancheOption
	if in.FundingLineID > 0 { // the awards of the chosen line only
		if awards, tranches, err = s.spendFormAwards(c, in.FundingLineID); err != nil {
			return err
		}
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "spend/form", fiber.Map{"Title": "Record spend", "In": in, "Errors": errs, "Lines": lines,
		"Orgs": orgs, "Categories": models.SpendCategories, "Awards": awards, "Tranches": tranches,
		"AwardID": derefID(in.AwardID), "TrancheID": derefID(in.TrancheID), "LineQ": lineQ, "PayeeQ": payeeQ,
		"MoreLines": max(lineCount-pickerSize, 0), "MoreOrgs": max(orgCount-pickerSize, 0)})
}

// spendNewPage draws the form with the line (from a line's page) and
// payee named in the query chosen.
func (s *Server) spendNewPage(c *fiber.Ctx) error {
	in := models.SpendInput{}
	if id, err := models.ParseID(c.Query("funding_line_id")); err == nil {
		in.FundingLineID = id
	}
	if id, err := models.ParseID(c.Query("payee_id")); err == nil {
		in.PayeeID = id
	}
	return s.spendForm(c, in, nil)
}

// formID reads an id from a form: 0 when the field is empty, -1 when it is
// not a positive whole number in canonical form, so that Validate refuses
// it on its field instead of reading it as no id.
func formID(c *fiber.Ctx, name string) int64 {
	v := c.FormValue(name)
	if v == "" {
		return 0
	}
	id, err := models.ParseID(v)
	if err != nil {
		return -1
	}
	return id
}

func (s *Server) spendCreate(c *fiber.Ctx) error {
	in := models.SpendInput{FundingLineID: formID(c, "funding_line_id"), PayeeID: formID(c, "payee_id"),
		Amount: c.FormValue("amount"), IncurredOn: c.FormValue("incurred_on"), Category: c.FormValue("category"),
		Reference: c.FormValue("reference"), Description: c.FormValue("description"), Purpose: c.FormValue("purpose"),
		VFMReason: c.FormValue("vfm_reason")}
	if id := formID(c, "award_id"); id != 0 {
		in.AwardID = &id
	}
	if id := formID(c, "tranche_id"); id != 0 {
		in.TrancheID = &id
	}
	e, err := in.Validate()
	// An evidence file may come with the form; the entry and its file are
	// stored together or not at all.
	var name string
	var data []byte
	if fh, ferr := c.FormFile("file"); ferr == nil && fh.Filename != "" {
		var fileErr error
		if name, data, fileErr = formFile(c, "file", models.MaxEvidenceSize); fileErr == nil {
			_, _, fileErr = models.CheckEvidence(name, data)
		}
		err = joinProblems(err, fileErr)
	}
	if err == nil {
		err = s.store.InTx(c.UserContext(), func(ctx context.Context, st *store.Store) error {
			if _, err := st.RecordSpend(ctx, actorOf(c), e, "", nil); err != nil || data == nil {
				return err
			}
			_, err := st.AddEvidence(ctx, actorOf(c), e.ID, name, data)
			return err
		})
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.spendForm(c, in, errs)
	}
	return c.Redirect(fmt.Sprintf("/spend/%d", e.ID), fiber.StatusSeeOther)
}

func (s *Server) spendShowPage(c *fiber.Ctx) error {
	return s.spendShow(c, "")
}

// spendShow draws an entry, its reversal link, its evidence and its history
// from the audit trail; problem is a decision's refusal to show at the top.
func (s *Server) spendShow(c *fiber.Ctx, problem string) error {
	status := fiber.StatusOK
	if problem != "" {
		status = fiber.StatusConflict
	}
	return s.spendShowWith(c, status, problem)
}

func (s *Server) spendShowWith(c *fiber.Ctx, status int, problem string) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := s.store.SpendEntry(c.UserContext(), id)
	if err != nil {
		return err
	}
	rows, err := s.spendRows(c, []*models.SpendEntry{e})
	if err != nil {
		return err
	}
	history, _, err := s.store.AuditEvents(c.UserContext(), store.AuditFilter{Entity: "spend_entry", EntityID: strconv.FormatInt(id, 10)})
	if err != nil {
		return err
	}
	if e.ImportID != nil {
		// An imported entry was recorded, and may have been decided, by its
		// import as a whole: those events are its history too.
		batch, _, err := s.store.AuditEvents(c.UserContext(), store.AuditFilter{Entity: "spend_import", EntityID: strconv.FormatInt(*e.ImportID, 10)})
		if err != nil {
			return err
		}
		history = append(history, batch...)
		slices.SortFunc(history, func(a, b *models.AuditEvent) int { return cmp.Compare(a.Seq, b.Seq) })
	}
	evidence, err := s.store.EvidenceFor(c.UserContext(), id)
	if err != nil {
		return err
	}
	return s.render(c.Status(status), "spend/show", fiber.Map{"Title": fmt.Sprintf("Spend entry %d", id), "E": rows[0],
		"History": history, "Problem": problem, "Evidence": evidence, "MaxEvidence": models.MaxEvidencePerEntry,
		"EvidenceKinds": models.EvidenceKinds, "MaxEvidenceSize": models.HumanSize(models.MaxEvidenceSize)})
}

// spendEvidenceUpload adds a file to an entry's evidence; a refusal is shown
// on the entry's page.
func (s *Server) spendEvidenceUpload(c *fiber.Ctx) error {
	ev, err := s.storeEvidence(c)
	if err != nil {
		switch models.ErrorCode(err) {
		case models.EINVALID, models.ECONFLICT:
			return s.spendShowWith(c, problemOf(err).Status, evidenceMessage(err))
		}
		return err
	}
	return c.Redirect(fmt.Sprintf("/spend/%d#evidence", ev.SpendEntryID), fiber.StatusSeeOther)
}

// joinProblems puts the field errors of two validations into one error; an
// error that is not EINVALID wins.
func joinProblems(a, b error) error {
	if a == nil || b == nil {
		return cmp.Or(a, b)
	}
	var ma, mb *models.Error
	if !errors.As(a, &ma) || ma.Code != models.EINVALID {
		return a
	}
	if !errors.As(b, &mb) || mb.Code != models.EINVALID {
		return b
	}
	return models.Problems(append(append([]models.FieldError{}, ma.Fields...), mb.Fields...)).Err()
}

// evidenceMessage is a refused upload's reason in one sentence.
func evidenceMessage(err error) string {
	var me *models.Error
	if errors.As(err, &me) && len(me.Fields) == 1 {
		return "The evidence was not added: " + me.Fields[0].Message + "."
	}
	return models.ErrorMessage(err)
}

func (s *Server) spendDecide(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		ctx, a := c.UserContext(), actorOf(c)
		var e *models.SpendEntry
		switch action {
		case "approve":
			e, err = s.store.ApproveSpend(ctx, a, id)
		default:
			var reason string
			if reason, err = models.RequireReason(c.FormValue("reason")); err != nil {
				return s.spendShow(c, "Give a reason: it is kept with the entry and in the audit trail.")
			} else {
				if action == "reject" {
					e, err = s.store.RejectSpend(ctx, a, id, reason)
				} else {
					e, err = s.store.ReverseSpend(ctx, a, id, reason)
				}
			}
		}
		if err != nil {
			switch models.ErrorCode(err) {
			case models.EINVALID, models.ECONFLICT, models.EFORBIDDEN:
				return s.spendShow(c, models.ErrorMessage(err))
			}
			return err
		}
		return c.Redirect(fmt.Sprintf("/spend/%d", e.ID), fiber.StatusSeeOther)
	}
}
