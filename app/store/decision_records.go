package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// CreateDecisionRecord stores a published decision record created by the
// actor; ECONFLICT when its reference is taken.
func (s *Store) CreateDecisionRecord(ctx context.Context, actor models.Actor, r *models.DecisionRecord) error {
	r.CreatedBy = actor.UserID
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(r).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "decision_record.create", Entity: "decision_record", EntityID: r.ID, After: r})
	})
}

// DecisionRecord returns one decision record; ENOTFOUND if none.
func (s *Store) DecisionRecord(ctx context.Context, id int64) (*models.DecisionRecord, error) {
	r := new(models.DecisionRecord)
	if err := s.db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Decision record", id)
	}
	return r, nil
}

// DecisionRecords lists every decision record, newest signed first.
func (s *Store) DecisionRecords(ctx context.Context) ([]*models.DecisionRecord, error) {
	rs, _, err := s.DecisionRecordsPage(ctx, Page{})
	return rs, err
}

// DecisionRecordsPage lists one page of decision records, newest signed
// first, with the count of all of them.
func (s *Store) DecisionRecordsPage(ctx context.Context, pg Page) ([]*models.DecisionRecord, int, error) {
	var rs []*models.DecisionRecord
	total, err := pg.apply(s.db.NewSelect().Model(&rs).Order("signed_on DESC", "reference", "id")).ScanAndCount(ctx)
	return rs, int(total), translate(err)
}
