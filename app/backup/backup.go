// Package backup writes the whole database (the ledger, the audit trail,
// evidence files, users, everything) to a pg_dump custom-format archive with
// a manifest, and restores such an archive into an empty database. It runs
// the machine's own pg_dump and pg_restore of the server's major version,
// found where the server binaries are (pgembed.Tool).
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app/pgembed"
)

// Format names what a backup archive is.
const Format = "pg_dump custom"

// Manifest describes a backup, written beside it as FILE.manifest.json:
// enough to check the archive is the one made, and that a restore holds what
// was backed up.
type Manifest struct {
	Format string `json:"format"`
	// File is the archive's base name; SHA256 and Bytes are its own.
	File          string    `json:"file"`
	SHA256        string    `json:"sha256"`
	Bytes         int64     `json:"bytes"`
	CreatedAt     time.Time `json:"created_at"`
	ServerVersion string    `json:"server_version"`
	// AuditHeadSeq and AuditHeadHash are the audit trail's head in the
	// backup: `granttrack audit verify --anchor HASH@SEQ` checks a restore
	// still holds it.
	AuditHeadSeq  int64  `json:"audit_head_seq"`
	AuditHeadHash string `json:"audit_head_hash"`
	// Counts holds every table's row count in the backup, by table name.
	Counts map[string]int64 `json:"counts"`
}

// Anchor returns the audit head as `audit verify --anchor` takes it.
func (m *Manifest) Anchor() string { return fmt.Sprintf("%s@%d", m.AuditHeadHash, m.AuditHeadSeq) }

// ManifestPath is where the manifest of the archive at path is written.
func ManifestPath(path string) string { return path + ".manifest.json" }

// Backup writes the database at dsn to the archive out, and its manifest
// beside it. The counts and the audit head are read in the very snapshot
// pg_dump dumps, so they describe exactly what the archive holds. Nothing is
// left at out if it fails.
func Backup(ctx context.Context, dsn, out string) (*Manifest, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("backup: connect: %w", err)
	}
	defer conn.Close(context.Background())
	major, version, err := serverVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	pgDump, err := pgembed.Tool("pg_dump", major)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}

	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer tx.Rollback(context.Background())
	var snapshot string
	if err := tx.QueryRow(ctx, "SELECT pg_export_snapshot()").Scan(&snapshot); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m := &Manifest{Format: Format, File: filepath.Base(out), CreatedAt: time.Now().UTC(), ServerVersion: version}
	if err := describe(ctx, tx, m); err != nil {
		return nil, err
	}

	tmp := out + ".partial"
	cmd := exec.CommandContext(ctx, pgDump, "--format=custom", "--no-password", "--snapshot="+snapshot, "--file="+tmp, "--dbname="+dsn)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: %s failed: %w\n%s", pgDump, err, strings.TrimSpace(string(b)))
	}
	if m.SHA256, m.Bytes, err = fileSHA256(tmp); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := writeJSON(ManifestPath(out), m); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

// ReadManifest reads a backup's manifest.
func ReadManifest(path string) (*Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("restore: the backup's manifest: %w", err)
	}
	m := new(Manifest)
	if err := json.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("restore: the backup's manifest %s: %w", path, err)
	}
	if m.Format != Format || len(m.SHA256) != 64 {
		return nil, fmt.Errorf("restore: %s is not a granttrack backup's manifest", path)
	}
	return m, nil
}

// ErrNotEmpty says the database a restore was asked to go into already
// holds something; a restore never mixes with, or replaces, data.
var ErrNotEmpty = errors.New("restore: the database is not empty")

// Restore loads the archive at path, checked against its manifest m first
// (its SHA-256), into the database at dsn, which must be empty: it refuses
// anything else (ErrNotEmpty) and changes nothing. The restore is one
// transaction: it lands whole or not at all. Objects are owned by the role
// dsn connects as (--no-owner), and privileges are not restored
// (--no-privileges): the target's own roles get theirs from granttrack.
// Afterwards every table's count and the audit head are checked against the
// manifest.
func Restore(ctx context.Context, dsn, path string, m *Manifest) error {
	sum, _, err := fileSHA256(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if sum != m.SHA256 {
		return fmt.Errorf("restore: %s has SHA-256 %s, but its manifest says %s: it is not the backup the manifest describes, or it is damaged", path, sum, m.SHA256)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	defer conn.Close(context.Background())
	if err := mustBeEmpty(ctx, conn); err != nil {
		return err
	}
	major, _, err := serverVersion(ctx, conn)
	if err != nil {
		return err
	}
	pgRestore, err := pgembed.Tool("pg_restore", major)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	cmd := exec.CommandContext(ctx, pgRestore, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
		"--no-password", "--dbname="+dsn, path)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("restore: %s failed, and restored nothing: %w\n%s", pgRestore, err, strings.TrimSpace(string(b)))
	}
	// pg_restore carries no planner statistics over.
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("restore: analyze: %w", err)
	}
	if err := Check(ctx, conn, m); err != nil {
		return err
	}
	// The changes to lines' money name transactions of the database backed
	// up, whose ids mean nothing in this one (a new cluster may be far
	// behind them, and would then never be trusted to keep money): what
	// processes keep between reports starts afresh from here.
	if _, err := conn.Exec(ctx, `DELETE FROM line_money_changes;
		UPDATE line_money_changes_pruned SET below = pg_snapshot_xmin(pg_current_snapshot())`); err != nil {
		return fmt.Errorf("restore: line_money_changes: %w", err)
	}
	return nil
}

// Check compares the database conn reaches with a backup's manifest: every
// table's row count and the audit head.
func Check(ctx context.Context, conn *pgx.Conn, m *Manifest) error {
	got := &Manifest{}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer tx.Rollback(context.Background())
	if err := describe(ctx, tx, got); err != nil {
		return err
	}
	var diffs []string
	if got.AuditHeadSeq != m.AuditHeadSeq || got.AuditHeadHash != m.AuditHeadHash {
		diffs = append(diffs, fmt.Sprintf("the audit head is %s, the backup's %s", got.Anchor(), m.Anchor()))
	}
	for table, n := range m.Counts {
		if got.Counts[table] != n {
			diffs = append(diffs, fmt.Sprintf("%s has %d rows, the backup %d", table, got.Counts[table], n))
		}
	}
	for table := range got.Counts {
		if _, ok := m.Counts[table]; !ok {
			diffs = append(diffs, fmt.Sprintf("table %s is not in the backup", table))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("restore: the database does not match the backup's manifest: %s", strings.Join(diffs, "; "))
	}
	return nil
}

// describe reads the audit head and every table's row count into m.
func describe(ctx context.Context, tx pgx.Tx, m *Manifest) error {
	var hash []byte
	if err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&m.AuditHeadSeq, &hash); err != nil {
		return fmt.Errorf("backup: the audit head (is this a granttrack database?): %w", err)
	}
	m.AuditHeadHash = hex.EncodeToString(hash)
	rows, err := tx.Query(ctx, `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
		WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	m.Counts = map[string]int64{}
	for _, t := range tables {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+t).Scan(&n); err != nil {
			return fmt.Errorf("backup: counting %s: %w", t, err)
		}
		m.Counts[strings.TrimPrefix(t, "public.")] = n
	}
	return nil
}

// mustBeEmpty refuses a database holding any table, view, sequence or
// function of its own.
func mustBeEmpty(ctx context.Context, conn *pgx.Conn) error {
	var db string
	var names []string
	err := conn.QueryRow(ctx, `SELECT current_database(), coalesce((SELECT array_agg(name ORDER BY name) FROM (
			SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
			UNION ALL
			SELECT n.nspname || '.' || p.proname || '()' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
			WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')) o), '{}')`).Scan(&db, &names)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if len(names) > 0 {
		shown := names
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("and %d more", len(names)-5))
		}
		return fmt.Errorf("%w: database %s holds %s. Restore into an empty data dir (--data-dir) or an empty database (DATABASE_URL); nothing was changed",
			ErrNotEmpty, db, strings.Join(shown, ", "))
	}
	return nil
}

// serverVersion returns the server's major version as PostgreSQL names its
// program directories ("15") and its full version.
func serverVersion(ctx context.Context, conn *pgx.Conn) (major, full string, err error) {
	var num string
	if err := conn.QueryRow(ctx, "SELECT current_setting('server_version_num'), current_setting('server_version')").Scan(&num, &full); err != nil {
		return "", "", fmt.Errorf("backup: server version: %w", err)
	}
	n, err := strconv.Atoi(num)
	if err != nil {
		return "", "", fmt.Errorf("backup: server version %q: %w", num, err)
	}
	if n < 100000 {
		return fmt.Sprintf("%d.%d", n/10000, n/100%100), full, nil
	}
	return strconv.Itoa(n / 10000), full, nil
}

func fileSHA256(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeJSON writes v to path, synced, through a temporary file renamed into
// place.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
