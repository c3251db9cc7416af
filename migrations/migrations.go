// Package migrations holds granttrack's SQL schema as embedded, numbered
// migrations run by bun/migrate, so the binary needs nothing beside it.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

//go:embed *.sql
var sqlFiles embed.FS

// privilegesSQL is what the application role may do (see the file).
//
//go:embed privileges.sql
var privilegesSQL string

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

// UpAndGrant applies every pending migration, then grants the application
// role app exactly what privileges.sql lists, on the schema as it now
// stands. db must connect as the schema's owner; it returns the group
// applied (empty when there was nothing to do).
func UpAndGrant(ctx context.Context, db *bun.DB, app string) (*migrate.MigrationGroup, error) {
	var group *migrate.MigrationGroup
	// Under the migrators' lock: two processes granting at once would
	// otherwise collide on the same catalog rows.
	err := withLock(ctx, db, func(mg *migrate.Migrator) (err error) {
		if group, err = mg.Migrate(ctx); err != nil {
			return fmt.Errorf("migrations: up: %w", err)
		}
		return grant(ctx, db, app)
	})
	return group, err
}

// grant gives the role app the privileges privileges.sql lists, and no
// others, in one transaction. It refuses to grant to the role db connects
// as: the application role must not be the owner.
func grant(ctx context.Context, db *bun.DB, app string) error {
	var self string
	if err := db.NewRaw("SELECT current_user").Scan(ctx, &self); err != nil {
		return fmt.Errorf("migrations: grant: %w", err)
	}
	if app == "" || app == self {
		return fmt.Errorf("migrations: the application role must be a role other than the owner %s, which migrates", self)
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, stmt := range PrivilegeStatements(app) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrations: granting the application role %s its privileges: %w", app, err)
	}
	return nil
}

// PrivilegeStatements returns privileges.sql's statements, one by one, with
// the application role's name in place of :"app".
func PrivilegeStatements(app string) []string {
	var b strings.Builder
	for _, line := range strings.Split(privilegesSQL, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";\n") {
		if stmt = strings.TrimSpace(stmt); stmt != "" {
			out = append(out, strings.ReplaceAll(stmt, `:"app"`, pgx.Identifier{app}.Sanitize()))
		}
	}
	return out
}

// Pending returns the names of the migrations this binary has that db has
// not applied, oldest first. It only reads, so the application role can
// ask; a database never migrated has every migration pending.
func Pending(ctx context.Context, db bun.IDB) ([]string, error) {
	all, err := Migrations()
	if err != nil {
		return nil, err
	}
	var applied []string
	err = db.NewRaw("SELECT name FROM bun_migrations").Scan(ctx, &applied)
	var pgErr *pgconn.PgError
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !(errors.As(err, &pgErr) && pgErr.Code == "42P01") { // undefined_table: never migrated
		return nil, fmt.Errorf("migrations: reading which migrations are applied: %w", err)
	}
	done := map[string]bool{}
	for _, name := range applied {
		done[name] = true
	}
	var pending []string
	for _, m := range all.Sorted() {
		if !done[m.Name] {
			pending = append(pending, m.Name+"_"+m.Comment)
		}
	}
	return pending, nil
}
