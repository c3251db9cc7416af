package store

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"

	"granttrack/models"
)

// ConfirmationColumns is the layout of the finance system's export of paid
// items that granttrack reads back: the payment's reference (as the
// remittance and the journal gave it), the day it was paid and the amount.
var ConfirmationColumns = []string{"reference", "date", "amount"}

// Confirmation is what one row of the finance system's export matched.
type Confirmation struct {
	Line      int             `json:"line"`
	Reference string          `json:"reference"`
	PaidOn    time.Time       `json:"-"`
	Amount    decimal.Decimal `json:"-"`
	// Outcome: confirmed (a run's payment, amounts equal, recorded now),
	// already_confirmed, spend_entry (an approved spend entry outside any
	// run, amounts equal), amount_mismatch, not_paid (a run not approved)
	// or unmatched.
	Outcome string `json:"outcome"`
	Detail  string `json:"detail"`
}

// ConfirmationReport is the outcome of reading the finance system's export
// back: every row, and the counts by outcome.
type ConfirmationReport struct {
	Rows   []Confirmation `json:"rows"`
	Counts map[string]int `json:"counts"`
}

// ConfirmPayments reads the finance system's export of paid items (CSV,
// columns ConfirmationColumns, UTF-8 or Windows-1252 as the spend import
// reads them) and matches each row by reference to a payment of an approved
// payment run, or else to an approved spend entry. A run's payment whose
// amount matches is recorded as confirmed (its day and amount, once); every
// other row is listed with why: an unknown reference, a different amount,
// a run not yet approved. A file with a bad row (a date, an amount, a
// column count) is refused whole, every problem listed by line, as the
// spend import does (*ImportError), and nothing is recorded.
func (s *Store) ConfirmPayments(ctx context.Context, actor models.Actor, r io.Reader) (*ConfirmationReport, error) {
	rows, err := readConfirmations(r)
	if err != nil {
		return nil, err
	}
	report := &ConfirmationReport{Rows: rows, Counts: map[string]int{}}
	err = s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var confirmed []string
		for i := range report.Rows {
			row := &report.Rows[i]
			if err := matchConfirmation(ctx, tx, row); err != nil {
				return err
			}
			if row.Outcome == "confirmed" {
				confirmed = append(confirmed, row.Reference)
			}
			report.Counts[row.Outcome]++
		}
		return s.audit(ctx, tx, actor, Change{Action: "payment_run.confirm", Entity: "payment_confirmation",
			After: map[string]any{"rows": len(report.Rows), "counts": report.Counts, "confirmed": confirmed}})
	})
	return report, err
}

// matchConfirmation finds what row's reference names, records a matching
// run payment as confirmed, and says what it found.
func matchConfirmation(ctx context.Context, tx bun.Tx, row *Confirmation) error {
	var item struct {
		ID          int64
		Amount      decimal.Decimal
		RunStatus   models.DecisionStatus
		Run         string
		ConfirmedOn *time.Time
	}
	err := tx.NewRaw(`SELECT i.id, i.amount, r.status AS run_status, r.reference AS run, i.confirmed_on
		FROM payment_run_items i JOIN payment_runs r ON r.id = i.payment_run_id WHERE i.reference = ? FOR UPDATE OF i`, row.Reference).Scan(ctx, &item)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	found := err == nil
	switch {
	case found && item.RunStatus != models.DecisionApproved:
		row.Outcome, row.Detail = "not_paid", "payment run "+item.Run+" is "+string(item.RunStatus)+": granttrack has not paid it"
	case found && !item.Amount.Equal(row.Amount):
		row.Outcome, row.Detail = "amount_mismatch", fmt.Sprintf("the file says %s, the payment is %s", models.Pounds(row.Amount), models.Pounds(item.Amount))
	case found && item.ConfirmedOn != nil:
		row.Outcome, row.Detail = "already_confirmed", "confirmed before, paid on "+item.ConfirmedOn.Format(models.DateLayout)
	case found:
		row.Outcome, row.Detail = "confirmed", "payment of run "+item.Run+", paid on "+row.PaidOn.Format(models.DateLayout)
		_, err := tx.NewRaw("UPDATE payment_run_items SET confirmed_on = ?, confirmed_amount = ? WHERE id = ?",
			row.PaidOn.Format(time.DateOnly), row.Amount, item.ID).Exec(ctx)
		return err
	default:
		var entries []struct {
			ID     int64
			Amount decimal.Decimal
		}
		if err := tx.NewRaw(`SELECT id, amount FROM spend_entries WHERE reference = ? AND status = 'approved' AND reverses_id IS NULL
			ORDER BY id LIMIT 2`, row.Reference).Scan(ctx, &entries); err != nil {
			return err
		}
		switch {
		case len(entries) == 0:
			row.Outcome, row.Detail = "unmatched", "no payment or approved spend entry has this reference"
		case len(entries) > 1:
			row.Outcome, row.Detail = "unmatched", "several approved spend entries have this reference"
		case !entries[0].Amount.Equal(row.Amount):
			row.Outcome, row.Detail = "amount_mismatch", fmt.Sprintf("the file says %s, spend entry %d is %s", models.Pounds(row.Amount), entries[0].ID, models.Pounds(entries[0].Amount))
		default:
			row.Outcome, row.Detail = "spend_entry", fmt.Sprintf("spend entry %d", entries[0].ID)
		}
	}
	return nil
}

// readConfirmations reads and checks the whole file: *ImportError listing
// every bad row by line (and column), or the rows.
func readConfirmations(r io.Reader) ([]Confirmation, error) {
	cr := csv.NewReader(newImportText(r))
	cr.FieldsPerRecord = len(ConfirmationColumns)
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, models.Errorf(models.EINVALID, "The file is empty: it needs a header row: %s", strings.Join(ConfirmationColumns, ","))
	}
	if err != nil && !errors.Is(err, csv.ErrFieldCount) {
		if row, ok := rowErrorOf(err, header, len(ConfirmationColumns)); ok {
			return nil, &ImportError{Rows: []RowError{row}}
		}
		return nil, err
	}
	for i := range header {
		header[i] = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(header[i], "\ufeff")))
	}
	if strings.Join(header, ",") != strings.Join(ConfirmationColumns, ",") {
		return nil, models.Errorf(models.EINVALID, "The header row must be exactly: %s", strings.Join(ConfirmationColumns, ","))
	}
	var out []Confirmation
	var bad ImportError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			row, ok := rowErrorOf(err, rec, len(ConfirmationColumns))
			if !ok {
				return nil, err
			}
			bad.Rows = append(bad.Rows, row)
			var te *TextError
			if errors.As(err, &te) {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		c := Confirmation{Line: line, Reference: strings.TrimSpace(rec[0])}
		var p models.Problems
		if c.Reference == "" {
			p.Add("reference", "is required")
		}
		if c.PaidOn, err = models.ParseDate(strings.TrimSpace(rec[1])); err != nil {
			p.Add("date", "must be a date, YYYY-MM-DD")
		}
		if c.Amount, err = models.ParseMoney(strings.TrimSpace(rec[2])); err != nil {
			p.Add("amount", "%s", models.ErrorMessage(err))
		}
		for _, f := range p {
			if len(bad.Rows) < maxImportProblems {
				bad.Rows = append(bad.Rows, RowError{Line: line, Field: f.Field, Message: f.Message})
			} else {
				bad.More++
			}
		}
		out = append(out, c)
	}
	if len(bad.Rows) > 0 {
		sortRowErrors(bad.Rows)
		return nil, &bad
	}
	return out, nil
}
