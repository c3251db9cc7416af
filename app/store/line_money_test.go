package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

// moneyOf is each line's money in [from, to] as a report over every line
// reads it (from what the store keeps between reports where it can), by
// line id, written out exactly.
func moneyOf(t *testing.T, st *store.Store, from, to string) map[int64]string {
	t.Helper()
	var rows []store.LineFigures
	err := st.Snapshot(context.Background(), func(ctx context.Context, st *store.Store) (err error) {
		rows, err = st.LineFiguresFor(ctx, date(from), date(to), store.ReportScope{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return moneyByLine(rows)
}

func moneyByLine(rows []store.LineFigures) map[int64]string {
	out := map[int64]string{}
	for _, r := range rows {
		out[r.LineID] = fmt.Sprintf("%s title=%q spent=%s pending=%s pending_reversals=%s committed=%s reserved=%s after_end=%s/%d",
			r.Code, r.Title, r.Spent.StringFixed(2), r.Pending.StringFixed(2), r.PendingReversals.StringFixed(2), r.Committed.StringFixed(2),
			r.Reserved.StringFixed(2), r.AfterEnd.StringFixed(2), r.AfterEndCount)
	}
	return out
}

// moneyReadAfresh is moneyOf read line by line: a report of one line reads
// its money from the database every time.
func moneyReadAfresh(t *testing.T, st *store.Store, from, to string, ids []int64) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	err := st.Snapshot(context.Background(), func(ctx context.Context, st *store.Store) error {
		for _, id := range ids {
			rows, err := st.LineFiguresFor(ctx, date(from), date(to), store.ReportScope{FundingLineID: id})
			if err != nil {
				return err
			}
			for k, v := range moneyByLine(rows) {
				out[k] = v
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameMoney(t *testing.T, when string, got, want map[int64]string) {
	t.Helper()
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("%s: line %d reads\n  %s\nwant\n  %s", when, id, got[id], w)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d", when, len(got), len(want))
	}
}

// TestKeptMoneyIsEveryLinesMoney: reports over every line keep the lines'
// money between requests and read again only the lines whose money moved;
// through a random walk of spend recorded, approved, rejected and reversed,
// reservations held and released, awards with tranches and lines renamed,
// every line's money for the year, for a quarter and for a later year
// (which lines enter and leave) is, after each step, what reading it
// afresh line by line gives.
func TestKeptMoneyIsEveryLinesMoney(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(6, 1))
	var fls []*models.FundingLine
	var ids []int64
	for range 3 {
		fl := line(t, st, "1000000.00")
		fls, ids = append(fls, fl), append(ids, fl.ID)
	}
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	days := []string{"2024-04-01", "2024-07-15", "2024-09-30", "2024-10-01", "2025-03-31"}
	var pending, reversals, approved, held []int64
	done := map[string]int{}
	shown := 0 // lines in the 2026-27 report
	pick := func(s *[]int64) (int64, bool) {
		if len(*s) == 0 {
			return 0, false
		}
		i := rng.IntN(len(*s))
		id := (*s)[i]
		*s = slices.Delete(*s, i, i+1)
		return id, true
	}
	for step := range 120 {
		fl := fls[rng.IntN(len(fls))]
		amount := fmt.Sprintf("%d.%02d", 1+rng.IntN(900), rng.IntN(100))
		kinds := []string{"record", "record", "approve", "approve", "reject", "reverse", "approve reversal", "reject reversal", "reserve", "release", "award", "rename"}
		kind := kinds[rng.IntN(len(kinds))]
		switch kind {
		case "record":
			pending = append(pending, spendOn(t, st, maker, fl, amount, days[rng.IntN(len(days))]).ID)
		case "approve":
			id, ok := pick(&pending)
			if !ok {
				continue
			}
			_, err := st.ApproveSpend(ctx, checker, id)
			must(t, err)
			approved = append(approved, id)
		case "approve reversal":
			id, ok := pick(&reversals)
			if !ok {
				continue
			}
			_, err := st.ApproveSpend(ctx, checker, id)
			must(t, err)
		case "reject":
			id, ok := pick(&pending)
			if !ok {
				continue
			}
			_, err := st.RejectSpend(ctx, checker, id, "not ours")
			must(t, err)
		case "reject reversal":
			id, ok := pick(&reversals)
			if !ok {
				continue
			}
			_, err := st.RejectSpend(ctx, checker, id, "paid once after all")
			must(t, err)
		case "reverse":
			id, ok := pick(&approved)
			if !ok {
				continue
			}
			rev, err := st.ReverseSpend(ctx, maker, id, "paid twice")
			must(t, err)
			reversals = append(reversals, rev.ID)
		case "reserve":
			r, err := reserve(t, st, maker, fl.ID, amount)
			must(t, err)
			held = append(held, r.ID)
		case "release":
			id, ok := pick(&held)
			if !ok {
				continue
			}
			_, err := st.ReleaseReservation(ctx, maker, id, "tender withdrawn")
			must(t, err)
		case "award":
			approvedAward(t, st, fl, amount, "")
		case "rename":
			fl.Title = fmt.Sprintf("Renamed at step %d", step)
			must(t, st.UpdateFundingLine(ctx, actor, fl.ID, fl))
		}
		done[kind]++
		// The lines run through 2024-25; reversals are dated the day they
		// are recorded, in 2026-27, where a line shows only while it has
		// money, so lines enter and leave that year's report.
		for _, p := range [][2]string{{"2024-04-01", "2025-03-31"}, {"2024-07-01", "2024-09-30"}, {"2026-04-01", "2027-03-31"}} {
			got := moneyOf(t, st, p[0], p[1])
			sameMoney(t, fmt.Sprintf("step %d (%s), %s to %s", step, kind, p[0], p[1]), got, moneyReadAfresh(t, st, p[0], p[1], ids))
			if p[0] == "2026-04-01" {
				switch {
				case len(got) > shown:
					done["entered"]++
				case len(got) < shown:
					done["left"]++
				}
				shown = len(got)
			}
		}
	}
	for _, kind := range []string{"record", "approve", "reject", "reverse", "approve reversal", "reject reversal", "reserve", "release", "award", "rename", "entered", "left"} {
		if done[kind] == 0 {
			t.Fatalf("the walk never did %q: %v", kind, done)
		}
	}
}

// TestKeptMoneyIsReadAgainOnlyWhereItMoved: money changed behind the
// triggers' back (which only the schema's owner can do) is not seen while
// the line's money is kept, which shows the kept money is what is served;
// a change to another line does not read this one again, and a change to
// this one does.
func TestKeptMoneyIsReadAgainOnlyWhereItMoved(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	a, b := line(t, st, "5000.00"), line(t, st, "5000.00")
	maker, checker := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer)
	e := spendOn(t, st, maker, a, "100.00", "2024-06-03")
	_, err := st.ApproveSpend(ctx, checker, e.ID)
	must(t, err)
	spentOnA := func() string { return figureIn(moneyOf(t, st, "2024-04-01", "2025-03-31")[a.ID], "spent") }
	if got := spentOnA(); got != "100.00" {
		t.Fatalf("spent %s, want 100.00", got)
	}
	pgtest.Tamper(t, st, []string{"spend_yearly"}, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE spend_yearly SET amount = amount + 1 WHERE funding_line_id = ? AND status = 'approved'", a.ID)
		return err
	})
	if got := spentOnA(); got != "100.00" {
		t.Fatalf("with nothing changed the report read line a's money again: %s", got)
	}
	_, err = reserve(t, st, maker, b.ID, "10.00")
	must(t, err)
	if got := spentOnA(); got != "100.00" {
		t.Fatalf("a change to line b read line a's money again: %s", got)
	}
	_, err = reserve(t, st, maker, a.ID, "10.00")
	must(t, err)
	if got := spentOnA(); got != "101.00" {
		t.Fatalf("after a change to line a the report still says %s spent; want the rollup's 101.00", got)
	}
}

// TestKeptMoneyFollowsTransactionsInAnyOrder: a transaction that began
// before a report and commits after a later one's is still seen; a report
// in an older snapshot reads that snapshot's money and does not wind back
// what is kept; a transaction's own uncommitted money is read but never
// kept; pruning the changes makes reports read everything again, exactly;
// and the application role can neither write the changes nor move the
// pruning mark.
func TestKeptMoneyFollowsTransactionsInAnyOrder(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	a, b := line(t, st, "5000.00"), line(t, st, "5000.00")
	officer := person(t, st, models.RoleFinanceOfficer)
	ids := []int64{a.ID, b.ID}
	reserved := func(m map[int64]string) string {
		return fmt.Sprintf("a %s, b %s", figureIn(m[a.ID], "reserved"), figureIn(m[b.ID], "reserved"))
	}
	check := func(when, want string) {
		t.Helper()
		got := moneyOf(t, st, "2024-04-01", "2025-03-31")
		sameMoney(t, when, got, moneyReadAfresh(t, st, "2024-04-01", "2025-03-31", ids))
		if r := reserved(got); r != want {
			t.Fatalf("%s: reserved %s, want %s", when, r, want)
		}
	}
	check("at first", "a 0.00, b 0.00")

	// A reservation on a, made in a transaction left open while another
	// commits. Raw SQL, as the application role: the store's own
	// transactions queue behind each other for the audit trail's head.
	open, err := st.DB().BeginTx(ctx, nil)
	must(t, err)
	defer open.Rollback()
	_, err = open.ExecContext(ctx, `INSERT INTO reservations (funding_line_id, amount, purpose, expected_on, created_by)
		VALUES (?, 10.00, 'Open', '2024-07-01', ?)`, a.ID, officer.UserID)
	must(t, err)
	check("while a's reservation is uncommitted", "a 0.00, b 0.00")
	_, err = reserve(t, st, officer, b.ID, "20.00")
	must(t, err)
	check("after b's reservation committed", "a 0.00, b 20.00")
	must(t, open.Commit())
	check("after a's reservation committed, later than b's", "a 10.00, b 20.00")

	// A report in a snapshot taken before a change.
	read, reread, older := make(chan struct{}), make(chan struct{}), make(chan string)
	go func() {
		var r string
		err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) error {
			rows, err := st.LineFiguresFor(ctx, date("2024-04-01"), date("2025-03-31"), store.ReportScope{})
			if err != nil {
				return err
			}
			close(read)
			<-reread
			if rows, err = st.LineFiguresFor(ctx, date("2024-04-01"), date("2025-03-31"), store.ReportScope{}); err == nil {
				r = reserved(moneyByLine(rows))
			}
			return err
		})
		if err != nil {
			r = err.Error()
		}
		older <- r
	}()
	<-read
	_, err = reserve(t, st, officer, a.ID, "5.00")
	must(t, err)
	check("after a second reservation on a", "a 15.00, b 20.00")
	close(reread)
	if r := <-older; r != "a 10.00, b 20.00" {
		t.Fatalf("the report in the older snapshot reads reserved %s, want its own a 10.00, b 20.00", r)
	}
	check("after the older report", "a 15.00, b 20.00")

	// A transaction's own change, then rolled back.
	rollBack := errors.New("rolled back")
	err = st.InTx(ctx, func(ctx context.Context, tx *store.Store) error {
		if _, err := reserve(t, tx, officer, b.ID, "7.00"); err != nil {
			return err
		}
		rows, err := tx.LineFiguresFor(ctx, date("2024-04-01"), date("2025-03-31"), store.ReportScope{})
		if err != nil {
			return err
		}
		if r := reserved(moneyByLine(rows)); r != "a 15.00, b 27.00" {
			return fmt.Errorf("inside the transaction reserved %s, want its own a 15.00, b 27.00", r)
		}
		return rollBack
	})
	if !errors.Is(err, rollBack) {
		t.Fatal(err)
	}
	check("after the transaction rolled back", "a 15.00, b 20.00")

	removed, err := st.PruneLineMoneyChanges(ctx)
	must(t, err)
	if removed == 0 {
		t.Fatal("pruning removed no changes")
	}
	check("after pruning", "a 15.00, b 20.00")
	_, err = reserve(t, st, officer, a.ID, "1.00")
	must(t, err)
	check("after pruning and a change", "a 16.00, b 20.00")

	refusedToApp(t, st, a.ID, []struct{ name, sql string }{
		{"ErrChangeWritten", "INSERT INTO line_money_changes (funding_line_id) VALUES (?)"},
		{"ErrChangeDeleted", "DELETE FROM line_money_changes WHERE funding_line_id = ?"},
		{"ErrMarkMoved", "UPDATE line_money_changes_pruned SET below = '0' WHERE ? > 0"},
		{"ErrTriggerCalled", "SELECT line_money_changed() WHERE ? > 0"},
	})
}

// figureIn is the named figure in a line's moneyByLine text.
func figureIn(s, name string) string {
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v
		}
	}
	return ""
}
