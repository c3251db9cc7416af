package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// RecordSpend stores a pending spend entry recorded by the actor. With an
// idempotency key, a retry with the same key and request hash returns the
// entry first stored (replayed true), also when the retries race; the same
// key with another request is ECONFLICT.
func (s *Store) RecordSpend(ctx context.Context, actor models.Actor, e *models.SpendEntry, key string, requestHash []byte) (replayed bool, err error) {
	e.RecordedBy, e.Status = actor.UserID, models.SpendPending
	if key != "" {
		e.IdempotencyKey, e.RequestHash = &key, requestHash
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Spend naming a tranche is refused at once when it could never be
		// approved: more than the tranche has outstanding, or withheld.
		if e.TrancheID != nil {
			if err := checkTranche(ctx, tx, e); err != nil {
				return err
			}
		}
		// One round trip: the entry goes in only if its line is active, and
		// ON CONFLICT waits for a racing insert of the same key to finish, so
		// exactly one request stores the entry and the others find it.
		err := tx.NewRaw(`INSERT INTO spend_entries (funding_line_id, award_id, tranche_id, payee_id, amount, incurred_on, category,
				reference, description, purpose, vfm_reason, status, recorded_by, idempotency_key, request_hash)
			SELECT fl.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM funding_lines fl WHERE fl.id = ? AND fl.status = 'active'
				AND ?::date BETWEEN fl.starts_on AND fl.ends_on
				AND NOT EXISTS (SELECT 1 FROM awards a WHERE a.id = ? AND (?::date NOT BETWEEN a.starts_on AND a.ends_on OR a.status <> 'approved'))
				AND NOT EXISTS (SELECT 1 FROM tranches t WHERE t.id = ? AND t.status = 'withheld')
			ON CONFLICT (recorded_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
			RETURNING *`,
			e.AwardID, e.TrancheID, e.PayeeID, e.Amount, e.IncurredOn.Format(time.DateOnly), e.Category, e.Reference, e.Description,
			e.Purpose, e.VFMReason, e.Status, e.RecordedBy, e.IdempotencyKey, e.RequestHash, e.FundingLineID,
			e.IncurredOn.Format(time.DateOnly), e.AwardID, e.IncurredOn.Format(time.DateOnly), e.TrancheID).Scan(ctx, e)
		if errors.Is(err, sql.ErrNoRows) {
			replayed, err = s.notRecorded(ctx, tx, actor, e, key, requestHash)
			return err
		}
		if err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "spend.record", Entity: "spend_entry", EntityID: e.ID, After: e})
	})
	return replayed, err
}

// notRecorded says why RecordSpend's insert stored nothing: the line is
// missing or not active, the entry falls outside the line's or the award's
// dates, or the idempotency key was used before, in which
// case the first entry is the answer (replayed) if the request is the same.
func (s *Store) notRecorded(ctx context.Context, tx bun.Tx, actor models.Actor, e *models.SpendEntry, key string, requestHash []byte) (bool, error) {
	fl := new(models.FundingLine)
	if err := tx.NewSelect().Model(fl).Where("id = ?", e.FundingLineID).Scan(ctx); err != nil {
		return false, fieldNotFound(err, "funding_line_id", "no such funding line")
	}
	if fl.Status != models.StatusActive {
		return false, &models.Error{Code: models.ECONFLICT, Message: "Spend can only be recorded on an active funding line; " + fl.Code + " is " + string(fl.Status) + ".",
			Fields: []models.FieldError{{Field: "funding_line_id", Message: "the line is " + string(fl.Status) + ", not active"}}}
	}
	if err := checkSpendDates(ctx, tx, e, fl); err != nil {
		return false, err
	}
	if err := checkTranche(ctx, tx, &models.SpendEntry{TrancheID: e.TrancheID}); err != nil {
		return false, err
	}
	if key == "" {
		// The line became active after the insert looked at it.
		return false, models.Errorf(models.ECONFLICT, "Another change got there first; please try again.")
	}
	stored := new(models.SpendEntry)
	if err := tx.NewSelect().Model(stored).Where("recorded_by = ? AND idempotency_key = ?", actor.UserID, key).Scan(ctx); err != nil {
		return false, err
	}
	if !bytes.Equal(stored.RequestHash, requestHash) {
		return false, models.Errorf(models.ECONFLICT, "This Idempotency-Key was already used for a different request; use a new key for new spend.")
	}
	*e = *stored
	return true, nil
}

// checkSpendDates refuses spend incurred outside its line's dates or its
// award's (ECONFLICT on incurred_on), or against an award not approved
// (ECONFLICT on award_id); the database's spend_within_line_dates,
// spend_within_award_dates and spend_award_approved hold the same rules.
func checkSpendDates(ctx context.Context, db bun.IDB, e *models.SpendEntry, fl *models.FundingLine) error {
	outside := func(what string, from, to time.Time) error {
		msg := "must be within " + what + "'s dates, " + from.Format(models.DateLayout) + " to " + to.Format(models.DateLayout)
		return &models.Error{Code: models.ECONFLICT, Message: "Spend incurred on " + e.IncurredOn.Format(models.DateLayout) + " " + msg + ".",
			Fields: []models.FieldError{{Field: "incurred_on", Message: msg}}}
	}
	if e.IncurredOn.Before(fl.StartsOn) || e.IncurredOn.After(fl.EndsOn) {
		return outside("funding line "+fl.Code, fl.StartsOn, fl.EndsOn)
	}
	if e.AwardID == nil {
		return nil
	}
	a := new(models.Award)
	if err := db.NewSelect().Model(a).Column("reference", "starts_on", "ends_on", "status").Where("id = ?", *e.AwardID).Scan(ctx); err != nil {
		return fieldNotFound(err, "award_id", "no such award")
	}
	if a.Status != models.DecisionApproved {
		return &models.Error{Code: models.ECONFLICT, Message: "Award " + a.Reference + " is " + string(a.Status) + ": spend is recorded only against an approved award.",
			Fields: []models.FieldError{{Field: "award_id", Message: "the award is " + string(a.Status) + ", not approved"}}}
	}
	if e.IncurredOn.Before(a.StartsOn) || e.IncurredOn.After(a.EndsOn) {
		return outside("award "+a.Reference, a.StartsOn, a.EndsOn)
	}
	return nil
}

func fieldNotFound(err error, field, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &models.Error{Code: models.EINVALID, Message: "The input has problems; see fields.", Fields: []models.FieldError{{Field: field, Message: msg}}}
	}
	return err
}

// ApproveSpend approves a pending entry. It is EFORBIDDEN for the person who
// recorded it, and for anyone the scheme of delegation does not allow to
// approve spend of its amount (CheckDecisionAuthority, kind spend); it is
// ECONFLICT when the line is no longer active (unless the entry is a
// reversal) or the approval would take the line's approved spend above its
// budget, or the award's above the award. The line is locked first, so two
// approvals can never overspend together.
func (s *Store) ApproveSpend(ctx context.Context, actor models.Actor, id int64) (*models.SpendEntry, error) {
	var out *models.SpendEntry
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		e, fl, err := lockSpend(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkDecision(actor, e); err != nil {
			return err
		}
		if err := s.CheckDecisionAuthority(ctx, tx, models.DecisionSpend, e.Amount, actor.UserID, e.RecordedBy); err != nil {
			return err
		}
		if fl.Status != models.StatusActive && e.ReversesID == nil {
			return models.Errorf(models.ECONFLICT, "Funding line %s is %s: spend is approved only on an active line.", fl.Code, fl.Status)
		}
		if e.Amount.IsPositive() {
			if err := checkBudget(ctx, tx, e, fl); err != nil {
				return err
			}
		}
		before := *e
		now := s.clock.Now().UTC()
		e.Status, e.DecidedBy, e.DecidedAt = models.SpendApproved, &actor.UserID, &now
		if _, err := tx.NewUpdate().Model(e).Column("status", "decided_by", "decided_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		out = e
		return s.audit(ctx, tx, actor, Change{Action: "spend.approve", Entity: "spend_entry", EntityID: e.ID,
			Before: map[string]any{"status": before.Status}, After: map[string]any{"status": e.Status, "amount": e.Amount}})
	})
	return out, s.recordRefusal(ctx, actor, "spend_entry", "spend.approve", id, err)
}

// recordRefusal ends every decision: it counts the decision's outcome
// (Activity), and writes an authz.denied event when err refuses actor a
// decision on entity id (maker-checker, approval limit): the transaction
// that tried it rolled back, so the attempt is recorded in a transaction of
// its own. It returns err, or the failure to record it.
func (s *Store) recordRefusal(ctx context.Context, actor models.Actor, entity, action string, id int64, err error) error {
	s.activity.countDecision(entity, action, err)
	if models.ErrorCode(err) != models.EFORBIDDEN {
		return err
	}
	if rerr := s.RecordEvent(ctx, actor, Change{Action: "authz.denied", Entity: entity, EntityID: id,
		After: map[string]any{"action": action, "reason": models.ErrorMessage(err)}}); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// lockSpend locks an entry's funding line, then the entry: always in that
// order, as every path that changes spend does.
func lockSpend(ctx context.Context, tx bun.Tx, id int64) (*models.SpendEntry, *models.FundingLine, error) {
	var lineID int64
	if err := tx.NewRaw("SELECT funding_line_id FROM spend_entries WHERE id = ?", id).Scan(ctx, &lineID); err != nil {
		return nil, nil, notFound(err, "Spend entry", id)
	}
	fl, err := lockFundingLine(ctx, tx, lineID)
	if err != nil {
		return nil, nil, err
	}
	e := new(models.SpendEntry)
	if err := tx.NewSelect().Model(e).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, nil, notFound(err, "Spend entry", id)
	}
	return e, fl, nil
}

func checkDecision(actor models.Actor, e *models.SpendEntry) error {
	if e.Status != models.SpendPending {
		return models.Errorf(models.ECONFLICT, "Spend entry %d is already %s.", e.ID, e.Status)
	}
	if e.RecordedBy == actor.UserID {
		return models.Errorf(models.EFORBIDDEN, "You recorded spend entry %d, so someone else must approve or reject it.", e.ID)
	}
	return nil
}

func checkBudget(ctx context.Context, tx bun.Tx, e *models.SpendEntry, fl *models.FundingLine) error {
	var spent decimal.Decimal
	if err := tx.NewRaw("SELECT coalesce(sum(amount), 0) FROM spend_entries WHERE funding_line_id = ? AND status = 'approved'", fl.ID).
		Scan(ctx, &spent); err != nil {
		return err
	}
	if over := spent.Add(e.Amount).Sub(fl.Budget); over.IsPositive() {
		return models.Errorf(models.ECONFLICT, "Approving %s would overspend funding line %s: its budget is %s, approved spend so far is %s, so it is %s short.",
			models.Pounds(e.Amount), fl.Code, models.Pounds(fl.Budget), models.Pounds(spent), models.Pounds(over))
	}
	if err := checkYearBudget(ctx, tx, e, fl); err != nil {
		return err
	}
	if err := checkTranche(ctx, tx, e); err != nil {
		return err
	}
	if e.AwardID == nil {
		return nil
	}
	var award struct {
		Amount decimal.Decimal
		Spent  decimal.Decimal
		Ref    string
	}
	if err := tx.NewRaw(`SELECT a.amount, a.reference, coalesce((SELECT sum(amount) FROM spend_entries
		WHERE award_id = a.id AND status = 'approved'), 0) FROM awards a WHERE a.id = ?`, *e.AwardID).
		Scan(ctx, &award.Amount, &award.Ref, &award.Spent); err != nil {
		return err
	}
	if over := award.Spent.Add(e.Amount).Sub(award.Amount); over.IsPositive() {
		return models.Errorf(models.ECONFLICT, "Approving %s would overspend award %s: the award is %s, approved spend so far is %s, so it is %s short.",
			models.Pounds(e.Amount), award.Ref, models.Pounds(award.Amount), models.Pounds(award.Spent), models.Pounds(over))
	}
	return nil
}

// checkYearBudget refuses spend that would take the approved spend of the
// financial year it was incurred in above that year's profiled budget (the
// rule spend_within_year_budget; reversals give back their original's year,
// as the database's year_spent counts them).
func checkYearBudget(ctx context.Context, tx bun.Tx, e *models.SpendEntry, fl *models.FundingLine) error {
	fy := models.FinancialYearOf(e.IncurredOn)
	var budget, spent decimal.Decimal
	if err := tx.NewRaw(`SELECT coalesce((SELECT amount FROM budget_profiles WHERE funding_line_id = ?0 AND financial_year = ?1), 0),
		year_spent(?0, ?1)`, fl.ID, int(fy)).Scan(ctx, &budget, &spent); err != nil {
		return err
	}
	if over := spent.Add(e.Amount).Sub(budget); over.IsPositive() {
		return models.Errorf(models.ECONFLICT, "Approving %s would overspend funding line %s in %s: the year's budget is %s, approved spend in the year so far is %s, so it is %s short.",
			models.Pounds(e.Amount), fl.Code, fy, models.Pounds(budget), models.Pounds(spent), models.Pounds(over))
	}
	return nil
}

// RejectSpend rejects a pending entry with a reason; the rules of who may
// decide are ApproveSpend's.
func (s *Store) RejectSpend(ctx context.Context, actor models.Actor, id int64, reason string) (*models.SpendEntry, error) {
	var out *models.SpendEntry
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		e, _, err := lockSpend(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkDecision(actor, e); err != nil {
			return err
		}
		if err := s.CheckDecisionAuthority(ctx, tx, models.DecisionSpend, decimal.Zero, actor.UserID, e.RecordedBy); err != nil {
			return err
		}
		now := s.clock.Now().UTC()
		e.Status, e.DecidedBy, e.DecidedAt, e.RejectionReason = models.SpendRejected, &actor.UserID, &now, &reason
		if _, err := tx.NewUpdate().Model(e).Column("status", "decided_by", "decided_at", "rejection_reason").WherePK().Exec(ctx); err != nil {
			return err
		}
		out = e
		return s.audit(ctx, tx, actor, Change{Action: "spend.reject", Entity: "spend_entry", EntityID: e.ID,
			Before: map[string]any{"status": models.SpendPending}, After: map[string]any{"status": e.Status, "reason": reason}})
	})
	return out, s.recordRefusal(ctx, actor, "spend_entry", "spend.reject", id, err)
}

// ReverseSpend records a pending reversal of an approved entry: the same
// line, award and payee with the opposite amount. An entry is reversed at
// most once, and a reversal is not itself reversed (ECONFLICT).
func (s *Store) ReverseSpend(ctx context.Context, actor models.Actor, id int64, reason string) (*models.SpendEntry, error) {
	var rev *models.SpendEntry
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		orig, _, err := lockSpend(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case orig.Status != models.SpendApproved:
			return models.Errorf(models.ECONFLICT, "Spend entry %d is %s; only approved spend is reversed (reject pending spend instead).", id, orig.Status)
		case orig.ReversesID != nil:
			return models.Errorf(models.ECONFLICT, "Spend entry %d is itself a reversal and cannot be reversed.", id)
		}
		exists, err := tx.NewSelect().Model((*models.SpendEntry)(nil)).Where("reverses_id = ?", id).Exists(ctx)
		if err != nil {
			return err
		}
		if exists {
			return models.Errorf(models.ECONFLICT, "Spend entry %d has already been reversed.", id)
		}
		rev = &models.SpendEntry{
			FundingLineID: orig.FundingLineID, AwardID: orig.AwardID, TrancheID: orig.TrancheID, PayeeID: orig.PayeeID,
			Amount: orig.Amount.Neg(), IncurredOn: s.clock.Today(), Category: orig.Category,
			Reference: orig.Reference, Description: "Reversal of spend entry " + itoa(id), Purpose: orig.Purpose, VFMReason: orig.VFMReason,
			Status: models.SpendPending, RecordedBy: actor.UserID, ReversesID: &orig.ID, ReversalReason: &reason,
		}
		if _, err := tx.NewInsert().Model(rev).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "spend.reverse", Entity: "spend_entry", EntityID: rev.ID, After: rev})
	})
	return rev, err
}

// SpendEntry returns one entry; ENOTFOUND if none.
func (s *Store) SpendEntry(ctx context.Context, id int64) (*models.SpendEntry, error) {
	e := new(models.SpendEntry)
	if err := s.db.NewSelect().Model(e).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Spend entry", id)
	}
	return e, nil
}

// SpendFilter narrows a list of spend entries; dates are inclusive.
// Search finds text in the entry's description or reference, its payee's
// name, or its line's code or title (LIKE's wildcards taken literally).
type SpendFilter struct {
	FundingLineID, AwardID, PayeeID, ImportID int64
	Status                                    models.SpendStatus
	From, To                                  *time.Time
	Search                                    string
	After, Before                             *SpendCursor // keyset paging; see SpendPage
	Page                                      Page
}

// SpendEntries lists entries, newest first, with the count of the whole
// filtered list.
func (s *Store) SpendEntries(ctx context.Context, f SpendFilter) ([]*models.SpendEntry, int, error) {
	l, err := s.SpendPage(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	return l.Entries, l.Count, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
