package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app/backup"
	"granttrack/app/demo"
	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func open(t *testing.T, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// reports renders every report granttrack makes of the ledger: the budget
// report, the dashboard and value for money for each of the demo's years,
// the whole ledger as CSV, and a month's publishing pack.
func reports(t *testing.T, st *store.Store) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	today := time.Date(2025, time.June, 30, 0, 0, 0, 0, time.UTC)
	out := map[string][]byte{}
	for _, fy := range []string{"2022-23", "2023-24", "2024-25", "2025-26"} {
		q, err := report.ParseQuery(fy, "", "", "", today)
		if err != nil {
			t.Fatal(err)
		}
		b, err := report.BudgetReport(ctx, st, q)
		must(t, err)
		d, err := report.DashboardReport(ctx, st, q, -1, -1)
		must(t, err)
		v, err := report.ValueForMoneyReport(ctx, st, q)
		must(t, err)
		for name, r := range map[string]any{"budget": b, "dashboard": d, "vfm": v} {
			j, err := json.Marshal(r)
			must(t, err)
			out[name+" "+fy] = j
		}
	}
	var csv bytes.Buffer
	_, err := export.Ledger(ctx, st, &csv, "csv", export.Filter{}, nil)
	must(t, err)
	out["ledger.csv"] = csv.Bytes()
	p, err := export.Transparency(ctx, st, "2024-06")
	must(t, err)
	// March 2024's pack carries the demo's invitation to tender.
	march, err := export.Transparency(ctx, st, "2024-03")
	must(t, err)
	for _, f := range export.PackFiles {
		var b bytes.Buffer
		if f == export.FileDocuments {
			must(t, march.WriteCSV(f, &b))
		} else {
			must(t, p.WriteCSV(f, &b))
		}
		out["pack "+f] = b.Bytes()
	}
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func empty(t *testing.T, dsn string) bool {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	must(t, err)
	defer conn.Close(context.Background())
	var n int
	must(t, conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n))
	return n == 0
}

// A ledger backed up and restored elsewhere keeps its audit trail (verify
// with the head from before the backup passes), its evidence files, its
// rules in the database, and every report, to the byte.
func TestBackupRestoresTheLedgerElsewhere(t *testing.T) {
	ctx := context.Background()
	src := pgtest.FreshMigrated(t)
	st := open(t, src)
	if _, err := demo.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByEmail(ctx, "finance@granttrack.example")
	must(t, err)
	finance := models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
	var entryID int64
	must(t, st.DB().NewRaw("SELECT min(id) FROM spend_entries WHERE status = 'approved'").Scan(ctx, &entryID))
	receipt := []byte("Invoice INV-0042\nTest kits: 1250.00\n")
	_, err = st.AddEvidence(ctx, finance, entryID, "invoice.txt", receipt)
	must(t, err)
	before, err := st.VerifyAuditChain(ctx)
	must(t, err)
	anchor, err := models.ParseAuditAnchor(fmt.Sprintf("%s@%d", before.HeadHash, before.HeadSeq))
	must(t, err)
	want := reports(t, st)
	for name, w := range want {
		if len(w) < 100 {
			t.Fatalf("the %s report is too short to compare anything: %s", name, w)
		}
	}

	file := filepath.Join(t.TempDir(), "granttrack.dump")
	m, err := backup.Backup(ctx, pgtest.Owner(src), file)
	must(t, err)
	if m.Anchor() != anchor.String() || m.Counts["spend_entries"] == 0 || m.Counts["spend_evidence"] != 1 || m.Counts["audit_events"] != before.Count {
		t.Fatalf("manifest: head %s (want %s), counts %v", m.Anchor(), anchor, m.Counts)
	}
	onDisk, err := backup.ReadManifest(backup.ManifestPath(file))
	must(t, err)
	if onDisk.SHA256 != m.SHA256 || onDisk.Bytes == 0 {
		t.Fatalf("the manifest on disk says %s (%d bytes), Backup said %s", onDisk.SHA256, onDisk.Bytes, m.SHA256)
	}
	if _, err := os.Stat(file + ".partial"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a partial archive is left: %v", err)
	}
	// Written after the backup: not in the restore.
	_, err = st.AddEvidence(ctx, finance, entryID, "later.txt", []byte("after the backup\n"))
	must(t, err)

	dst := pgtest.Fresh(t)
	// Restored as the owner; the archive carries no privileges, so the
	// application role gets its own, as `granttrack restore` gives them.
	must(t, backup.Restore(ctx, pgtest.Owner(dst), file, onDisk))
	pgtest.Migrate(t, dst)
	rs := open(t, dst)
	// The source's changes to lines' money are not carried over: their
	// transaction ids belong to the source.
	var changes int
	var markNow bool
	must(t, rs.DB().NewRaw(`SELECT (SELECT count(*) FROM line_money_changes),
		(SELECT below > '0' AND below <= pg_snapshot_xmin(pg_current_snapshot()) FROM line_money_changes_pruned)`).Scan(ctx, &changes, &markNow))
	if m.Counts["line_money_changes"] == 0 || changes != 0 || !markNow {
		t.Fatalf("lines' money changes: %d backed up, %d restored (want none), mark set to the restore %v", m.Counts["line_money_changes"], changes, markNow)
	}
	chain, err := rs.VerifyAuditChain(ctx, anchor)
	must(t, err)
	if !chain.OK || chain.HeadSeq != before.HeadSeq || chain.HeadHash != before.HeadHash {
		t.Fatalf("restored audit chain: %+v, want OK at the anchor %s", chain, anchor)
	}
	ledger, err := rs.VerifyLedger(ctx)
	must(t, err)
	if !ledger.OK {
		t.Fatalf("restored ledger: %s", ledger.Summary())
	}
	got := reports(t, rs)
	for name, w := range want {
		if !bytes.Equal(got[name], w) {
			t.Errorf("%s differs after the restore:\n%s\nwant\n%s", name, got[name], w)
		}
	}
	files, err := rs.EvidenceFor(ctx, entryID)
	must(t, err)
	if len(files) != 1 {
		t.Fatalf("restored evidence: %d files, want the 1 from before the backup", len(files))
	}
	f, err := rs.Evidence(ctx, entryID, files[0].ID)
	must(t, err)
	if !bytes.Equal(f.Content, receipt) {
		t.Fatalf("restored evidence holds %q", f.Content)
	}

	// The restored database still holds its rules, and carries on the chain.
	var approved int64
	must(t, rs.DB().NewRaw("SELECT id FROM spend_entries WHERE status = 'approved' ORDER BY id LIMIT 1").Scan(ctx, &approved))
	if _, err := rs.DB().ExecContext(ctx, "UPDATE spend_entries SET amount = amount + 1 WHERE id = ?", approved); err == nil {
		t.Fatal("the restored ledger let an approved entry be changed")
	}
	if _, err := rs.DB().ExecContext(ctx, "DELETE FROM audit_events WHERE seq = 1"); err == nil {
		t.Fatal("the restored audit trail let an event be deleted")
	}
	_, err = rs.AddEvidence(ctx, finance, entryID, "after-restore.txt", []byte("recorded after the restore\n"))
	must(t, err)
	if chain, err := rs.VerifyAuditChain(ctx, anchor); err != nil || !chain.OK || chain.HeadSeq != before.HeadSeq+1 {
		t.Fatalf("the chain after a write to the restored database: %+v, %v", chain, err)
	}

	// Restore never goes into a database that holds anything: not the
	// restored one, not the source, not a migrated but empty one.
	for name, dsn := range map[string]string{"restored": dst, "source": src, "migrated": pgtest.FreshMigrated(t)} {
		if err := backup.Restore(ctx, pgtest.Owner(dsn), file, onDisk); !errors.Is(err, backup.ErrNotEmpty) {
			t.Errorf("restore into the %s database: %v, want ErrNotEmpty", name, err)
		}
	}
	if chain, err := rs.VerifyAuditChain(ctx); err != nil || chain.HeadSeq != before.HeadSeq+1 {
		t.Fatalf("a refused restore changed the database: %+v, %v", chain, err)
	}
}

// An archive that is not the one its manifest describes is refused before
// anything is restored.
func TestRestoreRefusesADamagedArchive(t *testing.T) {
	ctx := context.Background()
	src := pgtest.FreshMigrated(t)
	file := filepath.Join(t.TempDir(), "granttrack.dump")
	m, err := backup.Backup(ctx, pgtest.Owner(src), file)
	must(t, err)
	b, err := os.ReadFile(file)
	must(t, err)
	b[len(b)/2] ^= 0xff
	must(t, os.WriteFile(file, b, 0o600))
	dst := pgtest.Fresh(t)
	if err := backup.Restore(ctx, pgtest.Owner(dst), file, m); err == nil || !strings.Contains(err.Error(), "SHA-256") {
		t.Fatalf("restoring a damaged archive: %v", err)
	}
	if !empty(t, dst) {
		t.Fatal("a refused restore left tables behind")
	}
}
