package migrations_test

import (
	"context"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func tables(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	err := st.DB().NewRaw(`SELECT count(*) FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name NOT LIKE 'bun_%'`).Scan(context.Background(), &n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUpDownUp applies every migration, rolls them all back and applies them
// again, so every down migration is known to undo its up migration.
func TestUpDownUp(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.OwnerDSN()) // only the owner migrates
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	up := func() int {
		g, err := migrations.Up(ctx, st.DB())
		if err != nil {
			t.Fatal(err)
		}
		return len(g.Migrations)
	}
	all, err := migrations.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n := up(); n != len(all.Sorted()) {
		t.Fatalf("applied %d migrations, want %d", n, len(all.Sorted()))
	}
	want := tables(t, st)
	if want < 10 {
		t.Fatalf("only %d tables after migrating", want)
	}
	if n := up(); n != 0 {
		t.Fatalf("a second up applied %d migrations", n)
	}
	for {
		g, err := migrations.Down(ctx, st.DB())
		if err != nil {
			t.Fatal(err)
		}
		if g.IsZero() {
			break
		}
	}
	if n := tables(t, st); n != 0 {
		t.Fatalf("%d tables left after rolling everything back", n)
	}
	up()
	if got := tables(t, st); got != want {
		t.Fatalf("%d tables after up-down-up, want %d", got, want)
	}
	status, err := migrations.Status(ctx, st.DB())
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range status {
		if !m.IsApplied() {
			t.Errorf("%s not applied", m.Name)
		}
	}
}
