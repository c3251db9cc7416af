package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// lineMoney keeps, for a few periods, every reported line's money figures
// as they were read in some snapshot, with that snapshot. A later report
// reads again only the lines named by the changes (line_money_changes) that
// its own snapshot sees and the kept one did not, and takes the rest as
// kept: at ten thousand lines, reading every line's money was most of a
// dashboard's time, though between two views few lines' money moves. The
// kept figures are exact for the later snapshot because every change to a
// line's money writes its change row in the same transaction (the
// database's triggers), and a snapshot sees a change row exactly when it
// sees the change.
type lineMoney struct {
	mu      sync.Mutex
	periods map[moneyPeriod]*keptMoney
}

type moneyPeriod struct{ from, to int64 } // Unix days

// keptMoney is every reported line's money for a period in one snapshot,
// read only once kept.
type keptMoney struct {
	catalogue *catalogueEntry // the lines it was read with
	snapshot  pgSnapshot
	readAt    time.Time
	// kept is what LineFiguresFor returns: the catalogue's lines that run
	// in the period or have money in it, in its order; index is each one's
	// place in kept, by id. A line not kept has no money in the period.
	kept  []LineFigures
	index map[int64]int
	// When kept was made from before by reading again the money of a few
	// lines, none of which entered or left it, moved are their places
	// (MovedLines).
	before []LineFigures
	moved  []int
}

// moneyPeriods bounds the periods kept (each ~2 MB at 10,000 lines).
const moneyPeriods = 8

// moneyChangesRead bounds the changed lines read one by one; more than this
// and every line's money is read again, which costs about as much.
const moneyChangesRead = 2000

func newLineMoney() *lineMoney { return &lineMoney{periods: map[moneyPeriod]*keptMoney{}} }

func (m *lineMoney) get(p moneyPeriod) *keptMoney {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.periods[p]
}

// put keeps k for p unless what is kept is newer: a report that read an
// older snapshot (one that began earlier) does not wind the money back.
func (m *lineMoney) put(p moneyPeriod, k *keptMoney) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.periods[p]; ok && old.catalogue == k.catalogue && !k.snapshot.sees(old.snapshot) {
		return
	}
	if _, ok := m.periods[p]; !ok && len(m.periods) >= moneyPeriods {
		clear(m.periods)
	}
	m.periods[p] = k
}

// allLineFigures is LineFiguresFor over every line: the lines from the
// catalogue, their money from what is kept for the period where the
// snapshot allows, else from the database.
func (s *Store) allLineFigures(ctx context.Context, from, to time.Time) ([]LineFigures, error) {
	if _, inTx := s.db.(bun.Tx); !inTx {
		// The money kept must be what its snapshot holds: read in one.
		var out []LineFigures
		err := s.Snapshot(ctx, func(ctx context.Context, st *Store) (err error) {
			out, err = st.allLineFigures(ctx, from, to)
			return err
		})
		return out, err
	}
	e, err := s.catalogueFor(ctx, models.FinancialYearOf(from))
	if err != nil {
		return nil, err
	}
	var snapshot, prunedBelow string
	var wrote bool
	if err := s.db.NewRaw(`SELECT pg_current_snapshot()::text, (SELECT below FROM line_money_changes_pruned)::text,
		pg_current_xact_id_if_assigned() IS NOT NULL`).Scan(ctx, &snapshot, &prunedBelow, &wrote); err != nil {
		return nil, translate(err)
	}
	now, err := parseSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	below, err := strconv.ParseUint(prunedBelow, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("store: line_money_changes_pruned: %w", err)
	}
	if wrote {
		// A transaction's own changes are not yet anyone else's, and may
		// never be: its money is read, not kept, nor read from what is.
		k, err := s.readMoney(ctx, from, to, e, now, time.Now())
		if err != nil {
			return nil, err
		}
		return k.kept, nil
	}
	period := moneyPeriod{from: from.Unix() / 86400, to: to.Unix() / 86400}
	k := s.money.get(period)
	t := time.Now()
	if k == nil || k.catalogue != e || t.Sub(k.readAt) > catalogueMaxAge || t.Before(k.readAt) ||
		!now.sees(k.snapshot) || below > k.snapshot.xmin {
		return s.readAllMoney(ctx, period, from, to, e, now, t)
	}
	var changed []*int64 // nil: every line
	if err := s.db.NewRaw(`SELECT DISTINCT funding_line_id FROM line_money_changes
		WHERE xid >= ?::xid8 AND NOT pg_visible_in_snapshot(xid, ?::pg_snapshot)`,
		strconv.FormatUint(k.snapshot.xmin, 10), k.snapshot.text).Scan(ctx, &changed); err != nil {
		return nil, translate(err)
	}
	if len(changed) > moneyChangesRead || slices.Contains(changed, nil) {
		return s.readAllMoney(ctx, period, from, to, e, now, t)
	}
	if len(changed) == 0 {
		// The money is as kept; keeping the newer snapshot makes the next
		// report's look for changes shorter.
		if now.text != k.snapshot.text {
			moved := *k
			moved.snapshot = now
			s.money.put(period, &moved)
		}
		return k.kept, nil
	}
	// The changed lines' money, read again.
	var ids []int64
	var fresh []LineFigures
	freshIndex := map[int64]int{}
	for _, id := range changed {
		if i, ok := e.index[*id]; ok {
			freshIndex[*id] = len(fresh)
			ids, fresh = append(ids, *id), append(fresh, LineFigures{ReportedLine: &e.lines[i]})
		}
	}
	has := make([]bool, len(fresh))
	if err := s.addMoney(ctx, from, to, ReportScope{}, ids, freshIndex, fresh, has); err != nil {
		return nil, err
	}
	next := &keptMoney{catalogue: e, snapshot: now, readAt: k.readAt}
	same := true
	for j, f := range fresh {
		if _, was := k.index[f.LineID]; was != reported(f, has[j], from, to) {
			same = false
		}
	}
	if same {
		// Each in its place; the places are as they were.
		next.kept, next.index, next.before = slices.Clone(k.kept), k.index, k.kept
		for _, f := range fresh {
			if at, ok := k.index[f.LineID]; ok {
				next.kept[at] = f
				next.moved = append(next.moved, at)
			}
		}
	} else {
		// A line entered or left the report: laid out again, in the
		// catalogue's order.
		next.kept = make([]LineFigures, 0, len(k.kept)+len(fresh))
		for i := range e.lines {
			if j, ok := freshIndex[e.lines[i].LineID]; ok {
				if reported(fresh[j], has[j], from, to) {
					next.kept = append(next.kept, fresh[j])
				}
			} else if at, ok := k.index[e.lines[i].LineID]; ok {
				next.kept = append(next.kept, k.kept[at])
			}
		}
		next.index = indexOf(next.kept)
	}
	s.money.put(period, next)
	return next.kept, nil
}

// MovedLines says, when after is what LineFiguresFor returned next over
// every line for a period after it returned before, and none of its lines
// entered or left, which places in after hold lines whose money was read
// again (every other line's figures are before's); false when it does not
// know.
func (s *Store) MovedLines(before, after []LineFigures) ([]int, bool) {
	if len(before) == 0 || len(after) == 0 {
		return nil, false
	}
	s.money.mu.Lock()
	defer s.money.mu.Unlock()
	for _, k := range s.money.periods {
		if len(k.kept) > 0 && &k.kept[0] == &after[0] && len(k.before) == len(before) && &k.before[0] == &before[0] {
			return k.moved, true
		}
	}
	return nil, false
}

// readAllMoney reads every line's money for the period and keeps it.
func (s *Store) readAllMoney(ctx context.Context, period moneyPeriod, from, to time.Time, e *catalogueEntry, now pgSnapshot, readAt time.Time) ([]LineFigures, error) {
	k, err := s.readMoney(ctx, from, to, e, now, readAt)
	if err != nil {
		return nil, err
	}
	s.money.put(period, k)
	return k.kept, nil
}

// readMoney reads every line's money for the period.
func (s *Store) readMoney(ctx context.Context, from, to time.Time, e *catalogueEntry, now pgSnapshot, readAt time.Time) (*keptMoney, error) {
	all, index := e.figures(ReportScope{})
	hasMoney := make([]bool, len(all))
	if err := s.addMoney(ctx, from, to, ReportScope{}, nil, index, all, hasMoney); err != nil {
		return nil, err
	}
	kept := runningOrWithMoney(all, hasMoney, from, to)
	return &keptMoney{catalogue: e, snapshot: now, readAt: readAt, kept: kept, index: indexOf(kept)}, nil
}

func indexOf(ls []LineFigures) map[int64]int {
	index := make(map[int64]int, len(ls))
	for i, l := range ls {
		index[l.LineID] = i
	}
	return index
}

// pgSnapshot is a PostgreSQL snapshot (pg_current_snapshot): every
// transaction below xmin had finished, none from xmax on had, and those in
// xip were still running.
type pgSnapshot struct {
	text       string
	xmin, xmax uint64
	xip        []uint64
}

func parseSnapshot(s string) (pgSnapshot, error) {
	out := pgSnapshot{text: s}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return pgSnapshot{}, fmt.Errorf("store: snapshot %q", s)
	}
	var err error
	if out.xmin, err = strconv.ParseUint(parts[0], 10, 64); err != nil {
		return pgSnapshot{}, fmt.Errorf("store: snapshot %q: %w", s, err)
	}
	if out.xmax, err = strconv.ParseUint(parts[1], 10, 64); err != nil {
		return pgSnapshot{}, fmt.Errorf("store: snapshot %q: %w", s, err)
	}
	if parts[2] != "" {
		for _, x := range strings.Split(parts[2], ",") {
			id, err := strconv.ParseUint(x, 10, 64)
			if err != nil {
				return pgSnapshot{}, fmt.Errorf("store: snapshot %q: %w", s, err)
			}
			out.xip = append(out.xip, id)
		}
	}
	return out, nil
}

// sees says whether every transaction that had finished in o had finished
// in s too, so that s sees every change o sees (and perhaps more). A
// transaction had finished in o when it is below o.xmax and not in o.xip;
// s saw it too unless it is at or above s.xmax or in s.xip.
func (s pgSnapshot) sees(o pgSnapshot) bool {
	if o.xmax > s.xmax {
		return false
	}
	for _, x := range s.xip {
		if x < o.xmax && !slices.Contains(o.xip, x) {
			return false
		}
	}
	return true
}

// runningOrWithMoney is the lines of all that a report of [from, to]
// shows (reported).
func runningOrWithMoney(all []LineFigures, hasMoney []bool, from, to time.Time) []LineFigures {
	kept := make([]LineFigures, 0, len(all))
	for i, f := range all {
		if reported(f, hasMoney[i], from, to) {
			kept = append(kept, f)
		}
	}
	return kept
}

// reported says whether a report of [from, to] shows the line: when it
// runs in the period or has money in it.
func reported(f LineFigures, hasMoney bool, from, to time.Time) bool {
	return hasMoney || (!f.StartsOn.After(to) && !f.EndsOn.Before(from))
}

// PruneLineMoneyChanges removes the changes to lines' money that every
// snapshot from now on sees, and says how many it removed. Processes whose
// kept money is older read all of it again (once).
func (s *Store) PruneLineMoneyChanges(ctx context.Context) (int64, error) {
	var removed int64
	err := s.db.NewRaw("SELECT prune_line_money_changes()").Scan(ctx, &removed)
	return removed, translate(err)
}
