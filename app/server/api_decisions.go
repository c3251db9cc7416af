package server

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// Two-person decisions: line status proposals, awards, the approvals queue,
// the scheme of delegation and decision records.

type lineDecisionInput struct {
	ToStatus         string `json:"to_status"`
	Reason           string `json:"reason"`
	DecisionRecordID *int64 `json:"decision_record_id"`
}

type lineDecisionJSON struct {
	ID               int64      `json:"id"`
	FundingLineID    int64      `json:"funding_line_id"`
	DecisionKind     string     `json:"decision_kind"`
	ToStatus         string     `json:"to_status"`
	DecisionRecordID *int64     `json:"decision_record_id"`
	Reason           string     `json:"reason"`
	Status           string     `json:"status"`
	ProposedBy       int64      `json:"proposed_by"`
	ProposedAt       time.Time  `json:"proposed_at"`
	DecidedBy        *int64     `json:"decided_by"`
	DecidedAt        *time.Time `json:"decided_at"`
	DecisionReason   *string    `json:"decision_reason"`
}

func toLineDecisionJSON(d *models.LineDecision) lineDecisionJSON {
	return lineDecisionJSON{ID: d.ID, FundingLineID: d.FundingLineID, DecisionKind: string(d.DecisionKind), ToStatus: string(d.ToStatus),
		DecisionRecordID: d.DecisionRecordID, Reason: d.Reason, Status: string(d.Status), ProposedBy: d.ProposedBy, ProposedAt: d.ProposedAt,
		DecidedBy: d.DecidedBy, DecidedAt: d.DecidedAt, DecisionReason: d.DecisionReason}
}

func (s *Server) proposeLineStatus(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in lineDecisionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	d, err := s.storeOf(c).ProposeLineStatus(c.UserContext(), actorOf(c), id, models.FundingLineStatus(strings.TrimSpace(in.ToStatus)), in.Reason, in.DecisionRecordID)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/line-decisions/"+strconv.FormatInt(d.ID, 10), toLineDecisionJSON(d))
}

func (s *Server) listLineDecisions(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.store.FundingLine(c.UserContext(), id); err != nil {
		return err
	}
	ds, err := s.store.LineDecisions(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := list[lineDecisionJSON]{Items: []lineDecisionJSON{}, Page: 1, PerPage: len(ds), Total: len(ds)}
	for _, d := range ds {
		out.Items = append(out.Items, toLineDecisionJSON(d))
	}
	return c.JSON(out)
}

// decideHandler answers POST …/:id/approve, /reject (a reason required) and
// /withdraw (a reason optional) for a kind of proposal.
func decideHandler[T any](to models.DecisionStatus, decide func(ctx context.Context, a models.Actor, id int64, to models.DecisionStatus, reason string) (T, error),
	render func(T) any) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		var in reasonInput
		if len(c.Body()) > 0 {
			if err := decodeJSON(c, &in); err != nil {
				return err
			}
		}
		if to == models.DecisionRejected {
			if in.Reason, err = models.RequireReason(in.Reason); err != nil {
				return err
			}
		}
		out, err := decide(c.UserContext(), actorOf(c), id, to, in.Reason)
		if err != nil {
			return err
		}
		return c.JSON(render(out))
	}
}

func (s *Server) decideLineStatus(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideLineStatus, func(d *models.LineDecision) any { return toLineDecisionJSON(d) })
}

func (s *Server) decideAward(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideAward, func(a *models.Award) any { return toAwardJSON(a) })
}

type approvalJSON struct {
	DecisionKind    string    `json:"decision_kind"`
	Entity          string    `json:"entity"`
	ID              int64     `json:"id"`
	Title           string    `json:"title"`
	Reference       string    `json:"reference"`
	Amount          Money     `json:"amount"`
	FundingLineID   *int64    `json:"funding_line_id"`
	FundingLineCode string    `json:"funding_line_code"`
	ProposedBy      int64     `json:"proposed_by"`
	ProposedByName  string    `json:"proposed_by_name"`
	ProposedAt      time.Time `json:"proposed_at"`
	EvidenceCount   int       `json:"evidence_count"`
	Entries         int       `json:"entries"`
	DecisionRecord  *string   `json:"decision_record"`
	// Approve is where to POST an approval (and /reject, /withdraw beside it).
	Approve string `json:"approve"`
}

// approvalPaths are where each kind of pending decision is decided.
var approvalPaths = map[string]string{
	"spend_entry":             "/api/v1/spend/%d/approve",
	"spend_import":            "/api/v1/spend-imports/%d/approve",
	"line_decision":           "/api/v1/line-decisions/%d/approve",
	"award":                   "/api/v1/awards/%d/approve",
	"award_variation":         "/api/v1/award-variations/%d/approve",
	"delegation_change":       "/api/v1/delegation-changes/%d/approve",
	"contract_band_exception": "/api/v1/band-exceptions/%d/approve",
	"payment_run":             "/api/v1/payment-runs/%d/approve",
	"office_holder_expense":   "/api/v1/office-holder-expenses/%d/approve",
}

func toApprovalJSON(a store.Approval) approvalJSON {
	return approvalJSON{DecisionKind: string(a.Kind), Entity: a.Entity, ID: a.ID, Title: a.Title, Reference: a.Reference, Amount: money(a.Amount),
		FundingLineID: a.FundingLineID, FundingLineCode: a.FundingLineCode, ProposedBy: a.ProposedBy, ProposedByName: a.ProposedByName,
		ProposedAt: a.ProposedAt, EvidenceCount: a.Evidence, Entries: a.Entries, DecisionRecord: a.DecisionRecord,
		Approve: strings.Replace(approvalPaths[a.Entity], "%d", strconv.FormatInt(a.ID, 10), 1)}
}

func (s *Server) listApprovals(c *fiber.Ctx) error {
	var p models.Problems
	pg := pageOf(c, &p)
	if err := p.Err(); err != nil {
		return err
	}
	as, total, err := s.store.ApprovalsPage(c.UserContext(), actorOf(c).UserID, pg)
	if err != nil {
		return err
	}
	out := pagedList[approvalJSON](c, pg, len(as), total)
	for _, a := range as {
		out.Items = append(out.Items, toApprovalJSON(a))
	}
	return c.JSON(out)
}

type delegationRuleJSON struct {
	Role      string `json:"role"`
	MaxAmount *Money `json:"max_amount"` // null: no limit
}

type delegationKindJSON struct {
	DecisionKind          string               `json:"decision_kind"`
	Description           string               `json:"description"`
	CitationRequiredAbove *Money               `json:"citation_required_above"` // null: never
	Approvers             []delegationRuleJSON `json:"approvers"`
}

func (s *Server) getDelegation(c *fiber.Ctx) error {
	kinds, err := s.delegationScheme(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(list[delegationKindJSON]{Items: kinds, Page: 1, PerPage: len(kinds), Total: len(kinds)})
}

// delegationScheme is the scheme of delegation by kind, for the API and the page.
func (s *Server) delegationScheme(ctx context.Context) ([]delegationKindJSON, error) {
	kinds, rules, err := s.store.DelegationScheme(ctx)
	if err != nil {
		return nil, err
	}
	out := []delegationKindJSON{}
	for _, k := range kinds {
		kj := delegationKindJSON{DecisionKind: string(k.DecisionKind), Description: k.Description, Approvers: []delegationRuleJSON{},
			CitationRequiredAbove: optMoney(k.CitationRequiredAbove)}
		for _, r := range rules {
			if r.DecisionKind == k.DecisionKind {
				kj.Approvers = append(kj.Approvers, delegationRuleJSON{Role: string(r.Role), MaxAmount: optMoney(r.MaxAmount)})
			}
		}
		out = append(out, kj)
	}
	return out, nil
}

type decisionRecordJSON struct {
	ID            int64     `json:"id"`
	Reference     string    `json:"reference"`
	Title         string    `json:"title"`
	SignedOn      Date      `json:"signed_on"`
	DecisionMaker string    `json:"decision_maker"`
	URL           string    `json:"url"`
	CreatedBy     int64     `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

func toDecisionRecordJSON(r *models.DecisionRecord) decisionRecordJSON {
	return decisionRecordJSON{ID: r.ID, Reference: r.Reference, Title: r.Title, SignedOn: date(r.SignedOn), DecisionMaker: r.DecisionMaker,
		URL: r.URL, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt}
}

func (s *Server) listDecisionRecords(c *fiber.Ctx) error {
	var p models.Problems
	pg := pageOf(c, &p)
	if err := p.Err(); err != nil {
		return err
	}
	rs, total, err := s.store.DecisionRecordsPage(c.UserContext(), pg)
	if err != nil {
		return err
	}
	out := pagedList[decisionRecordJSON](c, pg, len(rs), total)
	for _, r := range rs {
		out.Items = append(out.Items, toDecisionRecordJSON(r))
	}
	return c.JSON(out)
}

func (s *Server) createDecisionRecord(c *fiber.Ctx) error {
	var in models.DecisionRecordInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateDecisionRecord(c.UserContext(), actorOf(c), r); err != nil {
		return err
	}
	return created(c, "/api/v1/decision-records/"+strconv.FormatInt(r.ID, 10), toDecisionRecordJSON(r))
}

type delegationChangeInput struct {
	DecisionKind string  `json:"decision_kind"`
	Role         string  `json:"role"`
	Remove       bool    `json:"remove"`
	MaxAmount    *string `json:"max_amount" openapi:"money-input"` // null: no limit
	Reason       string  `json:"reason"`
}

// change is the proposed change the input describes; EINVALID on
// max_amount when it is not money.
func (in delegationChangeInput) change() (*models.DelegationChange, error) {
	ch := &models.DelegationChange{DecisionKind: models.DecisionKind(in.DecisionKind), Role: models.Role(in.Role), Remove: in.Remove, Reason: in.Reason}
	if in.MaxAmount != nil {
		d, err := models.ParseNonNegativeMoney(*in.MaxAmount)
		if err != nil {
			var p models.Problems
			p.Add("max_amount", "%s", models.ErrorMessage(err))
			return nil, p.Err()
		}
		ch.MaxAmount = &d
	}
	return ch, nil
}

func (s *Server) proposeDelegationChange(c *fiber.Ctx) error {
	var in delegationChangeInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ch, err := in.change()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).ProposeDelegationChange(c.UserContext(), actorOf(c), ch); err != nil {
		return err
	}
	return created(c, "/api/v1/delegation-changes/"+strconv.FormatInt(ch.ID, 10), ch)
}

func (s *Server) decideDelegationChange(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideDelegationChange, func(ch *models.DelegationChange) any { return ch })
}
