package store

import (
	"context"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// contractColumns are a contract line's procurement columns, written with
// the rest of the line.
var contractColumns = []string{"procurement_method", "direct_award_reason", "framework_name", "contract_title", "tender_published_on",
	"contract_value", "contract_starts_on", "contract_ends_on", "main_procurement_category"}

// checkContract refuses a contract line's contract that breaks its rules,
// as the database's contract_within_band does: ECONFLICT
// (models.ErrContractOutsideBand) for a value outside the tender's band with
// no approved band exception for exactly that value, and for a locked line
// with awards (before) a value below them or a different winner.
func checkContract(ctx context.Context, db bun.IDB, before, fl *models.FundingLine) error {
	if v := fl.ContractValue; v != nil && !models.InBand(*v, fl.TenderMinValue, fl.TenderMaxValue) {
		excepted := false
		if before != nil {
			var err error
			excepted, err = db.NewSelect().Model((*models.ContractBandException)(nil)).
				Where("funding_line_id = ? AND status = 'approved' AND contract_value = ?", before.ID, *v).Exists(ctx)
			if err != nil {
				return err
			}
		}
		if !excepted {
			band := models.Pounds(*fl.TenderMinValue) + "–" + models.Pounds(*fl.TenderMaxValue)
			return &models.Error{Code: models.ECONFLICT, Err: models.ErrContractOutsideBand,
				Message: "The contract's value " + models.Pounds(*v) + " lies outside its tender's band " + band +
					", and no band exception for that value has been approved.",
				Fields: []models.FieldError{{Field: "tender.contract_value", Message: "lies outside the band " + band +
					": propose a band exception with its reason, for a second person to approve"}}}
		}
	}
	if before == nil || before.Kind != models.KindContract {
		return nil
	}
	awarded, _, err := committedOn(ctx, db, before.ID)
	if err != nil || !awarded.IsPositive() {
		return err
	}
	if fl.ContractValue == nil || awarded.GreaterThan(*fl.ContractValue) {
		return &models.Error{Code: models.ECONFLICT, Err: models.ErrAwardBeyondContract,
			Message: "Funding line " + before.Code + " has " + models.Pounds(awarded) + " awarded under its contract.",
			Fields:  []models.FieldError{{Field: "tender.contract_value", Message: "must be at least the " + models.Pounds(awarded) + " already awarded"}}}
	}
	if fl.AwardedSupplierID == nil || before.AwardedSupplierID == nil || *fl.AwardedSupplierID != *before.AwardedSupplierID {
		return &models.Error{Code: models.ECONFLICT, Err: models.ErrAwardNotToWinner,
			Message: "Funding line " + before.Code + " has awards to its winning supplier, who cannot change.",
			Fields:  []models.FieldError{{Field: "tender.awarded_supplier_id", Message: "stays the supplier the contract was awarded to"}}}
	}
	return nil
}

// checkAwardMatchesContract adds to p what is wrong with an award on a
// contract line, as the database's awards_match_contract does: it goes to
// the tender's winner (award_to_winning_supplier) and, with the line's
// other pending and approved awards, stays within the contract's value
// (award_within_contract). The line is locked.
func checkAwardMatchesContract(ctx context.Context, db bun.IDB, fl *models.FundingLine, a *models.Award, p *models.Problems) error {
	if fl.Kind != models.KindContract {
		return nil
	}
	switch {
	case fl.AwardedSupplierID == nil:
		p.Add("recipient_id", "record the winner of %s's tender first: an award on a contract line goes to the winning supplier", fl.Code)
	case *fl.AwardedSupplierID != a.RecipientID:
		var winner string
		if err := db.NewRaw("SELECT name FROM organisations WHERE id = ?", *fl.AwardedSupplierID).Scan(ctx, &winner); err != nil {
			return err
		}
		p.Add("recipient_id", "must be %s, who won the tender for %s", winner, fl.Code)
	}
	if fl.ContractValue == nil {
		p.Add("amount", "record the contract's value on %s first: the award on a contract line is the contract", fl.Code)
		return nil
	}
	awarded, _, err := committedOn(ctx, db, fl.ID)
	if err != nil {
		return err
	}
	if awarded.Add(a.Amount).GreaterThan(*fl.ContractValue) {
		p.Add("amount", "at most %s: the contract on %s is %s and %s is already awarded", models.Pounds(decimal.Max(fl.ContractValue.Sub(awarded), decimal.Zero)),
			fl.Code, models.Pounds(*fl.ContractValue), models.Pounds(awarded))
	}
	return nil
}

// ProposeBandException proposes letting a contract line's contract lie
// outside its tender's band at exactly x.ContractValue, with a reason, for
// someone else to approve (DecideBandException). EINVALID when the line is
// not a contract with a band or the value lies inside it; ECONFLICT when an
// exception for the line already awaits a decision.
func (s *Store) ProposeBandException(ctx context.Context, actor models.Actor, x *models.ContractBandException) error {
	x.Status, x.ProposedBy, x.DecidedBy, x.DecidedAt, x.DecisionReason = models.DecisionPending, actor.UserID, nil, nil, nil
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		fl, err := lockFundingLine(ctx, tx, x.FundingLineID)
		if err != nil {
			return err
		}
		if fl.Kind != models.KindContract || fl.TenderMinValue == nil || fl.TenderMaxValue == nil {
			return models.Errorf(models.EINVALID, "Funding line %s has no tender band to make an exception to.", fl.Code)
		}
		if models.InBand(x.ContractValue, fl.TenderMinValue, fl.TenderMaxValue) {
			return &models.Error{Code: models.EINVALID, Message: "That value lies within the tender's band; no exception is needed.",
				Fields: []models.FieldError{{Field: "contract_value", Message: "lies within the band " + models.Pounds(*fl.TenderMinValue) +
					"–" + models.Pounds(*fl.TenderMaxValue) + "; no exception is needed"}}}
		}
		open, err := tx.NewSelect().Model((*models.ContractBandException)(nil)).Where("funding_line_id = ? AND status = 'pending'", fl.ID).Exists(ctx)
		if err != nil {
			return err
		}
		if open {
			return models.Errorf(models.ECONFLICT, "Funding line %s already has a band exception awaiting a decision.", fl.Code)
		}
		if _, err := tx.NewInsert().Model(x).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "contract_band_exception.propose", Entity: "funding_line", EntityID: fl.ID,
			After: bandExceptionAudit(x)})
	})
}

// bandExceptionAudit names an exception's fields for the audit trail.
func bandExceptionAudit(x *models.ContractBandException) map[string]any {
	return map[string]any{"exception_id": x.ID, "contract_value": x.ContractValue, "reason": x.Reason,
		"decision_record_id": x.DecisionRecordID, "status": x.Status, "decided_by": x.DecidedBy, "decision_reason": x.DecisionReason}
}

// DecideBandException approves, rejects with a reason or withdraws a
// proposed band exception under decide's rules (kind
// contract_band_exception, weighed by the contract's value).
func (s *Store) DecideBandException(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.ContractBandException, error) {
	var out *models.ContractBandException
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var lineID int64
		if err := tx.NewRaw("SELECT funding_line_id FROM contract_band_exceptions WHERE id = ?", id).Scan(ctx, &lineID); err != nil {
			return notFound(err, "Band exception", id)
		}
		fl, err := lockFundingLine(ctx, tx, lineID)
		if err != nil {
			return err
		}
		x := new(models.ContractBandException)
		if err := tx.NewSelect().Model(x).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Band exception", id)
		}
		p := proposal{table: "contract_band_exceptions", what: "band exception for " + fl.Code, id: x.ID, kind: models.DecisionContractBandException,
			amount: x.ContractValue, status: x.Status, proposedBy: &x.ProposedBy, recordID: x.DecisionRecordID}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := x.Status
		x.Status, x.DecidedBy, x.DecidedAt = to, &actor.UserID, &at
		if r := strings.TrimSpace(reason); r != "" {
			x.DecisionReason = &r
		}
		out = x
		return s.audit(ctx, tx, actor, Change{Action: "contract_band_exception." + decisionVerb(to), Entity: "funding_line", EntityID: fl.ID,
			Before: map[string]any{"exception_id": x.ID, "status": before}, After: bandExceptionAudit(x)})
	})
	return out, s.recordRefusal(ctx, actor, "contract_band_exception", "contract_band_exception."+decisionVerb(to), id, err)
}

// BandExceptions lists a funding line's band exceptions, newest first.
func (s *Store) BandExceptions(ctx context.Context, lineID int64) ([]*models.ContractBandException, error) {
	xs := []*models.ContractBandException{}
	err := s.db.NewSelect().Model(&xs).Where("funding_line_id = ?", lineID).Order("proposed_at DESC", "id DESC").Scan(ctx)
	return xs, translate(err)
}
