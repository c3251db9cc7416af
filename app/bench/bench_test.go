package bench_test

import (
	"context"
	"testing"

	"granttrack/app/bench"
	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/app/store"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

// mustOwner connects as the schema's owner, which the benches need for what
// the application role may not do (a table of their own, seeding with the
// ledger's triggers off); everything they measure runs as the application role.
func mustOwner(t *testing.T) *store.Store {
	t.Helper()
	owner, err := store.Open(context.Background(), pgtest.OwnerDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	return owner
}

// TestSpendBenchRecordsWhatItSays runs a tiny benchmark and checks that both
// paths really stored their entries and kept the audit chain whole.
func TestSpendBenchRecordsWhatItSays(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(server.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	// Other tests share this database: count only what the bench adds.
	var before int
	if err := st.DB().NewRaw("SELECT count(*) FROM spend_entries").Scan(ctx, &before); err != nil {
		t.Fatal(err)
	}
	runs := 0
	err = bench.Spend(ctx, st, srv, []int{1, 4}, 40, func(api, raw bench.Result) {
		runs++
		if api.Requests != 40 || raw.Requests != 40 || api.PerSecond() <= 0 || api.P99 < api.P50 {
			t.Errorf("results %v / %v", api, raw)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 4 {
		t.Fatalf("%d reports, want 4 (two shapes × two client counts)", runs)
	}
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM spend_entries").Scan(ctx, &n); err != nil || n-before != 4*2*40 {
		t.Fatalf("%d entries stored, want %d (%v)", n-before, 4*2*40, err)
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain after the bench: %+v %v", status, err)
	}
}

func TestImportBenchImportsEveryRow(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := bench.Import(ctx, st, mustOwner(t), 500, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := st.DB().NewRaw("SELECT count(*) FROM spend_entries WHERE import_id IS NOT NULL AND status = 'approved'").Scan(ctx, &n); err != nil || n != 500 || res.Rows != 500 {
		t.Fatalf("imported and approved %d (result %d), want 500: %v", n, res.Rows, err)
	}
	if res.Import <= 0 || res.Copy <= 0 || res.LedgerCopy <= 0 || res.LedgerFloor <= 0 || res.Recording <= 0 || res.Approve <= 0 {
		t.Fatalf("timings %+v", res)
	}
}

func TestExportBenchExportsEveryRow(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	res, err := bench.Export(ctx, st, 300, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 300 || res.CopyRows != 300 || res.Export <= 0 || res.Copy <= 0 || res.PeakHeap == 0 || res.MaxRSS == 0 {
		t.Fatalf("result %+v, want 300 rows each way", res)
	}
	// The seeded rows are approved, by someone other than their recorder.
	var approved int
	if err := st.DB().NewRaw(`SELECT count(*) FROM spend_entries WHERE status = 'approved' AND description LIKE 'Bench row %' AND decided_by <> recorded_by`).
		Scan(ctx, &approved); err != nil || approved != 300 {
		t.Fatalf("%d approved bench rows (%v), want 300", approved, err)
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain after the bench: %+v %v", status, err)
	}
}
