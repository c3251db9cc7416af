package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// budgetRoutes are the routes for budget profiles and budget changes.
func (s *Server) budgetRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/funding-lines/:id/budget-profile", Summary: "Get a funding line's budget profile: its budget for each financial year, with what is already approved and committed in each", Roles: everyone, Response: budgetProfileJSON{}, Handler: s.getBudgetProfile},
		{Method: "PUT", Path: "/api/v1/funding-lines/:id/budget-profile", Summary: "Replace a draft line's budget profile (200); on an approved line, propose the change as a re-profiling with a reason and an effective date (202, the pending change in proposed_change)", Roles: writers, Request: models.ProfileInput{}, Response: budgetProfileJSON{}, Accepted: true, Handler: s.putBudgetProfile},
		{Method: "POST", Path: "/api/v1/budget-changes", Summary: "Propose a budget change: a re-profiling between the years of one line or a virement between lines (pending until a second person approves); send an Idempotency-Key header to make retries safe", Roles: writers, Request: models.BudgetChangeInput{}, Response: budgetChangeJSON{}, Status: 201, Handler: s.proposeBudgetChange},
		{Method: "POST", Path: "/api/v1/budget-changes/preview", Summary: "Show a budget change's effect, before and after for each line and year, without storing it", Roles: writers, Request: models.BudgetChangeInput{}, Response: budgetEffectJSON{}, Handler: s.previewBudgetChange},
		{Method: "GET", Path: "/api/v1/budget-changes", Summary: "List budget changes", Roles: everyone, Query: budgetChangeQuery{}, Response: list[budgetChangeJSON]{}, Handler: s.listBudgetChanges},
		{Method: "GET", Path: "/api/v1/budget-changes/:id", Summary: "Get a budget change (a pending one with its effect)", Roles: everyone, Response: budgetChangeJSON{}, Handler: s.getBudgetChange},
		{Method: "POST", Path: "/api/v1/budget-changes/:id/approve", Summary: "Approve a pending budget change and apply it (not your own; a virement across programmes needs an admin; never below what is approved and committed)", Roles: writers, Response: budgetChangeJSON{}, Handler: s.approveBudgetChange},
		{Method: "POST", Path: "/api/v1/budget-changes/:id/reject", Summary: "Reject a pending budget change with a reason", Roles: writers, Request: reasonInput{}, Response: budgetChangeJSON{}, Handler: s.rejectBudgetChange},
		{Method: "POST", Path: "/api/v1/budget-changes/:id/withdraw", Summary: "Withdraw your own pending budget change", Roles: writers, Response: budgetChangeJSON{}, Handler: s.withdrawBudgetChange},
	}
}

type yearJSON struct {
	FinancialYear string `json:"financial_year"`
	Amount        Money  `json:"amount"`
	Floor         Money  `json:"approved_and_committed" doc:"approved spend in the year plus what awards still commit to it: the least the year's budget can be"`
}

type budgetProfileJSON struct {
	FundingLineID  int64             `json:"funding_line_id"`
	Status         string            `json:"status"`
	Budget         Money             `json:"budget"`
	Years          []yearJSON        `json:"years"`
	ProposedChange *budgetChangeJSON `json:"proposed_change,omitempty" doc:"on an approved line, the re-profiling a PUT proposed"`
}

func toBudgetProfileJSON(l *store.LineEffect) budgetProfileJSON {
	out := budgetProfileJSON{FundingLineID: l.Line.ID, Status: string(l.Line.Status), Budget: money(l.After), Years: []yearJSON{}}
	for _, y := range l.Years {
		out.Years = append(out.Years, yearJSON{FinancialYear: y.Year.String(), Amount: money(y.After), Floor: money(y.Floor)})
	}
	return out
}

type moveJSON struct {
	FundingLineID int64  `json:"funding_line_id"`
	FinancialYear string `json:"financial_year"`
	Delta         Money  `json:"delta"`
}

type budgetChangeJSON struct {
	ID               int64             `json:"id"`
	Kind             string            `json:"kind"`
	Reason           string            `json:"reason"`
	EffectiveOn      Date              `json:"effective_on"`
	Status           string            `json:"status"`
	Amount           Money             `json:"amount" doc:"the money moved: the sum of the moves into years"`
	ProposedBy       int64             `json:"proposed_by"`
	ProposedAt       time.Time         `json:"proposed_at"`
	DecidedBy        *int64            `json:"decided_by"`
	DecidedAt        *time.Time        `json:"decided_at"`
	RejectionReason  *string           `json:"rejection_reason"`
	DecisionRecordID *int64            `json:"decision_record_id"`
	Moves            []moveJSON        `json:"moves"`
	Effect           *budgetEffectJSON `json:"effect,omitempty" doc:"for a pending change: each line and year before and after"`
}

func toBudgetChangeJSON(bc *models.BudgetChange, e *store.BudgetEffect) budgetChangeJSON {
	out := budgetChangeJSON{ID: bc.ID, Kind: string(bc.Kind), Reason: bc.Reason, EffectiveOn: date(bc.EffectiveOn), Status: string(bc.Status),
		Amount: money(bc.Amount()), ProposedBy: bc.ProposedBy, ProposedAt: bc.ProposedAt, DecidedBy: bc.DecidedBy, DecidedAt: bc.DecidedAt,
		RejectionReason: bc.RejectionReason, DecisionRecordID: bc.DecisionRecordID, Moves: []moveJSON{}}
	for _, m := range bc.Moves {
		out.Moves = append(out.Moves, moveJSON{FundingLineID: m.FundingLineID, FinancialYear: m.Year.String(), Delta: money(m.Delta)})
	}
	if e != nil {
		ej := toBudgetEffectJSON(bc.Kind, e)
		out.Effect = &ej
	}
	return out
}

type yearEffectJSON struct {
	FinancialYear string `json:"financial_year"`
	Before        Money  `json:"before"`
	After         Money  `json:"after"`
	Floor         Money  `json:"approved_and_committed"`
	Short         Money  `json:"short" doc:"how far the year would fall below what is approved and committed in it"`
}

type lineEffectJSON struct {
	FundingLineID int64            `json:"funding_line_id"`
	Code          string           `json:"code"`
	ProgrammeID   int64            `json:"programme_id"`
	BudgetBefore  Money            `json:"budget_before"`
	BudgetAfter   Money            `json:"budget_after"`
	Floor         Money            `json:"awarded_reserved_and_spent"`
	Years         []yearEffectJSON `json:"years"`
}

type budgetEffectJSON struct {
	DecisionKind     string           `json:"decision_kind" doc:"budget_reprofile, budget_virement_within_programme or budget_virement_across_programmes"`
	AcrossProgrammes bool             `json:"across_programmes"`
	Lines            []lineEffectJSON `json:"lines"`
	Refusal          string           `json:"refusal,omitempty" doc:"why the change would be refused, if it would"`
}

func toBudgetEffectJSON(kind models.BudgetChangeKind, e *store.BudgetEffect) budgetEffectJSON {
	out := budgetEffectJSON{DecisionKind: string(e.DecisionKind(kind)), AcrossProgrammes: e.AcrossProgrammes, Lines: []lineEffectJSON{}}
	if err := e.Check(); err != nil {
		out.Refusal = models.ErrorMessage(err)
	}
	for _, l := range e.Lines {
		lj := lineEffectJSON{FundingLineID: l.Line.ID, Code: l.Line.Code, ProgrammeID: l.Line.ProgrammeID, BudgetBefore: money(l.Before),
			BudgetAfter: money(l.After), Floor: money(l.Floor)}
		for _, y := range l.Years {
			lj.Years = append(lj.Years, yearEffectJSON{FinancialYear: y.Year.String(), Before: money(y.Before), After: money(y.After),
				Floor: money(y.Floor), Short: money(y.Short())})
		}
		out.Lines = append(out.Lines, lj)
	}
	return out
}

func (s *Server) getBudgetProfile(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	l, err := s.store.LineBudget(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toBudgetProfileJSON(l))
}

func (s *Server) putBudgetProfile(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.ProfileInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	bc, err := s.setProfile(c, id, in)
	if err != nil {
		return err
	}
	l, err := s.store.LineBudget(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := toBudgetProfileJSON(l)
	if bc != nil {
		j := toBudgetChangeJSON(bc, nil)
		out.ProposedChange = &j
		c.Status(fiber.StatusAccepted)
	}
	return c.JSON(out)
}

// setProfile edits a draft line's profile, or proposes the change as a
// re-profiling once the line is approved (returning the pending change).
func (s *Server) setProfile(c *fiber.Ctx, lineID int64, in models.ProfileInput) (*models.BudgetChange, error) {
	years, err := in.Validate()
	if err != nil {
		return nil, err
	}
	fl, err := s.store.FundingLine(c.UserContext(), lineID)
	if err != nil {
		return nil, err
	}
	if fl.Status == models.StatusDraft {
		_, err := s.store.SetDraftProfile(c.UserContext(), actorOf(c), lineID, years)
		return nil, err
	}
	current, err := s.store.BudgetProfile(c.UserContext(), lineID)
	if err != nil {
		return nil, err
	}
	if err := models.CheckProfile(years, fl.Budget, fl.StartsOn, fl.EndsOn); err != nil {
		return nil, err
	}
	bc, err := models.ReprofileInput(lineID, current, years, in.Reason, in.EffectiveOn)
	if err != nil {
		return nil, err
	}
	_, err = s.store.ProposeBudgetChange(c.UserContext(), actorOf(c), bc, "", nil)
	return bc, err
}

func (s *Server) proposeBudgetChange(c *fiber.Ctx) error {
	key, hash, err := idempotency(c)
	if err != nil {
		return err
	}
	var in models.BudgetChangeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	bc, err := in.Validate()
	if err != nil {
		return err
	}
	replayed, err := s.store.ProposeBudgetChange(c.UserContext(), actorOf(c), bc, key, hash)
	if err != nil {
		return err
	}
	if replayed {
		c.Set("Idempotent-Replayed", "true")
	}
	return created(c, "/api/v1/budget-changes/"+strconv.FormatInt(bc.ID, 10), toBudgetChangeJSON(bc, nil))
}

func (s *Server) previewBudgetChange(c *fiber.Ctx) error {
	var in models.BudgetChangeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	bc, err := in.Validate()
	if err != nil {
		return err
	}
	e, err := s.store.PreviewBudgetChange(c.UserContext(), bc)
	if err != nil {
		return err
	}
	return c.JSON(toBudgetEffectJSON(bc.Kind, e))
}

type budgetChangeQuery struct {
	FundingLineID int64  `query:"funding_line_id"`
	Status        string `query:"status" doc:"pending, approved, rejected or withdrawn"`
	Page          int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage       int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

func (s *Server) listBudgetChanges(c *fiber.Ctx) error {
	var p models.Problems
	f := store.BudgetChangeFilter{FundingLineID: queryID(c, "funding_line_id", &p), Status: models.BudgetChangeStatus(c.Query("status")), Page: pageOf(c, &p)}
	if f.Status != "" && !f.Status.Valid() {
		p.Add("status", "must be pending, approved, rejected or withdrawn")
	}
	if err := p.Err(); err != nil {
		return err
	}
	bcs, total, err := s.store.BudgetChanges(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := pagedList[budgetChangeJSON](c, f.Page, len(bcs), total)
	for _, bc := range bcs {
		out.Items = append(out.Items, toBudgetChangeJSON(bc, nil))
	}
	return c.JSON(out)
}

func (s *Server) getBudgetChange(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	bc, err := s.store.BudgetChange(c.UserContext(), id)
	if err != nil {
		return err
	}
	var e *store.BudgetEffect
	if bc.Status == models.ChangePending {
		if e, err = s.store.PreviewBudgetChange(c.UserContext(), bc); err != nil {
			return err
		}
	}
	return c.JSON(toBudgetChangeJSON(bc, e))
}

func (s *Server) approveBudgetChange(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	bc, _, err := s.store.ApproveBudgetChange(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toBudgetChangeJSON(bc, nil))
}

func (s *Server) rejectBudgetChange(c *fiber.Ctx) error {
	bc, err := withReason(c, s.store.RejectBudgetChange)
	if err != nil {
		return err
	}
	return c.JSON(toBudgetChangeJSON(bc, nil))
}

func (s *Server) withdrawBudgetChange(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	bc, err := s.store.WithdrawBudgetChange(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toBudgetChangeJSON(bc, nil))
}
