package migrations_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/migrations"
	"granttrack/models"
)

// approvedEntry records and approves a spend entry through the store, as
// the application role, so that the ledger and the audit trail hold one.
func approvedEntry(t *testing.T, st *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	line := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "PRIV", PayeeName: "Payee", Budget: "1000.00", StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	officers := storetest.Officers(t, st, "maker@example.org", "checker@example.org")
	e, err := models.SpendInput{FundingLineID: line.ID, PayeeID: line.Payee.ID, Amount: "40.00", IncurredOn: "2024-06-03", Category: "other"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, officers[0], e, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApproveSpend(ctx, officers[1], e.ID); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

// TestAppRoleIsRefused tries, through raw SQL as the application role, what
// would defeat the append-only ledger and audit trail or change the schema:
// PostgreSQL refuses each (SQLSTATE 42501, insufficient_privilege), and the
// approved entry and its audit events are as they were.
func TestAppRoleIsRefused(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id := approvedEntry(t, st)
	var events int
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events").Scan(ctx, &events); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, sql, want string }{
		{"DisableTrigger", "ALTER TABLE spend_entries DISABLE TRIGGER spend_entries_append_only", "must be owner"},
		{"DisableAuditTriggers", "ALTER TABLE audit_events DISABLE TRIGGER USER", "must be owner"},
		{"DropTrigger", "DROP TRIGGER audit_events_append_only ON audit_events", "must be owner"},
		{"ReplaceTriggerFunction", "CREATE OR REPLACE FUNCTION spend_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$", "permission denied for schema public"},
		{"SessionReplicationRole", "SET session_replication_role = replica", "session_replication_role"},
		{"UpdateApprovedAmount", fmt.Sprintf("UPDATE spend_entries SET amount = 4000.00 WHERE id = %d", id), "permission denied"},
		// Columns a decision may set: the privilege allows them, the
		// append-only trigger refuses an entry already decided.
		{"UndecideApproved", fmt.Sprintf("UPDATE spend_entries SET status = 'rejected', rejection_reason = 'x' WHERE id = %d", id), "append-only"},
		{"DeleteApproved", fmt.Sprintf("DELETE FROM spend_entries WHERE id = %d", id), "permission denied"},
		{"TruncateLedger", "TRUNCATE spend_entries", "permission denied"},
		{"UpdateAuditEvent", "UPDATE audit_events SET actor = 'someone else'", "permission denied"},
		{"DeleteAuditEvent", "DELETE FROM audit_events", "permission denied"},
		{"TruncateAudit", "TRUNCATE audit_events", "permission denied"},
		{"UpdateRollup", "UPDATE spend_monthly SET amount = 0", "permission denied"},
		{"DeleteEvidence", "DELETE FROM spend_evidence", "permission denied"},
		{"DeleteMeasurements", "DELETE FROM measurements", "permission denied"},
		{"AlterTable", "ALTER TABLE spend_entries ADD COLUMN note text", "must be owner"},
		{"DropTable", "DROP TABLE audit_events", "must be owner"},
		{"CreateTable", "CREATE TABLE shadow_ledger (id int)", "permission denied for schema public"},
		{"CreateFunction", "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'", "permission denied for schema public"},
		{"RewindSequence", "SELECT setval('spend_entries_id_seq', 1)", "permission denied"},
		{"ForgeMigration", "DELETE FROM bun_migrations", "permission denied"},
		{"BecomeOwner", "SET ROLE " + ownerRole(t), "permission denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// In a transaction rolled back, so that a statement wrongly
			// accepted changes nothing for the cases after it.
			tx, err := st.DB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback() //nolint:errcheck // always rolled back
			_, err = tx.ExecContext(ctx, tc.sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(pgErr.Message, tc.want) {
				t.Fatalf("%s: got %v, want PostgreSQL's insufficient_privilege (42501) saying %q", tc.sql, err, tc.want)
			}
		})
	}
	var amount, status string
	var after int
	err = st.DB().NewRaw("SELECT amount::text, status, (SELECT count(*) FROM audit_events) FROM spend_entries WHERE id = ?", id).Scan(ctx, &amount, &status, &after)
	if err != nil || amount != "40.00" || status != "approved" || after != events {
		t.Fatalf("after the attempts: entry %s %s, %d audit events (was %d), %v", amount, status, after, events, err)
	}
}

// ownerRole is the name of the role that owns the schema.
func ownerRole(t *testing.T) string {
	t.Helper()
	var owner string
	st, err := store.Open(context.Background(), pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.DB().NewRaw("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()").Scan(context.Background(), &owner); err != nil {
		t.Fatal(err)
	}
	return owner
}

// TestEveryObjectHasDeclaredPrivileges fails when a migration adds a table,
// view or function without saying in privileges.sql what the application
// role may do with it, and checks what holds for all of them: the
// application role is no superuser and owns nothing, creates nothing,
// executes no function it was not granted, can use every sequence but not
// set it; and every SECURITY DEFINER function fixes its search_path.
func TestEveryObjectHasDeclaredPrivileges(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.FreshMigrated(t)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	declared := strings.Join(migrations.PrivilegeStatements(pgtest.AppRole()), ";\n")

	var super, owns, creates bool
	err = st.DB().NewRaw(`SELECT rolsuper,
		EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relowner = r.oid)
		OR EXISTS (SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' AND p.proowner = r.oid),
		has_schema_privilege('public', 'CREATE') OR has_database_privilege(current_database(), 'CREATE')
		FROM pg_roles r WHERE rolname = current_user`).Scan(ctx, &super, &owns, &creates)
	if err != nil || super || owns || creates {
		t.Fatalf("application role: superuser %v, owns objects %v, may create %v (%v); want none", super, owns, creates, err)
	}

	var tables []string
	if err := st.DB().NewRaw(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1`).Scan(ctx, &tables); err != nil {
		t.Fatal(err)
	}
	if len(tables) < 15 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	for _, table := range tables {
		if !regexp.MustCompile(`(?m)\bON (TABLE )?` + regexp.QuoteMeta(table) + `\b`).MatchString(declared) {
			t.Errorf("table %s: privileges.sql says nothing about it; GRANT the application role what it needs (or REVOKE ALL to say it needs nothing)", table)
		}
	}

	var seqs []struct {
		Name        string
		Use, Update bool
	}
	if err := st.DB().NewRaw(`SELECT c.relname AS name, has_sequence_privilege(c.oid, 'USAGE') AS use, has_sequence_privilege(c.oid, 'UPDATE') AS update
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'S'`).Scan(ctx, &seqs); err != nil {
		t.Fatal(err)
	}
	for _, s := range seqs {
		if !s.Use || s.Update {
			t.Errorf("sequence %s: USAGE %v, UPDATE %v; want USAGE only", s.Name, s.Use, s.Update)
		}
	}

	var funcs []struct {
		Name             string
		Execute, Definer bool
		Config           sql.NullString
	}
	if err := st.DB().NewRaw(`SELECT p.proname AS name, has_function_privilege(p.oid, 'EXECUTE') AS execute, p.prosecdef AS definer,
		array_to_string(p.proconfig, ',') AS config
		FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'`).Scan(ctx, &funcs); err != nil {
		t.Fatal(err)
	}
	if len(funcs) < 5 {
		t.Fatalf("only %d functions", len(funcs))
	}
	for _, f := range funcs {
		if f.Execute && !regexp.MustCompile(`GRANT EXECUTE ON FUNCTION `+regexp.QuoteMeta(f.Name)+`\b`).MatchString(declared) {
			t.Errorf("function %s: the application role may execute it, but privileges.sql does not grant it", f.Name)
		}
		if f.Definer && !strings.Contains(f.Config.String, "search_path=") {
			t.Errorf("function %s runs as its owner (SECURITY DEFINER) with the caller's search_path; SET search_path on it", f.Name)
		}
	}
}
