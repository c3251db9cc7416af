package report

import (
	"sync"
	"time"

	"github.com/shopspring/decimal"

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
