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
			return map[string]string{"DATABASE_URL": dsn}[k]
		})
		return code, out.String(), errOut.String()
	}

	dir := filepath.Join(t.TempDir(), "pack")
	code, stdout, stderr := run("export", "transparency", "--month", "2024-04", "--out", dir)
	if code != 0 || !strings.Contains(stdout, "Wrote the 2024-04 publishing pack") || !strings.Contains(stdout, "2 grants") ||
		!strings.Contains(stdout, "1 contracts over £10,000") {
		t.Fatalf("exit %d: %q %q", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "1 item(s) miss what publication requires") ||
		!strings.Contains(stderr, "grants.csv: grant MOPAC-VS-2024-003 to London Borough of Newham has no crime reduction reason") {
		t.Fatalf("the missing reason should be on stderr: %q", stderr)
	}
	for _, name := range []string{"grants.csv", "spend-over-500.csv", "contracts-over-10000.csv", "index.html"} {
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
	code, stdout, _ = run("export", "ledger", "--format", "ocds", "--out", filepath.Join(dir, "contracts.json"))
	if code != 0 || !strings.Contains(stdout, "Wrote 3 releases") {
		t.Fatalf("ocds export: %d %q", code, stdout)
	}
}
