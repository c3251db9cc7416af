package store

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// CreateReservation earmarks part of a funding line's budget, with the line
// locked: ECONFLICT when the line is not open or the reservation would take
// awards and held reservations over budget.
func (s *Store) CreateReservation(ctx context.Context, actor models.Actor, r *models.Reservation) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		fl, err := lockFundingLine(ctx, tx, r.FundingLineID)
		if err != nil {
			return err
		}
		if fl.Status != models.StatusApproved && fl.Status != models.StatusActive {
			return models.Errorf(models.ECONFLICT, "Funding line %s is %s: budget can only be reserved on an approved or active line.", fl.Code, fl.Status)
		}
		committed, reserved, err := committedOn(ctx, tx, fl.ID)
		if err != nil {
			return err
		}
		if over := committed.Add(reserved).Add(r.Amount).Sub(fl.Budget); over.IsPositive() {
			return &models.Error{Code: models.ECONFLICT,
				Message: "Funding line " + fl.Code + " has a budget of " + models.Pounds(fl.Budget) + " with " +
					models.Pounds(committed) + " awarded and " + models.Pounds(reserved) + " already reserved; reserving " +
					models.Pounds(r.Amount) + " would be " + models.Pounds(over) + " over.",
				Fields: []models.FieldError{{Field: "amount", Message: "at most " + models.Pounds(fl.Budget.Sub(committed).Sub(reserved)) +
					" can still be reserved on this line"}}}
		}
		r.CreatedBy, r.Status = actor.UserID, models.ReservationHeld
		if _, err := tx.NewInsert().Model(r).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "reservation.create", Entity: "reservation", EntityID: r.ID, After: r})
	})
}

// lockHeldReservation locks a reservation that must still be held.
func lockHeldReservation(ctx context.Context, tx bun.Tx, id int64) (*models.Reservation, error) {
	r := new(models.Reservation)
	if err := tx.NewSelect().Model(r).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, notFound(err, "Reservation", id)
	}
	if r.Status != models.ReservationHeld {
		return nil, models.Errorf(models.ECONFLICT, "Reservation %d is already %s.", id, r.Status)
	}
	return r, nil
}

// ReleaseReservation gives a held reservation's budget back to the line,
// with a reason.
func (s *Store) ReleaseReservation(ctx context.Context, actor models.Actor, id int64, reason string) (*models.Reservation, error) {
	reason, err := models.RequireReason(reason)
	if err != nil {
		return nil, err
	}
	var after *models.Reservation
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before, err := lockHeldReservation(ctx, tx, id)
		if err != nil {
			return err
		}
		after = new(models.Reservation)
		*after = *before
		now := s.clock.Now().UTC()
		after.Status, after.ReleaseReason, after.ClosedBy, after.ClosedAt = models.ReservationReleased, &reason, &actor.UserID, &now
		if _, err := tx.NewUpdate().Model(after).Column("status", "release_reason", "closed_by", "closed_at").WherePK().
			Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "reservation.release", Entity: "reservation", EntityID: id, Before: before, After: after})
	})
	return after, err
}

// ConvertReservation turns a held reservation into an award on the same
// line. The award may be for less than was reserved (a tender priced below
// its band's top); the difference goes back to the line. The award may not
// be for more than the line can hold once the reservation is freed.
func (s *Store) ConvertReservation(ctx context.Context, actor models.Actor, id int64, a *models.Award) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// Lock the line first, then the reservation, as CreateReservation
		// does; a reservation never moves to another line.
		var lineID int64
		if err := tx.NewSelect().Model((*models.Reservation)(nil)).Column("funding_line_id").Where("id = ?", id).
			Scan(ctx, &lineID); err != nil {
			return notFound(err, "Reservation", id)
		}
		fl, err := lockFundingLine(ctx, tx, lineID)
		if err != nil {
			return err
		}
		before, err := lockHeldReservation(ctx, tx, id)
		if err != nil {
			return err
		}
		after := new(models.Reservation)
		*after = *before
		now := s.clock.Now().UTC()
		after.Status, after.ClosedBy, after.ClosedAt = models.ReservationConverted, &actor.UserID, &now
		if _, err := tx.NewUpdate().Model(after).Column("status", "closed_by", "closed_at").WherePK().Returning("*").Exec(ctx); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, actor, Change{Action: "reservation.convert", Entity: "reservation", EntityID: id, Before: before, After: after}); err != nil {
			return err
		}
		a.FundingLineID, a.ReservationID = fl.ID, &id
		return s.insertAward(ctx, tx, actor, fl, a)
	})
}

// restoreReservation gives back the reservation an award was converted
// from, once that award is rejected or withdrawn: held again when the
// locked line can still hold it, otherwise released with a reason saying
// so (its budget went to other awards meanwhile). The database's
// reservations_close_once allows only this, in the deciding transaction.
func (s *Store) restoreReservation(ctx context.Context, tx bun.Tx, actor models.Actor, fl *models.FundingLine, a *models.Award) error {
	before := new(models.Reservation)
	if err := tx.NewSelect().Model(before).Where("id = ?", *a.ReservationID).For("UPDATE").Scan(ctx); err != nil {
		return notFound(err, "Reservation", *a.ReservationID)
	}
	committed, reserved, err := committedOn(ctx, tx, fl.ID)
	if err != nil {
		return err
	}
	after := new(models.Reservation)
	*after = *before
	after.Status, after.ClosedBy, after.ClosedAt = models.ReservationHeld, nil, nil
	action := "reservation.restore"
	if left := fl.Budget.Sub(committed).Sub(reserved); left.LessThan(before.Amount) {
		reason := fmt.Sprintf("Award %s was %s, but only %s of the line's budget is left to hold the %s reserved.",
			a.Reference, a.Status, models.Pounds(left), models.Pounds(before.Amount))
		now := s.clock.Now().UTC()
		after.Status, after.ReleaseReason, after.ClosedBy, after.ClosedAt = models.ReservationReleased, &reason, &actor.UserID, &now
		action = "reservation.release"
	}
	if _, err := tx.NewUpdate().Model(after).Column("status", "release_reason", "closed_by", "closed_at").WherePK().
		Returning("*").Exec(ctx); err != nil {
		return err
	}
	return s.audit(ctx, tx, actor, Change{Action: action, Entity: "reservation", EntityID: after.ID, Before: before, After: after})
}

// Reservation returns one reservation; ENOTFOUND if none.
func (s *Store) Reservation(ctx context.Context, id int64) (*models.Reservation, error) {
	r := new(models.Reservation)
	if err := s.db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Reservation", id)
	}
	return r, nil
}

// Reservations lists a funding line's reservations, held ones first.
func (s *Store) Reservations(ctx context.Context, fundingLineID int64) ([]*models.Reservation, error) {
	var rs []*models.Reservation
	err := s.db.NewSelect().Model(&rs).Where("funding_line_id = ?", fundingLineID).
		OrderExpr("status = 'held' DESC, expected_on, id").Scan(ctx)
	return rs, translate(err)
}
