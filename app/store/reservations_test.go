package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

func reserve(t *testing.T, st interface {
	CreateReservation(context.Context, models.Actor, *models.Reservation) error
}, by models.Actor, lineID int64, amount string) (*models.Reservation, error) {
	t.Helper()
	r, err := models.ReservationInput{Amount: amount, Purpose: "Tender in progress", Reference: "t-1", ExpectedOn: "2024-07-01"}.Validate(lineID)
	if err != nil {
		t.Fatal(err)
	}
	return r, st.CreateReservation(context.Background(), by, r)
}

func award(t *testing.T, lineID, recipientID int64, amount string) *models.Award {
	t.Helper()
	a, err := models.AwardInput{RecipientID: recipientID, Reference: unique("AW"), Amount: amount, AwardedOn: "2024-06-01",
		StartsOn: "2024-06-01", EndsOn: "2025-03-31"}.Validate(lineID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestReservationsCountAgainstWhatCanBeAwarded(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "25000.00")
	officer := person(t, st, models.RoleFinanceOfficer)

	held, err := reserve(t, st, officer, fl.ID, "25000.00")
	if err != nil {
		t.Fatal(err)
	}
	if held.Status != models.ReservationHeld || held.CreatedBy != officer.UserID {
		t.Fatalf("reservation %+v", held)
	}
	// Nothing is left to reserve or award while the tender holds the budget.
	if _, err := reserve(t, st, officer, fl.ID, "0.01"); models.ErrorCode(err) != models.ECONFLICT ||
		!strings.Contains(err.Error(), "£25,000.00 already reserved") {
		t.Fatalf("second reservation: %v", err)
	}
	if err := st.CreateAward(ctx, officer, award(t, fl.ID, fl.FunderID, "1.00")); models.ErrorCode(err) != models.ECONFLICT ||
		!strings.Contains(err.Error(), "£25,000.00 reserved") {
		t.Fatalf("award past a reservation: %v", err)
	}
	// The database refuses it too, whoever writes.
	if err := raw(st, `INSERT INTO awards (funding_line_id, recipient_id, reference, purpose, amount, awarded_on, starts_on, ends_on, proposed_by)
		VALUES (?, ?, 'RAW-1', '', 1.00, '2024-06-01', '2024-06-01', '2024-06-01', ?)`, fl.ID, fl.FunderID, officer.UserID); err == nil ||
		!strings.Contains(err.Error(), "exceed the budget") {
		t.Fatalf("raw award past a reservation: %v", err)
	}
	totals, err := st.LineTotals(ctx, fl.ID)
	if err != nil || totals[fl.ID].Reserved.StringFixed(2) != "25000.00" || !totals[fl.ID].Uncommitted().IsZero() {
		t.Fatalf("totals %+v %v", totals[fl.ID], err)
	}

	// The tender came in under its band's top: the award is for less, and
	// the difference goes back to the line.
	a := award(t, fl.ID, fl.FunderID, "18000.00")
	if err := st.ConvertReservation(ctx, officer, held.ID, a); err != nil {
		t.Fatal(err)
	}
	if a.ReservationID == nil || *a.ReservationID != held.ID || a.ID == 0 {
		t.Fatalf("award %+v", a)
	}
	totals, _ = st.LineTotals(ctx, fl.ID)
	if !totals[fl.ID].Reserved.IsZero() || totals[fl.ID].Uncommitted().StringFixed(2) != "7000.00" {
		t.Fatalf("after converting: %+v", totals[fl.ID])
	}
	if err := st.ConvertReservation(ctx, officer, held.ID, award(t, fl.ID, fl.FunderID, "1.00")); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("converted twice: %v", err)
	}
	if _, err := st.ReleaseReservation(ctx, officer, held.ID, "no longer needed"); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("released a converted reservation: %v", err)
	}

	// Release needs a reason and gives the budget back.
	r2, err := reserve(t, st, officer, fl.ID, "7000.00")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ReleaseReservation(ctx, officer, r2.ID, "  "); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("release without a reason: %v", err)
	}
	released, err := st.ReleaseReservation(ctx, officer, r2.ID, "Tender withdrawn")
	if err != nil || released.Status != models.ReservationReleased || *released.ReleaseReason != "Tender withdrawn" {
		t.Fatalf("release: %+v %v", released, err)
	}
	// History stays: no edits, no deletes, no reopening.
	for _, q := range []string{
		"UPDATE reservations SET amount = 1 WHERE id = ?",
		"UPDATE reservations SET status = 'held', closed_at = NULL, closed_by = NULL, release_reason = NULL WHERE id = ?",
		"DELETE FROM reservations WHERE id = ?",
	} {
		if err := raw(st, q, r2.ID); err == nil {
			t.Fatalf("%s was allowed", q)
		}
	}
	// An award cannot claim a reservation that was not converted into it.
	if err := raw(st, `INSERT INTO awards (funding_line_id, recipient_id, reference, purpose, amount, awarded_on, starts_on, ends_on, reservation_id, proposed_by)
		VALUES (?, ?, 'RAW-2', '', 1.00, '2024-06-01', '2024-06-01', '2024-06-01', ?, ?)`, fl.ID, fl.FunderID, r2.ID, officer.UserID); err == nil ||
		!strings.Contains(err.Error(), "is not a converted reservation") {
		t.Fatal("an award claimed a released reservation")
	}
	// Refused changes left no trace; each change that landed left one event.
	var actions []string
	for _, id := range []int64{held.ID, r2.ID} {
		events, _, err := st.AuditEvents(ctx, store.AuditFilter{Entity: "reservation", EntityID: fmt.Sprint(id)})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range events {
			actions = append(actions, e.Action)
		}
	}
	if got := strings.Join(actions, " "); got != "reservation.create reservation.convert reservation.create reservation.release" {
		t.Fatalf("audit: %s", got)
	}
}

func TestMeasurementCorrectionsKeepTheOldReading(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	officer := person(t, st, models.RoleFinanceOfficer)
	ind, err := models.IndicatorInput{FundingLineID: fl.ID, Name: "Young people reached", Unit: "count", Direction: "higher_is_better",
		BaselineValue: "0", BaselineOn: "2024-04-01", BaselineSrc: "register", TargetValue: "200", TargetOn: "2025-03-31", TargetSrc: "grant agreement", Frequency: "quarterly"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIndicator(ctx, officer, ind); err != nil {
		t.Fatal(err)
	}
	first, _ := models.MeasurementInput{PeriodStart: "2024-04-01", PeriodEnd: "2024-06-30", Value: "40", Source: "Provider return"}.Validate(ind.ID)
	if err := st.RecordMeasurement(ctx, officer, first); err != nil {
		t.Fatal(err)
	}
	fix, _ := models.MeasurementInput{PeriodStart: "2024-04-01", PeriodEnd: "2024-06-30", Value: "38", Source: "Provider return",
		MethodNote: "two duplicates removed", Supersedes: first.ID}.Validate(ind.ID)
	if err := st.RecordMeasurement(ctx, officer, fix); err != nil {
		t.Fatal(err)
	}
	if fix.Revision != 2 {
		t.Fatalf("revision %d", fix.Revision)
	}
	again, _ := models.MeasurementInput{PeriodStart: "2024-04-01", PeriodEnd: "2024-06-30", Value: "37", Source: "x", Supersedes: first.ID}.Validate(ind.ID)
	if err := st.RecordMeasurement(ctx, officer, again); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("second correction of a superseded reading: %v", err)
	}
	all, _ := st.Measurements(ctx, ind.ID)
	current, _ := st.CurrentMeasurements(ctx, ind.ID)
	if len(all) != 2 || len(current) != 1 || current[0].ID != fix.ID || current[0].Value.String() != "38" {
		t.Fatalf("all %d, current %+v", len(all), current)
	}
	if err := raw(st, "UPDATE measurements SET value = 99 WHERE id = ?", first.ID); err == nil {
		t.Fatal("a measurement was rewritten")
	}
	if err := raw(st, "INSERT INTO measurements (indicator_id, period_start, period_end, value, revision) VALUES (?, '2024-07-01', '2024-09-30', 1, 3)", ind.ID); err == nil {
		t.Fatal("a first reading claimed revision 3")
	}
}
