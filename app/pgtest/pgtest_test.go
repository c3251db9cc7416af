package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"granttrack/app/pgembed"
)

func TestMain(m *testing.M) {
	MainWith(m, func(ctx context.Context, dsn string) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, "CREATE TABLE made_by_setup (id int)")
		return err
	})
}

func TestFreshDatabaseWithSetup(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var db string
	var tables int
	err = conn.QueryRow(ctx, `SELECT current_database(),
		(SELECT count(*) FROM pg_tables WHERE schemaname = 'public')`).Scan(&db, &tables)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(db, "granttrack_test_") {
		t.Errorf("database %q, want a fresh granttrack_test_ one", db)
	}
	if tables != 1 {
		t.Errorf("%d tables in public, want only setup's", tables)
	}
}

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct{ base, want string }{
		{"postgres://u:p@h:5433/postgres?sslmode=disable", "postgres://u:p@h:5433/x?sslmode=disable"},
		{"postgresql://h", "postgresql://h/x"},
		{"host=/tmp/s user=u dbname=postgres", "host=/tmp/s user=u dbname=postgres dbname=x"},
	} {
		got, err := pgembed.WithDatabase(tc.base, "x")
		if err != nil || got != tc.want {
			t.Errorf("withDatabase(%q) = %q, %v; want %q", tc.base, got, err, tc.want)
		}
		if cfg, err := pgx.ParseConfig(got); err != nil || cfg.Database != "x" {
			t.Errorf("pgx reads %q as database %v (%v), want x", got, cfg, err)
		}
	}
}
