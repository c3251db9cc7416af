package export_test

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/export"
)

// beancountName is the account component the export makes of a code: codes
// are capital letters, digits and hyphens already, which beancount allows.
func beancountName(code string) string { return code }

// beancountAccountRE is beancount's own rule for an account name
// (beancount.core.account.ACCOUNT_RE), which bean-check does not enforce.
var beancountAccountRE = regexp.MustCompile(`^(Assets|Liabilities|Equity|Income|Expenses)(:[\p{Lu}\p{Nd}][\p{L}\p{Nd}-]*)+$`)

func TestLedgerBeancount(t *testing.T) {
	st := openStore(t)
	b := mustBooks(t, st, "BC")
	mustLookalikes(t, st, b, "BC")
	path, m := exportFile(t, st, export.FormatBeancount)
	if out := tool(t, "bean-check", "beancount", path); strings.TrimSpace(out) != "" {
		t.Fatalf("bean-check: %s", out)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Transactions in date order; the commodity and every account declared
	// with a name beancount's rule allows.
	var last string
	for _, l := range regexp.MustCompile(`(?m)^(\d{4}-\d{2}-\d{2}) \*`).FindAllStringSubmatch(string(file), -1) {
		if l[1] < last {
			t.Errorf("a transaction of %s follows one of %s", l[1], last)
		}
		last = l[1]
	}
	if !regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2} commodity GBP$`).Match(file) {
		t.Error("the file does not declare GBP")
	}
	for _, a := range regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2} open (\S+) GBP$`).FindAllStringSubmatch(string(file), -1) {
		if !beancountAccountRE.MatchString(a[1]) {
			t.Errorf("account %q breaks beancount's rule for names", a[1])
		}
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
	budgets := map[string]decimal.Decimal{}
	for _, c := range regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2} custom "budget" Expenses:(\S+) "total" (\S+) GBP$`).FindAllStringSubmatch(string(file), -1) {
		budgets[c[1]] = decimal.RequireFromString(c[2])
	}
	compareTotals(t, "budget of line", budgets, lineBudgets(t, st))
	creditors := map[string]decimal.Decimal{}
	for _, r := range readCSV(t, tool(t, "bean-query", "beancount", "-f", "csv", path,
		"SELECT account, sum(number) AS total WHERE account ~ '^Liabilities:Creditors:' GROUP BY account"))[1:] {
		d, err := decimal.NewFromString(strings.TrimSpace(r[1]))
		if err != nil {
			t.Fatalf("bean-query total %q: %v", r[1], err)
		}
		creditors[strings.TrimPrefix(strings.TrimSpace(r[0]), "Liabilities:Creditors:")] = d
	}
	comparePayees(t, creditors, func(account string) (int64, bool) {
		id, err := strconv.ParseInt(account[strings.LastIndex(account, "-")+1:], 10, 64)
		return id, err == nil
	}, st)
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
	// A journal is not a spreadsheet: text is as written, no apostrophe,
	// and names keep their script where beancount allows it.
	for _, want := range []string{`award: "=AWD, BC"`, `reason: "=wrong line, said \"x\"; really really"`, `approver: "+checker-bc@test.example"`,
		`"সুরক্ষা ফাউন্ডেশন BC"`, "Liabilities:Creditors:Café-Rouge-BC-", "Liabilities:Creditors:Cafe-Rouge-BC-",
		"Liabilities:Creditors:X-北京-Trust-BC-", "Liabilities:Creditors:Surkssaa-phaaunddeshn-BC-", "Liabilities:Creditors:Zoë-s-Place-BC-"} {
		if !strings.Contains(string(file), want) {
			t.Errorf("the file lacks %s", want)
		}
	}
}
