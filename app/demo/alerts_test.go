package demo_test

import (
	"context"
	"testing"
	"time"

	"granttrack/app/demo"
	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// TestEveryDemoUserHasAWeekOfAlerts: on each day of the week after the
// demo's story date, every demo user has alerts, with the kinds the story
// sets up: the Southwark hotspot tranches unpaid while their payments wait
// for approval, the hotspot line red for the year, the duplicate invoice's
// reversal dated after the hate crime line ended and readings overdue; the
// second officer and the finance manager also have decisions waiting (the
// import, the tranche payments, the manager the virement) and the second
// admin the account grant; the officer and the admin who proposed them none.
func TestEveryDemoUserHasAWeekOfAlerts(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := demo.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	everyone := []models.AlertKind{models.AlertTrancheOverdue, models.AlertRedLine, models.AlertSpendAfterEnd, models.AlertReadingOverdue}
	deciders := append([]models.AlertKind{models.AlertDecisionWaiting}, everyone...)
	want := map[string][]models.AlertKind{
		"manager@granttrack.example": deciders, "finance2@granttrack.example": deciders, "admin2@granttrack.example": deciders,
		"admin@granttrack.example": everyone, "finance@granttrack.example": everyone, "board@granttrack.example": everyone, "auditor@granttrack.example": everyone,
	}
	for day := time.Date(2026, 11, 16, 0, 0, 0, 0, time.UTC); day.Before(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)); day = day.AddDate(0, 0, 1) {
		for _, u := range demo.Users {
			user, err := st.UserByEmail(ctx, u.Email)
			if err != nil {
				t.Fatal(err)
			}
			as, err := report.Alerts(ctx, st, user.ID, day)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[models.AlertKind]int{}
			for _, a := range as {
				kinds[a.Kind]++
				if a.Message == "" || a.Link == "" || a.Severity == "" {
					t.Errorf("%s: an alert without its words or link: %+v", u.Email, a)
				}
			}
			for _, k := range want[u.Email] {
				if kinds[k] == 0 {
					t.Errorf("%s on %s: no %s alert among %v", u.Email, day.Format(models.DateLayout), k, kinds)
				}
			}
			// The proposers are never asked to decide their own proposals:
			// the officer's money decisions, the admin's account grant.
			if (u.Email == "finance@granttrack.example" || u.Email == "admin@granttrack.example") && kinds[models.AlertDecisionWaiting] > 0 {
				t.Errorf("%s is asked to decide their own proposals: %v", u.Email, kinds)
			}
		}
	}
}
