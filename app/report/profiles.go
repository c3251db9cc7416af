package report

import (
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// quarters remembers how lines' yearly budgets split into quarters. A
// split depends only on the year's amount, the year and the line's dates,
// which seldom change, and working out ten thousand of them is most of a
// large quarterly report's own time. The key holds every input, so a
// changed profile simply misses; the cache is emptied when it grows past
// maxSplits.
var quarters = splitCache{m: map[splitKey][]decimal.Decimal{}}

const maxSplits = 100_000

type splitKey struct {
	amount       string
	year         models.FinancialYear
	starts, ends int64
}

type splitCache struct {
	mu sync.Mutex
	m  map[splitKey][]decimal.Decimal
}

// budgetIn is the part of a line's profiled budget for p's year that falls
// in p: the whole year's amount, or its quarter's share by the days the
// line runs in each quarter.
func budgetIn(yearBudget decimal.Decimal, p models.Period, starts, ends time.Time) (decimal.Decimal, error) {
	if p.Quarter == 0 || yearBudget.IsZero() {
		return yearBudget, nil
	}
	k := splitKey{amount: yearBudget.String(), year: p.Year, starts: starts.Unix(), ends: ends.Unix()}
	quarters.mu.Lock()
	split, ok := quarters.m[k]
	quarters.mu.Unlock()
	if !ok {
		var err error
		if split, err = models.QuartersOf(yearBudget, p.Year, starts, ends); err != nil {
			return decimal.Zero, err
		}
		quarters.mu.Lock()
		if len(quarters.m) >= maxSplits {
			clear(quarters.m)
		}
		quarters.m[k] = split
		quarters.mu.Unlock()
	}
	return split[p.Quarter-1], nil
}

// ratings remembers each line's forecast, variance, rating and share of its
// budget spent for a period as of a moment. They are a pure function of the
// line's budget and spend in the period, its dates, the period and the
// moment, and working out ten thousand forecasts was most of a dashboard's
// own time, though between two views of it few lines' money moves. The key holds the line, the period and
// the moment, and the entry the rest of the inputs, compared exactly, so a
// line whose money or dates moved simply misses. One lock a period: a
// report holds it while it rates its lines.
var ratings = ratingCache{periods: map[ratingPeriod]*periodRatings{}}

// maxRatedPeriods bounds the periods remembered (each ~1.5 MB at 10,000
// lines); all are forgotten when one more is asked for.
const maxRatedPeriods = 8

type ratingPeriod struct {
	year    models.FinancialYear
	quarter models.Quarter
	asOf    int64 // Unix nanoseconds
}

type rated struct {
	budget, spent decimal.Decimal
	starts, ends  time.Time
	rating
	used int64
}

type periodRatings struct {
	mu     sync.Mutex
	lines  map[int64]rated
	worked int // ratings worked out rather than remembered
}

type ratingCache struct {
	mu      sync.Mutex
	periods map[ratingPeriod]*periodRatings
}

func (c *ratingCache) of(p models.Period, asOf time.Time) *periodRatings {
	k := ratingPeriod{year: p.Year, quarter: p.Quarter, asOf: asOf.UnixNano()}
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.periods[k]
	if !ok {
		if len(c.periods) >= maxRatedPeriods {
			clear(c.periods)
		}
		r = &periodRatings{lines: map[int64]rated{}}
		c.periods[k] = r
	}
	return r
}

// rate is a line's rating for the period (its forecast, variance and RAG
// as Figures.rate and the variance work them out from its budget for the
// period and its spend) and usedPercent, from what is remembered when the
// inputs are the same. The caller holds r.mu.
func (r *periodRatings) rate(id int64, budget, spent decimal.Decimal, p models.Period, starts, ends, asOf time.Time) (rating, int64) {
	if m, ok := r.lines[id]; ok && m.budget.Equal(budget) && m.spent.Equal(spent) && m.starts.Equal(starts) && m.ends.Equal(ends) {
		return m.rating, m.used
	}
	f := Figures{Budget: budget, Spent: spent}
	f.rate(p, starts, ends, asOf)
	f.Variance = f.Forecast.Sub(f.Budget)
	m := rated{budget: budget, spent: spent, starts: starts, ends: ends,
		rating: rating{Budget: budget, Forecast: f.Forecast, Variance: f.Variance, RAG: f.RAG}, used: usedPercent(f)}
	r.worked++
	r.lines[id] = m
	return m.rating, m.used
}

// usedPercent is the whole percentage of its budget that f has spent,
// rounded down (so spent × 100 ≥ budget × n exactly when it is n or
// more), at most maxUsedPercent; 0 without a positive budget and spend.
func usedPercent(f Figures) int64 {
	if !f.Budget.IsPositive() || !f.Spent.IsPositive() {
		return 0
	}
	q, _ := f.Spent.Shift(2).QuoRem(f.Budget, 0)
	if q.GreaterThan(maxUsed) {
		return maxUsedPercent
	}
	return q.IntPart()
}

const maxUsedPercent = 1_000_000

var maxUsed = decimal.NewFromInt(maxUsedPercent)

// worked remembers, for each period, moment and scope, the lines last
// worked out and their programmes, with the line figures they came from.
// The store hands back the very same figures, never changed, while no
// line's details or money have moved (its line catalogue and kept money),
// so the same figures for the same period as of the same moment are the
// same lines and programmes; at ten thousand lines, grouping them was most
// of what was left of a dashboard's own time. Any other figures simply
// replace what is remembered for their period and scope. Read only.
var worked = workedCache{m: map[workedKey]*workedLines{}}

// maxWorked bounds the periods and scopes remembered (each ~1 MB at 10,000
// lines); all are forgotten when one more is asked for.
const maxWorked = 8

type workedKey struct {
	period ratingPeriod
	scope  store.ReportScope
}

type workedLines struct {
	rows []store.LineFigures // what they were worked out from
	ls   []line
	// moved are the places of the lines worked out again when ls was made
	// from prev's (lines), whose programmes byProgramme then moves rather
	// than grouping ten thousand lines afresh; prev is dropped once ls's
	// own are kept. Both, and programmes, are guarded by the cache's lock.
	moved      []int
	prev       *workedLines
	programmes *programmeSums
}

type workedCache struct {
	mu sync.Mutex
	m  map[workedKey]*workedLines
}

// find is what is remembered for q, if match says it is what is sought.
func (c *workedCache) find(q Query, match func(w *workedLines) bool) *workedLines {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w := c.m[q.workedKey()]; w != nil && match(w) {
		return w
	}
	return nil
}

// follow records that next's lines were made from prev's, the lines at the
// places at worked out again, when prev's programmes are kept (so that
// next's can be moved from them, and no longer chain of lines is kept
// alive).
func (c *workedCache) follow(next, prev *workedLines, at []int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev.programmes != nil {
		next.prev, next.moved = prev, at
	}
}

// programmesOf is w's programmes if kept; else the lines it was made from
// and their programmes, if kept.
func (c *workedCache) programmesOf(w *workedLines) (sums *programmeSums, prev *workedLines, base *programmeSums) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.programmes != nil || w.prev == nil {
		return w.programmes, nil, nil
	}
	return nil, w.prev, w.prev.programmes
}

// keepProgrammes keeps sums as w's programmes, unless another report kept
// them first, and returns what is kept.
func (c *workedCache) keepProgrammes(w *workedLines, sums *programmeSums) *programmeSums {
	c.mu.Lock()
	defer c.mu.Unlock()
	if w.programmes == nil {
		w.programmes, w.prev = sums, nil
	}
	return w.programmes
}

// sameSlice says whether a and b are the very same elements in memory.
func sameSlice[T any](a, b []T) bool { return len(a) == len(b) && len(a) > 0 && &a[0] == &b[0] }

func (c *workedCache) put(q Query, w *workedLines) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := q.workedKey()
	if _, ok := c.m[k]; !ok && len(c.m) >= maxWorked {
		clear(c.m)
	}
	c.m[k] = w
}

func (q Query) workedKey() workedKey {
	return workedKey{period: ratingPeriod{year: q.Period.Year, quarter: q.Period.Quarter, asOf: q.AsOf.UnixNano()}, scope: q.Scope}
}
