package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Freshness says where a read came from and how current it is, so that a
// page can say how fresh its figures are.
type Freshness struct {
	Source string        `json:"source"` // "primary" or "replica"
	AsOf   time.Time     `json:"as_of"`  // the figures include every change committed up to this moment
	Lag    time.Duration `json:"-"`      // how far the replica was behind; 0 on the primary
	// Fallback says why a read meant for the replica went to the primary.
	Fallback string `json:"fallback,omitempty"`
}

// replica is a streaming replica that reports read from while it keeps
// up; its state is checked at most once a replicaCheckEvery.
type replica struct {
	st     *Store
	maxLag time.Duration

	mu        sync.Mutex
	checkedAt time.Time
	lag       time.Duration
	asOf      time.Time
	err       error
}

const replicaCheckEvery = time.Second

// OpenReplica connects, lazily, to a streaming replica at dsn: reports,
// the dashboard, the board pack and exports read from it through Reader
// while it is no more than maxLag behind this store's primary. A replica
// that is down when granttrack starts is used once it answers.
func (s *Store) OpenReplica(ctx context.Context, dsn string, maxLag time.Duration) error {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("store: parse the replica's address: %w", err)
	}
	cfg.ConnConfig.DefaultQueryExecMode = s.pool.Config().ConnConfig.DefaultQueryExecMode
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("store: replica: %w", err)
	}
	db := bun.NewDB(stdlib.OpenDBFromPool(pool), pgdialect.New())
	s.replica = &replica{st: &Store{db: db, bun: db, pool: pool, clock: s.clock, activity: s.activity, catalogue: s.catalogue, money: newLineMoney()}, maxLag: maxLag}
	return nil
}

// Reader is the store to read from for figures that may be a moment old:
// the replica while it keeps up, else this store (the primary), with how
// fresh either is. Anything that decides or writes uses the primary.
func (s *Store) Reader(ctx context.Context) (*Store, Freshness) {
	now := s.clock.Now()
	r := s.replica
	if r == nil {
		return s, Freshness{Source: "primary", AsOf: now}
	}
	lag, asOf, err := r.state(ctx, s)
	switch {
	case err != nil:
		return s, Freshness{Source: "primary", AsOf: now, Fallback: "the read replica does not answer"}
	case lag > r.maxLag:
		return s, Freshness{Source: "primary", AsOf: now, Lag: lag,
			Fallback: fmt.Sprintf("the read replica is %s behind, more than the %s allowed", lag.Round(time.Millisecond), r.maxLag)}
	}
	// The replica's store goes by the primary's clock, which tests pin.
	rs := *r.st
	rs.clock = s.clock
	return &rs, Freshness{Source: "replica", AsOf: asOf, Lag: lag}
}

// ReplicaLag is how far the replica is behind the primary now: 0 when it
// has replayed everything the primary has written. It errs without a
// replica, or when either does not answer.
func (s *Store) ReplicaLag(ctx context.Context) (time.Duration, error) {
	if s.replica == nil {
		return 0, fmt.Errorf("store: no read replica is configured")
	}
	lag, _, err := s.replica.measure(ctx, s)
	return lag, err
}

// HasReplica says whether a read replica is configured.
func (s *Store) HasReplica() bool { return s.replica != nil }

func (r *replica) state(ctx context.Context, primary *Store) (time.Duration, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := primary.clock.Now(); r.checkedAt.IsZero() || now.Sub(r.checkedAt) >= replicaCheckEvery || r.err != nil {
		r.lag, r.asOf, r.err = r.measure(ctx, primary)
		r.checkedAt = now
	}
	return r.lag, r.asOf, r.err
}

// measure compares what the primary has written with what the replica has
// replayed. Caught up, the replica is as fresh as now; behind, its figures
// are as of the last transaction it replayed, and the lag is the time since.
func (r *replica) measure(ctx context.Context, primary *Store) (time.Duration, time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var written string
	if err := primary.bun.NewRaw("SELECT pg_current_wal_lsn()::text").Scan(ctx, &written); err != nil {
		return 0, time.Time{}, err
	}
	var behind bool
	var replayedAt *time.Time
	var now time.Time
	// A server that is not replaying (the primary itself, or a promoted
	// replica) has no replay position and is as current as it gets.
	err := r.st.bun.NewRaw(`SELECT coalesce(pg_last_wal_replay_lsn() < ?::pg_lsn, false), pg_last_xact_replay_timestamp(), now()`, written).
		Scan(ctx, &behind, &replayedAt, &now)
	if err != nil {
		return 0, time.Time{}, err
	}
	if !behind {
		return 0, now, nil
	}
	if replayedAt == nil {
		return time.Duration(1<<63 - 1), time.Time{}, nil // has replayed nothing yet
	}
	return max(now.Sub(*replayedAt), 0), *replayedAt, nil
}

// closeReplica releases the replica's connections.
func (s *Store) closeReplica() {
	if s.replica != nil {
		s.replica.st.bun.Close()
		s.replica.st.pool.Close()
	}
}
