package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/export"
)

// tool runs a real command-line tool on an exported file. A missing tool
// fails the test: these tests are the proof that the files are valid.
func tool(t *testing.T, name, pkg string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed, and this test needs the real tool: apt-get install %s", name, pkg)
	}
	cmd := exec.Command(path, args...)
	// The plainest locale: hledger 1.25 reads files in the locale's
	// encoding, and the books must read in any.
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("tool output is not CSV: %v\n%s", err, s)
	}
	return recs
}

// hledgerBalances reads `hledger bal -O csv` output: account → amount.
func hledgerBalances(t *testing.T, out, prefix string) map[string]decimal.Decimal {
	t.Helper()
	got := map[string]decimal.Decimal{}
	for _, r := range readCSV(t, out)[1:] {
		v := strings.ReplaceAll(strings.TrimSuffix(r[1], " GBP"), ",", "")
		d, err := decimal.NewFromString(v)
		if err != nil {
			t.Fatalf("hledger balance %q of %s: %v", r[1], r[0], err)
		}
		got[strings.TrimPrefix(r[0], prefix)] = d
	}
	return got
}

func TestLedgerHledger(t *testing.T) {
	st := openStore(t)
	b := mustBooks(t, st, "HL")
	mustLookalikes(t, st, b, "HL")
	path, m := exportFile(t, st, export.FormatHledger)
	// In date order, every account, payee and the commodity declared.
	tool(t, "hledger", "hledger", "-f", path, "check", "ordereddates", "accounts", "payees")
	tool(t, "hledger", "hledger", "-s", "-f", path, "bal")
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range file {
		if c > 127 {
			t.Fatalf("byte %d of the journal is not ASCII: %q", i, file[max(0, i-20):min(len(file), i+20)])
		}
	}

	byLine, byProgramme := lineTotals(t, st)
	lines := hledgerBalances(t, tool(t, "hledger", "hledger", "-f", path, "bal", "expenses", "--flat", "--depth", "3", "-O", "csv"), "expenses:")
	total := lines["total"]
	delete(lines, "total")
	compareTotals(t, "funding line", lines, byLine)
	programmes := hledgerBalances(t, tool(t, "hledger", "hledger", "-f", path, "bal", "expenses", "--flat", "--depth", "2", "-O", "csv"), "expenses:")
	delete(programmes, "total")
	compareTotals(t, "programme", programmes, byProgramme)
	// Budget against actual, per line, over every line's whole life.
	budget := readCSV(t, tool(t, "hledger", "hledger", "-f", path, "bal", "--budget", "expenses", "--flat", "--depth", "3",
		"-b", "1900-01-01", "-e", "2200-01-01", "-O", "csv"))
	gotBudget, gotActual := map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for _, r := range budget[1:] {
		k, ok := strings.CutPrefix(r[0], "expenses:")
		if !ok || !strings.Contains(k, ":") { // the report keeps the programmes' subtotals too
			continue
		}
		gotActual[k] = hledgerBalances(t, "a,b\n"+k+`,"`+r[1]+`"`+"\n", "")[k]
		gotBudget[k] = hledgerBalances(t, "a,b\n"+k+`,"`+r[2]+`"`+"\n", "")[k]
	}
	compareTotals(t, "budget report's actual of line", gotActual, byLine)
	compareTotals(t, "budget of line", gotBudget, lineBudgets(t, st))
	creditors := hledgerBalances(t, tool(t, "hledger", "hledger", "-f", path, "bal", "liabilities:creditors", "--flat", "-O", "csv"),
		"liabilities:creditors:")
	delete(creditors, "total")
	comparePayees(t, creditors, func(account string) (int64, bool) {
		_, id, ok := strings.Cut(account, " #")
		n, err := strconv.ParseInt(id, 10, 64)
		return n, ok && err == nil
	}, st)
	if total.StringFixed(2) != m.Approved {
		t.Errorf("hledger's expenses total %s, manifest's approved total %s", total, m.Approved)
	}
	// Every transaction balances, so the books sum to nothing.
	all := hledgerBalances(t, tool(t, "hledger", "hledger", "-f", path, "bal", "-O", "csv"), "")
	if !all["total"].IsZero() {
		t.Errorf("the journal does not balance: total %s", all["total"])
	}

	var approved int
	if err := st.DB().NewRaw("SELECT count(*) FROM spend_entries WHERE status = 'approved'").Scan(context.Background(), &approved); err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, tool(t, "hledger", "hledger", "-f", path, "print", "-O", "csv"))
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	codes := map[string]bool{}
	for _, r := range recs[1:] {
		code, desc, comment, account, amount := r[col["code"]], r[col["description"]], r[col["comment"]], r[col["account"]], r[col["amount"]]
		codes[code] = true
		if !strings.Contains(comment, "entry:"+code+",") || !strings.Contains(comment, "approver:") || !strings.Contains(comment, "recorded_by:") {
			t.Errorf("transaction %s: comment %q lacks its tags", code, comment)
		}
		// A journal is not a spreadsheet: names are as written, no apostrophe.
		for _, text := range append([]string{desc, account}, tagValues(comment)...) {
			if strings.HasPrefix(text, "'") {
				t.Errorf("transaction %s: %q starts with an apostrophe", code, text)
			}
		}
		if code == fmt.Sprint(b.Reversal) && strings.HasPrefix(account, "expenses:") {
			if d, err := decimal.NewFromString(amount); err != nil || !d.IsNegative() || !strings.Contains(comment, fmt.Sprintf("reverses:%d", b.Reversed)) {
				t.Errorf("the reversal posts %q to %s with comment %q", amount, account, comment)
			}
		}
	}
	if len(codes) != approved {
		t.Errorf("%d transactions, %d approved entries: only approved entries belong in the books", len(codes), approved)
	}
	if m.Rows != len(codes) || m.Total != m.Approved {
		t.Errorf("the manifest says %d rows totalling %s, the journal holds %d transactions totalling %s", m.Rows, m.Total, len(codes), m.Approved)
	}
	if !strings.Contains(tool(t, "hledger", "hledger", "-f", path, "print", "tag:award"), "award:=AWD; HL") {
		t.Error("the award's reference is not a tag")
	}
	// Names are transliterated, not dropped: the Bengali keeps its vowels.
	for _, want := range []string{`=HYPERLINK("http://evil/HL")`, "liabilities:creditors:Cafe Rouge HL #", "liabilities:creditors:Bei Jing Trust HL #",
		"liabilities:creditors:surkssaa phaaunddeshn HL #", "liabilities:creditors:srkss phunddshn HL #", "liabilities:creditors:Zoe's Place HL #"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("the journal lacks %s", want)
		}
	}
}

// tagValues are the values of hledger tags in a comment.
func tagValues(comment string) []string {
	var vs []string
	for _, tag := range strings.Split(comment, ", ") {
		if _, v, ok := strings.Cut(tag, ":"); ok {
			vs = append(vs, strings.TrimSpace(v))
		}
	}
	return vs
}
