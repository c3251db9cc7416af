package export_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/export"
)

// beancountName is the account component the export makes of a code: codes
// are letters, digits and hyphens already, but must start with a letter.
func beancountName(code string) string {
	if code[0] >= '0' && code[0] <= '9' {
		return "X" + code
	}
	return code
}

func TestLedgerBeancount(t *testing.T) {
	st := openStore(t)
	b := mustBooks(t, st, "BC")
	path, m := exportFile(t, st, export.FormatBeancount)
	if out := tool(t, "bean-check", "beancount", path); strings.TrimSpace(out) != "" {
		t.Fatalf("bean-check: %s", out)
	}

	byLine, byProgramme := lineTotals(t, st)
	want, wantProgramme := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for k, v := range byLine {
		p, l, _ := strings.Cut(k, ":")
		want[beancountName(p)+":"+beancountName(l)] = v
	}
	for k, v := range byProgramme {
		wantProgramme[beancountName(k)] = v
	}
	got, gotProgramme := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	out := tool(t, "bean-query", "beancount", "-f", "csv", path,
		"SELECT account, sum(number) AS total WHERE account ~ '^Expenses:' GROUP BY account")
	total := decimal.Zero
	for _, r := range readCSV(t, out)[1:] {
		d, err := decimal.NewFromString(strings.TrimSpace(r[1]))
		if err != nil {
			t.Fatalf("bean-query total %q: %v", r[1], err)
		}
		line := strings.TrimPrefix(strings.TrimSpace(r[0]), "Expenses:")
		p, _, _ := strings.Cut(line, ":")
		got[line], gotProgramme[p] = d, gotProgramme[p].Add(d)
		total = total.Add(d)
	}
	compareTotals(t, "funding line", got, want)
	compareTotals(t, "programme", gotProgramme, wantProgramme)
	if total.StringFixed(2) != m.Approved {
		t.Errorf("bean-query's expenses total %s, manifest's approved total %s", total, m.Approved)
	}
	sum := readCSV(t, tool(t, "bean-query", "beancount", "-f", "csv", path, "SELECT sum(number) AS total"))
	if d, err := decimal.NewFromString(strings.TrimSpace(sum[1][0])); err != nil || !d.IsZero() {
		t.Errorf("the books do not sum to zero: %v %v", sum, err)
	}

	// The reversal is negative, and metadata and narration carry the text.
	rev := readCSV(t, tool(t, "bean-query", "beancount", "-f", "csv", path,
		fmt.Sprintf("SELECT number, entry_meta('reverses') AS reverses, narration, payee WHERE entry_meta('entry') = '%d' AND account ~ '^Expenses:'", b.Reversal)))
	if len(rev) != 2 || !strings.HasPrefix(strings.TrimSpace(rev[1][0]), "-321.09") || strings.TrimSpace(rev[1][1]) != fmt.Sprint(b.Reversed) {
		t.Errorf("the reversal reads %v", rev)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Every quoted string is one line, and none would run as a formula.
	for _, s := range regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`).FindAllStringSubmatch(string(file), -1) {
		if v := s[1]; v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			t.Errorf("string %q would run as a formula", v)
		}
	}
	for _, want := range []string{`award: "'=AWD, BC"`, `reason: "'=wrong line, said \"x\"; really really"`, `approver: "'+checker-bc@test.example"`} {
		if !strings.Contains(string(file), want) {
			t.Errorf("the file lacks %s", want)
		}
	}
}
