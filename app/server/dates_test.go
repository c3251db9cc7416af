package server_test

import (
	"strings"
	"testing"
	"time"

	"granttrack/models"
)

// The server's "today", "last month" and current financial year are London's,
// by the store's clock: at 00:30 BST on 1 April it is already the new year,
// and on the 31st "last month" is the month before, never this one.
func TestDefaultsFollowTheDateInLondon(t *testing.T) {
	e := MustEnv(t)
	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	// The store is the package's: put its clock back for the tests after.
	real := e.st.Clock()
	t.Cleanup(func() { e.st.SetClock(real) })
	for _, c := range []struct {
		at        time.Time
		fy, asOf  string
		lastMonth string
	}{
		{time.Date(2025, time.March, 31, 23, 30, 0, 0, time.UTC), "2025-26", "2025-04-01", "2025-03"}, // 00:30 BST on 1 April
		{time.Date(2025, time.March, 31, 22, 30, 0, 0, time.UTC), "2024-25", "2025-03-31", "2025-02"}, // 23:30 BST on 31 March
		{time.Date(2025, time.May, 31, 12, 0, 0, 0, time.UTC), "2025-26", "2025-05-31", "2025-04"},
		{time.Date(2025, time.October, 31, 12, 0, 0, 0, time.UTC), "2025-26", "2025-10-31", "2025-09"},
		{time.Date(2026, time.January, 1, 0, 30, 0, 0, time.UTC), "2025-26", "2026-01-01", "2025-12"},
	} {
		at := c.at
		e.st.SetClock(func() time.Time { return at })
		r := e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget", nil)
		e.mustStatus(r, 200)
		var got struct {
			FY   string `json:"fy"`
			AsOf string `json:"as_of"`
		}
		r.json(t, &got)
		if got.FY != c.fy || got.AsOf != c.asOf {
			t.Errorf("at %s the budget report defaults to %s as of %s, want %s as of %s", at, got.FY, got.AsOf, c.fy, c.asOf)
		}
		r = auditor.request("GET", "/transparency", nil)
		e.mustStatus(r, 200)
		if !strings.Contains(string(r.Body), "Publishing pack "+c.lastMonth) {
			t.Errorf("at %s the publishing pack defaults to another month than %s", at, c.lastMonth)
		}
	}
}
