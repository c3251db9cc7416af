// Package pgtest gives each test package a fresh, real PostgreSQL database,
// because granttrack's queries are only worth testing against the server
// they will run on: there is no mock. The database is created on the server
// named by TEST_DATABASE_URL when that is set (a shared CI server, say), or
// else on a private cluster started for the package in a temp dir and thrown
// away after it.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app/pgembed"
	"granttrack/app/store"
	"granttrack/migrations"
)

var dsn string

// DSN returns the connection string of this test package's fresh database.
// It is empty outside Main.
func DSN() string { return dsn }

// Main runs a test package against a fresh real PostgreSQL database and
// exits; call it from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) { MainWith(m, nil) }

// MainWith is Main with setup run on the fresh database before any test
// (usually to apply migrations, which pgtest leaves to its caller so that it
// does not depend on them). A failing setup fails the package.
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
		if err := setup(ctx, dsn); err != nil {
			return fail(fmt.Errorf("setup of database %s: %w", name, err))
		}
	}
	return m.Run()
}

// createOn creates database name on the server, points dsn at it, and
// returns what drops it.
func createOn(ctx context.Context, server, name string) (drop func() error, err error) {
	admin, err := pgx.Connect(ctx, server)
	if err != nil {
		return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	if dsn, err = withDatabase(server, name); err != nil {
		return nil, err
	}
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
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("dropping %s: %w", name, err)
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
	dsn = cluster.DSN()

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

// withDatabase points a connection string, URL or keyword/value form, at
// another database.
func withDatabase(base, name string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("TEST_DATABASE_URL: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	if strings.TrimSpace(base) == "" {
		return "", errors.New("empty connection string")
	}
	return base + " dbname=" + name, nil // a later keyword overrides an earlier one
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
// migration applied: what most test packages want.
func MainMigrated(m *testing.M) {
	MainWith(m, func(ctx context.Context, dsn string) error {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			return err
		}
		defer st.Close()
		_, err = migrations.Up(ctx, st.DB())
		return err
	})
}

// FreshMigrated returns the address of another fresh database, with every
// migration applied, on the same server as DSN, dropped when t ends: for a
// test whose data no other test in the package may see (the demo data set,
// say), or whose whole-database counts others' data would upset.
func FreshMigrated(t testing.TB) string {
	t.Helper()
	fresh := Fresh(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := store.Open(ctx, fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := migrations.Up(ctx, st.DB()); err != nil {
		t.Fatal(err)
	}
	return fresh
}

// Fresh returns the address of another fresh, empty database (no migration
// applied) on the same server as DSN, dropped when t ends: somewhere to
// restore a backup into, say.
func Fresh(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "granttrack_test_" + randomHex(8)
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	server := dsn
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		admin, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	fresh, err := withDatabase(server, name)
	if err != nil {
		t.Fatal(err)
	}
	return fresh
}
