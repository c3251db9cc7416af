package store

import (
	"context"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// BudgetProfile returns a funding line's budget profile: every financial
// year the line spans, in order, with zero for a year holding nothing;
// ENOTFOUND if there is no such line.
func (s *Store) BudgetProfile(ctx context.Context, lineID int64) ([]models.YearAmount, error) {
	fl, err := s.FundingLine(ctx, lineID)
	if err != nil {
		return nil, err
	}
	return profileOf(ctx, s.db, fl)
}

// BudgetProfiles returns the stored profiles of the lines asked for, by
// line, years in order (years without a row are left out).
func (s *Store) BudgetProfiles(ctx context.Context, ids ...int64) (map[int64][]models.YearAmount, error) {
	out := make(map[int64][]models.YearAmount, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []models.YearAmount
	if err := s.db.NewSelect().Model(&rows).Where("funding_line_id IN (?)", bun.In(ids)).
		Order("funding_line_id", "financial_year").Scan(ctx); err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		out[r.FundingLineID] = append(out[r.FundingLineID], r)
	}
	return out, nil
}

// profileOf reads a line's profile, filled out to every year it spans.
func profileOf(ctx context.Context, db bun.IDB, fl *models.FundingLine) ([]models.YearAmount, error) {
	var rows []models.YearAmount
	if err := db.NewSelect().Model(&rows).Where("funding_line_id = ?", fl.ID).Order("financial_year").Scan(ctx); err != nil {
		return nil, translate(err)
	}
	var out []models.YearAmount
	for _, fy := range models.YearsOf(fl.StartsOn, fl.EndsOn) {
		out = append(out, models.YearAmount{FundingLineID: fl.ID, Year: fy, Amount: models.YearBudget(rows, fy)})
	}
	// A year outside the dates holds nothing (the database refuses money
	// there), but a zero row may linger after the dates moved.
	return out, nil
}

// profileEvent is a profile as the audit trail records it.
type profileEvent struct {
	Budget         string              `json:"budget"`
	Years          []models.YearAmount `json:"years"`
	BudgetChangeID int64               `json:"budget_change_id,omitempty"`
}

// SetDraftProfile replaces a draft line's budget profile; the line's
// officer edits it freely until the line is approved. EINVALID when the
// years do not add up to the budget or lie outside the line's dates;
// ECONFLICT once the line is approved (propose a re-profiling instead).
func (s *Store) SetDraftProfile(ctx context.Context, actor models.Actor, lineID int64, years []models.YearAmount) ([]models.YearAmount, error) {
	var out []models.YearAmount
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		fl, err := lockFundingLine(ctx, tx, lineID)
		if err != nil {
			return err
		}
		if fl.Status != models.StatusDraft {
			return models.Errorf(models.ECONFLICT, "Funding line %s is %s: its profile changes only through a budget change (a re-profiling) once approved.", fl.Code, fl.Status)
		}
		if err := models.CheckProfile(years, fl.Budget, fl.StartsOn, fl.EndsOn); err != nil {
			return err
		}
		before, err := profileOf(ctx, tx, fl)
		if err != nil {
			return err
		}
		if _, err := tx.NewDelete().Model((*models.YearAmount)(nil)).Where("funding_line_id = ?", lineID).Exec(ctx); err != nil {
			return err
		}
		rows := make([]models.YearAmount, len(years))
		for i, y := range years {
			rows[i] = models.YearAmount{FundingLineID: lineID, Year: y.Year, Amount: y.Amount}
		}
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return err
		}
		if out, err = profileOf(ctx, tx, fl); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "funding_line.budget_profile", Entity: "funding_line", EntityID: lineID,
			Before: profileEvent{Budget: models.FormatMoney(fl.Budget), Years: before},
			After:  profileEvent{Budget: models.FormatMoney(fl.Budget), Years: out}})
	})
	return out, err
}

// reproposeProfile replaces a draft line's profile with the one proposed
// from its budget and dates, after either changed.
func reproposeProfile(ctx context.Context, tx bun.Tx, lineID int64) error {
	if _, err := tx.NewDelete().Model((*models.YearAmount)(nil)).Where("funding_line_id = ?", lineID).Exec(ctx); err != nil {
		return err
	}
	_, err := tx.NewRaw(`INSERT INTO budget_profiles (funding_line_id, financial_year, amount)
		SELECT fl.id, p.financial_year, p.amount FROM funding_lines fl, straight_line_profile(fl.budget, fl.starts_on, fl.ends_on) p
		WHERE fl.id = ?`, lineID).Exec(ctx)
	return err
}
