package store

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// ImportOfficeHolderExpenses records a CSV of office holders' expenses
// (columns models.OfficeHolderExpenseColumns, with that header) all or
// nothing, each with an audit event, and returns them. A file with any bad
// row is refused with an *ImportError naming each problem by line.
func (s *Store) ImportOfficeHolderExpenses(ctx context.Context, actor models.Actor, r io.Reader) ([]*models.OfficeHolderExpense, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(models.OfficeHolderExpenseColumns)
	var out []*models.OfficeHolderExpense
	var problems ImportError
	add := func(line int, field, msg string) {
		if len(problems.Rows) < maxImportProblems {
			problems.Rows = append(problems.Rows, RowError{Line: line, Field: field, Message: msg})
		} else {
			problems.More++
		}
	}
	header, err := cr.Read()
	if err != nil || !slices.Equal(header, models.OfficeHolderExpenseColumns) {
		add(1, "", "the first line must name the columns: "+strings.Join(models.OfficeHolderExpenseColumns, ","))
		return nil, &problems
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			add(line, "", err.Error())
			if pe == nil || errors.Is(pe.Err, csv.ErrFieldCount) {
				continue
			}
			break
		}
		e, err := models.OfficeHolderExpenseInput{OfficeHolder: rec[0], Office: rec[1], IncurredOn: rec[2], Category: rec[3],
			Description: rec[4], Amount: rec[5]}.Validate()
		var me *models.Error
		if errors.As(err, &me) {
			for _, f := range me.Fields {
				add(line, f.Field, f.Message)
			}
			continue
		}
		out = append(out, e)
	}
	if len(problems.Rows) > 0 {
		return nil, &problems
	}
	if len(out) == 0 {
		return nil, models.Errorf(models.EINVALID, "The file holds no expenses.")
	}
	return out, s.RecordOfficeHolderExpenses(ctx, actor, out...)
}

// RecordOfficeHolderExpenses records validated expenses, all or nothing,
// each pending a second person's decision and with its audit event.
func (s *Store) RecordOfficeHolderExpenses(ctx context.Context, actor models.Actor, es ...*models.OfficeHolderExpense) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, e := range es {
			e.RecordedBy, e.Status = actor.UserID, models.DecisionPending
			if _, err := tx.NewInsert().Model(e).Returning("*").Exec(ctx); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, Change{Action: "office_holder_expense.record", Entity: "office_holder_expense", EntityID: e.ID, After: e}); err != nil {
				return err
			}
		}
		return nil
	})
}

// DecideOfficeHolderExpense approves or rejects (with a reason) a pending
// expense, as someone other than its recorder with authority for its
// amount in the scheme of delegation, or withdraws it as its recorder.
// ENOTFOUND, ECONFLICT when it is already decided, EFORBIDDEN as decide.
func (s *Store) DecideOfficeHolderExpense(ctx context.Context, actor models.Actor, id int64, to models.DecisionStatus, reason string) (*models.OfficeHolderExpense, error) {
	var out *models.OfficeHolderExpense
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		e := new(models.OfficeHolderExpense)
		if err := tx.NewSelect().Model(e).Where("id = ?", id).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "Expense", id)
		}
		p := proposal{table: "office_holder_expenses", what: "expense " + strconv.FormatInt(id, 10), id: id, kind: models.DecisionOfficeHolderExpense,
			amount: e.Amount, status: e.Status, proposedBy: &e.RecordedBy}
		at, err := s.decide(ctx, tx, actor, p, to, reason)
		if err != nil {
			return err
		}
		before := e.Status
		e.Status, e.DecidedBy, e.DecidedAt = to, &actor.UserID, &at
		if r := strings.TrimSpace(reason); r != "" {
			e.DecisionReason = &r
		}
		out = e
		return s.audit(ctx, tx, actor, Change{Action: "office_holder_expense." + decisionVerb(to), Entity: "office_holder_expense", EntityID: id,
			Before: map[string]any{"status": before}, After: e})
	})
	return out, s.recordRefusal(ctx, actor, "office_holder_expense", "office_holder_expense."+decisionVerb(to), id, err)
}

// OfficeHolderExpenses lists the approved expenses incurred between from
// and to (inclusive), by day and id: what the publishing pack lists.
func (s *Store) OfficeHolderExpenses(ctx context.Context, from, to time.Time) ([]models.OfficeHolderExpense, error) {
	var out []models.OfficeHolderExpense
	err := s.db.NewSelect().Model(&out).Where("incurred_on BETWEEN ?::date AND ?::date", from, to).
		Where("status = ?", models.DecisionApproved).Order("incurred_on", "id").Scan(ctx)
	return out, translate(err)
}

// ExpenseList is one page of office holders' expenses with the count and
// amount of every expense in the range.
type ExpenseList struct {
	Expenses []models.OfficeHolderExpense
	Count    int
	Amount   decimal.Decimal
}

// AllOfficeHolderExpenses lists one page of the expenses incurred between
// from and to (inclusive), whatever their status, newest first.
func (s *Store) AllOfficeHolderExpenses(ctx context.Context, from, to time.Time, pg Page) (*ExpenseList, error) {
	out := &ExpenseList{Expenses: []models.OfficeHolderExpense{}}
	if err := s.db.NewSelect().TableExpr("office_holder_expenses").ColumnExpr("count(*), coalesce(sum(amount), 0)").
		Where("incurred_on BETWEEN ?::date AND ?::date", from, to).Scan(ctx, &out.Count, &out.Amount); err != nil {
		return nil, translate(err)
	}
	err := pg.apply(s.db.NewSelect().Model(&out.Expenses).Where("incurred_on BETWEEN ?::date AND ?::date", from, to).
		Order("incurred_on DESC", "id DESC")).Scan(ctx)
	return out, translate(err)
}

// ExpenseYearTotal is what office holders' expenses add up to in one
// financial year, by status.
type ExpenseYearTotal struct {
	Year     models.FinancialYear `bun:"year"`
	Approved decimal.Decimal      `bun:"approved,type:numeric(15,2)"`
	Pending  decimal.Decimal      `bun:"pending,type:numeric(15,2)"`
	Entries  int                  `bun:"entries"`
}

// OfficeHolderExpenseTotals adds up the expenses by financial year (UK,
// 1 April to 31 March), newest year first; rejected and withdrawn ones
// count as entries but add nothing.
func (s *Store) OfficeHolderExpenseTotals(ctx context.Context) ([]ExpenseYearTotal, error) {
	out := []ExpenseYearTotal{}
	err := s.db.NewRaw(`SELECT financial_year_of(incurred_on) AS year,
			coalesce(sum(amount) FILTER (WHERE status = 'approved'), 0) AS approved,
			coalesce(sum(amount) FILTER (WHERE status = 'pending'), 0) AS pending, count(*)::int AS entries
		FROM office_holder_expenses GROUP BY 1 ORDER BY 1 DESC`).Scan(ctx, &out)
	return out, translate(err)
}
