package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// YearEffect is one year of a line before and after a budget change, with
// its floor: what is already approved and committed in it.
type YearEffect struct {
	Year   models.FinancialYear
	Before decimal.Decimal
	After  decimal.Decimal
	Floor  decimal.Decimal
}

// Delta is the money the change moves into the year (negative: out).
func (y YearEffect) Delta() decimal.Decimal { return y.After.Sub(y.Before) }

// Short is how far a decrease would leave the year below its floor; zero
// when it would not.
func (y YearEffect) Short() decimal.Decimal {
	if y.After.LessThan(y.Before) && y.After.LessThan(y.Floor) {
		return y.Floor.Sub(y.After)
	}
	return decimal.Zero
}

// LineEffect is one line before and after a budget change: its budget, its
// floor (awarded, reserved and spent outside awards) and every year of its
// profile.
type LineEffect struct {
	Line   *models.FundingLine
	Before decimal.Decimal
	After  decimal.Decimal
	Floor  decimal.Decimal
	Years  []YearEffect
}

// Short is how far a decrease would leave the line below its floor.
func (l LineEffect) Short() decimal.Decimal {
	if l.After.LessThan(l.Before) && l.After.LessThan(l.Floor) {
		return l.Floor.Sub(l.After)
	}
	return decimal.Zero
}

// shortfall says how far the line would fall below its floor.
func (l LineEffect) shortfall() string {
	return fmt.Sprintf("%s would have a budget of %s but %s is already awarded, reserved and spent on it, so it is %s short",
		l.Line.Code, models.Pounds(l.After), models.Pounds(l.Floor), models.Pounds(l.Short()))
}

// BudgetEffect is what a budget change does, line by line and year by year:
// the preview shown before it is proposed and the check made again when it
// is approved.
type BudgetEffect struct {
	Lines            []LineEffect
	AcrossProgrammes bool // a virement between lines of different programmes
}

// DecisionKind is the kind of decision approving the change is under the
// scheme of delegation.
func (e *BudgetEffect) DecisionKind(kind models.BudgetChangeKind) models.DecisionKind {
	switch {
	case kind == models.Reprofile:
		return models.DecisionBudgetReprofile
	case kind == models.Increase:
		return models.DecisionBudgetIncrease
	case e.AcrossProgrammes:
		return models.DecisionBudgetVirementAcrossProgrammes
	}
	return models.DecisionBudgetVirementWithinProgramme
}

// LineBudget returns a line's budget and profile with what is already
// approved and committed in each year and on the line; ENOTFOUND if none.
func (s *Store) LineBudget(ctx context.Context, lineID int64) (*LineEffect, error) {
	fl, err := s.FundingLine(ctx, lineID)
	if err != nil {
		return nil, err
	}
	l, err := lineEffect(ctx, s.db, fl, nil)
	return &l, err
}

// PreviewBudgetChange works out a change's effect without storing anything:
// EINVALID when a move names no line or a year outside its line, or the
// effective date does not fit (checkEffectiveOn).
func (s *Store) PreviewBudgetChange(ctx context.Context, bc *models.BudgetChange) (*BudgetEffect, error) {
	e, err := budgetEffect(ctx, s.db, bc.Moves)
	if err != nil {
		return nil, err
	}
	return e, e.checkEffectiveOn(bc)
}

// checkEffectiveOn refuses (EINVALID on effective_on) an effective date
// outside the dates of a line the change moves, or after the end of a
// financial year it moves: a change takes effect when approved, and its
// effective date says from when it applies, which can be neither before a
// line starts nor after a year it changes is over. The database holds the
// same rule (budget_change_effective_on).
func (e *BudgetEffect) checkEffectiveOn(bc *models.BudgetChange) error {
	var p models.Problems
	on := bc.EffectiveOn
	for _, l := range e.Lines {
		if on.Before(l.Line.StartsOn) || on.After(l.Line.EndsOn) {
			p.Add("effective_on", "%s is outside %s's dates (%s to %s)", on.Format(models.DateLayout), l.Line.Code,
				l.Line.StartsOn.Format(models.DateLayout), l.Line.EndsOn.Format(models.DateLayout))
			return p.Err()
		}
	}
	for _, m := range bc.Moves {
		if m.Year.End().Before(on) {
			p.Add("effective_on", "%s is after %s ended; a budget change cannot reach back into a year already over",
				on.Format(models.DateLayout), m.Year)
			return p.Err()
		}
	}
	return nil
}

// budgetEffect reads each line the moves touch, its profile and its floors,
// and applies the moves.
func budgetEffect(ctx context.Context, db bun.IDB, moves []*models.BudgetMove) (*BudgetEffect, error) {
	var ids []int64
	for _, m := range moves {
		if !slices.Contains(ids, m.FundingLineID) {
			ids = append(ids, m.FundingLineID)
		}
	}
	slices.Sort(ids)
	var fls []*models.FundingLine
	if err := db.NewSelect().Model(&fls).Where("id IN (?)", bun.In(ids)).Order("id").Scan(ctx); err != nil {
		return nil, translate(err)
	}
	byID := map[int64]*models.FundingLine{}
	for _, fl := range fls {
		byID[fl.ID] = fl
	}
	var p models.Problems
	for i, m := range moves {
		field := "moves[" + strconv.Itoa(i) + "]"
		fl, ok := byID[m.FundingLineID]
		switch {
		case !ok:
			p.Add(field+".funding_line_id", "no such funding line")
		case m.Year < models.FinancialYearOf(fl.StartsOn) || m.Year > models.FinancialYearOf(fl.EndsOn):
			p.Add(field+".financial_year", "%s is outside %s's years (%s to %s)", m.Year, fl.Code,
				models.FinancialYearOf(fl.StartsOn), models.FinancialYearOf(fl.EndsOn))
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	e := &BudgetEffect{}
	for _, fl := range fls {
		le, err := lineEffect(ctx, db, fl, moves)
		if err != nil {
			return nil, err
		}
		e.AcrossProgrammes = e.AcrossProgrammes || fl.ProgrammeID != fls[0].ProgrammeID
		e.Lines = append(e.Lines, le)
	}
	return e, nil
}

func lineEffect(ctx context.Context, db bun.IDB, fl *models.FundingLine, moves []*models.BudgetMove) (LineEffect, error) {
	profile, err := profileOf(ctx, db, fl)
	if err != nil {
		return LineEffect{}, err
	}
	var floors []struct {
		FinancialYear models.FinancialYear
		Floor         decimal.Decimal
	}
	if err := db.NewRaw("SELECT financial_year, floor FROM budget_year_floors(?)", fl.ID).Scan(ctx, &floors); err != nil {
		return LineEffect{}, translate(err)
	}
	le := LineEffect{Line: fl, Before: fl.Budget, After: fl.Budget}
	if err := db.NewRaw("SELECT budget_line_floor(?)", fl.ID).Scan(ctx, &le.Floor); err != nil {
		return LineEffect{}, translate(err)
	}
	for _, y := range profile {
		ye := YearEffect{Year: y.Year, Before: y.Amount, After: y.Amount}
		for _, f := range floors {
			if f.FinancialYear == y.Year {
				ye.Floor = f.Floor
			}
		}
		for _, m := range moves {
			if m.FundingLineID == fl.ID && m.Year == y.Year {
				ye.After = ye.After.Add(m.Delta)
				le.After = le.After.Add(m.Delta)
			}
		}
		le.Years = append(le.Years, ye)
	}
	return le, nil
}

// Check refuses a change that would leave a year or a line below its floor
// (the rule budget_above_floor), naming each with the floor and the
// shortfall, or that touches a line not approved or active.
func (e *BudgetEffect) Check() error {
	var short []string
	for _, l := range e.Lines {
		if l.Line.Status != models.StatusApproved && l.Line.Status != models.StatusActive {
			return models.Errorf(models.ECONFLICT, "Budget changes apply to approved or active lines; %s is %s.", l.Line.Code, l.Line.Status)
		}
		for _, y := range l.Years {
			if s := y.Short(); s.IsPositive() {
				short = append(short, fmt.Sprintf("%s %s would have %s but %s is already approved and committed in it, so it is %s short",
					l.Line.Code, y.Year, models.Pounds(y.After), models.Pounds(y.Floor), models.Pounds(s)))
			}
		}
		if l.Short().IsPositive() {
			short = append(short, l.shortfall())
		}
	}
	if len(short) > 0 {
		return models.Errorf(models.ECONFLICT, "The budget change would undercut what is already approved: %s.", strings.Join(short, "; "))
	}
	return nil
}

// ProposeBudgetChange stores a pending budget change proposed by the actor,
// refused (ECONFLICT) if it would already undercut a year's or a line's
// floor. With an idempotency key, a retry with the same request returns the
// change first stored (replayed true); the same key with another request is
// ECONFLICT.
func (s *Store) ProposeBudgetChange(ctx context.Context, actor models.Actor, bc *models.BudgetChange, key string, requestHash []byte) (replayed bool, err error) {
	bc.ProposedBy, bc.Status = actor.UserID, models.ChangePending
	if key != "" {
		bc.IdempotencyKey, bc.RequestHash = &key, requestHash
	}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if key != "" {
			stored := new(models.BudgetChange)
			err := tx.NewSelect().Model(stored).Relation("Moves", orderedMoves).Where("proposed_by = ? AND idempotency_key = ?", actor.UserID, key).Scan(ctx)
			switch {
			case err == nil && !bytes.Equal(stored.RequestHash, requestHash):
				return models.Errorf(models.ECONFLICT, "This Idempotency-Key was already used for a different request; use a new key for a new budget change.")
			case err == nil:
				*bc, replayed = *stored, true
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		effect, err := budgetEffect(ctx, tx, bc.Moves)
		if err != nil {
			return err
		}
		if err := effect.checkEffectiveOn(bc); err != nil {
			return err
		}
		if err := effect.Check(); err != nil {
			return err
		}
		if err := s.CheckDecisionCitation(ctx, tx, effect.DecisionKind(bc.Kind), bc.Amount(), bc.DecisionRecordID); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(bc).Returning("*").Exec(ctx); err != nil {
			return err
		}
		for _, m := range bc.Moves {
			m.BudgetChangeID = bc.ID
		}
		if _, err := tx.NewInsert().Model(&bc.Moves).Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "budget_change.propose", Entity: "budget_change", EntityID: bc.ID, After: bc})
	})
	return replayed, err
}

// orderedMoves loads a change's moves by line and year.
func orderedMoves(q *bun.SelectQuery) *bun.SelectQuery {
	return q.Order("budget_move.funding_line_id", "budget_move.financial_year")
}

// lockBudgetChange locks a change's lines in id order, as every path that
// changes budgets or spend locks them, then the change.
func lockBudgetChange(ctx context.Context, tx bun.Tx, id int64) (*models.BudgetChange, error) {
	if _, err := tx.NewRaw(`SELECT id FROM funding_lines WHERE id IN (SELECT funding_line_id FROM budget_change_moves
		WHERE budget_change_id = ?) ORDER BY id FOR UPDATE`, id).Exec(ctx); err != nil {
		return nil, err
	}
	bc := new(models.BudgetChange)
	if err := tx.NewSelect().Model(bc).Where("budget_change.id = ?", id).For("UPDATE").Relation("Moves", orderedMoves).Scan(ctx); err != nil {
		return nil, notFound(err, "Budget change", id)
	}
	return bc, nil
}

// ApproveBudgetChange approves a pending change and applies it to the
// profiles and budgets of its lines, in one transaction. EFORBIDDEN for the
// person who proposed it and for anyone the scheme of delegation does not
// let approve its kind and amount (a virement across programmes needs the
// higher authority); EINVALID when it must cite a decision record and does
// not; ECONFLICT when it is no longer pending or would now undercut a
// year's or a line's floor.
func (s *Store) ApproveBudgetChange(ctx context.Context, actor models.Actor, id int64) (*models.BudgetChange, *BudgetEffect, error) {
	var out *models.BudgetChange
	var effect *BudgetEffect
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		bc, e, err := lockForDecision(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.checkBudgetChangeAuthority(ctx, tx, actor, bc, e); err != nil {
			return err
		}
		effect = e
		if err := effect.Check(); err != nil {
			return err
		}
		// The database applies the moves as the status changes (the
		// budget_change_apply trigger); decided_at is the transaction's time.
		if err := tx.NewRaw(`UPDATE budget_changes SET status = 'approved', decided_by = ?, decided_at = now()
			WHERE id = ? RETURNING status, decided_by, decided_at`, actor.UserID, id).Scan(ctx, &bc.Status, &bc.DecidedBy, &bc.DecidedAt); err != nil {
			return err
		}
		out = bc
		if err := s.audit(ctx, tx, actor, Change{Action: "budget_change.approve", Entity: "budget_change", EntityID: id,
			Before: map[string]any{"status": models.ChangePending}, After: map[string]any{"status": bc.Status, "moves": bc.Moves}}); err != nil {
			return err
		}
		return s.auditProfiles(ctx, tx, actor, bc.ID, effect)
	})
	return out, effect, s.recordRefusal(ctx, actor, "budget_change", "budget_change.approve", id, err)
}

// auditProfiles records each line's profile before and after an approved
// change, so the line's own history in the audit trail shows it.
func (s *Store) auditProfiles(ctx context.Context, tx bun.Tx, actor models.Actor, changeID int64, e *BudgetEffect) error {
	for _, l := range e.Lines {
		before := profileEvent{Budget: models.FormatMoney(l.Before), BudgetChangeID: changeID}
		after := profileEvent{Budget: models.FormatMoney(l.After), BudgetChangeID: changeID}
		for _, y := range l.Years {
			before.Years = append(before.Years, models.YearAmount{Year: y.Year, Amount: y.Before})
			after.Years = append(after.Years, models.YearAmount{Year: y.Year, Amount: y.After})
		}
		if err := s.audit(ctx, tx, actor, Change{Action: "funding_line.budget_profile", Entity: "funding_line", EntityID: l.Line.ID,
			Before: before, After: after}); err != nil {
			return err
		}
	}
	return nil
}

// lockForDecision locks a change for the actor to approve or reject it and
// works out its effect: EFORBIDDEN for its proposer, ECONFLICT once it is
// decided.
func lockForDecision(ctx context.Context, tx bun.Tx, actor models.Actor, id int64) (*models.BudgetChange, *BudgetEffect, error) {
	bc, err := lockBudgetChange(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	if err := checkChangeDecision(actor, bc); err != nil {
		return nil, nil, err
	}
	effect, err := budgetEffect(ctx, tx, bc.Moves)
	return bc, effect, err
}

func checkChangeDecision(actor models.Actor, bc *models.BudgetChange) error {
	if bc.Status != models.ChangePending {
		return models.Errorf(models.ECONFLICT, "Budget change %d is already %s.", bc.ID, bc.Status)
	}
	if bc.ProposedBy == actor.UserID {
		return models.Errorf(models.EFORBIDDEN, "You proposed budget change %d, so someone else must approve or reject it.", bc.ID)
	}
	return nil
}

// RejectBudgetChange rejects a pending change with a reason; nothing moves.
// EFORBIDDEN for its proposer and for a role the scheme of delegation gives
// no authority for the change's kind (no amount limit applies: leaving a
// budget as it is commits nothing); the database's budget_change_authority
// asks the same.
func (s *Store) RejectBudgetChange(ctx context.Context, actor models.Actor, id int64, reason string) (*models.BudgetChange, error) {
	var out *models.BudgetChange
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		bc, e, err := lockForDecision(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if err := s.CheckDecisionAuthority(ctx, tx, e.DecisionKind(bc.Kind), decimal.Zero, actor.UserID, bc.ProposedBy); err != nil {
			return err
		}
		if err := tx.NewRaw(`UPDATE budget_changes SET status = 'rejected', decided_by = ?, decided_at = now(), rejection_reason = ?
			WHERE id = ? RETURNING status, decided_by, decided_at, rejection_reason`, actor.UserID, reason, id).
			Scan(ctx, &bc.Status, &bc.DecidedBy, &bc.DecidedAt, &bc.RejectionReason); err != nil {
			return err
		}
		out = bc
		return s.audit(ctx, tx, actor, Change{Action: "budget_change.reject", Entity: "budget_change", EntityID: id,
			Before: map[string]any{"status": models.ChangePending}, After: map[string]any{"status": bc.Status, "reason": reason}})
	})
	return out, s.recordRefusal(ctx, actor, "budget_change", "budget_change.reject", id, err)
}

// WithdrawBudgetChange withdraws a pending change; only its proposer may
// (EFORBIDDEN for anyone else).
func (s *Store) WithdrawBudgetChange(ctx context.Context, actor models.Actor, id int64) (*models.BudgetChange, error) {
	var out *models.BudgetChange
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		bc, err := lockBudgetChange(ctx, tx, id)
		if err != nil {
			return err
		}
		switch {
		case bc.Status != models.ChangePending:
			return models.Errorf(models.ECONFLICT, "Budget change %d is already %s.", bc.ID, bc.Status)
		case bc.ProposedBy != actor.UserID:
			return models.Errorf(models.EFORBIDDEN, "Only the person who proposed budget change %d may withdraw it; reject it instead.", bc.ID)
		}
		if err := tx.NewRaw(`UPDATE budget_changes SET status = 'withdrawn', decided_at = now() WHERE id = ? RETURNING status, decided_at`, id).
			Scan(ctx, &bc.Status, &bc.DecidedAt); err != nil {
			return err
		}
		out = bc
		return s.audit(ctx, tx, actor, Change{Action: "budget_change.withdraw", Entity: "budget_change", EntityID: id,
			Before: map[string]any{"status": models.ChangePending}, After: map[string]any{"status": bc.Status}})
	})
	return out, s.recordRefusal(ctx, actor, "budget_change", "budget_change.withdraw", id, err)
}

// BudgetChange returns one change with its moves; ENOTFOUND if none.
func (s *Store) BudgetChange(ctx context.Context, id int64) (*models.BudgetChange, error) {
	bc := new(models.BudgetChange)
	if err := s.db.NewSelect().Model(bc).Relation("Moves", orderedMoves).Where("budget_change.id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "Budget change", id)
	}
	return bc, nil
}

// BudgetChangeFilter narrows a list of budget changes.
type BudgetChangeFilter struct {
	FundingLineID int64
	Status        models.BudgetChangeStatus
	Page          Page
}

// BudgetChanges lists changes with their moves, newest first, with the
// total before paging.
func (s *Store) BudgetChanges(ctx context.Context, f BudgetChangeFilter) ([]*models.BudgetChange, int, error) {
	var out []*models.BudgetChange
	q := s.db.NewSelect().Model(&out).Relation("Moves", orderedMoves).Order("budget_change.id DESC")
	if f.FundingLineID != 0 {
		q = q.Where("budget_change.id IN (SELECT budget_change_id FROM budget_change_moves WHERE funding_line_id = ?)", f.FundingLineID)
	}
	if f.Status != "" {
		q = q.Where("budget_change.status = ?", f.Status)
	}
	total, err := f.Page.apply(q).ScanAndCount(ctx)
	return out, int(total), translate(err)
}

// BudgetChangesToDecide lists, oldest first, the pending budget changes the
// actor may approve: proposed by someone else, of a kind and amount the
// scheme of delegation lets the actor approve (one that must still cite a
// decision record is listed; approving it says so). The approvals page
// lists them.
func (s *Store) BudgetChangesToDecide(ctx context.Context, actor models.Actor) ([]*models.BudgetChange, error) {
	var pending []*models.BudgetChange
	if err := s.db.NewSelect().Model(&pending).Relation("Moves", orderedMoves).Where("budget_change.status = 'pending'").
		Where("budget_change.proposed_by <> ?", actor.UserID).Order("budget_change.id").Scan(ctx); err != nil {
		return nil, translate(err)
	}
	var out []*models.BudgetChange
	for _, bc := range pending {
		effect, err := budgetEffect(ctx, s.db, bc.Moves)
		if err != nil {
			return nil, err
		}
		switch err := s.CheckDecisionAuthority(ctx, s.db, effect.DecisionKind(bc.Kind), bc.Amount(), actor.UserID, bc.ProposedBy); models.ErrorCode(err) {
		case "":
			out = append(out, bc)
		case models.EFORBIDDEN:
		default:
			return nil, err
		}
	}
	return out, nil
}
