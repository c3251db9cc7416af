package store

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// fillPaid sets each award's and tranche's Paid (the approved spend naming
// it, reversals included), and their figures on today.
func fillPaid(ctx context.Context, db bun.IDB, today time.Time, awards ...*models.Award) error {
	if len(awards) == 0 {
		return nil
	}
	ids := make([]int64, len(awards))
	for i, a := range awards {
		ids[i] = a.ID
	}
	var rows []struct {
		AwardID   int64
		TrancheID *int64
		Paid      decimal.Decimal
	}
	err := db.NewRaw(`SELECT award_id, tranche_id, sum(amount) AS paid FROM spend_entries
		WHERE award_id = ANY(?) AND status = 'approved' GROUP BY GROUPING SETS ((award_id), (award_id, tranche_id))`,
		pgdialect.Array(ids)).Scan(ctx, &rows)
	if err != nil {
		return translate(err)
	}
	byAward, byTranche := map[int64]decimal.Decimal{}, map[int64]decimal.Decimal{}
	for _, r := range rows {
		if r.TrancheID == nil {
			byAward[r.AwardID] = r.Paid
		} else {
			byTranche[*r.TrancheID] = r.Paid
		}
	}
	for _, a := range awards {
		a.Paid = byAward[a.ID]
		for _, t := range a.Tranches {
			t.Paid = byTranche[t.ID]
			t.IsOverdue = t.Overdue(today)
		}
		a.Figures = a.Payments(today)
	}
	return nil
}

// ChangeTrancheStatus claims (with the day the claim came in), withholds
// (with a reason) or releases (back to due, with a reason) a tranche, with
// the award's line locked. EINVALID when the move is not one a person makes
// (tranche_status_transition: paid is the ledger's) or its date or reason
// is missing; ENOTFOUND when there is no such tranche.
func (s *Store) ChangeTrancheStatus(ctx context.Context, actor models.Actor, id int64, to models.TrancheStatus, claimedOn *time.Time, reason string) (*models.Tranche, error) {
	var out *models.Tranche
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var lineID int64
		if err := tx.NewRaw("SELECT a.funding_line_id FROM tranches t JOIN awards a ON a.id = t.award_id WHERE t.id = ?", id).Scan(ctx, &lineID); err != nil {
			return notFound(err, "Tranche", id)
		}
		if _, err := lockFundingLine(ctx, tx, lineID); err != nil {
			return err
		}
		t := new(models.Tranche)
		if err := tx.NewSelect().Model(t).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Tranche", id)
		}
		if err := models.CheckTrancheMove(t.Status, to); err != nil {
			return err
		}
		before := map[string]any{"status": t.Status, "claimed_on": t.ClaimedOn, "withheld_reason": t.WithheldReason}
		now := s.clock.Now().UTC()
		t.Status, t.StatusChangedAt = to, &now
		switch to {
		case models.TrancheClaimed:
			if claimedOn == nil {
				return &models.Error{Code: models.EINVALID, Message: "Say when the claim came in.",
					Fields: []models.FieldError{{Field: "claimed_on", Message: "is required to claim a tranche"}}}
			}
			t.ClaimedOn = claimedOn
		case models.TrancheWithheld:
			t.WithheldReason = &reason
		case models.TrancheDue:
			t.WithheldReason = nil
		}
		if _, err := tx.NewUpdate().Model(t).Column("status", "claimed_on", "withheld_reason", "status_changed_at").WherePK().Exec(ctx); err != nil {
			return err
		}
		out = t
		verb := map[models.TrancheStatus]string{models.TrancheClaimed: "claim", models.TrancheWithheld: "withhold", models.TrancheDue: "release"}[to]
		return s.audit(ctx, tx, actor, Change{Action: "tranche." + verb, Entity: "tranche", EntityID: t.ID, Before: before,
			After: map[string]any{"status": t.Status, "claimed_on": t.ClaimedOn, "withheld_reason": t.WithheldReason, "reason": reason,
				"award_id": t.AwardID}})
	})
	return out, err
}

// Tranche returns one tranche with its paid amount; ENOTFOUND if none.
func (s *Store) Tranche(ctx context.Context, id int64) (*models.Tranche, error) {
	t := new(models.Tranche)
	if err := s.db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Tranche", id)
	}
	err := s.db.NewRaw("SELECT tranche_paid(?)", id).Scan(ctx, &t.Paid)
	return t, translate(err)
}

// checkTranche refuses (ECONFLICT on tranche_id) spend naming a
// withheld tranche (spend_tranche_withheld) or more than the tranche has
// outstanding (spend_within_tranche), naming the tranche, what is
// outstanding and the excess. The line is locked by the caller.
func checkTranche(ctx context.Context, db bun.IDB, e *models.SpendEntry) error {
	if e.TrancheID == nil || e.ReversesID != nil {
		return nil
	}
	var t struct {
		Seq       int
		Reference string
		Amount    decimal.Decimal
		Paid      decimal.Decimal
		Status    models.TrancheStatus
	}
	if err := db.NewRaw(`SELECT t.seq, a.reference, t.amount, tranche_paid(t.id) AS paid, t.status
		FROM tranches t JOIN awards a ON a.id = t.award_id WHERE t.id = ?`, *e.TrancheID).Scan(ctx, &t); err != nil {
		return fieldNotFound(err, "tranche_id", "no such tranche")
	}
	name := "tranche " + itoa(int64(t.Seq)) + " of award " + t.Reference
	if t.Status == models.TrancheWithheld {
		return &models.Error{Code: models.ECONFLICT, Message: "Tranche " + itoa(int64(t.Seq)) + " of award " + t.Reference +
			" is withheld: release it before paying it.", Fields: []models.FieldError{{Field: "tranche_id", Message: "the tranche is withheld"}}}
	}
	outstanding := t.Amount.Sub(t.Paid)
	if over := e.Amount.Sub(outstanding); e.Amount.IsPositive() && over.IsPositive() {
		return &models.Error{Code: models.ECONFLICT,
			Message: "Paying " + models.Pounds(e.Amount) + " would overpay " + name + ": the tranche is " + models.Pounds(t.Amount) +
				", " + models.Pounds(t.Paid) + " is paid, so " + models.Pounds(outstanding) + " is outstanding and " +
				models.Pounds(over) + " is too much.",
			Fields: []models.FieldError{{Field: "tranche_id", Message: name + " has " + models.Pounds(outstanding) +
				" outstanding; " + models.Pounds(e.Amount) + " exceeds it by " + models.Pounds(over)}}}
	}
	return nil
}

// ApprovedAwards lists the approved awards of active funding lines (of one
// line when lineID is not 0), with their tranches and what is paid, for the
// record-spend form to offer.
func (s *Store) ApprovedAwards(ctx context.Context, lineID int64) ([]*models.Award, error) {
	var as []*models.Award
	err := s.db.NewSelect().Model(&as).
		Where("award.status = 'approved'").
		Where("award.funding_line_id IN (SELECT id FROM funding_lines WHERE status = 'active' AND (? = 0 OR id = ?))", lineID, lineID).
		Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).
		Order("award.reference").Scan(ctx)
	if err != nil {
		return nil, translate(err)
	}
	return as, fillPaid(ctx, s.db, s.clock.Today(), as...)
}
