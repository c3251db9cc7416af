// Package pgtest gives each test package a fresh, real PostgreSQL database,
// because granttrack's queries are only worth testing against the server
// they will run on: there is no mock. The database is created on the server
// named by TEST_DATABASE_URL when that is set (a shared CI server, say), or
// else on a private cluster started for the package in a temp dir and thrown
// away after it.
//
// Tests connect as the application role (DSN), which is no superuser and
// owns nothing, as granttrack itself does: a test cannot pass by a power
// the running program lacks. The schema's owner (OwnerDSN) is for set-up,
// such as migrations, and for tests that play someone tampering with the
// ledger behind the application (Tamper).
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"granttrack/app/pgembed"
	"granttrack/app/store"
	"granttrack/migrations"
)

var (
	dsn      string // the package's database, as the application role
	ownerDSN string // the same, as the schema's owner
	adminDSN string // the server, as a role that creates databases
	appRole  string
)

// DSN returns the connection string of this test package's fresh database,
// as the application role. It is empty outside Main.
func DSN() string { return dsn }

// OwnerDSN returns the connection string of this test package's database
// as the schema's owner: for set-up, never for what a test checks.
func OwnerDSN() string { return ownerDSN }

// AdminDSN returns the connection string of the server (its postgres
// database) as the role that made the test databases: a superuser on
// private clusters. For tests of what granttrack refuses to connect as.
func AdminDSN() string { return adminDSN }

// AppRole returns the name of the application role.
func AppRole() string { return appRole }

// Main runs a test package against a fresh real PostgreSQL database and
// exits; call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { MainWith(m, nil) }

// MainWith is Main with setup run on the fresh database, as its owner,
// before any test (usually to apply migrations). A failing setup fails the
// package.
func MainWith(m *testing.M, setup func(ctx context.Context, dsn string) error) {
	os.Exit(run(m, setup))
}

// run is Main without the exit, so that the deferred clean-up runs.
func run(m *testing.M, setup func(ctx context.Context, dsn string) error) int {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := "granttrack_test_" + randomHex(8)

	if server := os.Getenv("TEST_DATABASE_URL"); server != "" {
		drop, err := createOn(ctx, server, name)
		if err != nil {
			return fail(err)
		}
		defer func() {
			if err := drop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgtest:", err)
			}
		}()
	} else {
		teardown, err := startPrivate(ctx, name)
		if err != nil {
			return fail(err)
		}
		defer teardown()
	}

	if setup != nil {
		if err := setup(ctx, ownerDSN); err != nil {
			return fail(fmt.Errorf("setup of database %s: %w", name, err))
		}
	}
	return m.Run()
}

// createOn creates an owner and an application role and database name,
// owned by the former, on the server, points dsn and ownerDSN at it, and
// returns what drops them. The roles are the package's own (roles are
// shared by the whole server, and packages run in parallel), with random
// passwords, since the server may not trust its connections.
func createOn(ctx context.Context, server, name string) (drop func() error, err error) {
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	defer admin.Close(context.Background())
	owner, ownerPass, app, appPass := name+"_owner", randomHex(16), name+"_app", randomHex(16)
	for _, q := range []string{
		"CREATE ROLE " + owner + " LOGIN PASSWORD '" + ownerPass + "'",
		"CREATE ROLE " + app + " LOGIN PASSWORD '" + appPass + "'",
		"GRANT " + owner + " TO CURRENT_USER", // CREATE DATABASE … OWNER needs it without superuser
		"CREATE DATABASE " + name + " OWNER " + owner,
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return nil, fmt.Errorf("TEST_DATABASE_URL: %s: %w", q, err)
		}
	}
	if dsn, err = pgembed.WithDatabase(withRole(server, app, appPass), name); err != nil {
		return nil, err
	}
	if ownerDSN, err = pgembed.WithDatabase(withRole(server, owner, ownerPass), name); err != nil {
		return nil, err
	}
	adminDSN, appRole = server, app
	return func() error {
		// A new connection: the tests may have run for longer than the
		// server keeps an idle one. FORCE ends sessions tests left open.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
		}
		defer admin.Close(context.Background())
		// Databases FreshMigrated made and a test failed to drop go first.
		rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = $1", owner)
		if err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
		}
		dbs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
		}
		for _, db := range dbs {
			if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)"); err != nil {
				return fmt.Errorf("dropping %s: %w", db, err)
			}
		}
		for _, role := range []string{app, owner} {
			if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
				return fmt.Errorf("dropping role %s: %w", role, err)
			}
		}
		return nil
	}, nil
}

// startPrivate starts a throw-away cluster holding database name, points
// dsn at it, and returns what stops the cluster and deletes it.
func startPrivate(ctx context.Context, name string) (teardown func(), err error) {
	dir, err := os.MkdirTemp("", "granttrack-pgtest-")
	if err != nil {
		return nil, err
	}
	// MkdirTemp makes it 0700; when the tests run as root, the server runs
	// as the postgres user, which must be able to enter it.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	cluster, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, Database: name, Fast: true})
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	dsn, ownerDSN, adminDSN, appRole = cluster.DSN(), cluster.OwnerDSN(), cluster.DSNAs(pgembed.Superuser, "postgres"), pgembed.App

	stopped := make(chan struct{})
	teardown = func() {
		close(stopped)
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	// An interrupted run (Ctrl-C, or go test killing a hung binary with
	// SIGTERM) would skip the deferred teardown. The server would still shut
	// itself down when this process dies, but the cluster's files would stay
	// in the temp dir.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "pgtest: %v: stopping the test cluster in %s\n", sig, dir)
			_ = cluster.Stop()
			_ = os.RemoveAll(dir)
			os.Exit(1)
		case <-stopped:
			signal.Stop(sigs)
		}
	}()
	return teardown, nil
}

// withRole makes a connection string, URL or keyword/value form, log in as
// another role.
func withRole(base, user, password string) string {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		if u, err := url.Parse(base); err == nil {
			u.User = url.UserPassword(user, password)
			return u.String()
		}
	}
	return base + " user=" + user + " password=" + password // a later keyword overrides an earlier one
}

func fail(err error) int {
	fmt.Fprintln(os.Stderr, "pgtest:", err)
	return 1
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// MainMigrated runs the package's tests against a fresh database with every
// migration applied and the application role granted its privileges: what
// most test packages want.
func MainMigrated(m *testing.M) {
	MainWith(m, migrate)
}

// migrate applies every migration as the owner, then grants the
// application role its privileges, as `granttrack migrate up` does.
func migrate(ctx context.Context, owner string) error {
	st, err := store.Open(ctx, owner)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = migrations.UpAndGrant(ctx, st.DB(), appRole)
	return err
}

// FreshMigrated returns the address, as the application role, of another
// fresh database with every migration applied, on the same server as DSN,
// dropped when t ends: for a test whose data no other test in the package
// may see (the demo data set, say), or whose whole-database counts others'
// data would upset. Owner gives its owner's address.
func FreshMigrated(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fresh := Fresh(t)
	if err := migrate(ctx, Owner(fresh)); err != nil {
		t.Fatal(err)
	}
	return fresh
}

// Fresh returns the address, as the application role, of another empty
// database on the same server as DSN, owned by the schema's owner and
// dropped when t ends.
func Fresh(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "granttrack_test_" + randomHex(8)
	owner, err := pgx.ParseConfig(ownerDSN)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" OWNER "+pgx.Identifier{owner.User}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, adminDSN)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	fresh, err := pgembed.WithDatabase(dsn, name)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}

// Migrate applies every pending migration to the database dsn names and
// grants the application role its privileges, as the owner, the way
// `granttrack migrate up` does (after restoring a backup, say).
func Migrate(t testing.TB, dsn string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := migrate(ctx, Owner(dsn)); err != nil {
		t.Fatal(err)
	}
}

// Owner returns the connection string of the database dsn names, as the
// schema's owner.
func Owner(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		panic(fmt.Sprintf("pgtest: %v", err))
	}
	owner, err := pgembed.WithDatabase(ownerDSN, cfg.Database)
	if err != nil {
		panic(fmt.Sprintf("pgtest: %v", err))
	}
	return owner
}

// Tamper runs fn in one transaction as the owner of st's database with the
// user triggers of tables switched off, and switches them on again before
// it commits. It plays someone holding the owner's credentials editing the
// ledger behind the application, which the application role cannot do
// (migrations' TestAppRoleIsRefused): tests of what audit verify finds use it.
func Tamper(t testing.TB, st *store.Store, tables []string, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	ctx := context.Background()
	var db string
	if err := st.DB().NewRaw("SELECT current_database()").Scan(ctx, &db); err != nil {
		t.Fatal(err)
	}
	dsn, err := pgembed.WithDatabase(ownerDSN, db)
	if err != nil {
		t.Fatal(err)
	}
	owner, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	err = owner.DB().RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, table := range tables {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+pgx.Identifier{table}.Sanitize()+" DISABLE TRIGGER USER"); err != nil {
				return err
			}
		}
		if err := fn(ctx, tx); err != nil {
			return err
		}
		for _, table := range tables {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+pgx.Identifier{table}.Sanitize()+" ENABLE TRIGGER USER"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
