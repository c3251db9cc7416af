package store

import (
	"context"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// proposal is what deciding a pending proposal needs to know about it,
// whatever its table: line_decisions or awards.
type proposal struct {
	table, what string // e.g. "awards", "award AW-1"
	id          int64
	kind        models.DecisionKind
	amount      decimal.Decimal // what the decision commits, checked against the decider's limit
	status      models.DecisionStatus
	proposedBy  *int64 // nil: made before two-person decisions
	recordID    *int64
}

// decide moves a locked pending proposal to status by the actor, with the
// rules every two-person decision shares: only the proposer withdraws; only
// someone else, with authority for the kind and amount in the scheme of
// delegation, approves or rejects; a rejection has a reason; an approval
// above the kind's threshold cites a decision record. The database's guards
// on each table check the same. It returns the decision's time, the
// transaction's, which is what the database's status guards look for.
func (s *Store) decide(ctx context.Context, tx bun.Tx, actor models.Actor, p proposal, to models.DecisionStatus, reason string) (time.Time, error) {
	if p.status != models.DecisionPending {
		return time.Time{}, models.Errorf(models.ECONFLICT, "The %s is already %s.", p.what, p.status)
	}
	proposer := int64(0)
	if p.proposedBy != nil {
		proposer = *p.proposedBy
	}
	reason = strings.TrimSpace(reason)
	switch to {
	case models.DecisionWithdrawn:
		if proposer != actor.UserID {
			return time.Time{}, &models.Error{Code: models.EFORBIDDEN, Err: models.ErrFourEyes,
				Message: "Only the person who proposed the " + p.what + " can withdraw it."}
		}
	case models.DecisionRejected:
		if reason == "" {
			return time.Time{}, &models.Error{Code: models.EINVALID, Message: "A reason is needed to reject a proposal.",
				Fields: []models.FieldError{{Field: "reason", Message: "is required"}}}
		}
		if err := s.CheckDecisionAuthority(ctx, tx, p.kind, decimal.Zero, actor.UserID, proposer); err != nil {
			return time.Time{}, err
		}
	case models.DecisionApproved:
		if err := s.CheckDecisionAuthority(ctx, tx, p.kind, p.amount, actor.UserID, proposer); err != nil {
			return time.Time{}, err
		}
		if err := s.CheckDecisionCitation(ctx, tx, p.kind, p.amount, p.recordID); err != nil {
			return time.Time{}, err
		}
	}
	var reasonArg *string
	if reason != "" {
		reasonArg = &reason
	}
	var at time.Time
	err := tx.NewRaw("UPDATE ? SET status = ?, decided_by = ?, decided_at = now(), decision_reason = ? WHERE id = ? RETURNING decided_at",
		bun.Ident(p.table), to, actor.UserID, reasonArg, p.id).Scan(ctx, &at)
	return at, err
}

// ProposeLineStatus proposes moving a funding line to approved or active,
// citing a decision record if recordID is set; another person decides it
// (ApproveLineDecision). EINVALID when the transition is not allowed or the
// status needs no decision (cancel and close directly); ECONFLICT when the
// line already has an open proposal.
func (s *Store) ProposeLineStatus(ctx context.Context, actor models.Actor, lineID int64, to models.FundingLineStatus, reason string, recordID *int64) (*models.LineDecision, error) {
	kind := models.LineDecisionKind(to)
	if kind == "" {
		return nil, &models.Error{Code: models.EINVALID, Message: "Only approving and activating a funding line are proposed for a second person's decision.",
			Fields: []models.FieldError{{Field: "to_status", Message: "must be approved or active"}}}
	}
	d := &models.LineDecision{FundingLineID: lineID, DecisionKind: kind, ToStatus: to, DecisionRecordID: recordID,
		Reason: strings.TrimSpace(reason), Status: models.DecisionPending, ProposedBy: actor.UserID}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		fl, err := lockFundingLine(ctx, tx, lineID)
		if err != nil {
			return err
		}
		if err := models.CheckTransition(fl.Status, to); err != nil {
			return err
		}
		open, err := tx.NewSelect().Model((*models.LineDecision)(nil)).Where("funding_line_id = ? AND status = 'pending'", lineID).Exists(ctx)
		if err != nil {
			return err
		}
		if open {
			return models.Errorf(models.ECONFLICT, "Funding line %s already has a proposal awaiting a decision.", fl.Code)
		}
		if _, err := tx.NewInsert().Model(d).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "line_decision.propose", Entity: "funding_line", EntityID: lineID, After: d})
	})
	return d, err
}

// lockLineDecision locks a line decision's funding line, then the decision.
func lockLineDecision(ctx context.Context, tx bun.Tx, id int64) (*models.LineDecision, *models.FundingLine, error) {
	var lineID int64
	if err := tx.NewRaw("SELECT funding_line_id FROM line_decisions WHERE id = ?", id).Scan(ctx, &lineID); err != nil {
		return nil, nil, notFound(err, "Line decision", id)
	}
	fl, err := lockFundingLine(ctx, tx, lineID)
	if err != nil {
		return nil, nil, err
	}
	d := new(models.LineDecision)
	if err := tx.NewSelect().Model(d).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, nil, notFound(err, "Line decision", id)
	}
	return d, fl, nil
}

// DecideLineStatus approves (models.DecisionApproved), rejects with a reason
// or withdraws a proposed line status change, under decide's rules; an
// approval also moves the line, checking the transition again (EINVALID if
// the line has moved on since).
func (s *Store) DecideLineStatus(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.LineDecision, error) {
	var out *models.LineDecision
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		d, fl, err := lockLineDecision(ctx, tx, id)
		if err != nil {
			return err
		}
		if to == models.DecisionApproved {
			if err := models.CheckTransition(fl.Status, d.ToStatus); err != nil {
				return err
			}
		}
		p := proposal{table: "line_decisions", what: string(d.DecisionKind) + " of funding line " + fl.Code, id: d.ID, kind: d.DecisionKind,
			amount: fl.Budget, status: d.Status, proposedBy: &d.ProposedBy, recordID: d.DecisionRecordID}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := d.Status
		d.Status, d.DecidedBy, d.DecidedAt = to, &actor.UserID, &at
		if r := strings.TrimSpace(reason); r != "" {
			d.DecisionReason = &r
		}
		out = d
		if err := s.audit(ctx, tx, actor, Change{Action: "line_decision." + decisionVerb(to), Entity: "funding_line", EntityID: fl.ID,
			Before: map[string]any{"decision_id": d.ID, "status": before}, After: d}); err != nil {
			return err
		}
		if to != models.DecisionApproved {
			return nil
		}
		if _, err := tx.NewUpdate().Model(fl).Set("status = ?", d.ToStatus).Set("updated_at = now()").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "funding_line.status", Entity: "funding_line", EntityID: fl.ID,
			Before: map[string]any{"status": fl.Status}, After: map[string]any{"status": d.ToStatus, "decision_id": d.ID}})
	})
	return out, s.recordRefusal(ctx, actor, "line_decision", "line_decision."+decisionVerb(to), id, err)
}

// decisionVerb names a decision in audit actions: approve, reject, withdraw.
func decisionVerb(to models.DecisionStatus) string {
	switch to {
	case models.DecisionApproved:
		return "approve"
	case models.DecisionRejected:
		return "reject"
	case models.DecisionWithdrawn:
		return "withdraw"
	}
	return string(to)
}

// LineDecisions lists a funding line's proposed status changes, newest first.
func (s *Store) LineDecisions(ctx context.Context, lineID int64) ([]*models.LineDecision, error) {
	var ds []*models.LineDecision
	err := s.db.NewSelect().Model(&ds).Where("funding_line_id = ?", lineID).Order("proposed_at DESC", "id DESC").Scan(ctx)
	return ds, translate(err)
}

// LineDecision returns one proposed status change; ENOTFOUND if none.
func (s *Store) LineDecision(ctx context.Context, id int64) (*models.LineDecision, error) {
	d := new(models.LineDecision)
	if err := s.db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Line decision", id)
	}
	return d, nil
}

// DecideAward approves, rejects with a reason or withdraws a proposed award
// under decide's rules (kind award, or reservation_conversion for an award
// converted from a reservation; the amount is the award's).
func (s *Store) DecideAward(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.Award, error) {
	var out *models.Award
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, fl, err := lockAward(ctx, tx, id)
		if err != nil {
			return err
		}
		kind := models.DecisionAward
		if a.ReservationID != nil {
			kind = models.DecisionReservationConversion
		}
		p := proposal{table: "awards", what: "award " + a.Reference, id: a.ID, kind: kind, amount: a.Amount, status: a.Status,
			proposedBy: a.ProposedBy, recordID: a.DecisionRecordID}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := a.Status
		a.Status, a.DecidedBy, a.DecidedAt = to, &actor.UserID, &at
		if r := strings.TrimSpace(reason); r != "" {
			a.DecisionReason = &r
		}
		out = a
		if err := s.audit(ctx, tx, actor, Change{Action: "award." + decisionVerb(to), Entity: "award", EntityID: a.ID,
			Before: map[string]any{"status": before}, After: map[string]any{"status": to, "amount": a.Amount, "reason": a.DecisionReason}}); err != nil {
			return err
		}
		if a.ReservationID == nil || to == models.DecisionApproved {
			return nil
		}
		return s.restoreReservation(ctx, tx, actor, fl, a)
	})
	return out, s.recordRefusal(ctx, actor, "award", "award."+decisionVerb(to), id, err)
}
