package export_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// books is spend on several lines of two programmes, to several payees,
// on dates out of id order, with a reversal, pending and rejected entries,
// and formula injection or journal syntax in every text field.
type books struct {
	Programme []*models.Programme
	Lines     []*models.FundingLine
	Reversal  int64  // an approved reversal
	Reversed  int64  // the entry it reverses
	Award     string // reference of the award one entry is against
}

// injections start every text field; the spreadsheet ones first. Tabs and
// line breaks are refused in single-line fields, so a reference gets the
// injection on one line (singleLine).
var injections = []string{"=cmd|' /C calc'!A0", "+1; drop\ntable", "-2-3", "@SUM(A1:A9)", "\tTabbed \"quoted\" \\ back", "\r\nCR | pipe",
	"(paren) ; semi", "!bang * star"}

var singleLine = strings.NewReplacer("\t", "", "\r", "", "\n", " ")

func mustBooks(t *testing.T, st *store.Store, tag string) books {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var b books
	var payees []*models.Organisation
	for _, name := range []string{"=HYPERLINK(\"http://evil/" + tag + "\")", "+Plus; Sons | Co " + tag, "@Café \"Quoted\" \\ " + tag} {
		o := &models.Organisation{Name: name, OrgID: storetest.OrgID(), IsFunder: true, IsRecipient: true}
		must(st.CreateOrganisation(ctx, sys, o))
		payees = append(payees, o)
	}
	// The second programme's code starts with a digit, which beancount's
	// account names may not.
	for _, code := range []string{tag + "A", "9" + tag} {
		p := &models.Programme{Code: code, Name: "=P " + code, Plan: "Plan"}
		must(st.CreateProgramme(ctx, sys, p))
		b.Programme = append(b.Programme, p)
	}
	for i, pi := range []int{0, 0, 1} {
		p := b.Programme[pi]
		fl, err := models.FundingLineInput{Code: p.Code + "-" + string(rune('1'+i)), Title: "T", Kind: "grant", ProgrammeID: p.ID,
			FunderID: payees[0].ID, Budget: "99999999.00", StartsOn: "2024-04-01", EndsOn: "2026-03-31"}.Validate()
		must(err)
		must(st.CreateFundingLine(ctx, sys, fl))
		must(storetest.Activate(ctx, st, fl.ID))
		b.Lines = append(b.Lines, fl)
	}
	b.Award = "=AWD, " + tag
	award, err := models.AwardInput{RecipientID: payees[1].ID, Reference: b.Award, Amount: "5000.00", AwardedOn: "2024-04-01",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31", TrancheCount: 1}.Validate(b.Lines[1].ID)
	must(err)
	must(storetest.Award(ctx, st, award))
	var people []models.Actor
	// The checker is a finance manager: some entries are above a finance officer's
	// approval limit in the scheme of delegation.
	for i, e := range []string{"=maker-" + tag + "@test.example", "+checker-" + tag + "@test.example"} {
		role := models.RoleFinanceOfficer
		if i == 1 {
			role = models.RoleFinanceManager
		}
		u := &models.User{Email: strings.ToLower(e), Name: e, Role: role, PasswordHash: "-", Active: true}
		must(st.CreateUser(ctx, sys, u))
		people = append(people, models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role})
	}
	rec := func(i int, amount, on string) int64 {
		in := models.SpendInput{FundingLineID: b.Lines[i%3].ID, PayeeID: payees[i%3].ID, Amount: amount, IncurredOn: on, Category: "other",
			Description: injections[i%len(injections)], Reference: singleLine.Replace(injections[(i+1)%len(injections)]), Purpose: "@x", VFMReason: "-y"}
		if i == 1 {
			in.AwardID = &award.ID
		}
		e, err := in.Validate()
		must(err)
		_, err = st.RecordSpend(ctx, people[0], e, "", nil)
		must(err)
		return e.ID
	}
	approve := func(id int64) {
		_, err := st.ApproveSpend(ctx, people[1], id)
		must(err)
	}
	// Later ids on earlier days, so an account's first use is not its first row.
	for i, s := range []struct{ amount, on string }{{"1234567.89", "2025-02-01"}, {"0.01", "2024-06-01"}, {"999.99", "2024-05-01"},
		{"600.00", "2024-04-02"}, {"250.25", "2025-03-31"}, {"10.10", "2024-04-01"}, {"0.99", "2024-07-07"}, {"77.70", "2024-08-08"}} {
		approve(rec(i, s.amount, s.on))
	}
	rec(8, "99.99", "2024-06-01") // pending
	rejected := rec(9, "10.00", "2024-06-01")
	_, err = st.RejectSpend(ctx, people[1], rejected, "=dup")
	must(err)
	b.Reversed = rec(10, "321.09", "2024-09-09")
	approve(b.Reversed)
	rev, err := st.ReverseSpend(ctx, people[0], b.Reversed, "=wrong line, said \"x\"; really\nreally")
	must(err)
	approve(rev.ID)
	b.Reversal = rev.ID
	return b
}

// lineTotals is granttrack's own figure of approved spend for every
// funding line in the database, by "programme code:line code", and by
// programme code.
func lineTotals(t *testing.T, st *store.Store) (byLine, byProgramme map[string]decimal.Decimal) {
	t.Helper()
	ctx := context.Background()
	var lines []struct {
		ID        int64
		Code      string
		Programme string
	}
	if err := st.DB().NewRaw("SELECT fl.id, fl.code, p.code AS programme FROM funding_lines fl JOIN programmes p ON p.id = fl.programme_id").
		Scan(ctx, &lines); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.ID
	}
	totals, err := st.LineTotals(ctx, ids...)
	if err != nil {
		t.Fatal(err)
	}
	byLine, byProgramme = map[string]decimal.Decimal{}, map[string]decimal.Decimal{}
	for _, l := range lines {
		spent := totals[l.ID].Spent
		byLine[l.Programme+":"+l.Code] = spent
		byProgramme[l.Programme] = byProgramme[l.Programme].Add(spent)
	}
	return byLine, byProgramme
}

// compareTotals checks a tool's figures against granttrack's: every
// line or programme with spend must be there with the same amount, and
// nothing else may be.
func compareTotals(t *testing.T, what string, got, want map[string]decimal.Decimal) {
	t.Helper()
	for k, w := range want {
		if g := got[k]; !g.Equal(w) {
			t.Errorf("%s %s: the tool says %s, granttrack says %s", what, k, g, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && !g.IsZero() {
			t.Errorf("%s %s: the tool has %s that granttrack does not know", what, k, g)
		}
	}
}

// exportFile writes the whole ledger in format to a file and returns its path.
func exportFile(t *testing.T, st *store.Store, format string) (string, *export.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := export.Ledger(context.Background(), st, &buf, format, export.Filter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ext, _ := export.ContentType(format)
	path := filepath.Join(t.TempDir(), "ledger."+ext)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, m
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// lookalikes are payees whose names differ only in punctuation, accents
// or script, each paid approved spend on the books' first line: the books
// must keep every one of them apart.
var lookalikes = []struct{ name, amount string }{{"Citizens Advice Lambeth", "12500.00"}, {"Citizens Advice - Lambeth", "500.01"},
	{"Citizens Advice: Lambeth", "100.00"}, {"Café Rouge", "10.01"}, {"Cafe Rouge", "20.02"}, {"cafe rouge", "30.03"},
	{"সুরক্ষা ফাউন্ডেশন", "40.04"}, {"সরকষ ফউনডশন", "50.05"}, {"北京 Trust", "60.06"}, {"Zoë’s Place", "70.07"}}

// mustLookalikes records and approves the lookalikes' spend, on dates in
// no order, and returns the payees' names by organisation id.
func mustLookalikes(t *testing.T, st *store.Store, b books, tag string) map[int64]string {
	t.Helper()
	ctx := context.Background()
	people := storetest.Officers(t, st, "look-maker-"+strings.ToLower(tag)+"@test.example", "look-checker-"+strings.ToLower(tag)+"@test.example")
	names := map[int64]string{}
	for i, l := range lookalikes {
		o := &models.Organisation{Name: l.name + " " + tag, OrgID: storetest.OrgID(), IsRecipient: true}
		if err := st.CreateOrganisation(ctx, sys, o); err != nil {
			t.Fatal(err)
		}
		names[o.ID] = o.Name
		e, err := models.SpendInput{FundingLineID: b.Lines[0].ID, PayeeID: o.ID, Amount: l.amount, Category: "other",
			IncurredOn: time.Date(2024, 12, 28, 0, 0, 0, 0, time.UTC).AddDate(0, 0, -20*i).Format(models.DateLayout), Description: "lookalike", Purpose: "Advice sessions", VFMReason: "Lowest of three quotes"}.Validate()
		if err != nil {
			t.Fatalf("%s: %+v", l.name, err)
		}
		if _, err := st.RecordSpend(ctx, people[0], e, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := st.ApproveSpend(ctx, people[1], e.ID); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// payeeTotals is granttrack's figure of approved spend owed to each payee
// in the database, by organisation id.
func payeeTotals(t *testing.T, st *store.Store) map[int64]decimal.Decimal {
	t.Helper()
	var rows []struct {
		PayeeID int64
		Total   decimal.Decimal `bun:"type:numeric"`
	}
	if err := st.DB().NewRaw("SELECT payee_id, sum(amount) AS total FROM spend_entries WHERE status = 'approved' GROUP BY payee_id").
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[int64]decimal.Decimal{}
	for _, r := range rows {
		out[r.PayeeID] = r.Total
	}
	return out
}

// comparePayees checks a tool's creditor balances, by the organisation id
// each account name ends with, against granttrack's: every payee is its own
// account and owes exactly its approved spend.
func comparePayees(t *testing.T, balances map[string]decimal.Decimal, idOf func(account string) (int64, bool), st *store.Store) {
	t.Helper()
	got := map[string]decimal.Decimal{}
	accounts := map[int64]string{}
	for account, d := range balances {
		id, ok := idOf(account)
		if !ok {
			t.Errorf("creditor account %q does not end with an organisation id", account)
			continue
		}
		if other, dup := accounts[id]; dup {
			t.Errorf("organisation %d has two accounts, %q and %q", id, other, account)
		}
		accounts[id] = account
		got[strconv.FormatInt(id, 10)] = d.Neg()
	}
	want := map[string]decimal.Decimal{}
	for id, d := range payeeTotals(t, st) {
		want[strconv.FormatInt(id, 10)] = d
	}
	compareTotals(t, "payee", got, want)
}

// lineBudgets is every funding line's budget, by "programme code:line code".
func lineBudgets(t *testing.T, st *store.Store) map[string]decimal.Decimal {
	t.Helper()
	var rows []struct {
		Line   string
		Budget decimal.Decimal
	}
	if err := st.DB().NewRaw("SELECT p.code || ':' || fl.code AS line, fl.budget FROM funding_lines fl JOIN programmes p ON p.id = fl.programme_id").
		Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]decimal.Decimal{}
	for _, r := range rows {
		out[r.Line] = r.Budget
	}
	return out
}
