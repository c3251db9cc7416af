package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestAuditPageWalksTheTrailOnceEachWay: the audit trail's keyset pages,
// newest first and in sequence, hold every event exactly once and in
// order, forwards and back; the unfiltered count is the head's sequence and
// a filtered one counts the filter's events.
func TestAuditPageWalksTheTrailOnceEachWay(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	fl := line(t, st, "100000.00")
	maker := person(t, st, models.RoleFinanceOfficer)
	for i := range 20 {
		spendOn(t, st, maker, fl, fmt.Sprintf("%d.00", 1+i), "2024-06-01")
	}
	var head int64
	if err := st.DB().NewRaw("SELECT seq FROM audit_head").Scan(ctx, &head); err != nil || head < 30 {
		t.Fatalf("head %d %v", head, err)
	}
	for _, newest := range []bool{true, false} {
		f := store.AuditFilter{Newest: newest, Page: store.Page{Number: 1, PerPage: 7}}
		var seen []int64
		var pages []*store.AuditList
		for l := (*store.AuditList)(nil); l == nil || l.Next != 0; {
			var err error
			if l, err = st.AuditPage(ctx, f); err != nil {
				t.Fatal(err)
			}
			if int64(l.Count) != head {
				t.Fatalf("count %d, want the head's %d", l.Count, head)
			}
			for _, ev := range l.Events {
				seen = append(seen, ev.Seq)
			}
			pages = append(pages, l)
			f.After, f.Page.Number = l.Next, f.Page.Number+1
		}
		for i, s := range seen {
			want := int64(i) + 1
			if newest {
				want = head - int64(i)
			}
			if s != want {
				t.Fatalf("newest %v: event %d of the walk is %d, want %d", newest, i, s, want)
			}
		}
		// Back from the last page, each page is the one before.
		for i := len(pages) - 1; i > 0; i-- {
			back, err := st.AuditPage(ctx, store.AuditFilter{Newest: newest, Before: pages[i].Prev, Page: store.Page{PerPage: 7}})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(back.Events, pages[i-1].Events, func(a, b *models.AuditEvent) bool { return a.Seq == b.Seq }) {
				t.Fatalf("newest %v: back from page %d is not page %d", newest, i+1, i)
			}
			if (back.Prev == 0) != (i == 1) {
				t.Fatalf("newest %v: page %d read backwards has prev %d", newest, i, back.Prev)
			}
		}
	}
	var spendEvents int
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE entity = 'spend_entry'").Scan(ctx, &spendEvents); err != nil {
		t.Fatal(err)
	}
	l, err := st.AuditPage(ctx, store.AuditFilter{Entity: "spend_entry", Newest: true, Page: store.Page{Number: 1, PerPage: 5}})
	if err != nil || l.Count != spendEvents || spendEvents != 20 || len(l.Events) != 5 || l.Next != l.Events[4].Seq {
		t.Fatalf("the spend entries' events: %+v %d %v", l, spendEvents, err)
	}
}

// TestListPagesCountTheWholeList: awards, approvals and imports are read a
// page at a time with the count (and money) of the whole filtered list,
// and the pages together are the whole list once.
func TestListPagesCountTheWholeList(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	fl := line(t, st, "100000.00")
	proposer, approver, err := storetest.Deciders(ctx, st, unique("pg"))
	if err != nil {
		t.Fatal(err)
	}
	want := decimal.Zero
	for i := range 23 {
		a := award(t, fl.ID, fl.FunderID, fmt.Sprintf("%d.25", 1+i%7))
		must(t, st.CreateAward(ctx, proposer, a))
		want = want.Add(a.Amount)
	}
	var awards []int64
	for n := 1; n <= 4; n++ {
		l, err := st.AwardsPage(ctx, store.AwardListFilter{FundingLineID: fl.ID, Status: models.DecisionPending, Page: store.Page{Number: n, PerPage: 10}})
		if err != nil || l.Count != 23 || !l.Amount.Equal(want) {
			t.Fatalf("page %d: %+v %v", n, l, err)
		}
		if wantLen := min(10, max(23-(n-1)*10, 0)); len(l.Awards) != wantLen {
			t.Fatalf("page %d has %d awards, want %d", n, len(l.Awards), wantLen)
		}
		for _, a := range l.Awards {
			awards = append(awards, a.ID)
		}
	}
	all, err := st.Awards(ctx, fl.ID)
	if err != nil || len(all) != 23 || len(awards) != 23 {
		t.Fatalf("the line's awards: %d, paged %d, %v", len(all), len(awards), err)
	}
	for i, a := range all {
		if awards[i] != a.ID {
			t.Fatalf("award %d paged as %d, listed as %d", i, awards[i], a.ID)
		}
	}
	if l, err := st.AwardsPage(ctx, store.AwardListFilter{Search: all[3].Reference, Page: store.Page{Number: 1, PerPage: 10}}); err != nil || l.Count != 1 || l.Awards[0].ID != all[3].ID {
		t.Fatalf("search by reference: %+v %v", l, err)
	}

	pending, err := st.Approvals(ctx, approver.UserID)
	if err != nil || len(pending) < 23 {
		t.Fatalf("approvals: %d %v", len(pending), err)
	}
	var paged []store.Approval
	for n := 1; len(paged) < len(pending); n++ {
		as, total, err := st.ApprovalsPage(ctx, approver.UserID, store.Page{Number: n, PerPage: 6})
		if err != nil || total != len(pending) || len(as) == 0 {
			t.Fatalf("approvals page %d: %d of %d, %v", n, len(as), total, err)
		}
		paged = append(paged, as...)
	}
	if !slices.EqualFunc(paged, pending, func(a, b store.Approval) bool { return a.Entity == b.Entity && a.ID == b.ID }) {
		t.Fatal("the approvals' pages are not the list")
	}
}
