package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// CreateOrganisation stores a new organisation; ECONFLICT when its name or
// org-id is taken.
func (s *Store) CreateOrganisation(ctx context.Context, actor models.Actor, o *models.Organisation) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(o).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "organisation.create", Entity: "organisation", EntityID: o.ID, After: o})
	})
}

// UpdateOrganisation replaces an organisation's details; ENOTFOUND if none.
func (s *Store) UpdateOrganisation(ctx context.Context, actor models.Actor, id int64, o *models.Organisation) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before := new(models.Organisation)
		if err := tx.NewSelect().Model(before).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Organisation", id)
		}
		o.ID, o.CreatedAt = id, before.CreatedAt
		if before.OrgID != nil && o.OrgID == nil {
			var awarded bool
			if err := tx.NewRaw("SELECT EXISTS (SELECT 1 FROM awards WHERE recipient_id = ?)", id).Scan(ctx, &awarded); err != nil {
				return err
			}
			if awarded {
				return &models.Error{Code: models.EINVALID, Message: before.Name + " has awards, so it keeps its org-id.",
					Fields: []models.FieldError{{Field: "org_id", Message: "cannot be removed from an organisation with awards"}}}
			}
		}
		if _, err := tx.NewUpdate().Model(o).
			Column("name", "org_id", "charity_number", "company_number", "borough", "gss_code", "is_funder", "is_recipient", "is_supplier").
			Set("updated_at = now()").WherePK().Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "organisation.update", Entity: "organisation", EntityID: id, Before: before, After: o})
	})
}

// Organisation returns one organisation; ENOTFOUND if none.
func (s *Store) Organisation(ctx context.Context, id int64) (*models.Organisation, error) {
	o := new(models.Organisation)
	if err := s.db.NewSelect().Model(o).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Organisation", id)
	}
	return o, nil
}

// OrganisationFilter narrows a list of organisations.
type OrganisationFilter struct {
	Role   string // "funder", "recipient", "supplier" or ""
	Search string // in the name, org-id, charity or company number
	Page   Page
}

// Organisations lists organisations by name, with the total before paging.
func (s *Store) Organisations(ctx context.Context, f OrganisationFilter) ([]*models.Organisation, int, error) {
	var os []*models.Organisation
	q := s.db.NewSelect().Model(&os).Order("name")
	switch f.Role {
	case "funder":
		q = q.Where("is_funder")
	case "recipient":
		q = q.Where("is_recipient")
	case "supplier":
		q = q.Where("is_supplier")
	}
	if strings.TrimSpace(f.Search) != "" {
		q = q.Where("(name ILIKE ?0 OR org_id ILIKE ?0 OR charity_number ILIKE ?0 OR company_number ILIKE ?0)", containsPattern(f.Search))
	}
	total, err := f.Page.apply(q).ScanAndCount(ctx)
	return os, int(total), translate(err)
}

// Page is one page of a list.
type Page struct {
	Number  int // from 1
	PerPage int
}

// MaxPerPage bounds a page so no request can ask for the whole table.
const MaxPerPage = 500

// clause is the page as a raw query's LIMIT and OFFSET; "" for every row.
func (p Page) clause() string {
	if p.PerPage <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", p.PerPage, (max(p.Number, 1)-1)*p.PerPage)
}

func (p Page) apply(q *bun.SelectQuery) *bun.SelectQuery {
	if p.PerPage <= 0 {
		return q
	}
	n := max(p.Number, 1)
	return q.Limit(int64(p.PerPage)).Offset(int64((n - 1) * p.PerPage))
}
