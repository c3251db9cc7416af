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
	all       []LineFigures // every reported line, as the catalogue orders them
	hasMoney  []bool        // whether all[i] has any money in the period
	kept      []LineFigures // what LineFiguresFor returns: those of all that run in the period or have money in it
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
	ids := make([]int64, 0, len(changed))
	next := &keptMoney{catalogue: e, snapshot: now, readAt: k.readAt, all: slices.Clone(k.all), hasMoney: slices.Clone(k.hasMoney)}
	for _, id := range changed {
		if i, ok := e.index[*id]; ok {
			ids = append(ids, *id)
			next.all[i] = LineFigures{ReportedLine: next.all[i].ReportedLine}
			next.hasMoney[i] = false
		}
	}
	if err := s.addMoney(ctx, from, to, ReportScope{}, ids, e.index, next.all, next.hasMoney); err != nil {
		return nil, err
	}
	next.kept = runningOrWithMoney(next.all, next.hasMoney, from, to)
	s.money.put(period, next)
	return next.kept, nil
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
	k := &keptMoney{catalogue: e, snapshot: now, readAt: readAt, all: make([]LineFigures, len(e.lines)), hasMoney: make([]bool, len(e.lines))}
	for i := range e.lines {
		k.all[i].ReportedLine = &e.lines[i]
	}
	if err := s.addMoney(ctx, from, to, ReportScope{}, nil, e.index, k.all, k.hasMoney); err != nil {
		return nil, err
	}
	k.kept = runningOrWithMoney(k.all, k.hasMoney, from, to)
	return k, nil
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

// runningOrWithMoney is the lines of all that run in [from, to] or have
// money in it.
func runningOrWithMoney(all []LineFigures, hasMoney []bool, from, to time.Time) []LineFigures {
	kept := make([]LineFigures, 0, len(all))
	for i, f := range all {
		if hasMoney[i] || (!f.StartsOn.After(to) && !f.EndsOn.Before(from)) {
			kept = append(kept, f)
		}
	}
	return kept
}

// PruneLineMoneyChanges removes the changes to lines' money that every
// snapshot from now on sees, and says how many it removed. Processes whose
// kept money is older read all of it again (once).
func (s *Store) PruneLineMoneyChanges(ctx context.Context) (int64, error) {
	var removed int64
	err := s.db.NewRaw("SELECT prune_line_money_changes()").Scan(ctx, &removed)
	return removed, translate(err)
}
