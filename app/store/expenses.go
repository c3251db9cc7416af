package store

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

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
		e, err := models.OfficeHolderExpenseRow{OfficeHolder: rec[0], Office: rec[1], IncurredOn: rec[2], Category: rec[3],
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
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		for _, e := range out {
			e.RecordedBy = actor.UserID
			if _, err := tx.NewInsert().Model(e).Returning("*").Exec(ctx); err != nil {
				return err
			}
			if err := s.audit(ctx, tx, actor, Change{Action: "office_holder_expense.record", Entity: "office_holder_expense", EntityID: e.ID, After: e}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// OfficeHolderExpenses lists the expenses incurred between from and to
// (inclusive), by day and id.
func (s *Store) OfficeHolderExpenses(ctx context.Context, from, to time.Time) ([]models.OfficeHolderExpense, error) {
	var out []models.OfficeHolderExpense
	err := s.db.NewSelect().Model(&out).Where("incurred_on BETWEEN ?::date AND ?::date", from, to).Order("incurred_on", "id").Scan(ctx)
	return out, translate(err)
}
