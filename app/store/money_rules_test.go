package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"granttrack/app/store/storetest"
	"granttrack/models"
)

// refusedBy fails the test unless err is PostgreSQL refusing by the named
// constraint.
func refusedBy(t *testing.T, err error, constraint string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.ConstraintName != constraint {
		t.Fatalf("err = %v, want the database to refuse it by %s", err, constraint)
	}
}

// TestSpendOnlyOnActiveLinesWithinDates breaks the spend rules through the
// store and through raw SQL: spend on a cancelled line, spend dated outside
// its line or its award, and approval on a line cancelled since recording.
func TestSpendOnlyOnActiveLinesWithinDates(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	fl := line(t, st, "1000.00") // 2024-04-01 to 2025-03-31
	a := award(t, fl.ID, fl.FunderID, "500.00")
	a.StartsOn, a.EndsOn = a.AwardedOn, a.AwardedOn.AddDate(0, 3, -1) // June to August 2024
	a.Tranches = []*models.Tranche{{Seq: 1, DueOn: a.StartsOn, Amount: a.Amount}}
	if err := storetest.Award(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	insert := func(lineID int64, awardID any, incurredOn string) error {
		return raw(st, `INSERT INTO spend_entries (funding_line_id, award_id, payee_id, amount, incurred_on, category, recorded_by)
			VALUES (?, ?, ?, 10.00, ?, 'services', ?)`, lineID, awardID, fl.FunderID, incurredOn, maker.UserID)
	}
	spend := func(awardID *int64, incurredOn string) error {
		e, err := models.SpendInput{FundingLineID: fl.ID, AwardID: awardID, PayeeID: fl.FunderID, Amount: "10.00", IncurredOn: incurredOn,
			Category: "services"}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		_, err = st.RecordSpend(ctx, maker, e, "", nil)
		return err
	}

	t.Run("ErrOutsideLineDates", func(t *testing.T) {
		refusedBy(t, insert(fl.ID, nil, "2025-04-01"), "spend_within_line_dates")
		err := spend(nil, "2024-03-31")
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "2024-04-01 to 2025-03-31") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrOutsideAwardDates", func(t *testing.T) {
		refusedBy(t, insert(fl.ID, a.ID, "2024-09-01"), "spend_within_award_dates")
		err := spend(&a.ID, "2024-05-31")
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "award "+a.Reference) {
			t.Fatalf("err = %v", err)
		}
		if err := spend(&a.ID, "2024-06-01"); err != nil {
			t.Fatalf("spend within the award's dates: %v", err)
		}
	})
	t.Run("ErrApprovalOnCancelledLine", func(t *testing.T) {
		pending := record(t, st, maker, fl, "10.00")
		raced := record(t, st, maker, fl, "10.00")
		if _, err := st.ChangeFundingLineStatus(ctx, actor, fl.ID, models.StatusCancelled, "Programme ended early"); err != nil {
			t.Fatal(err)
		}
		_, err := st.ApproveSpend(ctx, checker, pending.ID)
		if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "cancelled") {
			t.Fatalf("approved on a cancelled line: %v", err)
		}
		refusedBy(t, raw(st, "UPDATE spend_entries SET status = 'approved', decided_by = ?, decided_at = now() WHERE id = ?",
			checker.UserID, raced.ID), "spend_line_active")
		refusedBy(t, insert(fl.ID, nil, "2024-05-01"), "spend_line_active")
		if err := spend(nil, "2024-05-01"); models.ErrorCode(err) != models.ECONFLICT {
			t.Fatalf("recorded on a cancelled line: %v", err)
		}
		// Rejecting what waits on a cancelled line is still possible.
		if _, err := st.RejectSpend(ctx, checker, raced.ID, "Line cancelled"); err != nil {
			t.Fatal(err)
		}
	})
}

// TestBudgetNeverBelowWhatTheLineHolds lowers a £1,000.00 line with £900.00
// approved spend to £10.00, through the store and through raw SQL.
func TestBudgetNeverBelowWhatTheLineHolds(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	fl := line(t, st, "1000.00")
	e := record(t, st, maker, fl, "900.00")
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	for _, budget := range []string{"10.00", "899.99"} {
		// An approved line's budget moves only by a budget change, which
		// stops this first; the line's floor (budget_above_floor) stands
		// behind it, even for the owner with that rule switched off.
		refusedBy(t, raw(st, "UPDATE funding_lines SET budget = ? WHERE id = ?", budget, fl.ID), "budget_changed_by_budget_change")
		refusedBy(t, asOwner(t, `ALTER TABLE funding_lines DISABLE TRIGGER funding_lines_budget_changed_by_budget_change;
			UPDATE funding_lines SET budget = `+budget+` WHERE id = `+fmt.Sprint(fl.ID)), "budget_above_floor")
		changed := *fl
		changed.Budget = decimal.RequireFromString(budget)
		err := st.UpdateFundingLine(ctx, actor, fl.ID, &changed)
		var coded *models.Error
		if !errors.As(err, &coded) || coded.Code != models.ECONFLICT || len(coded.Fields) != 1 || coded.Fields[0].Field != "budget" ||
			!strings.Contains(coded.Fields[0].Message, "£900.00") {
			t.Fatalf("budget %s: err = %v", budget, err)
		}
	}
	changed := *fl
	changed.Budget = decimal.RequireFromString("900.00")
	// Even a budget that covers the spend is not edited on an approved line:
	// it moves only by a budget change, decided by a second person.
	if err := st.UpdateFundingLine(ctx, actor, fl.ID, &changed); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("an approved line's budget edited directly: %v", err)
	}
}

// TestAwardsWithinLineDatesToRecipients breaks the award rules through the
// store and raw SQL: an award running past its line's end, and one to an
// organisation that is only a funder.
func TestAwardsWithinLineDatesToRecipients(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	funder := &models.Organisation{Name: unique("Funder only "), IsFunder: true}
	if err := st.CreateOrganisation(ctx, actor, funder); err != nil {
		t.Fatal(err)
	}
	proposer := person(t, st, models.RoleFinanceOfficer)
	insert := func(recipient int64, endsOn string) error {
		return raw(st, fmt.Sprintf(`WITH a AS (INSERT INTO awards (funding_line_id, recipient_id, reference, amount, awarded_on, starts_on, ends_on, proposed_by)
			VALUES (%d, %d, '%s', 10.00, '2024-04-01', '2024-04-01', '%s', %d) RETURNING id)
			INSERT INTO tranches (award_id, seq, due_on, amount) SELECT id, 1, '2024-04-01', 10.00 FROM a`, fl.ID, recipient, unique("R"), endsOn, proposer.UserID))
	}
	refusedBy(t, insert(fl.FunderID, "2025-04-01"), "awards_within_line_dates")
	refusedBy(t, insert(funder.ID, "2024-05-01"), "awards_recipient_can_receive")

	late := award(t, fl.ID, fl.FunderID, "10.00")
	late.EndsOn = late.EndsOn.AddDate(0, 0, 1)
	late.Tranches = []*models.Tranche{{Seq: 1, DueOn: late.StartsOn, Amount: late.Amount}}
	var coded *models.Error
	if err := st.CreateAward(ctx, proposer, late); !errors.As(err, &coded) || len(coded.Fields) != 1 || coded.Fields[0].Field != "ends_on" {
		t.Fatalf("award past the line's end: %v", err)
	}
	toFunder := award(t, fl.ID, funder.ID, "10.00")
	toFunder.Tranches = []*models.Tranche{{Seq: 1, DueOn: toFunder.StartsOn, Amount: toFunder.Amount}}
	if err := st.CreateAward(ctx, proposer, toFunder); !errors.As(err, &coded) || len(coded.Fields) != 1 || coded.Fields[0].Field != "recipient_id" {
		t.Fatalf("award to a funder: %v", err)
	}
}
