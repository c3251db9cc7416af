package store

import (
	"context"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// CreateFundingLine stores a new funding line in draft; ECONFLICT when its
// code is taken, EINVALID when its programme or funder does not exist.
func (s *Store) CreateFundingLine(ctx context.Context, actor models.Actor, fl *models.FundingLine) error {
	fl.Status = models.StatusDraft
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := checkContract(ctx, tx, nil, fl); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(fl).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "funding_line.create", Entity: "funding_line", EntityID: fl.ID, After: fl})
	})
}

// UpdateFundingLine replaces a funding line's details (not its status). A
// budget below what the line already holds is refused with ECONFLICT (see
// checkLineFloor).
func (s *Store) UpdateFundingLine(ctx context.Context, actor models.Actor, id int64, fl *models.FundingLine) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before, err := lockFundingLine(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := checkLineFloor(ctx, tx, before, fl.Budget); err != nil {
			return err
		}
		reshaped := !fl.Budget.Equal(before.Budget) || !fl.StartsOn.Equal(before.StartsOn) || !fl.EndsOn.Equal(before.EndsOn)
		if reshaped && before.Status != models.StatusDraft {
			if err := checkApprovedReshape(ctx, tx, before, fl); err != nil {
				return err
			}
		}
		fl.ID, fl.Status, fl.CreatedAt, fl.Currency = id, before.Status, before.CreatedAt, before.Currency
		if err := checkContract(ctx, tx, before, fl); err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(fl).
			Column("code", "title", "description", "kind", "programme_id", "funder_id", "budget", "starts_on", "ends_on",
				"tender_reference", "tender_min_value", "tender_max_value", "tender_closes_on", "awarded_supplier_id",
				"cost_centre", "gl_account").
			Column(contractColumns...).
			Set("updated_at = now()").WherePK().Returning("*").Exec(ctx); err != nil {
			return err
		}
		if reshaped && before.Status == models.StatusDraft {
			// A draft's profile follows its budget and dates; the officer
			// edits the new proposal before the line is approved.
			if err := reproposeProfile(ctx, tx, id); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, actor, Change{Action: "funding_line.update", Entity: "funding_line", EntityID: id, Before: before, After: fl})
	})
}

// ChangeFundingLineStatus moves a funding line to closed or cancelled, with
// a reason (EINVALID without one); EINVALID when the transition is not
// allowed, and for approved and active, which another person decides
// (ProposeLineStatus, DecideLineStatus).
func (s *Store) ChangeFundingLineStatus(ctx context.Context, actor models.Actor, id int64, to models.FundingLineStatus, reason string) (*models.FundingLine, error) {
	var fl *models.FundingLine
	reason = strings.TrimSpace(reason)
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		before, err := lockFundingLine(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := models.CheckTransition(before.Status, to); err != nil {
			return err
		}
		if models.LineDecisionKind(to) != "" {
			return &models.Error{Code: models.EINVALID, Err: models.ErrFourEyes,
				Message: "A funding line becomes " + string(to) + " only when one person proposes it and another approves it.",
				Fields:  []models.FieldError{{Field: "status", Message: "propose it for a second person's decision"}}}
		}
		if reason == "" {
			return &models.Error{Code: models.EINVALID, Message: "A reason is needed to make a funding line " + string(to) + ".",
				Fields: []models.FieldError{{Field: "reason", Message: "is required"}}}
		}
		after := *before
		after.Status = to
		if _, err := tx.NewUpdate().Model(&after).Column("status").Set("updated_at = now()").WherePK().Returning("*").Exec(ctx); err != nil {
			return err
		}
		fl = &after
		return s.audit(ctx, tx, actor, Change{Action: "funding_line.status", Entity: "funding_line", EntityID: id,
			Before: map[string]any{"status": before.Status}, After: map[string]any{"status": to, "reason": reason}})
	})
	return fl, err
}

// checkApprovedReshape refuses a change to an approved line's budget (it
// moves only by a budget change) and dates that would leave part of its
// profile outside them.
func checkApprovedReshape(ctx context.Context, tx bun.Tx, before, after *models.FundingLine) error {
	if !after.Budget.Equal(before.Budget) {
		return &models.Error{Code: models.ECONFLICT, Message: "An approved line's budget changes only through a budget change.",
			Fields: []models.FieldError{{Field: "budget", Message: "stays " + models.Pounds(before.Budget) +
				" on " + before.Code + " (" + string(before.Status) + "); propose a virement to move budget to or from it"}}}
	}
	profile, err := profileOf(ctx, tx, before)
	if err != nil {
		return err
	}
	first, last := models.FinancialYearOf(after.StartsOn), models.FinancialYearOf(after.EndsOn)
	for _, y := range profile {
		if y.Amount.IsPositive() && (y.Year < first || y.Year > last) {
			return &models.Error{Code: models.ECONFLICT, Message: "The new dates would leave part of the budget profile outside the line.",
				Fields: []models.FieldError{{Field: "starts_on", Message: y.Year.String() + " holds " + models.Pounds(y.Amount) +
					"; re-profile it into the new years first"}}}
		}
	}
	return nil
}

func lockFundingLine(ctx context.Context, tx bun.Tx, id int64) (*models.FundingLine, error) {
	fl := new(models.FundingLine)
	if err := tx.NewSelect().Model(fl).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
		return nil, notFound(err, "Funding line", id)
	}
	return fl, nil
}

// checkLineFloor refuses (ECONFLICT on budget) a budget for the locked
// line below its floor, what it already holds (budget_line_floor: pending
// and approved awards, held reservations and approved spend outside
// awards). It is the rule budget_above_floor, as BudgetEffect.Check applies
// it to budget changes; the database holds it under that name.
func checkLineFloor(ctx context.Context, db bun.IDB, fl *models.FundingLine, budget decimal.Decimal) error {
	l := LineEffect{Line: fl, Before: fl.Budget, After: budget}
	if err := db.NewRaw("SELECT budget_line_floor(?)", fl.ID).Scan(ctx, &l.Floor); err != nil {
		return err
	}
	if !l.Short().IsPositive() {
		return nil
	}
	return &models.Error{Code: models.ECONFLICT, Message: upperFirst(l.shortfall()) + ".",
		Fields: []models.FieldError{{Field: "budget", Message: "must be at least " + models.Pounds(l.Floor) +
			", what " + fl.Code + " already holds in awards, reservations and approved spend outside awards"}}}
}

// committedOn is what a line has awarded and what it holds in reservations.
func committedOn(ctx context.Context, db bun.IDB, lineID int64) (committed, reserved decimal.Decimal, err error) {
	err = db.NewRaw(`SELECT
			coalesce((SELECT sum(amount) FROM awards WHERE funding_line_id = ?0 AND status IN ('pending', 'approved')), 0),
			coalesce((SELECT sum(amount) FROM reservations WHERE funding_line_id = ?0 AND status = 'held'), 0)`, lineID).
		Scan(ctx, &committed, &reserved)
	return committed, reserved, err
}

// FundingLine returns one funding line; ENOTFOUND if none.
func (s *Store) FundingLine(ctx context.Context, id int64) (*models.FundingLine, error) {
	fl := new(models.FundingLine)
	if err := s.db.NewSelect().Model(fl).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Funding line", id)
	}
	return fl, nil
}

// FundingLineFilter narrows a list of funding lines. A financial year keeps
// the lines whose period overlaps it.
type FundingLineFilter struct {
	ProgrammeID int64
	Status      models.FundingLineStatus
	Kind        models.FundingLineKind
	Year        *models.FinancialYear
	Search      string // in the code, title, tender reference or programme's name or code
	Page        Page
}

// FundingLines lists funding lines by code, with the total before paging.
func (s *Store) FundingLines(ctx context.Context, f FundingLineFilter) ([]*models.FundingLine, int, error) {
	var fls []*models.FundingLine
	q := s.db.NewSelect().Model(&fls).Order("code")
	lineWhere(q, f)
	total, err := f.Page.apply(q).ScanAndCount(ctx)
	return fls, int(total), translate(err)
}

// FundingLinesBudget is the total budget of the lines f selects (all pages).
func (s *Store) FundingLinesBudget(ctx context.Context, f FundingLineFilter) (decimal.Decimal, error) {
	var sum decimal.Decimal
	q := s.db.NewSelect().TableExpr("funding_lines").ColumnExpr("coalesce(sum(budget), 0)")
	lineWhere(q, f)
	return sum, translate(q.Scan(ctx, &sum))
}

// lineWhere adds f's conditions (not its paging) to a query on funding_lines.
func lineWhere(q *bun.SelectQuery, f FundingLineFilter) {
	if f.ProgrammeID != 0 {
		q.Where("programme_id = ?", f.ProgrammeID)
	}
	if f.Status != "" {
		q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q.Where("kind = ?", f.Kind)
	}
	if f.Year != nil {
		q.Where("starts_on <= ? AND ends_on >= ?", f.Year.End(), f.Year.Start())
	}
	if strings.TrimSpace(f.Search) != "" {
		q.Where(`(code ILIKE ?0 OR title ILIKE ?0 OR tender_reference ILIKE ?0
			OR programme_id IN (SELECT id FROM programmes WHERE name ILIKE ?0 OR code ILIKE ?0))`, containsPattern(f.Search))
	}
}

// LineTotals returns the money figures of each funding line asked for.
func (s *Store) LineTotals(ctx context.Context, ids ...int64) (map[int64]models.LineTotals, error) {
	out := make(map[int64]models.LineTotals, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID        int64
		Budget    decimal.Decimal
		Committed decimal.Decimal
		Reserved  decimal.Decimal
		Pending   decimal.Decimal
		Reversed  decimal.Decimal
		Spent     decimal.Decimal
	}
	err := s.db.NewRaw(`
		SELECT fl.id, fl.budget,
			coalesce((SELECT sum(a.amount) FROM awards a WHERE a.funding_line_id = fl.id AND a.status IN ('pending', 'approved')), 0) AS committed,
			coalesce((SELECT sum(r.amount) FROM reservations r WHERE r.funding_line_id = fl.id AND r.status = 'held'), 0) AS reserved,
			coalesce((SELECT sum(e.amount) FROM spend_entries e WHERE e.funding_line_id = fl.id AND e.status = 'pending' AND e.reverses_id IS NULL), 0) AS pending,
			coalesce((SELECT -sum(e.amount) FROM spend_entries e WHERE e.funding_line_id = fl.id AND e.status = 'pending' AND e.reverses_id IS NOT NULL), 0) AS reversed,
			coalesce((SELECT sum(e.amount) FROM spend_entries e WHERE e.funding_line_id = fl.id AND e.status = 'approved'), 0) AS spent
		FROM funding_lines fl WHERE fl.id IN (?)`, bun.In(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		out[r.ID] = models.LineTotals{Budget: r.Budget, Committed: r.Committed, Reserved: r.Reserved, Pending: r.Pending,
			PendingReversals: r.Reversed, Spent: r.Spent}
	}
	return out, nil
}
