package app

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"granttrack/app/auth"
	"granttrack/app/pgembed"
	"granttrack/app/report"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestReadReplica starts a real streaming replica of a private cluster
// (pg_basebackup -R) and reads reports from it: once caught up, a report
// read from the replica is the report read from the primary. Paused, the
// replica falls behind and reads go to the primary, saying why; stopped,
// likewise; resumed, reads return to it.
func TestReadReplica(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL servers")
	}
	ctx := context.Background()
	dir := t.TempDir()
	a := openPrivate(t, dir)
	fl := storetest.ActiveLine(t, a.Store, storetest.LineSpec{Code: "REPLICA", PayeeName: "Replica Trust", Budget: "1000.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	officers := storetest.Officers(t, a.Store, "maker@replica.example", "checker@replica.example")
	spend := func(amount string) {
		t.Helper()
		e := &models.SpendEntry{FundingLineID: fl.ID, PayeeID: fl.Payee.ID, Amount: decimal.RequireFromString(amount), IncurredOn: time.Date(2024, 6, 3, 0, 0, 0, 0, time.UTC),
			Category: "other"}
		if _, err := a.Store.RecordSpend(ctx, officers[0], e, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store.ApproveSpend(ctx, officers[1], e.ID); err != nil {
			t.Fatal(err)
		}
	}
	spend("100.00")

	replicaDir := filepath.Join(dir, "r")
	tool, err := pgembed.Tool("pg_basebackup", "15")
	if err != nil {
		t.Skip(err)
	}
	if out, err := exec.Command(tool, "--pgdata="+filepath.Join(replicaDir, "pg"), "--format=plain", "--wal-method=stream", "--checkpoint=fast",
		"--write-recovery-conf", "--no-password", "--dbname="+a.ReplicationDSN()).CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup -R: %v\n%s", err, out)
	}
	replica, err := pgembed.Start(ctx, pgembed.Options{DataDir: replicaDir})
	if err != nil {
		t.Fatal(err)
	}
	defer replica.Stop()
	replicaSQL := func(q string) {
		t.Helper()
		conn, err := pgx.Connect(ctx, replica.DSNAs(pgembed.Superuser, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const maxLag = 200 * time.Millisecond
	if err := a.Store.OpenReplica(ctx, replica.DSN(), maxLag); err != nil {
		t.Fatal(err)
	}
	caughtUp := func() {
		t.Helper()
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			lag, err := a.Store.ReplicaLag(ctx)
			if err == nil && lag == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the replica did not catch up in a minute: lag %s, %v", lag, err)
			}
		}
		time.Sleep(time.Second + 100*time.Millisecond) // past the reader's cached state
	}

	// Caught up: the report from the replica is the primary's.
	spend("250.00")
	caughtUp()
	rs, fresh := a.Store.Reader(ctx)
	if fresh.Source != "replica" || fresh.Fallback != "" || rs == a.Store {
		t.Fatalf("a caught-up replica should serve reads: %+v", fresh)
	}
	q, err := report.ParseQuery("2024-25", "", "funding_line", "", time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	fromReplica, err := report.BudgetReport(ctx, rs, q)
	if err != nil {
		t.Fatal(err)
	}
	fromPrimary, err := report.BudgetReport(ctx, a.Store, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromReplica, fromPrimary) || fromReplica.Total.Spent.StringFixed(2) != "350.00" {
		t.Fatalf("the report from the replica differs from the primary's:\n%+v\n%+v", fromReplica.Total, fromPrimary.Total)
	}
	// The dashboard reads side by side in one snapshot exported on the
	// standby itself (store.SharedSnapshot), and agrees with the primary's.
	dashReplica, err := report.DashboardReport(ctx, rs, q, 25, 10)
	if err != nil {
		t.Fatalf("the dashboard on the replica: %v", err)
	}
	dashPrimary, err := report.DashboardReport(ctx, a.Store, q, 25, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(dashReplica.Months, dashPrimary.Months) || !reflect.DeepEqual(dashReplica.Programmes, dashPrimary.Programmes) ||
		len(dashReplica.Months) != 12 || dashReplica.Programmes.Total.Spent.StringFixed(2) != "350.00" {
		t.Fatalf("the dashboard from the replica differs from the primary's:\n%+v\n%+v", dashReplica.Programmes.Total, dashPrimary.Programmes.Total)
	}

	// The dashboard says where its figures came from.
	srv, err := a.Server()
	if err != nil {
		t.Fatal(err)
	}
	token := auth.NewAPIToken()
	if _, err := a.Store.CreateAPIToken(ctx, models.SystemActor("test"), officers[0].UserID, "replica test", token); err != nil {
		t.Fatal(err)
	}
	source := func() (string, string) {
		t.Helper()
		req := httptest.NewRequest("GET", "/api/v1/reports/budget?fy=2024-25", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.App().Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		var b struct {
			Total struct {
				Spent string `json:"spent"`
			} `json:"total"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &b) != nil {
			t.Fatalf("budget report: %d %s", resp.StatusCode, body)
		}
		return resp.Header.Get("Granttrack-Data-Source"), b.Total.Spent
	}
	if h, _ := source(); !strings.HasPrefix(h, "replica; as-of=") {
		t.Fatalf("Granttrack-Data-Source = %q, want the replica", h)
	}

	// Paused, the replica falls behind: reads go to the primary, which has
	// the new spend, and say why.
	replicaSQL("SELECT pg_wal_replay_pause()")
	time.Sleep(maxLag + 50*time.Millisecond)
	spend("5.00")
	time.Sleep(time.Second + 100*time.Millisecond)
	if _, fresh := a.Store.Reader(ctx); fresh.Source != "primary" || !strings.Contains(fresh.Fallback, "behind") {
		t.Fatalf("a replica paused behind the primary should not serve reads: %+v", fresh)
	}
	if h, spent := source(); !strings.HasPrefix(h, "primary; ") || !strings.Contains(h, "fallback=the read replica is") || !strings.Contains(spent, "355.00") {
		t.Fatalf("while the replica lags: %q, spent %s", h, spent)
	}
	replicaSQL("SELECT pg_wal_replay_resume()")
	caughtUp()
	if _, fresh := a.Store.Reader(ctx); fresh.Source != "replica" {
		t.Fatalf("a replica caught up again should serve reads again: %+v", fresh)
	}

	// Stopped: reads go to the primary.
	if err := replica.Stop(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second + 100*time.Millisecond)
	if _, fresh := a.Store.Reader(ctx); fresh.Source != "primary" || !strings.Contains(fresh.Fallback, "does not answer") {
		t.Fatalf("a stopped replica should not serve reads: %+v", fresh)
	}
	if h, spent := source(); !strings.Contains(h, "fallback=the read replica does not answer") || !strings.Contains(spent, "355.00") {
		t.Fatalf("with the replica stopped: %q, spent %s", h, spent)
	}
}
