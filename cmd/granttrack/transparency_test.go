package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"granttrack/app/demo"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func TestExportTransparencyCommand(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.FreshMigrated(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := demo.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	var lineID, recipient int64
	if err := st.DB().NewRaw("SELECT id FROM funding_lines WHERE code = 'VICTIMS-SERVICES'").Scan(ctx, &lineID); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("SELECT id FROM organisations WHERE name = 'London Borough of Newham'").Scan(ctx, &recipient); err != nil {
		t.Fatal(err)
	}
	a, err := models.AwardInput{RecipientID: recipient, Reference: "MOPAC-VS-2024-003", Amount: "12000.00", AwardedOn: "2024-04-22",
		StartsOn: "2024-05-01", EndsOn: "2025-03-31", Purpose: "Repeat-victim caseworker", Conditions: "Quarterly returns"}.Validate(lineID)
	if err != nil {
		t.Fatal(err)
	}
	if err := storetest.Award(ctx, st, a); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(ctx, args, strings.NewReader(""), &out, &errOut, func(k string) string {
			return map[string]string{"DATABASE_URL": dsn, "GRANTTRACK_360GIVING_PREFIX": "360G-mopactest"}[k]
		})
		return code, out.String(), errOut.String()
	}

	expenses := filepath.Join(t.TempDir(), "expenses.csv")
	if err := os.WriteFile(expenses, []byte("office_holder,office,incurred_on,category,description,amount\n"+
		"Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-04-09,travel,Rail fare,42.10\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run("import", "expenses", expenses, "--as", "finance@granttrack.example"); code != 0 || !strings.Contains(stdout, "Recorded 1 office holders' expenses") {
		t.Fatalf("import expenses: exit %d %q %q", code, stdout, stderr)
	}
	// Each is published once a second officer approves it.
	var pending []int64
	if err := st.DB().NewRaw("SELECT id FROM office_holder_expenses WHERE status = 'pending'").Scan(ctx, &pending); err != nil || len(pending) != 1 {
		t.Fatalf("the import is pending: %v %v", pending, err)
	}
	var checker int64
	if err := st.DB().NewRaw("SELECT id FROM users WHERE email = 'finance2@granttrack.example'").Scan(ctx, &checker); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideOfficeHolderExpense(ctx, models.Actor{UserID: checker, Label: "finance2@granttrack.example", Role: models.RoleFinanceOfficer},
		pending[0], models.DecisionApproved, ""); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(expenses, []byte("office_holder,office,incurred_on,category,description,amount\nX,Y,2024-04-31,travel,,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run("import", "expenses", expenses, "--as", "finance@granttrack.example"); code != 1 || !strings.Contains(stderr, "line 2: incurred_on") {
		t.Fatalf("a bad expenses file: exit %d %q", code, stderr)
	}
	dir := filepath.Join(t.TempDir(), "pack")
	code, stdout, stderr := run("export", "transparency", "--month", "2024-04", "--out", dir)
	if code != 0 || !strings.Contains(stdout, "Wrote the 2024-04 publishing pack") || !strings.Contains(stdout, "1 office holders' expenses, 2 grants") ||
		!strings.Contains(stdout, "1 contracts over £10,000") {
		t.Fatalf("exit %d: %q %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "1 item(s) miss what publication requires") ||
		!strings.Contains(stderr, "grants.csv: grant MOPAC-VS-2024-003 to London Borough of Newham has no crime reduction reason") {
		t.Fatalf("the missing reason should be on stderr: %q", stderr)
	}
	for _, name := range []string{"office-holder-expenses.csv", "grants.csv", "spend-over-500.csv", "contracts-over-10000.csv", "index.html"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "grants.csv" && (!strings.Contains(string(b), "MOPAC-DS-2024-002,2024-04-10,") || !strings.Contains(string(b), "MOPAC-VS-2024-003,")) {
			t.Fatalf("grants.csv:\n%s", b)
		}
		if name == "index.html" && !strings.Contains(string(b), "1 item(s) to fix before publication") {
			t.Fatalf("index.html should show what is missing at the top:\n%s", b)
		}
	}
	var events int
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = 'export.transparency'").Scan(ctx, &events); err != nil || events != 1 {
		t.Fatalf("the export should be audited once: %d %v", events, err)
	}

	if code, _, stderr := run("export", "transparency"); code != 2 || !strings.Contains(stderr, "--month") {
		t.Fatalf("no month: exit %d %q", code, stderr)
	}
	if code, _, stderr := run("export", "transparency", "--month", "04/2024"); code != 1 || !strings.Contains(stderr, "YYYY-MM") {
		t.Fatalf("bad month: exit %d %q", code, stderr)
	}
	// Until the publisher is configured the open-data packages are refused,
	// with exit status 1 and no file left behind.
	code, _, stderr = run("export", "ledger", "--format", "ocds", "--out", filepath.Join(dir, "contracts.json"))
	if _, err := os.Stat(filepath.Join(dir, "contracts.json")); code != 1 || !strings.Contains(stderr, "GRANTTRACK_OCID_PREFIX") || err == nil {
		t.Fatalf("ocds export with placeholders: exit %d %q", code, stderr)
	}
	publisher := map[string]string{"DATABASE_URL": dsn, "GRANTTRACK_PUBLISHER_NAME": "Mayor's Office for Policing and Crime",
		"GRANTTRACK_PUBLISHER_URI": "https://www.london.gov.uk/mopac", "GRANTTRACK_OCID_PREFIX": "ocds-t3stxx",
		"GRANTTRACK_DATA_LICENCE": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}
	var out, errOut bytes.Buffer
	code = Main(ctx, []string{"export", "ledger", "--format", "ocds", "--out", filepath.Join(dir, "contracts.json")}, strings.NewReader(""), &out, &errOut,
		func(k string) string { return publisher[k] })
	if code != 0 || !strings.Contains(out.String(), "Wrote 3 releases") {
		t.Fatalf("ocds export: %d %q %q", code, out.String(), errOut.String())
	}
	publisher["GRANTTRACK_OCID_PREFIX"] = "ocds-TOO-LONG"
	if code := Main(ctx, []string{"export", "ledger", "--format", "ocds"}, strings.NewReader(""), &out, &errOut,
		func(k string) string { return publisher[k] }); code == 0 || !strings.Contains(errOut.String(), "GRANTTRACK_OCID_PREFIX must be ocds-") {
		t.Fatalf("a malformed prefix should stop the command: %d %q", code, errOut.String())
	}
}
