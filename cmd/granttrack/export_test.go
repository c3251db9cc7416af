package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// seedSpend records and approves spend on one new line: one entry in
// 2022-23 and one in 2023-24, and leaves one pending in 2022-23 (years
// that TestBenchExportCommand does not use).
func seedSpend(t *testing.T) {
	t.Helper()
	if code, _, errOut := granttrack(t, "", "audit", "verify"); code != 0 {
		t.Fatal(errOut)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "CLI", PayeeName: "=CLI payee", Budget: "10000.00",
		StartsOn: "2022-04-01", EndsOn: "2024-03-31"})
	fl, o := l.FundingLine, l.Payee
	people := storetest.Officers(t, st, "cli-maker@example.org", "cli-checker@example.org")
	for _, s := range []struct {
		amount, on string
		approve    bool
	}{{"100.10", "2022-05-01", true}, {"200.20", "2023-05-01", true}, {"5.00", "2022-06-01", false}} {
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: o.ID, Amount: s.amount, IncurredOn: s.on, Category: "other",
			Description: "+desc"}.Validate()
		must(err)
		_, err = st.RecordSpend(ctx, people[0], e, "", nil)
		must(err)
		if s.approve {
			_, err = st.ApproveSpend(ctx, people[1], e.ID)
			must(err)
		}
	}
}

func TestExportLedgerFormatsCommand(t *testing.T) {
	seedSpend(t)
	if _, _, errOut := granttrack(t, "", "export", "ledger", "--help"); !strings.Contains(errOut, "beancount, csv, hledger, json, xlsx") {
		t.Errorf("--format help should list the formats: %q", errOut)
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, path string)
	}{
		{"xlsx", func(t *testing.T, path string) {
			x, err := excelize.OpenFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer x.Close()
			rows, err := x.GetRows("Ledger", excelize.Options{RawCellValue: true})
			// The header and the entries: the totals are on their own sheet.
			if err != nil || len(rows) != 1+2 || rows[1][6] != "100.1" || rows[2][6] != "5" {
				t.Fatalf("Ledger sheet %v %v", rows, err)
			}
		}},
		{"hledger", func(t *testing.T, path string) {
			cmd := exec.Command("hledger", "-f", path, "bal", "expenses:CLI:CLI-1", "-O", "csv")
			cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "LC_ALL=C.UTF-8")
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), `"total","100.10 GBP"`) {
				t.Fatalf("hledger (apt-get install hledger if missing): %v\n%s", err, out)
			}
		}},
		{"beancount", func(t *testing.T, path string) {
			if out, err := exec.Command("bean-check", path).CombinedOutput(); err != nil || len(out) != 0 {
				t.Fatalf("bean-check (apt-get install beancount if missing): %v\n%s", err, out)
			}
			b, _ := os.ReadFile(path)
			if !strings.Contains(string(b), "Expenses:CLI:CLI-1  ") || !strings.Contains(string(b), "100.10 GBP") || strings.Contains(string(b), "200.20") {
				t.Fatalf("file:\n%s", b)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			out := dir + "/ledger." + tc.format
			code, stdout, errOut := granttrack(t, "", "export", "ledger", "--format", tc.format, "--fy", "2022-23", "--out", out)
			// The journals hold the approved entry only, and say so.
			want := map[string]string{"hledger": "Wrote 1 entry ", "beancount": "Wrote 1 entry "}[tc.format]
			if want == "" {
				want = "Wrote 2 entries "
			}
			if code != 0 || !strings.Contains(stdout, want) {
				t.Fatalf("exit %d: %q %q", code, stdout, errOut)
			}
			file, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			manifest, err := os.ReadFile(out + ".manifest.json")
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				Format   string
				Approved string `json:"approved_total"`
				SHA256   string `json:"sha256"`
			}
			if err := json.Unmarshal(manifest, &m); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(file)
			if m.Format != tc.format || !decimal.RequireFromString(m.Approved).Equal(decimal.RequireFromString("100.10")) || m.SHA256 != hex.EncodeToString(sum[:]) {
				t.Fatalf("manifest %s", manifest)
			}
			tc.check(t, out)
		})
	}
	// Without --out the journal goes to stdout and the manifest to stderr.
	code, stdout, errOut := granttrack(t, "", "export", "ledger", "--format", "hledger", "--funding-line", "0", "--fy", "2023-24")
	if code != 0 || !strings.Contains(stdout, "200.20 GBP") || strings.Contains(stdout, "5.00 GBP") || !strings.Contains(errOut, `"format": "hledger"`) {
		t.Fatalf("exit %d: %q %q", code, stdout, errOut)
	}
}

func TestBenchExportCommand(t *testing.T) {
	// The bench seeds approved entries behind the application's back (no
	// audit events), so it makes a private cluster of its own.
	code, stdout, errOut := granttrackEnv(t, nil, "", "bench", "export", "--rows", "250")
	if code != 0 {
		t.Fatalf("exit %d: %q %q", code, stdout, errOut)
	}
	for _, want := range []string{`(?m)^export csv +250 rows in \S+: \d+ rows/s`, `(?m)^COPY TO STDOUT +250 rows in \S+: \d+ rows/s`,
		`export/COPY throughput: \d+%`, `peak Go heap in use while exporting: [\d.]+ MB; process peak RSS while exporting: [\d.]+ MB \(over the whole run: [\d.]+ MB\)`} {
		if !regexp.MustCompile(want).MatchString(stdout) {
			t.Errorf("output lacks %s:\n%s", want, stdout)
		}
	}
	if code, _, errOut := granttrack(t, "", "bench", "export", "--rows", "0"); code != 2 || !strings.Contains(errOut, "--rows") {
		t.Errorf("--rows 0: exit %d %q", code, errOut)
	}
}

func TestExportAuditCommand(t *testing.T) {
	// Migrates the database, and is itself an audit event.
	if code, _, errOut := granttrack(t, "", "audit", "verify"); code != 0 {
		t.Fatal(errOut)
	}
	out := t.TempDir() + "/audit.jsonl"
	code, stdout, errOut := granttrack(t, "", "export", "audit", "--out", out)
	if code != 0 || !regexp.MustCompile(`^Wrote \d+ audit events to .*audit\.jsonl \(sha256 [0-9a-f]{64}, head [0-9a-f]{64}@\d+\)`).MatchString(stdout) {
		t.Fatalf("exit %d: %q %q", code, stdout, errOut)
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (apt-get install python3): the offline verifier cannot run")
	}
	// The independent verifier, with the manifest found beside the file.
	res, err := exec.Command(python, "../../app/export/verifier/verify_audit.py", out).CombinedOutput()
	if err != nil || !strings.Contains(string(res), "the file is the manifest's") {
		t.Fatalf("verify_audit.py: %v\n%s", err, res)
	}
}
