package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// TestSpendPageWalksTheLedgerOnceEachWay: the keyset pages of a line's 131
// entries, 50 at a time, hold every entry once, in the ledger's order,
// forwards and back; each page carries the whole list's count and money
// (from the rollup and from the ledger alike), and a page past the end is
// empty with no next page.
func TestSpendPageWalksTheLedgerOnceEachWay(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "100000.00")
	maker := person(t, st, models.RoleFinanceOfficer)
	want := decimal.Zero
	for i := range 131 {
		amount := fmt.Sprintf("%d.%02d", 1+i%7, i%100)
		spendOn(t, st, maker, fl, amount, fmt.Sprintf("2024-%02d-%02d", 4+i%9, 1+i%28))
		want = want.Add(decimal.RequireFromString(amount))
	}
	f := store.SpendFilter{FundingLineID: fl.ID, Page: store.Page{Number: 1, PerPage: 50}}
	var seen []int64
	var pages []*store.SpendList
	for range 4 {
		l, err := st.SpendPage(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if l.Count != 131 || !l.Amount.Equal(want) {
			t.Fatalf("page %d: totals %d, %s; want the whole list's 131, %s", len(pages)+1, l.Count, l.Amount, want)
		}
		pages = append(pages, l)
		for _, e := range l.Entries {
			seen = append(seen, e.ID)
		}
		if l.Next == nil {
			break
		}
		f.After, f.Before = l.Next, nil
	}
	if len(pages) != 3 || len(pages[0].Entries) != 50 || len(pages[2].Entries) != 31 || pages[0].Prev != nil || pages[2].Next != nil {
		t.Fatalf("pages: %d, sizes %d…%d", len(pages), len(pages[0].Entries), len(pages[len(pages)-1].Entries))
	}
	all, total, err := st.SpendEntries(ctx, store.SpendFilter{FundingLineID: fl.ID})
	if err != nil || total != 131 || len(all) != 131 {
		t.Fatalf("whole list: %d of %d, %v", len(all), total, err)
	}
	for i, e := range all {
		if seen[i] != e.ID {
			t.Fatalf("entry %d of the walk is %d; the ledger's order has %d", i, seen[i], e.ID)
		}
	}
	// Back from the last page: the middle page again, then the first.
	back, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, Before: pages[2].Prev, Page: store.Page{PerPage: 50}})
	if err != nil || len(back.Entries) != 50 || back.Entries[0].ID != pages[1].Entries[0].ID || back.Prev == nil {
		t.Fatalf("previous page: %v, %+v", err, back)
	}
	first, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, Before: back.Prev, Page: store.Page{PerPage: 50}})
	if err != nil || len(first.Entries) != 50 || first.Entries[0].ID != all[0].ID || first.Prev != nil {
		t.Fatalf("first page again: %v, prev %v", err, first.Prev)
	}
	// Past the end by page number.
	past, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, Page: store.Page{Number: 4, PerPage: 50}})
	if err != nil || len(past.Entries) != 0 || past.Next != nil || past.Count != 131 {
		t.Fatalf("page past the end: %v, %d entries, next %v, count %d", err, len(past.Entries), past.Next, past.Count)
	}
	// The same totals from the ledger (a date that is not a whole month
	// takes the ledger, not the rollup).
	from, _ := models.ParseDate("2024-04-01")
	to, _ := models.ParseDate("2025-03-30")
	l, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, From: &from, To: &to, Page: store.Page{PerPage: 1}})
	if err != nil || l.Count != 131 || !l.Amount.Equal(want) {
		t.Fatalf("totals from the ledger: %v, %d, %s", err, l.Count, l.Amount)
	}
	// And from either rollup: whole financial years read the yearly one,
	// whole months the monthly one; a status narrows both.
	yearEnd, _ := models.ParseDate("2025-03-31")
	decEnd, _ := models.ParseDate("2024-12-31")
	for _, f := range []store.SpendFilter{
		{FundingLineID: fl.ID, From: &from, To: &yearEnd},
		{FundingLineID: fl.ID, To: &yearEnd},
		{FundingLineID: fl.ID, From: &from, To: &decEnd},
		{FundingLineID: fl.ID, Status: models.SpendPending},
	} {
		f.Page = store.Page{PerPage: 1}
		l, err := st.SpendPage(ctx, f)
		if err != nil || l.Count != 131 || !l.Amount.Equal(want) {
			t.Fatalf("totals from a rollup for %+v: %v, %d, %s", f, err, l.Count, l.Amount)
		}
	}
	for _, status := range []models.SpendStatus{models.SpendApproved, models.SpendRejected} {
		l, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, From: &from, To: &yearEnd, Status: status, Page: store.Page{PerPage: 1}})
		if err != nil || l.Count != 0 || !l.Amount.IsZero() {
			t.Fatalf("%s entries in the yearly rollup: %v, %d, %s", status, err, l.Count, l.Amount)
		}
	}
}

// TestSearchFindsAndTakesWildcardsLiterally: spend, lines and organisations
// are found by their words; % and _ match only themselves; text too long
// or with control characters is refused on its field.
func TestSearchFindsAndTakesWildcardsLiterally(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	maker := person(t, st, models.RoleFinanceOfficer)
	tag := unique("zq")
	e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: fl.FunderID, Amount: "10.00", IncurredOn: "2024-05-01",
		Category: "services", Reference: "INV_" + tag + "-100%", Description: "Knife crime workshop " + tag,
		Purpose: "Purpose", VFMReason: "Tendered"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, maker, e, "", nil); err != nil {
		t.Fatal(err)
	}
	other := spendOn(t, st, maker, fl, "5.00", "2024-05-02") // its reference is empty, its line the same
	count := func(search string) int {
		t.Helper()
		l, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, Search: search, Page: store.Page{PerPage: 10}})
		if err != nil {
			t.Fatal(err)
		}
		return l.Count
	}
	for _, c := range []struct {
		search string
		want   int
	}{
		{"workshop " + tag, 1}, {strings.ToUpper(tag), 1}, {"_" + tag + "-100%", 1}, {tag + "-100", 1},
		{"INV%" + tag, 0}, {"INV" + tag, 0}, {"_" + tag + "_", 0}, {strings.ToLower(fl.Code), 2}, {"  ", 2},
	} {
		if got := count(c.search); got != c.want {
			t.Errorf("search %q found %d entries; want %d", c.search, got, c.want)
		}
	}
	if l, err := st.SpendPage(ctx, store.SpendFilter{FundingLineID: fl.ID, Search: tag, Page: store.Page{PerPage: 10}}); err != nil ||
		len(l.Entries) != 1 || l.Entries[0].ID == other.ID || !l.Amount.Equal(decimal.RequireFromString("10.00")) {
		t.Fatalf("search %q: %v, %+v", tag, err, l)
	}
	fls, _, err := st.FundingLines(ctx, store.FundingLineFilter{Search: strings.ToLower(fl.Code)})
	if err != nil || !slices.ContainsFunc(fls, func(l *models.FundingLine) bool { return l.ID == fl.ID }) {
		t.Fatalf("line search: %v", err)
	}
	if _, n, err := st.FundingLines(ctx, store.FundingLineFilter{Search: fl.Code + "%"}); err != nil || n != 0 {
		t.Fatalf("line search with a wildcard: %v, %d", err, n)
	}
	funder, err := st.Organisation(ctx, fl.FunderID)
	if err != nil {
		t.Fatal(err)
	}
	os, _, err := st.Organisations(ctx, store.OrganisationFilter{Search: strings.ToUpper(funder.Name[2:])})
	if err != nil || !slices.ContainsFunc(os, func(o *models.Organisation) bool { return o.ID == funder.ID }) {
		t.Fatalf("organisation search: %v", err)
	}
	if _, n, _ := st.Organisations(ctx, store.OrganisationFilter{Search: "_%_" + tag}); n != 0 {
		t.Fatalf("wildcards matched %d organisations", n)
	}
	for _, bad := range []string{strings.Repeat("a", store.MaxSearch+1), "a\x00b", "a\nb"} {
		if err := store.CheckSearch("q", bad); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("search %q: %v; want EINVALID", bad, err)
		}
	}
	if err := store.CheckSearch("q", strings.Repeat("é", store.MaxSearch)); err != nil {
		t.Errorf("a search of %d characters was refused: %v", store.MaxSearch, err)
	}
}
