package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// alertKeys lists alerts as "kind entity:code amount" strings, sorted.
func alertKeys(rows []store.AlertFigures) []string {
	var out []string
	for _, r := range rows {
		k := string(r.Kind) + " " + r.Entity + ":" + r.Code
		if r.Amount != nil {
			k += " " + r.Amount.StringFixed(2)
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func date(s string) time.Time {
	d, err := models.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// TestAlertsFindEachKindInOneQuery builds one of each thing that needs
// attention and checks the store finds exactly those, for the right person,
// with the thresholds in alert_settings.
func TestAlertsFindEachKindInOneQuery(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	approve := func(e *models.SpendEntry) {
		t.Helper()
		if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	// Both lines run 2024-04-01 to 2025-03-31, one financial year. The
	// budget used is the report's to find (report.Alerts).
	used := line(t, st, "100000.00")
	approve(spendOn(t, st, maker, used, "95000.00", "2024-06-01"))
	paid := line(t, st, "20000.00")
	a := award(t, paid.ID, paid.FunderID, "10000.00")
	a.Tranches = []*models.Tranche{{Seq: 1, DueOn: date("2024-07-01"), Amount: decimal.RequireFromString("5000.00")},
		{Seq: 2, DueOn: date("2025-03-01"), Amount: decimal.RequireFromString("5000.00")}}
	if err := storetest.Award(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	e, err := models.SpendInput{FundingLineID: paid.ID, AwardID: &a.ID, TrancheID: &a.Tranches[0].ID, PayeeID: paid.FunderID,
		Amount: "2000.00", IncurredOn: "2024-07-15", Category: "grant_payment", Purpose: "First tranche", VFMReason: "Agreed"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, maker, e, "", nil); err != nil {
		t.Fatal(err)
	}
	approve(e)
	late := spendOn(t, st, maker, paid, "3000.00", "2025-03-01")
	approve(late)
	// A reversal is dated the day it is recorded: after the line ended.
	st.SetClock(func() time.Time { return time.Date(2025, 4, 10, 12, 0, 0, 0, time.UTC) })
	if _, err := st.ReverseSpend(ctx, maker, late.ID, "Paid twice"); err != nil {
		t.Fatal(err)
	}
	st.SetClock(nil)
	spendOn(t, st, maker, paid, "100.00", "2024-08-01") // waits for the checker
	ind := &models.Indicator{FundingLineID: &paid.ID, Name: "Referrals", Unit: "count", Direction: "higher_is_better",
		BaselineOn: ptrTo(date("2024-05-31")), Frequency: models.Monthly}
	if err := st.CreateIndicator(ctx, actor, ind); err != nil {
		t.Fatal(err)
	}

	today := date("2025-03-10")
	rows, err := st.Alerts(ctx, checker.UserID, today)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"decision_waiting spend_entry:" + paid.Code + " -3000.00",
		"decision_waiting spend_entry:" + paid.Code + " 100.00",
		"line_ending funding_line:" + paid.Code + " 10000.00",
		"line_ending funding_line:" + used.Code + " 100000.00",
		"reading_overdue indicator:" + paid.Code,
		"spend_after_end funding_line:" + paid.Code + " -3000.00",
		"tranche_overdue tranche:" + paid.Code + " 3000.00",
		"tranche_overdue tranche:" + paid.Code + " 5000.00",
	}
	sort.Strings(want)
	if got := alertKeys(rows); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range rows {
		switch r.Kind {
		case models.AlertReadingOverdue:
			if r.On == nil || !r.On.Equal(date("2024-06-30")) || r.EntityID != ind.ID {
				t.Errorf("reading due %v for %d", r.On, r.EntityID)
			}
		case models.AlertSpendAfterEnd:
			if r.Count != 1 || r.On == nil || !r.On.Equal(date("2025-04-10")) {
				t.Errorf("spend after end: %d entries, latest %v", r.Count, r.On)
			}
		case models.AlertDecisionWaiting:
			if r.Who != "U" || r.Detail != "spend" {
				t.Errorf("decision proposed by %q of kind %q", r.Who, r.Detail)
			}
		}
	}
	// The proposer has no decision waiting: their own proposals are not theirs to decide.
	mine, err := st.Alerts(ctx, maker.UserID, today)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range mine {
		if r.Kind == models.AlertDecisionWaiting {
			t.Errorf("the proposer is asked to decide %s %d", r.Entity, r.EntityID)
		}
	}
	if len(mine) != len(rows)-2 {
		t.Errorf("the proposer has %d alerts, the checker %d", len(mine), len(rows))
	}
	// A board member decides nothing: the same alerts, no decision.
	board, err := st.Alerts(ctx, person(t, st, models.RoleBoardMember).UserID, today)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(alertKeys(board), "\n"), strings.Join(alertKeys(mine), "\n"); got != want {
		t.Errorf("a board member's alerts:\n%s\nwant the proposer's:\n%s", got, want)
	}

	// Tighter thresholds: 96 %, 10 days, 30 days' grace for tranches.
	if _, err := st.UpdateAlertSettings(ctx, maker, models.AlertSettings{BudgetUsedPercent: 96, EndingWithinDays: 10, TrancheGraceDays: 30}); err != nil {
		t.Fatal(err)
	}
	rows, err = st.Alerts(ctx, maker.UserID, today)
	if err != nil {
		t.Fatal(err)
	}
	want = []string{
		"reading_overdue indicator:" + paid.Code,
		"spend_after_end funding_line:" + paid.Code + " -3000.00",
		"tranche_overdue tranche:" + paid.Code + " 3000.00",
	}
	if got := alertKeys(rows); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts with tighter thresholds:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestAlertSettingsAreValidatedAuditedAndConstrained: the thresholds are
// checked in Go, every change is an audit event, and PostgreSQL refuses a
// threshold out of range, a second row and a deleted one from the
// application role.
func TestAlertSettingsAreValidatedAuditedAndConstrained(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	got, err := st.AlertSettings(ctx)
	if err != nil || got != models.DefaultAlertSettings {
		t.Fatalf("settings %+v (%v), want the defaults", got, err)
	}
	admin := person(t, st, models.RoleAdmin)
	_, err = st.UpdateAlertSettings(ctx, admin, models.AlertSettings{BudgetUsedPercent: 0, EndingWithinDays: 400, TrancheGraceDays: -1})
	var me *models.Error
	if !errors.As(err, &me) || me.Code != models.EINVALID || len(me.Fields) != 3 {
		t.Fatalf("err = %v", err)
	}
	next := models.AlertSettings{BudgetUsedPercent: 80, EndingWithinDays: 90, TrancheGraceDays: 7}
	if _, err := st.UpdateAlertSettings(ctx, admin, next); err != nil {
		t.Fatal(err)
	}
	if got, err := st.AlertSettings(ctx); err != nil || got != next {
		t.Fatalf("settings %+v (%v), want %+v", got, err, next)
	}
	events, _, err := st.AuditEvents(ctx, store.AuditFilter{Action: "alert_settings.update"})
	if err != nil || len(events) != 1 || events[0].ActorID == nil || *events[0].ActorID != admin.UserID {
		t.Fatalf("audit events %v (%v)", events, err)
	}
	var before, after models.AlertSettings
	if err := json.Unmarshal(events[0].Before, &before); err != nil || before != models.DefaultAlertSettings {
		t.Errorf("audited before %s (%v)", events[0].Before, err)
	}
	if err := json.Unmarshal(events[0].After, &after); err != nil || after != next {
		t.Errorf("audited after %s (%v)", events[0].After, err)
	}
	for _, c := range []struct{ sql, rule string }{
		{"UPDATE alert_settings SET budget_used_percent = 101", "alert_settings_budget_used_percent"},
		{"UPDATE alert_settings SET ending_within_days = 0", "alert_settings_ending_within_days"},
		{"UPDATE alert_settings SET tranche_grace_days = 91", "alert_settings_tranche_grace_days"},
	} {
		err := raw(st, c.sql)
		var pg *pgconn.PgError
		if !errors.As(err, &pg) || pg.ConstraintName != c.rule {
			t.Errorf("%s: %v", c.sql, err)
		}
	}
	for _, q := range []string{"INSERT INTO alert_settings (id) VALUES (false)", "DELETE FROM alert_settings", "UPDATE alert_settings SET id = false"} {
		var pg *pgconn.PgError
		if err := raw(st, q); !errors.As(err, &pg) || pg.Code != "42501" {
			t.Errorf("%s: %v, want insufficient_privilege", q, err)
		}
	}
	if err := asOwner(t, "INSERT INTO alert_settings (id) VALUES (false)"); err == nil || !strings.Contains(err.Error(), "alert_settings_one_row") {
		t.Errorf("a second row: %v", err)
	}
}

// TestMeasurementDueInSQLIsGos: the database's measurement_due is
// models.MeasurementDue, month ends and leap years included.
func TestMeasurementDueInSQLIsGos(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	for _, f := range []models.Frequency{models.Monthly, models.Quarterly, models.Annual} {
		for d := date("2023-11-25"); d.Before(date("2024-04-05")); d = d.AddDate(0, 0, 1) {
			var got time.Time
			if err := st.DB().NewRaw("SELECT measurement_due(?, ?::date)", string(f), d.Format(models.DateLayout)).Scan(ctx, &got); err != nil {
				t.Fatal(err)
			}
			if want := models.MeasurementDue(f, d); !got.Equal(want) {
				t.Fatalf("%s after %s: SQL %s, Go %s", f, d.Format(models.DateLayout), got.Format(models.DateLayout), want.Format(models.DateLayout))
			}
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

// TestTrancheOverdueFollowsItsStatus: a tranche is overdue when its due
// date has passed and it is neither paid nor withheld, so due and claimed
// tranches are, and paid, withheld and not-yet-due ones are not, through
// the alerts list and the SQL rule itself.
func TestTrancheOverdueFollowsItsStatus(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	fl := line(t, st, "20000.00")
	a, err := models.AwardInput{RecipientID: fl.FunderID, Reference: unique("OD"), Amount: "10000.00", AwardedOn: "2024-06-01",
		StartsOn: "2024-06-01", EndsOn: "2025-03-31", Tranches: []models.TrancheInput{
			{DueOn: "2024-06-01", Amount: "2000.00"}, {DueOn: "2024-07-01", Amount: "2000.00"}, {DueOn: "2024-08-01", Amount: "2000.00"},
			{DueOn: "2024-09-01", Amount: "2000.00"}, {DueOn: "2025-03-01", Amount: "2000.00"}}}.Validate(fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.Award(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	if a, err = st.Award(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	due, claimed, paid, withheld, future := a.Tranches[0], a.Tranches[1], a.Tranches[2], a.Tranches[3], a.Tranches[4]
	// Part of the due tranche is paid: it stays due, with 1,500.00 outstanding.
	for _, p := range []struct {
		tr     *models.Tranche
		amount string
	}{{due, "500.00"}, {paid, "2000.00"}} {
		e, err := trancheSpend(fl, a, p.tr, p.amount, "2024-08-02")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.RecordSpend(ctx, maker, e, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
			t.Fatal(err)
		}
	}
	claimedOn := date("2024-07-02")
	if _, err := st.ChangeTrancheStatus(ctx, maker, claimed.ID, models.TrancheClaimed, &claimedOn, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ChangeTrancheStatus(ctx, maker, withheld.ID, models.TrancheWithheld, nil, "monitoring report missing"); err != nil {
		t.Fatal(err)
	}
	want := map[int64]string{due.ID: "due 1500.00", claimed.ID: "claimed 2000.00"}
	states := map[int64]string{due.ID: "due", claimed.ID: "claimed", paid.ID: "paid", withheld.ID: "withheld", future.ID: "not yet due"}

	rows, err := st.Alerts(ctx, maker.UserID, date("2025-01-15"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, r := range rows {
		if r.Kind == models.AlertTrancheOverdue && r.Code == fl.Code {
			got[r.EntityID] = states[r.EntityID] + " " + r.Amount.StringFixed(2)
		}
	}
	if len(got) != len(want) || got[due.ID] != want[due.ID] || got[claimed.ID] != want[claimed.ID] {
		t.Fatalf("overdue tranches in the alerts = %v, want %v", got, want)
	}

	var ids []int64
	if err := st.DB().NewRaw(`SELECT tranche_id FROM overdue_tranches('2025-01-15') WHERE award_id = ? ORDER BY seq`, a.ID).
		Scan(ctx, &ids); err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != due.ID || ids[1] != claimed.ID {
		t.Fatalf("overdue_tranches = %v, want the due and the claimed tranche (%d, %d)", ids, due.ID, claimed.ID)
	}
	// Go's rule agrees tranche by tranche.
	for _, tr := range a.Tranches {
		tr, err := st.Tranche(ctx, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, overdue := want[tr.ID]; tr.Overdue(date("2025-01-15")) != overdue {
			t.Errorf("%s tranche: Go says overdue %v", states[tr.ID], !overdue)
		}
	}
}

// TestLastReadingsAreKeptByTheDatabase: each indicator's latest reading,
// which the overdue-reading alert reads, follows readings recorded in any
// order and corrections, equals the readings' own maximum, and the
// application role can neither write it nor run its trigger function.
func TestLastReadingsAreKeptByTheDatabase(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	officer := person(t, st, models.RoleFinanceOfficer)
	ind := indicatorOn(t, st, officer, models.IndicatorInput{FundingLineID: fl.ID, Name: "Referrals", Unit: "count",
		Direction: "higher_is_better", BaselineValue: "0", BaselineOn: "2024-05-31", BaselineSrc: "returns", Frequency: "monthly"})
	today := date("2025-03-10")
	due := func() string {
		t.Helper()
		rows, err := st.Alerts(ctx, officer.UserID, today)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.Kind == models.AlertReadingOverdue && r.EntityID == ind.ID {
				return r.On.Format(models.DateLayout)
			}
		}
		return "not overdue"
	}
	record := func(start, end string, supersedes int64) int64 {
		t.Helper()
		m, err := models.MeasurementInput{PeriodStart: start, PeriodEnd: end, Value: "5", Source: "returns", Supersedes: supersedes}.Validate(ind.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.RecordMeasurement(ctx, officer, m); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	if got := due(); got != "2024-06-30" {
		t.Fatalf("before any reading, due %s; want a month after the baseline", got)
	}
	steps := []struct {
		start, end string
		correct    bool
		want       string
	}{
		{"2024-06-01", "2024-06-30", false, "2024-07-30"}, // a month on, as measurement_due counts it
		{"2024-12-01", "2024-12-31", false, "2025-01-31"},
		{"2024-08-01", "2024-08-31", false, "2025-01-31"}, // an earlier month, recorded late
		{"2024-12-01", "2024-12-31", true, "2025-01-31"},  // a correction of December
		{"2025-02-01", "2025-02-28", false, "not overdue"},
	}
	ids := map[string]int64{}
	for _, s := range steps {
		supersedes := int64(0)
		if s.correct {
			supersedes = ids[s.end]
		}
		ids[s.end] = record(s.start, s.end, supersedes)
		if got := due(); got != s.want {
			t.Fatalf("after the reading for %s (correction %v): due %s, want %s", s.end, s.correct, got, s.want)
		}
		var kept, latest time.Time
		if err := st.DB().NewRaw(`SELECT (SELECT last_end FROM indicator_last_readings WHERE indicator_id = ?0),
			(SELECT max(period_end) FROM measurements WHERE indicator_id = ?0)`, ind.ID).Scan(ctx, &kept, &latest); err != nil || !kept.Equal(latest) {
			t.Fatalf("kept %v, readings' latest %v (%v)", kept, latest, err)
		}
	}
	refusedToApp(t, st, ind.ID, []struct{ name, sql string }{
		{"ErrLastReadingUpdated", "UPDATE indicator_last_readings SET last_end = '2030-01-31' WHERE indicator_id = ?"},
		{"ErrLastReadingInserted", "INSERT INTO indicator_last_readings (indicator_id, last_end) VALUES (? + 1000000, '2030-01-31')"},
		{"ErrLastReadingDeleted", "DELETE FROM indicator_last_readings WHERE indicator_id = ?"},
		{"ErrTriggerFunctionCalled", "SELECT indicator_last_readings_add() WHERE ? > 0"},
	})
}
