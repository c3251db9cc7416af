package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// CreateProgramme stores a new programme; ECONFLICT when its code is taken.
func (s *Store) CreateProgramme(ctx context.Context, actor models.Actor, p *models.Programme) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(p).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "programme.create", Entity: "programme", EntityID: p.ID, After: p})
	})
}

// UpdateProgramme replaces a programme's details; ENOTFOUND if none.
func (s *Store) UpdateProgramme(ctx context.Context, actor models.Actor, id int64, p *models.Programme) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before := new(models.Programme)
		if err := tx.NewSelect().Model(before).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Programme", id)
		}
		p.ID, p.CreatedAt = id, before.CreatedAt
		if _, err := tx.NewUpdate().Model(p).Column("code", "name", "description", "plan").
			Set("updated_at = now()").WherePK().Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "programme.update", Entity: "programme", EntityID: id, Before: before, After: p})
	})
}

// Programme returns one programme; ENOTFOUND if none.
func (s *Store) Programme(ctx context.Context, id int64) (*models.Programme, error) {
	p := new(models.Programme)
	if err := s.db.NewSelect().Model(p).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Programme", id)
	}
	return p, nil
}

// Programmes lists every programme by code.
func (s *Store) Programmes(ctx context.Context) ([]*models.Programme, error) {
	var ps []*models.Programme
	err := s.db.NewSelect().Model(&ps).Order("code").Scan(ctx)
	return ps, translate(err)
}
