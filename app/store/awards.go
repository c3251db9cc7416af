package store

import (
	"context"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// CreateAward proposes committing part of a funding line's budget to a
// recipient, with its tranches, in one transaction with the line locked:
// ECONFLICT when the line is not open for awards or the award would take the
// pending and approved awards and held reservations over budget. The award
// is pending until someone else approves it (DecideAward).
func (s *Store) CreateAward(ctx context.Context, actor models.Actor, a *models.Award) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		fl, err := lockFundingLine(ctx, tx, a.FundingLineID)
		if err != nil {
			return err
		}
		return s.insertAward(ctx, tx, actor, fl, a)
	})
}

// insertAward checks the award fits the locked line and stores it with its
// tranches and an audit event.
func (s *Store) insertAward(ctx context.Context, tx bun.Tx, actor models.Actor, fl *models.FundingLine, a *models.Award) error {
	if fl.Status != models.StatusApproved && fl.Status != models.StatusActive {
		return models.Errorf(models.ECONFLICT, "Funding line %s is %s: awards can only be made on an approved or active line.", fl.Code, fl.Status)
	}
	if err := checkAwardFits(ctx, tx, fl, a); err != nil {
		return err
	}
	committed, reserved, err := committedOn(ctx, tx, fl.ID)
	if err != nil {
		return err
	}
	if over := committed.Add(reserved).Add(a.Amount).Sub(fl.Budget); over.IsPositive() {
		return &models.Error{Code: models.ECONFLICT,
			Message: "Funding line " + fl.Code + " has a budget of " + models.Pounds(fl.Budget) + " with " +
				models.Pounds(committed) + " already awarded and " + models.Pounds(reserved) + " reserved; this award of " +
				models.Pounds(a.Amount) + " is " + models.Pounds(over) + " over.",
			Fields: []models.FieldError{{Field: "amount", Message: "at most " + models.Pounds(fl.Budget.Sub(committed).Sub(reserved)) +
				" remains to award on this line"}}}
	}
	a.Status, a.ProposedBy, a.DecidedBy, a.DecidedAt = models.DecisionPending, &actor.UserID, nil, nil
	if _, err := tx.NewInsert().Model(a).Returning("*").Exec(ctx); err != nil {
		return err
	}
	for _, t := range a.Tranches {
		t.AwardID = a.ID
	}
	if len(a.Tranches) > 0 {
		if _, err := tx.NewInsert().Model(&a.Tranches).Returning("*").Exec(ctx); err != nil {
			return err
		}
	}
	return s.audit(ctx, tx, actor, Change{Action: "award.propose", Entity: "award", EntityID: a.ID, After: a})
}

// checkAwardFits refuses (EINVALID) an award outside its line's dates or to
// an organisation that cannot receive it: a recipient, or a supplier on a
// contract line, with an org-id (so that every grant is published under its
// register's identifier). The database's awards_within_line_dates,
// awards_recipient_can_receive and awards_recipient_org_id hold the same
// rules.
func checkAwardFits(ctx context.Context, db bun.IDB, fl *models.FundingLine, a *models.Award) error {
	var p models.Problems
	if a.StartsOn.Before(fl.StartsOn) {
		p.Add("starts_on", "must be on or after %s, when funding line %s starts", fl.StartsOn.Format(models.DateLayout), fl.Code)
	}
	if a.EndsOn.After(fl.EndsOn) {
		p.Add("ends_on", "must be on or before %s, when funding line %s ends", fl.EndsOn.Format(models.DateLayout), fl.Code)
	}
	o := new(models.Organisation)
	if err := db.NewSelect().Model(o).Where("id = ?", a.RecipientID).Scan(ctx); err != nil {
		return fieldNotFound(err, "recipient_id", "no such organisation")
	}
	if !o.IsRecipient && !(fl.Kind == models.KindContract && o.IsSupplier) {
		can := "a recipient"
		if fl.Kind == models.KindContract {
			can = "a recipient or a supplier"
		}
		p.Add("recipient_id", "%s cannot receive an award: it is not %s", o.Name, can)
	} else if o.OrgID == nil {
		p.Add("recipient_id", "%s has no org-id: give it its register identifier (charity GB-CHC-…, company GB-COH-…, council GB-LAE-…) before its first award", o.Name)
	}
	if err := checkAwardMatchesContract(ctx, db, fl, a, &p); err != nil {
		return err
	}
	return p.Err()
}

// Award returns one award with its tranches; ENOTFOUND if none.
func (s *Store) Award(ctx context.Context, id int64) (*models.Award, error) {
	a, err := awardIn(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	return a, fillPaid(ctx, s.db, s.clock.Today(), a)
}

// Awards lists all of a funding line's awards with their tranches.
func (s *Store) Awards(ctx context.Context, fundingLineID int64) ([]*models.Award, error) {
	l, err := s.AwardsPage(ctx, AwardListFilter{FundingLineID: fundingLineID})
	if err != nil {
		return nil, err
	}
	return l.Awards, nil
}

// AwardListFilter narrows a list of awards.
type AwardListFilter struct {
	FundingLineID int64
	RecipientID   int64
	Status        models.DecisionStatus
	Search        string // in the reference, purpose and recipient's name
	Page          Page   // no PerPage: every award
}

// AwardList is one page of awards with the figures of the whole filtered
// list: how many awards and their amount.
type AwardList struct {
	Awards []*models.Award
	Count  int
	Amount decimal.Decimal
}

// AwardsPage lists one page of awards with their tranches and payments,
// oldest award first, with the count and amount of the whole filtered list.
func (s *Store) AwardsPage(ctx context.Context, f AwardListFilter) (*AwardList, error) {
	out := &AwardList{}
	q := s.db.NewSelect().TableExpr("awards AS award").ColumnExpr("count(*), coalesce(sum(award.amount), 0)")
	awardWhere(q, f)
	if err := q.Scan(ctx, &out.Count, &out.Amount); err != nil {
		return nil, translate(err)
	}
	q = s.db.NewSelect().Model(&out.Awards).
		Relation("Tranches", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Order("seq") }).
		Order("award.awarded_on", "award.id")
	awardWhere(q, f)
	if err := f.Page.apply(q).Scan(ctx); err != nil {
		return nil, translate(err)
	}
	return out, fillPaid(ctx, s.db, s.clock.Today(), out.Awards...)
}

// awardWhere adds f's conditions (not its paging) to a query on awards
// named award.
func awardWhere(q *bun.SelectQuery, f AwardListFilter) {
	if f.FundingLineID != 0 {
		q.Where("award.funding_line_id = ?", f.FundingLineID)
	}
	if f.RecipientID != 0 {
		q.Where("award.recipient_id = ?", f.RecipientID)
	}
	if f.Status != "" {
		q.Where("award.status = ?", f.Status)
	}
	if strings.TrimSpace(f.Search) != "" {
		q.Where(`(award.reference ILIKE ?0 OR award.purpose ILIKE ?0
			OR award.recipient_id IN (SELECT id FROM organisations WHERE name ILIKE ?0))`, containsPattern(f.Search))
	}
}
