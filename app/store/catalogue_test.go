package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

// TestReportsSeeEveryChangeToTheLinesAtOnce: reports keep the lines they
// read between requests (the line catalogue), yet a change to a line, its
// programme or its budget profile shows in the very next report, because
// the database bumps the catalogue's version in the change's own
// transaction. A change made behind the triggers' back is not seen until
// the version moves, which shows the kept lines are what is served; and the
// application role cannot move the version itself.
func TestReportsSeeEveryChangeToTheLinesAtOnce(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	fl := line(t, st, "1000.00")
	from, _ := models.ParseDate("2024-04-01")
	to, _ := models.ParseDate("2025-03-31")
	figures := func() store.LineFigures {
		t.Helper()
		var rows []store.LineFigures
		err := st.Snapshot(ctx, func(ctx context.Context, st *store.Store) (err error) {
			rows, err = st.LineFiguresFor(ctx, from, to, store.ReportScope{FundingLineID: fl.ID})
			return err
		})
		if err != nil || len(rows) != 1 {
			t.Fatalf("line figures: %v, %d rows", err, len(rows))
		}
		return rows[0]
	}
	if f := figures(); f.Title != fl.Title || !f.YearBudget.Equal(fl.Budget) {
		t.Fatalf("first report: %q, year budget %s", f.Title, f.YearBudget)
	}

	fl.Title = "Renamed through the store"
	if err := st.UpdateFundingLine(ctx, actor, fl.ID, fl); err != nil {
		t.Fatal(err)
	}
	if f := figures(); f.Title != fl.Title {
		t.Fatalf("after renaming the line the report says %q", f.Title)
	}
	p, err := st.Programme(ctx, fl.ProgrammeID)
	if err != nil {
		t.Fatal(err)
	}
	p.Name = "Programme renamed"
	if err := st.UpdateProgramme(ctx, actor, p.ID, p); err != nil {
		t.Fatal(err)
	}
	if f := figures(); f.ProgrammeName != p.Name {
		t.Fatalf("after renaming the programme the report says %q", f.ProgrammeName)
	}

	// Behind the triggers' back: the kept lines are served until the
	// version moves; the owner's own statement (triggers on) moves it.
	pgtest.Tamper(t, st, []string{"funding_lines"}, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE funding_lines SET title = 'Changed behind the version' WHERE id = ?", fl.ID)
		return err
	})
	if f := figures(); f.Title != fl.Title {
		t.Fatalf("with the version unchanged the report read the lines again: %q", f.Title)
	}
	pgtest.Tamper(t, st, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE programmes SET name = name WHERE id = ?", fl.ProgrammeID)
		return err
	})
	if f := figures(); f.Title != "Changed behind the version" {
		t.Fatalf("after the version moved the report still says %q", f.Title)
	}

	// The application cannot wind the version back, nor set it at all.
	for _, q := range []string{
		"UPDATE line_catalogue_version SET version = 1",
		"INSERT INTO line_catalogue_version (singleton, version) VALUES (false, 1)",
		"DELETE FROM line_catalogue_version",
		"SELECT line_catalogue_changed()",
	} {
		if err := raw(st, q); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the application: %v, want permission denied", q, err)
		}
	}
}

// TestSharedSnapshotReadsOneMoment: the functions a shared snapshot runs
// side by side all read the moment it was taken, even a change committed
// after it by another connection; a plain transaction begun then sees it.
func TestSharedSnapshotReadsOneMoment(t *testing.T) {
	st := FreshStore(t)
	ctx := context.Background()
	count := func(ctx context.Context, st *store.Store) int {
		t.Helper()
		var n int
		if err := st.DB().NewRaw("SELECT count(*) FROM programmes").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count(ctx, st)
	var first, second int
	err := st.SharedSnapshot(ctx, func(ctx context.Context, tx *store.Store) error {
		ps, err := tx.Programmes(ctx)
		first = len(ps)
		return err
	}, func(ctx context.Context, tx *store.Store) error {
		// Committed by another connection after the snapshot was taken.
		if err := st.CreateProgramme(ctx, actor, &models.Programme{Code: unique("SNAP"), Name: "After the snapshot", Plan: "Plan"}); err != nil {
			return err
		}
		ps, err := tx.Programmes(ctx)
		second = len(ps)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if first != before || second != before || count(ctx, st) != before+1 {
		t.Fatalf("before %d; the shared snapshot read %d and %d; after it %d", before, first, second, count(ctx, st))
	}

	// Every transaction of a shared snapshot has the reports' settings.
	settings := func(ctx context.Context, tx *store.Store) error {
		workers, err := tx.Setting(ctx, "max_parallel_workers_per_gather")
		if err != nil {
			return err
		}
		jit, err := tx.Setting(ctx, "jit")
		if err != nil {
			return err
		}
		if workers != "0" || jit != "off" {
			return fmt.Errorf("parallel workers %s, jit %s; want 0, off", workers, jit)
		}
		return nil
	}
	if err := st.SharedSnapshot(ctx, settings, settings, settings); err != nil {
		t.Fatal(err)
	}
}
