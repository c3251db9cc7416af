package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// Variations and cancellations of approved awards: proposed by one person,
// decided by another under the scheme of delegation.

func (s *Server) awardVariationRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/awards/:id/variations", Summary: "List an award's variations and cancellations, newest first", Roles: everyone, Response: list[awardVariationJSON]{}, Handler: s.listAwardVariations},
		{Method: "POST", Path: "/api/v1/awards/:id/variations", Summary: "Propose varying an approved award (amount, dates, tranche schedule) or cancelling it (kind cancellation), for a second person to decide; never below the spend approved against it; send an Idempotency-Key header to make retries safe", Roles: writers, Request: models.AwardVariationInput{}, Response: awardVariationJSON{}, Status: 201, Handler: s.proposeAwardVariation},
		{Method: "GET", Path: "/api/v1/award-variations/:id", Summary: "Get a proposed or decided award variation or cancellation", Roles: everyone, Response: awardVariationJSON{}, Handler: s.getAwardVariation},
		{Method: "POST", Path: "/api/v1/award-variations/:id/approve", Summary: "Approve and apply an award variation or cancellation (not your own; within your authority for the increase, or the award's amount for a cancellation)", Roles: writers, Response: awardVariationJSON{}, Handler: s.decideAwardVariation(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/award-variations/:id/reject", Summary: "Reject an award variation or cancellation with a reason", Roles: writers, Request: reasonInput{}, Response: awardVariationJSON{}, Handler: s.decideAwardVariation(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/award-variations/:id/withdraw", Summary: "Withdraw your own proposed award variation or cancellation", Roles: writers, Request: reasonInput{}, Response: awardVariationJSON{}, Handler: s.decideAwardVariation(models.DecisionWithdrawn)},
	}
}

type awardVariationTrancheJSON struct {
	Seq    int   `json:"seq"`
	DueOn  Date  `json:"due_on"`
	Amount Money `json:"amount"`
}

type awardVariationJSON struct {
	ID               int64                       `json:"id"`
	AwardID          int64                       `json:"award_id"`
	Kind             string                      `json:"kind" doc:"variation or cancellation"`
	AmountBefore     Money                       `json:"previous_amount"`
	StartsOnBefore   Date                        `json:"previous_starts_on"`
	EndsOnBefore     Date                        `json:"previous_ends_on"`
	Amount           *Money                      `json:"amount" doc:"the award as varied; null for a cancellation"`
	StartsOn         *Date                       `json:"starts_on"`
	EndsOn           *Date                       `json:"ends_on"`
	Tranches         []awardVariationTrancheJSON `json:"tranches"`
	Reason           string                      `json:"reason"`
	DecisionRecordID *int64                      `json:"decision_record_id"`
	Status           string                      `json:"status"`
	ProposedBy       int64                       `json:"proposed_by"`
	ProposedAt       time.Time                   `json:"proposed_at"`
	DecidedBy        *int64                      `json:"decided_by"`
	DecidedAt        *time.Time                  `json:"decided_at"`
	DecisionReason   *string                     `json:"decision_reason"`
}

func toAwardVariationJSON(v *models.AwardVariation) awardVariationJSON {
	out := awardVariationJSON{ID: v.ID, AwardID: v.AwardID, Kind: string(v.Kind), AmountBefore: money(v.AmountBefore),
		StartsOnBefore: date(v.StartsOnBefore), EndsOnBefore: date(v.EndsOnBefore), Tranches: []awardVariationTrancheJSON{},
		Reason: v.Reason, DecisionRecordID: v.DecisionRecordID, Status: string(v.Status), ProposedBy: v.ProposedBy,
		ProposedAt: v.ProposedAt, DecidedBy: v.DecidedBy, DecidedAt: v.DecidedAt, DecisionReason: v.DecisionReason}
	if v.Amount != nil {
		m := money(*v.Amount)
		out.Amount = &m
	}
	if v.StartsOn != nil && v.EndsOn != nil {
		st, en := date(*v.StartsOn), date(*v.EndsOn)
		out.StartsOn, out.EndsOn = &st, &en
	}
	for _, t := range v.Tranches {
		out.Tranches = append(out.Tranches, awardVariationTrancheJSON{Seq: t.Seq, DueOn: date(t.DueOn), Amount: money(t.Amount)})
	}
	return out
}

func (s *Server) proposeAwardVariation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.AwardVariationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	v, err := s.storeOf(c).ProposeAwardVariation(c.UserContext(), actorOf(c), id, in)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/award-variations/"+strconv.FormatInt(v.ID, 10), toAwardVariationJSON(v))
}

func (s *Server) listAwardVariations(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.store.Award(c.UserContext(), id); err != nil {
		return err
	}
	vs, err := s.store.AwardVariations(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := list[awardVariationJSON]{Items: []awardVariationJSON{}, Page: 1, PerPage: len(vs), Total: len(vs)}
	for _, v := range vs {
		out.Items = append(out.Items, toAwardVariationJSON(v))
	}
	return c.JSON(out)
}

func (s *Server) getAwardVariation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	v, err := s.store.AwardVariation(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toAwardVariationJSON(v))
}

func (s *Server) decideAwardVariation(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideAwardVariation, func(v *models.AwardVariation) any { return toAwardVariationJSON(v) })
}
