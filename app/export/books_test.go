package export_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// injections start every text field; the spreadsheet ones first.
var injections = []string{"=cmd|' /C calc'!A0", "+1; drop\ntable", "-2-3", "@SUM(A1:A9)", "\tTabbed \"quoted\" \\ back", "\rCR | pipe",
	"(paren) ; semi", "!bang * star"}

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
		o := &models.Organisation{Name: name, IsFunder: true, IsRecipient: true}
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
	// The checker is an admin: some entries are above a finance officer's
	// approval limit in the scheme of delegation.
	for i, e := range []string{"=maker-" + tag + "@test.example", "+checker-" + tag + "@test.example"} {
		role := models.RoleFinanceOfficer
		if i == 1 {
			role = models.RoleAdmin
		}
		u := &models.User{Email: strings.ToLower(e), Name: e, Role: role, PasswordHash: "-", Active: true}
		must(st.CreateUser(ctx, sys, u))
		people = append(people, models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role})
	}
	rec := func(i int, amount, on string) int64 {
		in := models.SpendInput{FundingLineID: b.Lines[i%3].ID, PayeeID: payees[i%3].ID, Amount: amount, IncurredOn: on, Category: "other",
			Description: injections[i%len(injections)], Reference: injections[(i+1)%len(injections)], Purpose: "@x", VFMReason: "-y"}
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
