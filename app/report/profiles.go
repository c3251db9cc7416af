package report

import (
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"granttrack/models"
)

// profiles remembers budget profiles. A line's profile depends only on its
// budget and dates, which seldom change, and working out ten thousand of
// them is most of a large report's own time. The key holds every input, so
// a changed line simply misses; the cache is emptied when it grows past
// maxProfiles.
var profiles = profileCache{m: map[profileKey][]models.QuarterAmount{}}

const maxProfiles = 100_000

type profileKey struct {
	budget       string
	starts, ends int64
}

type profileCache struct {
	mu sync.Mutex
	m  map[profileKey][]models.QuarterAmount
}

// profile returns the line's budget profile; callers must not change it.
func (c *profileCache) profile(budget decimal.Decimal, starts, ends time.Time) ([]models.QuarterAmount, error) {
	k := profileKey{budget: budget.String(), starts: starts.Unix(), ends: ends.Unix()}
	c.mu.Lock()
	p, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := models.ProfileBudget(budget, starts, ends)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxProfiles {
		clear(c.m)
	}
	c.m[k] = p
	c.mu.Unlock()
	return p, nil
}
