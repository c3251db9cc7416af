// Package pgtest gives each test package a fresh, real PostgreSQL database:
// on the server named by TEST_DATABASE_URL, or else on a private cluster
// started for the package and stopped after it. There is no mock.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app/pgembed"
)

var dsn string

// DSN returns the connection string of this test package's database.
func DSN() string { return dsn }

// Main runs the package's tests against a fresh database and exits.
func Main(m *testing.M) { MainWith(m, nil) }

// MainWith is Main with setup run on the fresh database before the tests
// (migrations, usually).
func MainWith(m *testing.M, setup func(ctx context.Context, dsn string) error) {
	os.Exit(run(m, setup))
}

func run(m *testing.M, setup func(ctx context.Context, dsn string) error) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	name := "granttrack_test_" + randomHex(6)
	adminDSN := os.Getenv("TEST_DATABASE_URL")
	var cluster *pgembed.Cluster
	if adminDSN == "" {
		dir, err := os.MkdirTemp("", "granttrack-pgtest-")
		if err != nil {
			return fail(err)
		}
		defer os.RemoveAll(dir)
		cluster, err = pgembed.Start(ctx, pgembed.Options{DataDir: dir, Fast: true})
		if err != nil {
			return fail(err)
		}
		defer cluster.Stop()
		adminDSN = cluster.DSNFor("postgres")
	}
	admin, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return fail(err)
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return fail(err)
	}
	defer func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	}()
	if dsn, err = withDatabase(adminDSN, name); err != nil {
		return fail(err)
	}
	if setup != nil {
		if err := setup(ctx, dsn); err != nil {
			return fail(err)
		}
	}
	return m.Run()
}

// withDatabase points a connection string, URL or keyword form, at another database.
func withDatabase(base, name string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", err
		}
		u.Path = "/" + name
		return u.String(), nil
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
