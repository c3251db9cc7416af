package backup_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app/backup"
	"granttrack/app/pgembed"
	"granttrack/app/store/storetest"
	"granttrack/migrations"
	"granttrack/models"
)

// A cluster archiving its WAL is restored to a moment between two
// approvals: the first is there, approved, the second still pending, and the
// audit trail ends where it ended at that moment.
func TestPointInTimeRestoreBetweenTwoApprovals(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir, archive := t.TempDir(), filepath.Join(t.TempDir(), "wal")
	c, err := pgembed.Start(ctx, pgembed.Options{DataDir: filepath.Join(dir, "live"), WALArchive: archive, Logf: t.Logf})
	must(t, err)
	t.Cleanup(func() { _ = c.Stop() })
	if on, err := c.WALArchiving(ctx); err != nil || !on {
		t.Fatalf("the cluster started with a WAL archive does not archive: %v %v", on, err)
	}
	owner := open(t, c.OwnerDSN())
	_, err = migrations.UpAndGrant(ctx, owner.DB(), pgembed.App)
	must(t, err)
	owner.Close()
	st := open(t, c.DSN())
	if backup.HasBaseBackup(archive) {
		t.Fatal("a base backup before any was taken")
	}
	_, err = backup.BaseBackup(ctx, c.DSNAs(pgembed.Superuser, "postgres"), archive)
	must(t, err)
	if !backup.HasBaseBackup(archive) {
		t.Fatal("no base backup after taking one")
	}

	fl := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "PITR", PayeeName: "Payee", Budget: "1000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	people := storetest.Officers(t, st, "maker@example.org", "checker@example.org")
	var entries []*models.SpendEntry
	for _, amount := range []string{"100.00", "200.00"} {
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: fl.FunderID, Amount: amount, IncurredOn: "2024-05-01", Category: "services"}.Validate()
		must(t, err)
		_, err = st.RecordSpend(ctx, people[0], e, "", nil)
		must(t, err)
		entries = append(entries, e)
	}
	_, err = st.ApproveSpend(ctx, people[1], entries[0].ID)
	must(t, err)
	between, err := st.VerifyAuditChain(ctx)
	must(t, err)
	// As the cluster's superuser: switching WAL segments and reading the
	// archiver's progress are an operator's, not the application's.
	conn, err := pgx.Connect(ctx, c.DSNAs(pgembed.Superuser, "postgres"))
	must(t, err)
	defer conn.Close(context.Background())
	var until time.Time
	must(t, conn.QueryRow(ctx, "SELECT clock_timestamp()").Scan(&until))
	_, err = st.ApproveSpend(ctx, people[1], entries[1].ID)
	must(t, err)

	// Close the WAL segment holding the second approval and wait until it is
	// in the archive.
	var segment string
	must(t, conn.QueryRow(ctx, "SELECT pg_walfile_name(pg_switch_wal())").Scan(&segment))
	for {
		var archived *string
		must(t, conn.QueryRow(ctx, "SELECT last_archived_wal FROM pg_stat_archiver").Scan(&archived))
		if archived != nil && *archived >= segment {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("segment %s was never archived", segment)
		case <-time.After(50 * time.Millisecond):
		}
	}
	conn.Close(ctx)
	st.Close()
	must(t, c.Stop())

	restored := filepath.Join(dir, "restored")
	must(t, backup.RestoreUntil(ctx, archive, restored, until, t.Logf))
	c2, err := pgembed.Start(ctx, pgembed.Options{DataDir: restored, Logf: t.Logf})
	must(t, err)
	t.Cleanup(func() { _ = c2.Stop() })
	rs := open(t, c2.DSN())
	for i, want := range []models.SpendStatus{models.SpendApproved, models.SpendPending} {
		e, err := rs.SpendEntry(ctx, entries[i].ID)
		must(t, err)
		if e.Status != want {
			t.Errorf("entry %d (%s) is %s after the restore to between the approvals, want %s", e.ID, e.Amount, e.Status, want)
		}
	}
	anchor, err := models.ParseAuditAnchor(between.HeadHash + "@" + itoa(between.HeadSeq))
	must(t, err)
	chain, err := rs.VerifyAuditChain(ctx, anchor)
	must(t, err)
	if !chain.OK || chain.HeadSeq != between.HeadSeq {
		t.Fatalf("the restored chain: %+v, want it to end at %s", chain, anchor)
	}
	// The restored cluster is open for writing: the second approval can be
	// made again.
	if _, err := rs.ApproveSpend(ctx, people[1], entries[1].ID); err != nil {
		t.Fatalf("approving on the restored cluster: %v", err)
	}
	rs.Close()
	must(t, c2.Stop())

	if err := backup.RestoreUntil(ctx, archive, restored, until, t.Logf); !errors.Is(err, backup.ErrNotEmpty) {
		t.Fatalf("a second restore into the same data dir: %v, want ErrNotEmpty", err)
	}
	if err := backup.RestoreUntil(ctx, archive, filepath.Join(dir, "too-early"), until.Add(-time.Hour), t.Logf); err == nil {
		t.Fatal("restored to a time before any base backup")
	}
}

func itoa(n int64) string { return fmt.Sprint(n) }
