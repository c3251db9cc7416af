package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/store"
)

// TestServeConnectsOnlyAsTheApplicationRole: with DATABASE_URL, serve
// refuses the schema's owner (who could switch the ledger's triggers off)
// and a schema behind the binary, naming the command that migrates it; the
// owner's connection migrates, and then the application role serves.
func TestServeConnectsOnlyAsTheApplicationRole(t *testing.T) {
	if code, _, errOut := granttrackEnv(t, map[string]string{"DATABASE_URL": pgtest.AdminDSN()}, "", "serve", "--addr", "127.0.0.1:0"); code != 1 ||
		!strings.Contains(errOut, "a superuser, which could switch the ledger's append-only triggers off") {
		t.Fatalf("serve as a superuser: exit %d, stderr %q; want 1 and a refusal", code, errOut)
	}
	asOwner := map[string]string{"DATABASE_URL": pgtest.OwnerDSN()}
	if code, _, errOut := granttrackEnv(t, asOwner, "", "serve", "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(errOut, "owns tables of the schema") {
		t.Fatalf("serve as the owner: exit %d, stderr %q; want 1 and a refusal", code, errOut)
	}

	fresh := pgtest.Fresh(t)
	code, _, errOut := granttrackOn(t, fresh, "", "serve", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "the database schema is behind this granttrack") || !strings.Contains(errOut, "granttrack migrate up --owner-url '") {
		t.Fatalf("serve on an unmigrated database: exit %d, stderr %q; want 1 and the migrate command", code, errOut)
	}
	if code, _, errOut := granttrackEnv(t, map[string]string{"DATABASE_URL": fresh}, "", "migrate", "up"); code != 1 || !strings.Contains(errOut, "GRANTTRACK_OWNER_DATABASE_URL") {
		t.Fatalf("migrate up without the owner's connection: exit %d, stderr %q", code, errOut)
	}
	env := map[string]string{"DATABASE_URL": fresh}
	if code, out, errOut := granttrackEnv(t, env, "", "migrate", "up", "--owner-url", pgtest.Owner(fresh)); code != 0 || !strings.Contains(out, "Migrated: ") {
		t.Fatalf("migrate up --owner-url: exit %d %q %q", code, out, errOut)
	}
	if code, out, errOut := granttrackEnv(t, env, "a long enough password\n", "user", "add", "--email", "ana@example.org", "--name", "Ana", "--role", "admin"); code != 0 {
		t.Fatalf("user add as the application role after migrating: exit %d %q %q", code, out, errOut)
	}
	if code, _, errOut := granttrackEnv(t, env, "", "audit", "verify", "--data-dir", t.TempDir()); code != 2 || !strings.Contains(errOut, "--data-dir names a private cluster, but DATABASE_URL is set") {
		t.Fatalf("--data-dir beside DATABASE_URL: exit %d %q", code, errOut)
	}
}

// TestMigrateDownRefusesWhileTheLedgerHoldsAnything: rolling back would drop
// the ledger and the audit trail, so it takes --destroy-ledger once they
// hold anything.
func TestMigrateDownRefusesWhileTheLedgerHoldsAnything(t *testing.T) {
	dsn := pgtest.FreshMigrated(t)
	if code, _, errOut := granttrackOn(t, dsn, "a long enough password\n", "user", "add", "--email", "bo@example.org", "--name", "Bo", "--role", "auditor"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := granttrackOn(t, dsn, "", "migrate", "down")
	if code != 1 || !strings.Contains(errOut, "refusing to roll back: the ledger holds 0 spend entries and the audit trail 1 events") || !strings.Contains(errOut, "--destroy-ledger") {
		t.Fatalf("migrate down with an audit trail: exit %d %q %q", code, out, errOut)
	}
	if code, out, _ := granttrackOn(t, dsn, "", "migrate", "status"); code != 0 || strings.Contains(out, "pending") {
		t.Fatalf("a refused rollback changed the schema: %q", out)
	}
	if code, out, errOut := granttrackOn(t, dsn, "", "migrate", "down", "--destroy-ledger"); code != 0 || !strings.Contains(out, "Rolled back group") {
		t.Fatalf("migrate down --destroy-ledger: exit %d %q %q", code, out, errOut)
	}
}

// TestDemoRefusesADatabaseThatHoldsAnything: the demo's users sign in with
// a published password, so they go only into an empty database.
func TestDemoRefusesADatabaseThatHoldsAnything(t *testing.T) {
	dsn := pgtest.FreshMigrated(t)
	if code, _, errOut := granttrackOn(t, dsn, "a long enough password\n", "user", "add", "--email", "cy@example.org", "--name", "Cy", "--role", "admin"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := granttrackOn(t, dsn, "", "demo", "--addr", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "already holds users, audit events, so the demo data was not loaded") || strings.Contains(out, "ready") {
		t.Fatalf("demo on a live database: exit %d %q %q", code, out, errOut)
	}
}

// TestBenchRunsOnlyInAScratchDatabase: a bench refuses a data dir that
// holds anything, and on an external server needs a connection that can
// make a database of its own.
func TestBenchRunsOnlyInAScratchDatabase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ledger"), []byte("live"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bench := range []string{"spend", "import", "export", "report"} {
		code, _, errOut := granttrackEnv(t, nil, "", "bench", bench, "--data-dir", dir)
		if code != 1 || !strings.Contains(errOut, "bench runs only in a scratch data dir of its own, and "+dir+" is not empty") {
			t.Errorf("bench %s in a data dir that holds something: exit %d %q", bench, code, errOut)
		}
	}
	code, _, errOut := granttrackEnv(t, map[string]string{"DATABASE_URL": pgtest.DSN()}, "", "bench", "report")
	if code != 1 || !strings.Contains(errOut, "a bench makes a database of its own and drops it afterwards") {
		t.Errorf("bench on DATABASE_URL without an owner: exit %d %q", code, errOut)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "ledger")); err != nil || string(b) != "live" {
		t.Errorf("the data dir was touched: %q %v", b, err)
	}
}

// TestBenchOnAServerMakesAndDropsItsOwnDatabase: with DATABASE_URL, a bench
// makes a new database through the owner's connection (here the test
// server's superuser, which may create databases), runs in it as the
// application role, and drops it afterwards; the package's database gains
// nothing.
func TestBenchOnAServerMakesAndDropsItsOwnDatabase(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	count := func(q string) int {
		t.Helper()
		var n int
		if err := st.DB().NewRaw(q).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	entries := count("SELECT count(*) FROM spend_entries")
	env := map[string]string{"DATABASE_URL": pgtest.DSN(), "GRANTTRACK_OWNER_DATABASE_URL": pgtest.AdminDSN()}
	code, out, errOut := granttrackEnv(t, env, "", "bench", "export", "--rows", "50")
	if code != 0 || !strings.Contains(out, "Benchmarking in a new database granttrack_bench_") || !regexp.MustCompile(`(?m)^export csv +50 rows`).MatchString(out) {
		t.Fatalf("bench export on a server: exit %d %q %q", code, out, errOut)
	}
	if n := count("SELECT count(*) FROM pg_database WHERE datname LIKE 'granttrack_bench_%'"); n != 0 {
		t.Errorf("%d bench databases left behind", n)
	}
	if n := count("SELECT count(*) FROM spend_entries"); n != entries {
		t.Errorf("the package's database went from %d to %d spend entries", entries, n)
	}
}
