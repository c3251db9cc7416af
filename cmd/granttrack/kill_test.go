package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestKilledImportStoresNothing runs a large import in the real binary,
// kills it with SIGKILL while PostgreSQL is receiving the COPY, and checks
// that not one entry or import record was stored.
func TestKilledImportStoresNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	userAddMoney(t, pgtest.DSN(), "a long enough password", "killer@example.org", "K")
	sys := models.SystemActor("test")
	p := &models.Programme{Code: "KILL", Name: "K", Plan: "P"}
	o := &models.Organisation{Name: "Kill payee", OrgID: storetest.OrgID(), IsFunder: true, IsRecipient: true}
	if err := st.CreateProgramme(ctx, sys, p); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateOrganisation(ctx, sys, o); err != nil {
		t.Fatal(err)
	}
	fl, _ := models.FundingLineInput{Code: "KILL-1", Title: "K", Kind: "grant", ProgrammeID: p.ID, FunderID: o.ID, Budget: "1.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"}.Validate()
	if err := st.CreateFundingLine(ctx, sys, fl); err != nil {
		t.Fatal(err)
	}
	if err := storetest.Activate(ctx, st, fl.ID); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "big.csv")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, strings.Join(models.SpendImportColumns, ","))
	for i := range 600_000 {
		fmt.Fprintf(f, "KILL-1,,Kill payee,1.00,2024-05-01,other,INV-%d,Row %d,,\n", i, i)
	}
	f.Close()

	bin := buildBinary(t)
	cmd := exec.Command(bin, "import", "spend", file, "--as", "killer@example.org")
	cmd.Env = append(cleanEnv(), "DATABASE_URL="+pgtest.DSN())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	copying := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !copying; time.Sleep(5 * time.Millisecond) {
		var n int
		if err := st.DB().NewRaw("SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'copy%spend_import_rows%' AND state = 'active'").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		copying = n > 0
		select {
		case err := <-done:
			t.Fatalf("the import ended (%v) before it could be killed", err)
		default:
		}
	}
	if !copying {
		t.Fatal("never saw the import's COPY running")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	// The server notices the dead client and rolls its transaction back.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := st.DB().NewRaw("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%spend_import_rows%' AND pid <> pg_backend_pid()").Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the killed import's session did not end")
		}
	}
	var entries, imports int
	if err := st.DB().NewRaw("SELECT (SELECT count(*) FROM spend_entries WHERE funding_line_id = ?), (SELECT count(*) FROM spend_imports WHERE file_name = 'big.csv')", fl.ID).Scan(ctx, &entries, &imports); err != nil {
		t.Fatal(err)
	}
	if entries != 0 || imports != 0 {
		t.Fatalf("a killed import left %d entries and %d import records", entries, imports)
	}
}
