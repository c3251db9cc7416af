package main

import (
	"strings"
	"testing"

	"granttrack/app/pgtest"
)

// TestAlertsCommand: without an SMTP server, --email sends nothing and says
// what to set; without --email the alerts are printed by user.
func TestAlertsCommand(t *testing.T) {
	code, out, errOut := granttrack(t, "", "alerts", "--email")
	if code != 1 || out != "" || !strings.Contains(errOut, "GRANTTRACK_SMTP_URL is not set, so no email was sent") {
		t.Fatalf("alerts --email without a server: %d %q %q", code, out, errOut)
	}
	code, _, errOut = granttrackEnv(t, map[string]string{"DATABASE_URL": pgtest.DSN(), "GRANTTRACK_SMTP_URL": "http://mail.example.org"}, "", "alerts", "--email")
	if code != 1 || !strings.Contains(errOut, "smtp://") {
		t.Fatalf("alerts --email with a bad URL: %d %q", code, errOut)
	}
	if code, _, _ := granttrack(t, "a long enough password\n", "user", "add", "--email", "alerted@example.org", "--name", "Al", "--role", "auditor"); code != 0 {
		t.Fatal("user add failed")
	}
	code, out, errOut = granttrack(t, "", "alerts")
	if code != 0 || !strings.Contains(out, "alerted@example.org (auditor): ") {
		t.Fatalf("alerts: %d %q %q", code, out, errOut)
	}
}
