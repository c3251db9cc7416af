package server

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// The web pages for budget profiles and budget changes: a draft line's
// profile edited on its page, and the form that proposes a re-profiling or
// a virement with its effect shown first, and a change's page where a
// second person decides it.

func (s *Server) registerBudgetPages() {
	s.app.Post("/funding-lines/:id/budget-profile", s.requireWebRole(writers), s.draftProfileSave)
	s.app.Get("/budget-changes/new", s.requireWebRole(writers), s.budgetChangeFormPage)
	s.app.Post("/budget-changes/new", s.requireWebRole(writers), s.budgetChangeSubmit)
	s.app.Get("/budget-changes/:id", s.requireWebUser, s.budgetChangePage)
	for _, d := range []string{"approve", "reject", "withdraw"} {
		s.app.Post("/budget-changes/:id/"+d, s.requireWebRole(writers), s.budgetChangeDecide(d))
	}
}

// yearRow is one year of a line's profile on its page.
type yearRow struct {
	Year   string
	Amount Money
	Floor  Money
	Typed  string // what was typed into a refused draft form
}

// changeRow is a budget change as a line's history shows it.
type changeRow struct {
	ID             int64
	Kind           string
	Status         string
	Reason         string
	EffectiveOn    Date
	Amount         Money
	Moves          string
	ProposedBy     string
	DecidedBy      string
	DecidedAt      string
	Rejection      string
	DecisionRecord string
}

// budgetNames are the words a change row needs: lines, people, decisions.
type budgetNames struct {
	lines   map[int64]string
	users   map[int64]string
	records map[int64]string
}

func (s *Server) budgetNames(c *fiber.Ctx) (budgetNames, error) {
	n := budgetNames{users: map[int64]string{}, records: map[int64]string{}}
	names, err := s.names(c)
	if err != nil {
		return n, err
	}
	n.lines = names.lines
	users, err := s.store.Users(c.UserContext())
	if err != nil {
		return n, err
	}
	for _, u := range users {
		n.users[u.ID] = u.Name
	}
	records, err := s.store.DecisionRecords(c.UserContext())
	if err != nil {
		return n, err
	}
	for _, r := range records {
		n.records[r.ID] = r.Reference + " " + r.Title
	}
	return n, nil
}

func (n budgetNames) row(bc *models.BudgetChange) changeRow {
	r := changeRow{ID: bc.ID, Kind: string(bc.Kind), Status: string(bc.Status), Reason: bc.Reason, EffectiveOn: date(bc.EffectiveOn),
		Amount: money(bc.Amount()), ProposedBy: n.users[bc.ProposedBy]}
	var moves []string
	for _, m := range bc.Moves {
		sign := "+"
		if m.Delta.IsNegative() {
			sign = "−"
		}
		moves = append(moves, fmt.Sprintf("%s %s %s%s", n.lines[m.FundingLineID], m.Year, sign, models.Pounds(m.Delta.Abs())))
	}
	r.Moves = strings.Join(moves, "; ")
	if bc.DecidedBy != nil {
		r.DecidedBy = n.users[*bc.DecidedBy]
	}
	if bc.DecidedAt != nil {
		r.DecidedAt = bc.DecidedAt.Format("2006-01-02 15:04")
	}
	if bc.RejectionReason != nil {
		r.Rejection = *bc.RejectionReason
	}
	if bc.DecisionRecordID != nil {
		r.DecisionRecord = n.records[*bc.DecisionRecordID]
	}
	return r
}

// lineBudget is what a line's page shows of its budget by year and its
// budget changes.
type lineBudget struct {
	Years   []yearRow
	Changes []changeRow
}

func (s *Server) lineBudget(c *fiber.Ctx, lineID int64, typed map[string]string) (lineBudget, error) {
	var out lineBudget
	l, err := s.store.LineBudget(c.UserContext(), lineID)
	if err != nil {
		return out, err
	}
	for _, y := range l.Years {
		row := yearRow{Year: y.Year.String(), Amount: money(y.After), Floor: money(y.Floor), Typed: y.After.StringFixed(2)}
		if v, ok := typed[y.Year.String()]; ok {
			row.Typed = v
		}
		out.Years = append(out.Years, row)
	}
	changes, _, err := s.store.BudgetChanges(c.UserContext(), store.BudgetChangeFilter{FundingLineID: lineID, Page: store.Page{Number: 1, PerPage: store.MaxPerPage}})
	if err != nil {
		return out, err
	}
	n, err := s.budgetNames(c)
	if err != nil {
		return out, err
	}
	for _, bc := range changes {
		out.Changes = append(out.Changes, n.row(bc))
	}
	return out, nil
}

// typedProfile reads a profile form: one amount field per year, named
// year_2024-25.
func typedProfile(c *fiber.Ctx, years []models.FinancialYear) (models.ProfileInput, map[string]string) {
	var in models.ProfileInput
	typed := map[string]string{}
	for _, fy := range years {
		v := strings.TrimSpace(c.FormValue("year_" + fy.String()))
		typed[fy.String()] = v
		in.Years = append(in.Years, models.YearInput{FinancialYear: fy.String(), Amount: v})
	}
	return in, typed
}

func (s *Server) draftProfileSave(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	fl, err := s.store.FundingLine(c.UserContext(), id)
	if err != nil {
		return err
	}
	in, typed := typedProfile(c, models.YearsOf(fl.StartsOn, fl.EndsOn))
	years, err := in.Validate()
	if err == nil {
		_, err = s.store.SetDraftProfile(c.UserContext(), actorOf(c), id, years)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.lineShowWith(c, lineView{Form: "profile", Errors: profileErrors(errs, in), Typed: typed})
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#budget", id), fiber.StatusSeeOther)
}

// profileErrors names a profile's field errors by year (years[1].amount →
// 2024-25), so each sits beside its year.
func profileErrors(errs map[string]string, in models.ProfileInput) map[string]string {
	out := map[string]string{}
	for k, v := range errs {
		key := k
		for i, y := range in.Years {
			if strings.HasPrefix(k, fmt.Sprintf("years[%d]", i)) {
				key = y.FinancialYear
			}
		}
		out[key] = v
	}
	return out
}

// changeForm is the budget change form as typed.
type changeForm struct {
	LineID      int64
	Kind        string
	Years       map[string]string // re-profiling: the new amount of each year
	ToLineID    int64
	FromYear    string
	ToYear      string
	Amount      string
	Reason      string
	EffectiveOn string
	RecordID    int64
}

// moves turns the form into the change's input: a re-profiling's new
// amounts become moves by year; a virement moves Amount from the line's
// FromYear to ToLineID's ToYear.
func (f changeForm) input(current []models.YearAmount) models.BudgetChangeInput {
	in := models.BudgetChangeInput{Kind: f.Kind, Reason: f.Reason, EffectiveOn: f.EffectiveOn}
	if f.RecordID > 0 {
		in.DecisionRecordID = &f.RecordID
	}
	if f.Kind == string(models.Virement) {
		in.Moves = []models.MoveInput{{FundingLineID: f.LineID, FinancialYear: f.FromYear, Delta: "-" + f.Amount},
			{FundingLineID: f.ToLineID, FinancialYear: f.ToYear, Delta: f.Amount}}
		return in
	}
	for _, y := range current {
		typed, ok := f.Years[y.Year.String()]
		if !ok {
			continue
		}
		amount, err := models.ParseNonNegativeMoney(typed)
		if err != nil {
			// Sent as typed, so the message lands beside the year.
			in.Moves = append(in.Moves, models.MoveInput{FundingLineID: f.LineID, FinancialYear: y.Year.String(), Delta: typed})
			continue
		}
		if d := amount.Sub(y.Amount); !d.IsZero() {
			in.Moves = append(in.Moves, models.MoveInput{FundingLineID: f.LineID, FinancialYear: y.Year.String(), Delta: models.FormatMoney(d)})
		}
	}
	return in
}

func (s *Server) budgetChangeFormPage(c *fiber.Ctx) error {
	lineID := int64(c.QueryInt("funding_line_id"))
	kind := c.Query("kind", string(models.Reprofile))
	return s.budgetChangeForm(c, changeForm{LineID: lineID, Kind: kind, Years: map[string]string{}}, nil, nil, "")
}

func (s *Server) budgetChangeForm(c *fiber.Ctx, f changeForm, errs map[string]string, effect *store.BudgetEffect, refusal string) error {
	l, err := s.store.LineBudget(c.UserContext(), f.LineID)
	if err != nil {
		return err
	}
	years := make([]yearRow, len(l.Years))
	for i, y := range l.Years {
		years[i] = yearRow{Year: y.Year.String(), Amount: money(y.After), Floor: money(y.Floor), Typed: y.After.StringFixed(2)}
		if v, ok := f.Years[y.Year.String()]; ok {
			years[i].Typed = v
		}
	}
	lines, _, err := s.store.FundingLines(c.UserContext(), store.FundingLineFilter{Page: store.Page{Number: 1, PerPage: store.MaxPerPage}})
	if err != nil {
		return err
	}
	var others []*models.FundingLine
	for _, o := range lines {
		if o.ID != f.LineID && (o.Status == models.StatusApproved || o.Status == models.StatusActive) {
			others = append(others, o)
		}
	}
	records, err := s.store.DecisionRecords(c.UserContext())
	if err != nil {
		return err
	}
	var preview []lineEffectJSON
	var decision string
	if effect != nil {
		ej := toBudgetEffectJSON(models.BudgetChangeKind(f.Kind), effect)
		preview, decision, refusal = ej.Lines, ej.DecisionKind, ej.Refusal
	}
	return s.renderForm(c, "budget/change_form", errs, fiber.Map{"Title": "Propose a budget change on " + l.Line.Code, "Line": l.Line, "LineBudget": money(l.Line.Budget),
		"Years": years, "F": f, "Others": others, "Records": records, "Preview": preview, "DecisionKind": decision, "Refusal": refusal,
		"AllYears": allYears(l.Line, others)})
}

// allYears are the financial years a virement can name: those of the line
// and of the lines it could go to.
func allYears(fl *models.FundingLine, others []*models.FundingLine) []string {
	first, last := models.FinancialYearOf(fl.StartsOn), models.FinancialYearOf(fl.EndsOn)
	for _, o := range others {
		first, last = min(first, models.FinancialYearOf(o.StartsOn)), max(last, models.FinancialYearOf(o.EndsOn))
	}
	var out []string
	for fy := first; fy <= last; fy++ {
		out = append(out, fy.String())
	}
	return out
}

func (s *Server) budgetChangeSubmit(c *fiber.Ctx) error {
	f := changeForm{LineID: formID(c, "funding_line_id"), Kind: c.FormValue("kind"), ToLineID: formID(c, "to_line_id"),
		FromYear: c.FormValue("from_year"), ToYear: c.FormValue("to_year"), Amount: strings.TrimSpace(c.FormValue("amount")),
		Reason: c.FormValue("reason"), EffectiveOn: c.FormValue("effective_on"), RecordID: formID(c, "decision_record_id"), Years: map[string]string{}}
	current, err := s.store.BudgetProfile(c.UserContext(), f.LineID)
	if err != nil {
		return err
	}
	for _, y := range current {
		if v := c.FormValue("year_" + y.Year.String()); v != "" {
			f.Years[y.Year.String()] = strings.TrimSpace(v)
		}
	}
	in := f.input(current)
	bc, err := in.Validate()
	var effect *store.BudgetEffect
	if err == nil {
		effect, err = s.store.PreviewBudgetChange(c.UserContext(), bc)
	}
	if err == nil && c.FormValue("step") == "propose" {
		if _, err = s.store.ProposeBudgetChange(c.UserContext(), actorOf(c), bc, "", nil); err == nil {
			return c.Redirect(fmt.Sprintf("/budget-changes/%d", bc.ID), fiber.StatusSeeOther)
		}
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.budgetChangeForm(c, f, changeFormErrors(errs, in), effect, "")
	}
	return s.budgetChangeForm(c, f, nil, effect, "")
}

// changeFormErrors puts the moves' errors beside the form's fields: a
// re-profiling's by year, a virement's by amount and year.
func changeFormErrors(errs map[string]string, in models.BudgetChangeInput) map[string]string {
	out := map[string]string{}
	for k, v := range errs {
		key := k
		for i, m := range in.Moves {
			prefix := fmt.Sprintf("moves[%d]", i)
			if !strings.HasPrefix(k, prefix) {
				continue
			}
			switch {
			case in.Kind == string(models.Reprofile):
				key = "year_" + m.FinancialYear
			case strings.HasSuffix(k, ".delta"):
				key = "amount"
			case strings.HasSuffix(k, ".funding_line_id"):
				key = "to_line_id"
			case i == 0:
				key = "from_year"
			default:
				key = "to_year"
			}
		}
		if key == "moves" && in.Kind == string(models.Reprofile) {
			key = "years"
		}
		out[key] = v
	}
	return out
}

func (s *Server) budgetChangePage(c *fiber.Ctx) error { return s.budgetChangeShow(c, "") }

// budgetChangeShow draws a change with its moves and, while it is pending,
// its effect and the buttons to decide it; problem is a refused decision.
func (s *Server) budgetChangeShow(c *fiber.Ctx, problem string) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	bc, err := s.store.BudgetChange(c.UserContext(), id)
	if err != nil {
		return err
	}
	n, err := s.budgetNames(c)
	if err != nil {
		return err
	}
	var effect *budgetEffectJSON
	if bc.Status == models.ChangePending {
		e, err := s.store.PreviewBudgetChange(c.UserContext(), bc)
		if err != nil {
			return err
		}
		ej := toBudgetEffectJSON(bc.Kind, e)
		effect = &ej
	}
	u := currentUser(c)
	status := fiber.StatusOK
	if problem != "" {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "budget/change_show", fiber.Map{"Title": fmt.Sprintf("Budget change %d", id), "C": n.row(bc),
		"Effect": effect, "Problem": problem, "Mine": u != nil && u.ID == bc.ProposedBy, "Pending": bc.Status == models.ChangePending,
		"LineIDs": lineIDs(bc), "Lines": n.lines})
}

func lineIDs(bc *models.BudgetChange) []int64 {
	var out []int64
	for _, m := range bc.Moves {
		if len(out) == 0 || out[len(out)-1] != m.FundingLineID {
			out = append(out, m.FundingLineID)
		}
	}
	return out
}

// budgetChangeDecide approves, rejects (with a reason) or withdraws a
// change; a refusal is shown on the change's page.
func (s *Server) budgetChangeDecide(decision string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		ctx, a := c.UserContext(), actorOf(c)
		if decision != "approve" && c.FormValue("confirm") != "yes" {
			return s.budgetChangeShow(c, "Tick the box to confirm: "+decision+"ing ends the proposal.")
		}
		switch decision {
		case "approve":
			_, _, err = s.store.ApproveBudgetChange(ctx, a, id)
		case "withdraw":
			_, err = s.store.WithdrawBudgetChange(ctx, a, id)
		default:
			reason := strings.TrimSpace(c.FormValue("reason"))
			if reason == "" {
				return s.budgetChangeShow(c, "Give a reason for rejecting the change.")
			}
			_, err = s.store.RejectBudgetChange(ctx, a, id, reason)
		}
		if code := models.ErrorCode(err); code == models.EFORBIDDEN || code == models.ECONFLICT || code == models.EINVALID {
			return s.budgetChangeShow(c, models.ErrorMessage(err))
		} else if err != nil {
			return err
		}
		return c.Redirect(fmt.Sprintf("/budget-changes/%d", id), fiber.StatusSeeOther)
	}
}
