// Package store is granttrack's only way to the database: one method per
// query, multi-step writes in one transaction, and driver errors turned into
// coded domain errors so nothing above it sees a SQLSTATE.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"granttrack/models"
)

// Store wraps the connection pool.
type Store struct {
	db   bun.IDB // the pool, or a transaction (see InTx)
	bun  *bun.DB
	pool *pgxpool.Pool
	// clock dates what the store records (decisions, reversals); nil is the
	// system clock.
	clock models.Clock
	// replica, if any, is where Reader sends reads that may be a moment old.
	replica *replica
	// activity counts decisions and imports for monitoring.
	activity *activity
	// catalogue keeps the reported lines between reports (see
	// lineCatalogue).
	catalogue *lineCatalogue
	// money keeps the lines' money between reports (see lineMoney).
	money *lineMoney
}

// Open connects to the PostgreSQL server at dsn and checks that it answers.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: parse database address: %w", err)
	}
	// Bun formats every query itself and sends no parameters, so the simple
	// protocol costs one round trip and prepares nothing on the server.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	if cfg.MaxConns < 10 {
		cfg.MaxConns = 20
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: connect: %w", err)
	}
	db := bun.NewDB(stdlib.OpenDBFromPool(pool), pgdialect.New())
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		pool.Close()
		return nil, fmt.Errorf("store: ping: %w", err)
	}
	return &Store{db: db, bun: db, pool: pool, activity: newActivity(), catalogue: newLineCatalogue(), money: newLineMoney()}, nil
}

// SetClock makes the store read the time from clock; tests pin it to an
// instant. nil is the system clock.
func (s *Store) SetClock(clock models.Clock) { s.clock = clock }

// Clock returns the store's clock: the time every part of granttrack that
// works on this store goes by.
func (s *Store) Clock() models.Clock { return s.clock }

// inside returns a copy of the store whose methods work in tx.
func (s *Store) inside(tx bun.Tx) *Store {
	c := *s
	c.db = tx
	return &c
}

// DB returns the Bun handle, for migrations and tests.
func (s *Store) DB() *bun.DB { return s.bun }

// Pool returns the pgx pool, for bulk COPY.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close releases every connection.
func (s *Store) Close() error {
	s.closeReplica()
	err := s.bun.Close()
	s.pool.Close()
	return err
}

// Ping reports whether the database answers; EUNAVAILABLE when it does not.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.bun.PingContext(ctx); err != nil {
		return &models.Error{Code: models.EUNAVAILABLE, Message: "The database is not reachable.", Err: err}
	}
	return nil
}

// inTx runs fn in one transaction; any error rolls everything back.
func (s *Store) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	return translate(s.db.RunInTx(ctx, &sql.TxOptions{}, fn))
}

// InTx runs fn with a store whose every method works inside one transaction
// (each method's own transaction becomes a savepoint), so that several
// changes land together or not at all.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, st *Store) error) error {
	return translate(s.db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, s.inside(tx))
	}))
}

// notFound turns sql.ErrNoRows into an ENOTFOUND error naming what was sought.
func notFound(err error, what string, id any) error {
	if errors.Is(err, sql.ErrNoRows) {
		return models.Errorf(models.ENOTFOUND, "%s %v was not found.", what, id)
	}
	return translate(err)
}

// sqlTxReadOnlySnapshot reads a consistent snapshot without writing.
var sqlTxReadOnlySnapshot = sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}

// lockKey takes a transaction-scoped lock on row id of table without
// locking the row itself: SELECT … FOR UPDATE needs UPDATE privilege on the
// table, which the application role lacks on tables it never updates
// (migrations/privileges.sql). Two keys collide only for ids 2^31 apart,
// which at worst makes one writer wait.
func lockKey(ctx context.Context, tx bun.Tx, table string, id int64) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtext(?), (? % 2147483648)::int)", table, id)
	return err
}
