package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// lockAward locks an award's funding line, then the award with its
// tranches, as every path deciding an award locks them.
func lockAward(ctx context.Context, tx bun.Tx, id int64) (*models.Award, *models.FundingLine, error) {
	var lineID int64
	if err := tx.NewRaw("SELECT funding_line_id FROM awards WHERE id = ?", id).Scan(ctx, &lineID); err != nil {
		return nil, nil, notFound(err, "Award", id)
	}
	fl, err := lockFundingLine(ctx, tx, lineID)
	if err != nil {
		return nil, nil, err
	}
	a := new(models.Award)
	if err := tx.NewSelect().Model(a).Where("award.id = ?", id).For("UPDATE OF award").
		Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "Award", id)
	}
	return a, fl, nil
}

// checkVariation refuses a variation or cancellation the locked award and
// line cannot take, naming the figures: ECONFLICT when the award is not
// approved, when it would fall below the spend already approved against it
// (award_covers_spend), when its dates would leave out spend recorded
// against it (award_dates_cover_spend), when a tranche with spend against
// it would go, or when an increase is more than the line has left to award
// (awards_within_budget); EINVALID when the dates leave the line's
// (awards_within_line_dates). The database holds each rule too.
func checkVariation(ctx context.Context, db bun.IDB, fl *models.FundingLine, a *models.Award, v *models.AwardVariation) error {
	if a.Status != models.DecisionApproved {
		return models.Errorf(models.ECONFLICT, "Award %s is %s: only an approved award is varied or cancelled.", a.Reference, a.Status)
	}
	var spent decimal.Decimal
	if err := db.NewRaw("SELECT coalesce(sum(amount), 0) FROM spend_entries WHERE award_id = ? AND status = 'approved'", a.ID).
		Scan(ctx, &spent); err != nil {
		return err
	}
	if v.Kind == models.VariationCancellation {
		if spent.IsPositive() {
			return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("Award %s cannot be cancelled: %s is already approved as spend against it, "+
				"so it cannot go below %s (cancelling would leave it %s short). Vary it down to %s instead.",
				a.Reference, models.Pounds(spent), models.Pounds(spent), models.Pounds(spent), models.Pounds(spent)),
				Fields: []models.FieldError{{Field: "kind", Message: "spend of " + models.Pounds(spent) + " is already approved against this award"}}}
		}
		return nil
	}
	if short := spent.Sub(*v.Amount); short.IsPositive() {
		return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("Award %s cannot go below %s, the spend already approved against it; %s is %s short.",
			a.Reference, models.Pounds(spent), models.Pounds(*v.Amount), models.Pounds(short)),
			Fields: []models.FieldError{{Field: "amount", Message: "must be at least " + models.Pounds(spent) + ", the spend already approved against this award"}}}
	}
	varied := *a
	varied.StartsOn, varied.EndsOn = *v.StartsOn, *v.EndsOn
	if err := checkAwardFits(ctx, db, fl, &varied); err != nil {
		return err
	}
	var outside struct {
		ID         int64
		IncurredOn time.Time
	}
	err := db.NewRaw(`SELECT e.id, e.incurred_on FROM spend_entries e
		WHERE e.award_id = ? AND e.status IN ('pending', 'approved') AND e.reverses_id IS NULL AND (e.incurred_on < ? OR e.incurred_on > ?)
		  AND NOT EXISTS (SELECT 1 FROM spend_entries r WHERE r.reverses_id = e.id AND r.status = 'approved')
		ORDER BY e.incurred_on, e.id LIMIT 1`, a.ID, *v.StartsOn, *v.EndsOn).Scan(ctx, &outside.ID, &outside.IncurredOn)
	if err == nil {
		field, on := "starts_on", outside.IncurredOn.Format(models.DateLayout)
		if outside.IncurredOn.After(*v.EndsOn) {
			field = "ends_on"
		}
		return &models.Error{Code: models.ECONFLICT, Message: fmt.Sprintf("Award %s's dates must cover the spend recorded against it: spend entry %d was incurred on %s.",
			a.Reference, outside.ID, on),
			Fields: []models.FieldError{{Field: field, Message: "must cover spend incurred on " + on}}}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var gone []int
	if err := db.NewRaw(`SELECT DISTINCT t.seq FROM tranches t JOIN spend_entries e ON e.tranche_id = t.id
		WHERE t.award_id = ? AND t.seq > ? ORDER BY 1`, a.ID, len(v.Tranches)).Scan(ctx, &gone); err != nil {
		return err
	}
	if len(gone) > 0 {
		return models.Errorf(models.ECONFLICT, "Award %s's tranche %d has spend against it, so the schedule must keep at least %d tranches.",
			a.Reference, gone[0], gone[len(gone)-1])
	}
	if increase := v.Amount.Sub(a.Amount); increase.IsPositive() {
		committed, reserved, err := committedOn(ctx, db, fl.ID)
		if err != nil {
			return err
		}
		if over := committed.Add(reserved).Add(increase).Sub(fl.Budget); over.IsPositive() {
			left := fl.Budget.Sub(committed).Sub(reserved)
			return &models.Error{Code: models.ECONFLICT,
				Message: fmt.Sprintf("Funding line %s has a budget of %s with %s awarded and %s reserved; raising award %s by %s is %s over.",
					fl.Code, models.Pounds(fl.Budget), models.Pounds(committed), models.Pounds(reserved), a.Reference, models.Pounds(increase), models.Pounds(over)),
				Fields: []models.FieldError{{Field: "amount", Message: "at most " + models.Pounds(a.Amount.Add(left)) + ": " + models.Pounds(left) + " remains to award on this line"}}}
		}
	}
	return nil
}

// ProposeAwardVariation proposes varying or cancelling an approved award,
// for someone else to decide (DecideAwardVariation). EINVALID for bad input
// or a missing citation the approval would need; ECONFLICT when the award
// already has a proposal open or checkVariation refuses it.
func (s *Store) ProposeAwardVariation(ctx context.Context, actor models.Actor, awardID int64, in models.AwardVariationInput) (*models.AwardVariation, error) {
	var v *models.AwardVariation
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		a, fl, err := lockAward(ctx, tx, awardID)
		if err != nil {
			return err
		}
		if v, err = in.Validate(a); err != nil {
			return err
		}
		open, err := tx.NewSelect().Model((*models.AwardVariation)(nil)).Where("award_id = ? AND status = 'pending'", a.ID).Exists(ctx)
		if err != nil {
			return err
		}
		if open {
			return models.Errorf(models.ECONFLICT, "Award %s already has a variation or cancellation awaiting a decision.", a.Reference)
		}
		if err := checkVariation(ctx, tx, fl, a, v); err != nil {
			return err
		}
		if err := s.CheckDecisionCitation(ctx, tx, v.DecisionKind(), v.AuthorityAmount(), v.DecisionRecordID); err != nil {
			return err
		}
		v.Status, v.ProposedBy = models.DecisionPending, actor.UserID
		if _, err := tx.NewInsert().Model(v).Returning("*").Exec(ctx); err != nil {
			return err
		}
		for _, t := range v.Tranches {
			t.AwardVariationID = v.ID
		}
		if len(v.Tranches) > 0 {
			if _, err := tx.NewInsert().Model(&v.Tranches).Exec(ctx); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, Change{Action: "award_variation.propose", Entity: "award", EntityID: a.ID, After: v})
	})
	return v, err
}

// DecideAwardVariation approves, rejects with a reason or withdraws a
// proposed variation or cancellation under decide's rules (kind
// award_variation weighed by the increase, award_cancellation by the
// award's amount). An approval checks the award and line again
// (checkVariation) and applies it: the database's award_variation_apply
// trigger writes the award and its tranches in the same statement.
func (s *Store) DecideAwardVariation(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.AwardVariation, error) {
	var out *models.AwardVariation
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var awardID int64
		if err := tx.NewRaw("SELECT award_id FROM award_variations WHERE id = ?", id).Scan(ctx, &awardID); err != nil {
			return notFound(err, "Award variation", id)
		}
		a, fl, err := lockAward(ctx, tx, awardID)
		if err != nil {
			return err
		}
		v := new(models.AwardVariation)
		if err := tx.NewSelect().Model(v).Where("award_variation.id = ?", id).For("UPDATE OF award_variation").
			Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).Scan(ctx); err != nil {
			return notFound(err, "Award variation", id)
		}
		if to == models.DecisionApproved && v.Status == models.DecisionPending {
			if err := checkVariation(ctx, tx, fl, a, v); err != nil {
				return err
			}
		}
		p := proposal{table: "award_variations", what: string(v.Kind) + " of award " + a.Reference, id: v.ID, kind: v.DecisionKind(),
			amount: v.AuthorityAmount(), status: v.Status, proposedBy: &v.ProposedBy, recordID: v.DecisionRecordID}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		v.Status, v.DecidedBy, v.DecidedAt = to, &actor.UserID, &at
		if r := strings.TrimSpace(reason); r != "" {
			v.DecisionReason = &r
		}
		out = v
		if err := s.audit(ctx, tx, actor, Change{Action: "award_variation." + decisionVerb(to), Entity: "award", EntityID: a.ID,
			Before: map[string]any{"variation_id": v.ID, "status": models.DecisionPending}, After: v}); err != nil {
			return err
		}
		if to != models.DecisionApproved {
			return nil
		}
		after, err := awardIn(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		action := "award.vary"
		if v.Kind == models.VariationCancellation {
			action = "award.cancel"
		}
		return s.audit(ctx, tx, actor, Change{Action: action, Entity: "award", EntityID: a.ID, Before: awardEvent(a), After: awardEvent(after)})
	})
	return out, s.recordRefusal(ctx, actor, "award_variation", "award_variation."+decisionVerb(to), id, err)
}

// awardEvent is an award as the audit trail records a variation of it.
func awardEvent(a *models.Award) map[string]any {
	tranches := make([]map[string]string, len(a.Tranches))
	for i, t := range a.Tranches {
		tranches[i] = map[string]string{"due_on": t.DueOn.Format(models.DateLayout), "amount": models.FormatMoney(t.Amount)}
	}
	return map[string]any{"status": a.Status, "amount": models.FormatMoney(a.Amount), "starts_on": a.StartsOn.Format(models.DateLayout),
		"ends_on": a.EndsOn.Format(models.DateLayout), "tranches": tranches}
}

// awardIn reads an award with its tranches within a transaction.
func awardIn(ctx context.Context, db bun.IDB, id int64) (*models.Award, error) {
	a := new(models.Award)
	err := db.NewSelect().Model(a).Where("award.id = ?", id).
		Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "Award", id)
	}
	return a, nil
}

// AwardVariation returns one variation or cancellation with its tranches;
// ENOTFOUND if none.
func (s *Store) AwardVariation(ctx context.Context, id int64) (*models.AwardVariation, error) {
	v := new(models.AwardVariation)
	if err := s.db.NewSelect().Model(v).Where("award_variation.id = ?", id).
		Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).Scan(ctx); err != nil {
		return nil, notFound(err, "Award variation", id)
	}
	return v, nil
}

// AwardVariations lists an award's variations and cancellations, newest
// first.
func (s *Store) AwardVariations(ctx context.Context, awardID int64) ([]*models.AwardVariation, error) {
	var out []*models.AwardVariation
	err := s.db.NewSelect().Model(&out).Where("award_variation.award_id = ?", awardID).
		Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).
		Order("award_variation.proposed_at DESC", "award_variation.id DESC").Scan(ctx)
	return out, translate(err)
}
