package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

// granttrack runs the program in-process against the package's database.
func granttrack(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return granttrackOn(t, pgtest.DSN(), stdin, args...)
}

// granttrackOn runs the command against the database at dsn, as the
// application role, with the owner's connection for migrate.
func granttrackOn(t *testing.T, dsn, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return granttrackEnv(t, map[string]string{"DATABASE_URL": dsn, "GRANTTRACK_OWNER_DATABASE_URL": pgtest.Owner(dsn)}, stdin, args...)
}

// userAddMoney adds a finance officer at the command line, with the given
// password, as the two-admin rule asks: an admin (made here, named after
// email) proposes the grant, and a second admin approves it.
func userAddMoney(t *testing.T, dsn, password, email, name string) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	admins := make([]*models.User, 2)
	for i, who := range []string{"proposer", "approver"} {
		admins[i] = &models.User{Email: who + "." + email, Name: who, Role: models.RoleAdmin, PasswordHash: "-", Active: true}
		if err := st.CreateUser(ctx, models.SystemActor("test"), admins[i]); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := granttrackOn(t, dsn, password+"\n", "user", "add", "--email", email, "--name", name, "--role", "finance_officer",
		"--proposed-by", admins[0].Email, "--reason", "joins the finance team")
	if code != 0 || !strings.Contains(out, "waits for a second admin") {
		t.Fatalf("user add %s: %d %q %q", email, code, out, errOut)
	}
	var grant int64
	if err := st.DB().NewRaw("SELECT g.id FROM account_grants g JOIN users u ON u.id = g.user_id WHERE u.email = ? AND g.status = 'pending'", email).
		Scan(ctx, &grant); err != nil {
		t.Fatal(err)
	}
	approver := models.Actor{UserID: admins[1].ID, Label: admins[1].Email, Role: models.RoleAdmin}
	if _, err := st.DecideAccountGrant(ctx, approver, grant, models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
}

// mustStoreAt opens the database at dsn until the test ends.
func mustStoreAt(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// granttrackEnv runs the command with env as its whole environment.
func granttrackEnv(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

func TestUserAddAndToken(t *testing.T) {
	// A role that approves money is refused without an admin proposing it,
	// and nothing is added.
	code, out, errOut := granttrack(t, "a long enough password\n", "user", "add", "--email", "Ana@Example.org", "--name", "Ana Silva", "--role", "finance_officer")
	if code == 0 || !strings.Contains(errOut, "--proposed-by ADMIN_EMAIL") || !strings.Contains(errOut, "second admin") {
		t.Fatalf("user add of a money role without a proposer: %d %q %q", code, out, errOut)
	}
	// Proposed by an admin: the account is made, its grant pending.
	code, out, errOut = granttrack(t, "a long enough password\n", "user", "add", "--email", "first-admin@example.org", "--name", "First", "--role", "admin")
	if code != 0 {
		t.Fatalf("the first admin: %d %q %q", code, out, errOut)
	}
	code, out, errOut = granttrack(t, "a long enough password\n", "user", "add", "--email", "Ana@Example.org", "--name", "Ana Silva", "--role", "finance_officer",
		"--proposed-by", "first-admin@example.org", "--reason", "joins the finance team")
	if code != 0 || !strings.Contains(out, "ana@example.org") || strings.Contains(out, "Password") || !strings.Contains(out, "approves nothing") {
		t.Fatalf("user add: %d %q %q", code, out, errOut)
	}
	var pending int
	if err := mustStoreAt(t, pgtest.DSN()).DB().NewRaw(`SELECT count(*) FROM account_grants g JOIN users u ON u.id = g.user_id
		WHERE u.email = 'ana@example.org' AND g.status = 'pending' AND g.role = 'finance_officer'`).Scan(context.Background(), &pending); err != nil || pending != 1 {
		t.Fatalf("%d pending grants for ana (%v), want 1", pending, err)
	}
	// Someone who is not an admin proposes nothing.
	code, _, errOut = granttrack(t, "a long enough password\n", "user", "add", "--email", "cy@example.org", "--name", "Cy", "--role", "finance_manager",
		"--proposed-by", "ana@example.org", "--reason", "r")
	if code == 0 || !strings.Contains(errOut, "Only an admin") {
		t.Fatalf("proposed by a finance officer: %d %q", code, errOut)
	}
	code, out, _ = granttrack(t, "", "user", "add", "--email", "bo@example.org", "--name", "Bo", "--role", "auditor")
	if code != 0 || !strings.Contains(out, "Password (shown once): ") {
		t.Fatalf("user add without a password should generate one: %d %q", code, out)
	}
	code, out, errOut = granttrack(t, "", "token", "create", "--email", "ana@example.org")
	if code != 0 || !strings.HasPrefix(out, "gt_") || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create: %d %q %q", code, out, errOut)
	}
	st, err := store.Open(context.Background(), pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByToken(context.Background(), strings.TrimSpace(out))
	if err != nil || u.Email != "ana@example.org" {
		t.Fatalf("the printed token does not sign in as ana: %v %v", u, err)
	}
	code, _, _ = granttrack(t, "", "audit", "verify")
	if code != 0 {
		t.Fatal("audit verify failed after user add")
	}
}

func TestUserAddRefusesBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		stdin string
		args  []string
		want  string
	}{
		"ErrRole":          {"a long enough password\n", []string{"--email", "x@example.org", "--name", "X", "--role", "chief"}, "role"},
		"ErrEmail":         {"a long enough password\n", []string{"--email", "nobody", "--name", "X", "--role", "auditor"}, "email"},
		"ErrShortPassword": {"short\n", []string{"--email", "y@example.org", "--name", "Y", "--role", "auditor"}, "at least 12"},
	} {
		t.Run(name, func(t *testing.T) {
			code, _, errOut := granttrack(t, tc.stdin, append([]string{"user", "add"}, tc.args...)...)
			if code != 1 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and a message about %s", code, errOut, tc.want)
			}
		})
	}
	if code, _, _ := granttrack(t, "", "frobnicate"); code != 2 {
		t.Fatalf("unknown command exit %d, want 2", code)
	}
}

func TestImportSpendCommand(t *testing.T) {
	userAddMoney(t, pgtest.DSN(), "a long enough password", "imp@example.org", "Imp")
	dir := t.TempDir()
	bad := dir + "/bad.csv"
	if err := os.WriteFile(bad, []byte("funding_line,award,payee,amount,incurred_on,category,reference,description,purpose,vfm_reason\nNOPE,,Nobody,1.234,2024-05-01,other,,,,\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := granttrack(t, "", "import", "spend", bad, "--as", "imp@example.org")
	if code != 1 || !strings.Contains(errOut, "line 2: amount") || !strings.Contains(errOut, "line 2: funding_line") || !strings.Contains(errOut, "nothing was imported") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestExportLedgerCommand(t *testing.T) {
	out := t.TempDir() + "/ledger.csv"
	// A year no other test records spend in.
	code, stdout, errOut := granttrack(t, "", "export", "ledger", "--format", "csv", "--fy", "2021-22", "--out", out)
	if code != 0 || !strings.Contains(stdout, "Wrote 0 entries") {
		t.Fatalf("exit %d: %q %q", code, stdout, errOut)
	}
	manifest, err := os.ReadFile(out + ".manifest.json")
	if err != nil || !strings.Contains(string(manifest), `"audit_head_hash"`) {
		t.Fatalf("manifest: %s %v", manifest, err)
	}
	if code, _, errOut := granttrack(t, "", "export", "ledger", "--format", "xml"); code != 1 || !strings.Contains(errOut, "must be one of beancount, csv, hledger, json, xlsx") {
		t.Fatalf("bad format: %d %q", code, errOut)
	}
}

// TestImportSpendCommandHostileFiles: a stray quote and a file saved by
// Excel as Windows-1252 are reported by line, never as a crash or a raw
// database error.
func TestImportSpendCommandHostileFiles(t *testing.T) {
	userAddMoney(t, pgtest.DSN(), "a long enough password", "imp2@example.org", "Imp")
	header := "funding_line,award,payee,amount,incurred_on,category,reference,description,purpose,vfm_reason\n"
	for name, tc := range map[string]struct{ file, want string }{
		"ErrStrayQuote":  {header + "NOPE,,Nobody,1.00,2024-05-01,other,,,,\n\"X\"Y,,Nobody,1.00,2024-05-01,other,,,,\n", "line 3, column 3: a quoted value"},
		"ErrWindows1252": {header + "NOPE,,Caf\xe9 \xa3,1.234,2024-05-01,other,\xa3 invoice,,,\n", "line 2: amount"},
		"ErrYearZero":    {header + "NOPE,,Nobody,1.00,0000-01-01,other,,,,\n", "line 2: incurred_on must be on or after 1900-01-01"},
	} {
		t.Run(name, func(t *testing.T) {
			path := t.TempDir() + "/spend.csv"
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errOut := granttrack(t, "", "import", "spend", path, "--as", "imp2@example.org")
			if code != 1 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "nothing was imported") {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}
