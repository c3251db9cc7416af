package main

import (
	"fmt"
	"path/filepath"
	"time"

	"granttrack/app"
	"granttrack/app/backup"
)

// backupCmd runs `granttrack backup --out FILE`: the whole database as a
// pg_dump archive, with FILE.manifest.json.
func (c *command) backupCmd(args []string) error {
	fs := c.flags("backup")
	out := fs.String("out", "", "the archive to write; its manifest goes to FILE.manifest.json")
	base := fs.Bool("base", false, "take a new base backup into the WAL archive (--wal-archive) instead")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if ok := (*out != "" && !*base) || (*out == "" && *base && c.cfg.WALArchive != ""); !ok || fs.NArg() != 0 {
		return usageError{"usage: granttrack backup --out FILE, or granttrack backup --base --wal-archive DIR"}
	}
	// As the schema's owner, who can read every table (and, for the private
	// cluster, nothing is migrated first: a backup takes the ledger as it is).
	a, err := app.OpenOwner(c.ctx, c.cfg, c.logger())
	if err != nil {
		return err
	}
	defer a.Close()
	if *base {
		dir, err := backup.BaseBackup(c.ctx, a.ReplicationDSN(), c.cfg.WALArchive)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "Base backup in %s\n", dir)
		return nil
	}
	m, err := backup.Backup(c.ctx, a.DSN, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Backed up to %s (%d bytes, SHA-256 %s); manifest %s\n", *out, m.Bytes, m.SHA256, backup.ManifestPath(*out))
	fmt.Fprintf(c.stdout, "%d spend entries, %d evidence files, %d audit events; audit head %s\n",
		m.Counts["spend_entries"], m.Counts["spend_evidence"], m.Counts["audit_events"], m.Anchor())
	return nil
}

// restoreCmd runs `granttrack restore FILE [--manifest M]` into the data
// dir's private cluster or DATABASE_URL, which must be empty.
func (c *command) restoreCmd(args []string) error {
	fs := c.flags("restore")
	manifest := fs.String("manifest", "", "the backup's manifest (default FILE.manifest.json)")
	until := fs.String("until", "", "restore the private cluster as it was at this time (RFC 3339) from the WAL archive (--wal-archive), instead of a FILE")
	file, err := parseWithFile(fs, args)
	if err != nil {
		return err
	}
	if *until != "" {
		return c.restoreUntil(*until, file)
	}
	if file == "" || fs.NArg() != 0 {
		return usageError{"usage: granttrack restore FILE [--manifest FILE.manifest.json]"}
	}
	if *manifest == "" {
		*manifest = backup.ManifestPath(file)
	}
	m, err := backup.ReadManifest(*manifest)
	if err != nil {
		return err
	}
	// As the schema's owner, into a database nothing has migrated yet; then
	// the restored schema is brought up to this binary's migrations and the
	// application role gets its privileges, which the archive leaves out.
	a, err := app.OpenOwner(c.ctx, c.cfg, c.logger())
	if err != nil {
		return err
	}
	defer a.Close()
	if err := backup.Restore(c.ctx, a.DSN, file, m); err != nil {
		return err
	}
	if _, err := a.Migrate(c.ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Restored %s (backed up %s): %d spend entries, %d evidence files, %d audit events.\n",
		file, m.CreatedAt.Format("2006-01-02 15:04:05 UTC"), m.Counts["spend_entries"], m.Counts["spend_evidence"], m.Counts["audit_events"])
	fmt.Fprintf(c.stdout, "Check it: granttrack audit verify --anchor %s\n", m.Anchor())
	return nil
}

// restoreUntil runs `granttrack restore --until TIME --wal-archive DIR`.
func (c *command) restoreUntil(until, file string) error {
	t, err := time.Parse(time.RFC3339Nano, until)
	if err != nil {
		return usageError{fmt.Sprintf("--until %q: give a time such as 2026-12-01T11:30:00Z or 2026-12-01T12:30:00+01:00", until)}
	}
	if file != "" || c.cfg.WALArchive == "" || c.cfg.DatabaseURL != "" {
		return usageError{"usage: granttrack restore --until TIME --wal-archive DIR [--data-dir EMPTY_DIR] (the private cluster only)"}
	}
	dir, err := filepath.Abs(c.cfg.DataDir)
	if err != nil {
		return err
	}
	archive, err := filepath.Abs(c.cfg.WALArchive)
	if err != nil {
		return err
	}
	log := c.logger()
	if err := backup.RestoreUntil(c.ctx, archive, dir, t, func(f string, args ...any) { log.Info(fmt.Sprintf(f, args...)) }); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Restored the cluster in %s as it was at %s. Check it with granttrack audit verify --data-dir %s\n", dir, t.Format(time.RFC3339Nano), c.cfg.DataDir)
	return nil
}
