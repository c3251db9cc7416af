package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app/store"
	"granttrack/models"
)

// indicatorOn creates the indicator in, as by, failing the test if it
// cannot.
func indicatorOn(t *testing.T, st *store.Store, by models.Actor, in models.IndicatorInput) *models.Indicator {
	t.Helper()
	ind, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateIndicator(context.Background(), by, ind); err != nil {
		t.Fatal(err)
	}
	return ind
}

// TestOneCurrentReadingPerPeriod: a second reading of a period is refused
// unless it is a correction naming the one it replaces, for the same
// period, by Go with the reading to name and by PostgreSQL as the
// application role; the correction is audited and the old reading stays.
func TestOneCurrentReadingPerPeriod(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	officer := person(t, st, models.RoleFinanceOfficer)
	ind := indicatorOn(t, st, officer, models.IndicatorInput{FundingLineID: fl.ID, Name: "Lines closed", Unit: "count",
		Direction: "higher_is_better", BaselineValue: "0", BaselineOn: "2024-04-01", BaselineSrc: "taskforce", Frequency: "quarterly"})
	q1 := func(v string, supersedes int64) *models.Measurement {
		m, err := models.MeasurementInput{PeriodStart: "2024-04-01", PeriodEnd: "2024-06-30", Value: v, Source: "returns", Supersedes: supersedes}.Validate(ind.ID)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := q1("40", 0)
	if err := st.RecordMeasurement(ctx, officer, first); err != nil {
		t.Fatal(err)
	}
	err := st.RecordMeasurement(ctx, officer, q1("41", 0))
	var e *models.Error
	if !errors.As(err, &e) || e.Code != models.ECONFLICT || len(e.Fields) != 1 || e.Fields[0].Field != "supersedes" ||
		!strings.Contains(e.Message, "record a correction") {
		t.Fatalf("a second reading of the period: %v", err)
	}
	other, _ := models.MeasurementInput{PeriodStart: "2024-07-01", PeriodEnd: "2024-09-30", Value: "45", Source: "returns", Supersedes: first.ID}.Validate(ind.ID)
	if err := st.RecordMeasurement(ctx, officer, other); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("a correction of another period: %v", err)
	}
	fix := q1("42", first.ID)
	if err := st.RecordMeasurement(ctx, officer, fix); err != nil {
		t.Fatal(err)
	}
	var action string
	if err := st.DB().NewRaw("SELECT action FROM audit_events WHERE entity = 'measurement' AND entity_id = ?::text ORDER BY seq DESC LIMIT 1", fix.ID).
		Scan(ctx, &action); err != nil || action != "measurement.correct" {
		t.Fatalf("audit %q %v", action, err)
	}
	// PostgreSQL holds the rule for the application role too.
	for name, sql := range map[string]string{
		"a second first reading of the period": `INSERT INTO measurements (indicator_id, period_start, period_end, value, revision)
			VALUES (?0, '2024-04-01', '2024-06-30', 43, 1)`,
		"a correction of another period": `INSERT INTO measurements (indicator_id, period_start, period_end, value, revision, supersedes_id)
			VALUES (?0, '2024-07-01', '2024-09-30', 43, 3, ?1)`,
	} {
		err := raw(st, sql, ind.ID, fix.ID)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.ConstraintName != "measurements_one_current_per_period" {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := raw(st, `INSERT INTO measurements (indicator_id, period_start, period_end, value, revision, supersedes_id)
			VALUES (?, '2024-04-01', '2024-06-30', 44, 3, 999999999)`, ind.ID); err == nil {
		t.Fatal("a correction of no reading was stored")
	}
	current, _ := st.CurrentMeasurements(ctx, ind.ID)
	if len(current) != 1 || current[0].ID != fix.ID {
		t.Fatalf("current %+v", current)
	}
	// Up to a day: the reading of the quarter ending 30 June 2024 only
	// from that day on.
	for by, want := range map[string]int{"2024-06-29": 0, "2024-06-30": 1, "2025-03-31": 1} {
		if current, err := st.CurrentMeasurementsBy(ctx, date(by), ind.ID); err != nil || len(current) != want {
			t.Fatalf("current by %s: %d readings (%v), want %d", by, len(current), err, want)
		}
	}
}
