// Package migrations holds granttrack's SQL schema as embedded, numbered
// migrations run by bun/migrate, so the binary needs nothing beside it.
package migrations

import (
	"context"
	"embed"
	"fmt"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var sqlFiles embed.FS

// Migrations returns the embedded migration set.
func Migrations() (*migrate.Migrations, error) {
	m := migrate.NewMigrations()
	if err := m.Discover(sqlFiles); err != nil {
		return nil, fmt.Errorf("migrations: discover: %w", err)
	}
	return m, nil
}

// NewMigrator returns a migrator over db that marks a migration applied only
// when it succeeded, so a failed migration is retried rather than skipped.
func NewMigrator(db *bun.DB) (*migrate.Migrator, error) {
	m, err := Migrations()
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db, m, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// Up applies every pending migration and returns the group applied (empty
// when there was nothing to do).
func Up(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	var group *migrate.MigrationGroup
	err := withLock(ctx, db, func(mg *migrate.Migrator) (err error) {
		group, err = mg.Migrate(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("migrations: up: %w", err)
	}
	return group, nil
}

// Down rolls back the last applied group of migrations.
func Down(ctx context.Context, db *bun.DB) (*migrate.MigrationGroup, error) {
	var group *migrate.MigrationGroup
	err := withLock(ctx, db, func(mg *migrate.Migrator) (err error) {
		group, err = mg.Rollback(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("migrations: down: %w", err)
	}
	return group, nil
}

// Status returns every known migration with whether it has been applied.
func Status(ctx context.Context, db *bun.DB) (migrate.MigrationSlice, error) {
	var ms migrate.MigrationSlice
	err := withLock(ctx, db, func(mg *migrate.Migrator) (err error) {
		ms, err = mg.MigrationsWithStatus(ctx)
		return err
	})
	return ms, err
}

// lockKey is the advisory lock that serialises migrators across processes.
const lockKey = 7_301_202_411

// withLock runs fn with a session advisory lock held on a dedicated
// connection. Bun's own lock is a table row that a crash leaves behind; an
// advisory lock dies with its session.
func withLock(ctx context.Context, db *bun.DB, fn func(*migrate.Migrator) error) error {
	mg, err := NewMigrator(db)
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", lockKey); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", lockKey) //nolint:errcheck // the lock also ends with the session
	if err := mg.Init(ctx); err != nil {
		return err
	}
	return fn(mg)
}
