package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"granttrack/app/store"
)

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cfg, err := LoadConfig(env(nil))
	if err != nil || cfg.DataDir != "var" || cfg.Addr != "127.0.0.1:8080" || cfg.ApprovalLimit.StringFixed(2) != "100000.00" {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}
	cfg, err = LoadConfig(env(map[string]string{"GRANTTRACK_APPROVAL_LIMIT": "25000.00", "GRANTTRACK_SECURE_COOKIES": "true", "GRANTTRACK_LOG_LEVEL": "debug",
		"DATABASE_URL": "postgres://app@db/g", "GRANTTRACK_OWNER_DATABASE_URL": "postgres://owner@db/g"}))
	if err != nil || cfg.ApprovalLimit.StringFixed(2) != "25000.00" || !cfg.SecureCookies || cfg.DatabaseURL != "postgres://app@db/g" || cfg.OwnerURL != "postgres://owner@db/g" {
		t.Fatalf("set: %+v %v", cfg, err)
	}
	if cfg.VerifyEvery != time.Minute || cfg.FullVerifyEvery != 6*time.Hour {
		t.Fatalf("verification defaults: every %s, in full every %s", cfg.VerifyEvery, cfg.FullVerifyEvery)
	}
	cfg, err = LoadConfig(env(map[string]string{"GRANTTRACK_VERIFY_EVERY": "0", "GRANTTRACK_FULL_VERIFY_EVERY": "30m"}))
	if err != nil || cfg.VerifyEvery != 0 || cfg.FullVerifyEvery != 30*time.Minute {
		t.Fatalf("verification set: %s %s %v", cfg.VerifyEvery, cfg.FullVerifyEvery, err)
	}
	if len(cfg.TrustedProxies) != 0 {
		t.Fatalf("no proxy is trusted unless named: %v", cfg.TrustedProxies)
	}
	cfg, err = LoadConfig(env(map[string]string{"GRANTTRACK_TRUSTED_PROXIES": " 10.0.0.1, 192.168.0.0/16,fd00::/8 "}))
	if err != nil || fmt.Sprint(cfg.TrustedProxies) != "[10.0.0.1/32 192.168.0.0/16 fd00::/8]" {
		t.Fatalf("trusted proxies: %v %v", cfg.TrustedProxies, err)
	}
	for k, v := range map[string]string{"GRANTTRACK_APPROVAL_LIMIT": "25k", "GRANTTRACK_SECURE_COOKIES": "maybe", "GRANTTRACK_LOG_LEVEL": "loud",
		"GRANTTRACK_TRUSTED_PROXIES": "proxy.internal", "GRANTTRACK_LOG_FORMAT": "xml", "GRANTTRACK_VERIFY_EVERY": "often",
		"GRANTTRACK_FULL_VERIFY_EVERY": "-1h", "GRANTTRACK_PUBLISHER_URI": "london.gov.uk",
		"GRANTTRACK_360GIVING_PREFIX": "GB-mopac", "GRANTTRACK_OCID_PREFIX": "ocds-ABC", "GRANTTRACK_DATA_LICENCE": "OGL",
		"GRANTTRACK_PUBLISHER_ORG_ID": "XX-NOPE-1"} {
		if _, err := LoadConfig(env(map[string]string{k: v})); err == nil {
			t.Errorf("%s=%s was accepted", k, v)
		}
	}
}

func TestLoadConfigReadsThePublisher(t *testing.T) {
	cfg, err := LoadConfig(func(k string) string {
		return map[string]string{"GRANTTRACK_PUBLISHER_NAME": " MOPAC ", "GRANTTRACK_PUBLISHER_URI": "https://www.london.gov.uk/mopac",
			"GRANTTRACK_360GIVING_PREFIX": "360G-mopac", "GRANTTRACK_OCID_PREFIX": "ocds-abc123",
			"GRANTTRACK_DATA_LICENCE": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}[k]
	})
	if err != nil || cfg.Publisher.Name != "MOPAC" || cfg.Publisher.ThreeSixtyGivingPrefix != "360G-mopac" || cfg.Publisher.OCIDPrefix != "ocds-abc123" ||
		len(cfg.Publisher.Missing("360giving")) != 0 || len(cfg.Publisher.Missing("ocds")) != 0 {
		t.Fatalf("publisher %+v %v", cfg.Publisher, err)
	}
	if cfg, err := LoadConfig(func(string) string { return "" }); err != nil || len(cfg.Publisher.Missing("360giving")) != 4 {
		t.Fatalf("without settings the 360Giving export misses four: %v %v", cfg.Publisher.Missing("360giving"), err)
	}
}

func TestMigrateCommandNamesTheDatabase(t *testing.T) {
	for dsn, want := range map[string]string{
		"postgres://app:pw@db.example:6543/ledger":   "granttrack migrate up --owner-url 'postgres://OWNER:PASSWORD@db.example:6543/ledger'",
		"host=/tmp/gt/pg port=5432 user=a dbname=gt": "granttrack migrate up --owner-url 'host=/tmp/gt/pg port=5432 dbname=gt user=OWNER'",
	} {
		if got := MigrateCommand(dsn); got != want {
			t.Errorf("MigrateCommand(%q) = %q, want %q", dsn, got, want)
		}
	}
}

func TestLogFormatJSON(t *testing.T) {
	cfg, err := LoadConfig(func(k string) string { return map[string]string{"GRANTTRACK_LOG_FORMAT": "JSON"}[k] })
	if err != nil || !cfg.LogJSON {
		t.Fatalf("GRANTTRACK_LOG_FORMAT=JSON: %+v %v", cfg, err)
	}
	var b bytes.Buffer
	cfg.Logger(&b).Info("started", "addr", "127.0.0.1:8080")
	var line map[string]any
	if err := json.Unmarshal(b.Bytes(), &line); err != nil || line["msg"] != "started" || line["addr"] != "127.0.0.1:8080" {
		t.Fatalf("a JSON log line: %q, %v", b.String(), err)
	}
}

// TestVerificationScope: a full run when none has been done or the last is
// due again, else from the checkpoint.
func TestVerificationScope(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	at := func(ago time.Duration) store.VerificationStatus {
		return store.VerificationStatus{Full: &store.VerificationRun{FinishedAt: now.Add(-ago)}}
	}
	for _, c := range []struct {
		last store.VerificationStatus
		want string
	}{
		{store.VerificationStatus{}, store.VerifyFull},
		{at(5 * time.Hour), store.VerifyIncremental},
		{at(6 * time.Hour), store.VerifyFull},
		{at(7 * time.Hour), store.VerifyFull},
	} {
		if got := verificationScope(c.last, now, 6*time.Hour); got != c.want {
			t.Errorf("last full run %+v: %s, want %s", c.last.Full, got, c.want)
		}
	}
}
