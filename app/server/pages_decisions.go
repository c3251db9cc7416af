package server

import (
	"context"
	"maps"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

func (s *Server) registerDecisionPages() {
	s.app.Get("/approvals", s.requireWebUser, s.approvalsPage)
	s.app.Post("/approvals/:entity/:id/:verb", s.requireWebRole(deciders), s.decidePage)
	s.app.Get("/delegation", s.requireWebUser, s.delegationPage)
	s.app.Post("/decision-records", s.requireWebRole(writers), s.decisionRecordSave)
	s.app.Post("/delegation/changes", s.requireWebRole(admins), s.delegationChangeSave)
}

func (s *Server) approvalsPage(c *fiber.Ctx) error { return s.approvalsShow(c, "") }

func (s *Server) approvalsShow(c *fiber.Ctx, problem string) error {
	pg, bad := webPageOf(c)
	for field, msg := range bad {
		if problem == "" {
			problem = "The list's " + field + " " + msg + "."
		}
	}
	as, total, err := s.store.ApprovalsPage(c.UserContext(), actorOf(c).UserID, pg)
	if err != nil {
		return err
	}
	rows := make([]approvalJSON, len(as))
	for i, a := range as {
		rows[i] = toApprovalJSON(a)
	}
	alerts, allAlerts, err := s.alertsOf(c, store.Page{Number: 1, PerPage: alertsPerPage})
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if problem != "" {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "decisions/approvals", fiber.Map{"Title": "Awaiting my decision", "Approvals": rows, "Problem": problem,
		"Pager":  numberedPager(c, "decisions", pg, len(rows), total).at(c, "/approvals"),
		"Alerts": alertList{Items: alerts, All: allAlerts, More: "/alerts"}})
}

// webDecisions decide each kind of pending decision from a form: approve,
// reject (with the form's reason) or withdraw.
func (s *Server) webDecision(ctx context.Context, a models.Actor, entity string, id int64, to models.DecisionStatus, reason string) error {
	var err error
	switch entity {
	case "line_decision":
		_, err = s.store.DecideLineStatus(ctx, a, id, to, reason)
	case "award":
		_, err = s.store.DecideAward(ctx, a, id, to, reason)
	case "award_variation":
		_, err = s.store.DecideAwardVariation(ctx, a, id, to, reason)
	case "delegation_change":
		_, err = s.store.DecideDelegationChange(ctx, a, id, to, reason)
	case "account_grant":
		_, err = s.store.DecideAccountGrant(ctx, a, id, to, reason)
	case "contract_band_exception":
		_, err = s.store.DecideBandException(ctx, a, id, to, reason)
	case "payment_run":
		_, err = s.store.DecidePaymentRun(ctx, a, id, to, reason)
	case "office_holder_expense":
		_, err = s.store.DecideOfficeHolderExpense(ctx, a, id, to, reason)
	case "budget_change":
		switch to {
		case models.DecisionApproved:
			_, _, err = s.store.ApproveBudgetChange(ctx, a, id)
		case models.DecisionRejected:
			_, err = s.store.RejectBudgetChange(ctx, a, id, reason)
		default:
			_, err = s.store.WithdrawBudgetChange(ctx, a, id)
		}
	case "spend_entry":
		switch to {
		case models.DecisionApproved:
			_, err = s.store.ApproveSpend(ctx, a, id)
		case models.DecisionRejected:
			_, err = s.store.RejectSpend(ctx, a, id, reason)
		default:
			err = models.Errorf(models.EINVALID, "Recorded spend is rejected by a second officer, not withdrawn.")
		}
	case "spend_import":
		switch to {
		case models.DecisionApproved:
			_, err = s.store.ApproveImport(ctx, a, id)
		case models.DecisionRejected:
			_, err = s.store.RejectImport(ctx, a, id, reason)
		default:
			err = models.Errorf(models.EINVALID, "An import is rejected by a second officer, not withdrawn.")
		}
	default:
		err = models.Errorf(models.ENOTFOUND, "There is no kind of decision %q.", entity)
	}
	return err
}

var decisionVerbs = map[string]models.DecisionStatus{
	"approve": models.DecisionApproved, "reject": models.DecisionRejected, "withdraw": models.DecisionWithdrawn,
}

func (s *Server) decidePage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	to, ok := decisionVerbs[c.Params("verb")]
	if !ok {
		return models.Errorf(models.ENOTFOUND, "There is no decision %q.", c.Params("verb"))
	}
	reason := c.FormValue("reason")
	// Rejecting and withdrawing end a proposal: the form asks for a
	// confirmation as well as (for a rejection) a reason.
	if to != models.DecisionApproved && c.FormValue("confirm") != "yes" {
		return s.approvalsShow(c, "Tick the box to confirm: "+c.Params("verb")+"ing ends the proposal.")
	}
	if to == models.DecisionRejected {
		if reason, err = models.RequireReason(reason); err != nil {
			return s.approvalsShow(c, models.ErrorMessage(err))
		}
	}
	if err := s.webDecision(c.UserContext(), actorOf(c), c.Params("entity"), id, to, reason); err != nil {
		switch models.ErrorCode(err) {
		case models.EINVALID, models.ECONFLICT, models.EFORBIDDEN:
			return s.approvalsShow(c, models.ErrorMessage(err))
		}
		return err
	}
	return c.Redirect("/approvals", fiber.StatusSeeOther)
}

func (s *Server) delegationPage(c *fiber.Ctx) error { return s.delegationShow(c, "", nil, nil) }

// decisionRecordSave records a published decision from the form on the
// scheme's page; problems are shown beside the fields.
func (s *Server) decisionRecordSave(c *fiber.Ctx) error {
	in := models.DecisionRecordInput{Reference: c.FormValue("reference"), Title: c.FormValue("title"), SignedOn: c.FormValue("signed_on"),
		DecisionMaker: c.FormValue("decision_maker"), URL: c.FormValue("url")}
	r, err := in.Validate()
	if err == nil {
		err = s.store.CreateDecisionRecord(c.UserContext(), actorOf(c), r)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.delegationShow(c, "record", errs, in)
	}
	return c.Redirect("/delegation#records", fiber.StatusSeeOther)
}

// delegationChangeSave proposes a change to the scheme from the form on its
// page; another admin approves it on /approvals.
func (s *Server) delegationChangeSave(c *fiber.Ctx) error {
	in := delegationChangeInput{DecisionKind: c.FormValue("decision_kind"), Role: c.FormValue("role"), Remove: c.FormValue("remove") == "yes",
		Reason: c.FormValue("reason")}
	if v := strings.TrimSpace(c.FormValue("max_amount")); v != "" {
		in.MaxAmount = &v
	}
	ch, err := in.change()
	if err == nil {
		err = s.store.ProposeDelegationChange(c.UserContext(), actorOf(c), ch)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.delegationShow(c, "change", errs, in)
	}
	return c.Redirect("/delegation#changes", fiber.StatusSeeOther)
}

func (s *Server) delegationShow(c *fiber.Ctx, form string, errs map[string]string, typed any) error {
	if errs != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	kinds, err := s.delegationScheme(c.UserContext())
	if err != nil {
		return err
	}
	pg, bad := webPageOf(c)
	if bad != nil && errs == nil {
		errs = map[string]string{}
		c.Status(fiber.StatusUnprocessableEntity)
	}
	maps.Copy(errs, bad)
	records, total, err := s.store.DecisionRecordsPage(c.UserContext(), pg)
	if err != nil {
		return err
	}
	rows := make([]decisionRecordJSON, len(records))
	for i, r := range records {
		rows[i] = toDecisionRecordJSON(r)
	}
	return s.render(c, "decisions/delegation", fiber.Map{"Title": "Scheme of delegation", "Kinds": kinds, "Records": rows,
		"RecordPager": numberedPager(c, "decision records", pg, len(rows), total).at(c, "/delegation"),
		"Form":        form, "Errors": errs, "Typed": typed, "Roles": models.AllRoles()})
}
