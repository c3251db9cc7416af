package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// Contracts: band exceptions, proposed by one person and decided by another.

func (s *Server) contractRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/funding-lines/:id/band-exceptions", Summary: "List a contract line's band exceptions", Roles: everyone, Response: list[bandExceptionJSON]{}, Handler: s.listBandExceptions},
		{Method: "POST", Path: "/api/v1/funding-lines/:id/band-exceptions", Summary: "Propose letting a contract's value lie outside its tender's band, with a reason, for a second person to decide", Roles: writers, Request: models.BandExceptionInput{}, Response: bandExceptionJSON{}, Status: 201, Handler: s.proposeBandException},
		{Method: "POST", Path: "/api/v1/band-exceptions/:id/approve", Summary: "Approve a proposed band exception (not your own; within your authority for the contract's value)", Roles: writers, Response: bandExceptionJSON{}, Handler: s.decideBandException(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/band-exceptions/:id/reject", Summary: "Reject a proposed band exception with a reason", Roles: writers, Request: reasonInput{}, Response: bandExceptionJSON{}, Handler: s.decideBandException(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/band-exceptions/:id/withdraw", Summary: "Withdraw your own proposed band exception", Roles: writers, Request: reasonInput{}, Response: bandExceptionJSON{}, Handler: s.decideBandException(models.DecisionWithdrawn)},
	}
}

type bandExceptionJSON struct {
	ID               int64      `json:"id"`
	FundingLineID    int64      `json:"funding_line_id"`
	ContractValue    Money      `json:"contract_value"`
	Reason           string     `json:"reason"`
	DecisionRecordID *int64     `json:"decision_record_id"`
	Status           string     `json:"status"`
	ProposedBy       int64      `json:"proposed_by"`
	ProposedAt       time.Time  `json:"proposed_at"`
	DecidedBy        *int64     `json:"decided_by"`
	DecidedAt        *time.Time `json:"decided_at"`
	DecisionReason   *string    `json:"decision_reason"`
}

func toBandExceptionJSON(x *models.ContractBandException) bandExceptionJSON {
	return bandExceptionJSON{ID: x.ID, FundingLineID: x.FundingLineID, ContractValue: money(x.ContractValue), Reason: x.Reason,
		DecisionRecordID: x.DecisionRecordID, Status: string(x.Status), ProposedBy: x.ProposedBy, ProposedAt: x.ProposedAt,
		DecidedBy: x.DecidedBy, DecidedAt: x.DecidedAt, DecisionReason: x.DecisionReason}
}

func (s *Server) proposeBandException(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.BandExceptionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	x, err := in.Validate(id)
	if err != nil {
		return err
	}
	if err := s.storeOf(c).ProposeBandException(c.UserContext(), actorOf(c), x); err != nil {
		return err
	}
	return created(c, "/api/v1/funding-lines/"+strconv.FormatInt(id, 10)+"/band-exceptions", toBandExceptionJSON(x))
}

func (s *Server) listBandExceptions(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.store.FundingLine(c.UserContext(), id); err != nil {
		return err
	}
	xs, err := s.store.BandExceptions(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := list[bandExceptionJSON]{Items: []bandExceptionJSON{}, Page: 1, PerPage: len(xs), Total: len(xs)}
	for _, x := range xs {
		out.Items = append(out.Items, toBandExceptionJSON(x))
	}
	return c.JSON(out)
}

func (s *Server) decideBandException(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideBandException, func(x *models.ContractBandException) any { return toBandExceptionJSON(x) })
}
