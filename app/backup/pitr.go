package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"granttrack/app/pgembed"
)

// baseDir is where base backups live inside a WAL archive, each in a
// directory named by the time it finished (baseLayout, UTC).
const (
	baseDir    = "base"
	baseLayout = "20060102T150405.000000Z"
)

// HasBaseBackup reports whether the WAL archive holds a base backup.
func HasBaseBackup(archive string) bool {
	backups, _ := baseBackups(archive)
	return len(backups) > 0
}

// BaseBackup copies the whole cluster at dsn into the WAL archive with
// pg_basebackup (plain format, the WAL it needs streamed in): the starting
// point of a point-in-time restore, which then replays the archived WAL.
// It returns the backup's directory.
func BaseBackup(ctx context.Context, dsn, archive string) (string, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("base backup: connect: %w", err)
	}
	major, _, err := serverVersion(ctx, conn)
	conn.Close(context.Background())
	if err != nil {
		return "", err
	}
	tool, err := pgembed.Tool("pg_basebackup", major)
	if err != nil {
		return "", fmt.Errorf("base backup: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(archive, baseDir), 0o700); err != nil {
		return "", fmt.Errorf("base backup: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Join(archive, baseDir), ".partial-")
	if err != nil {
		return "", fmt.Errorf("base backup: %w", err)
	}
	cmd := exec.CommandContext(ctx, tool, "--pgdata="+tmp, "--format=plain", "--wal-method=stream", "--checkpoint=fast", "--no-password", "--dbname="+dsn)
	if b, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("base backup: %s failed: %w\n%s", tool, err, strings.TrimSpace(string(b)))
	}
	dir := filepath.Join(archive, baseDir, time.Now().UTC().Format(baseLayout))
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("base backup: %w", err)
	}
	return dir, nil
}

type baseBackup struct {
	dir      string
	finished time.Time
}

// baseBackups lists the archive's finished base backups, oldest first.
func baseBackups(archive string) ([]baseBackup, error) {
	entries, err := os.ReadDir(filepath.Join(archive, baseDir))
	if err != nil {
		return nil, err
	}
	var out []baseBackup
	for _, e := range entries {
		if t, err := time.Parse(baseLayout, e.Name()); err == nil && e.IsDir() {
			out = append(out, baseBackup{dir: filepath.Join(archive, baseDir, e.Name()), finished: t})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].finished.Before(out[j].finished) })
	return out, nil
}

// RestoreUntil rebuilds the cluster as it was at the instant until into the
// data dir dataDir, which must hold no cluster yet: it copies the latest base
// backup in the WAL archive finished before until, replays the archived WAL
// up to until (every transaction committed by then, none after), and opens
// the cluster for writing. The cluster is stopped when it returns.
func RestoreUntil(ctx context.Context, archive, dataDir string, until time.Time, logf func(string, ...any)) error {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	pgdata := filepath.Join(dataDir, "pg")
	if entries, err := os.ReadDir(pgdata); err == nil && len(entries) > 0 {
		return fmt.Errorf("%w: %s already holds a cluster. Restore into an empty data dir; nothing was changed", ErrNotEmpty, pgdata)
	}
	backups, err := baseBackups(archive)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("restore: %w", err)
	}
	var base *baseBackup
	for i := range backups {
		if !backups[i].finished.After(until) {
			base = &backups[i]
		}
	}
	if base == nil {
		return fmt.Errorf("restore: the WAL archive %s holds no base backup finished before %s (it holds %d)", archive, until.UTC().Format(time.RFC3339), len(backups))
	}
	logf("restore: from the base backup %s, replaying the WAL archive up to %s", base.dir, until.UTC().Format(time.RFC3339Nano))
	if err := copyTree(base.dir, pgdata); err != nil {
		return fmt.Errorf("restore: copying the base backup: %w", err)
	}
	settings := fmt.Sprintf("\n# granttrack restore --until: removed once recovery ends\nrestore_command = 'cp \"%s/%%f\" \"%%p\"'\nrecovery_target_time = '%s'\nrecovery_target_action = 'promote'\n",
		archive, until.UTC().Format("2006-01-02 15:04:05.999999")+"+00")
	if err := appendFile(filepath.Join(pgdata, "postgresql.auto.conf"), settings); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.WriteFile(filepath.Join(pgdata, "recovery.signal"), nil, 0o600); err != nil {
		return fmt.Errorf("restore: %w", err)
	}

	c, err := pgembed.Start(ctx, pgembed.Options{DataDir: dataDir, Logf: logf})
	if err != nil {
		return fmt.Errorf("restore: starting the restored cluster: %w", err)
	}
	err = promoted(ctx, c)
	if stopErr := c.Stop(); err == nil {
		err = stopErr
	}
	return err
}

// promoted waits for recovery to reach its target and the cluster to open
// for writing, then drops the recovery settings.
func promoted(ctx context.Context, c *pgembed.Cluster) error {
	conn, err := pgx.Connect(ctx, c.DSNAs(pgembed.Superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	defer conn.Close(context.Background())
	for {
		var recovering bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&recovering); err != nil {
			return fmt.Errorf("restore: recovery failed (see %s): %w", filepath.Join(filepath.Dir(c.DataDir()), "pg.log"), err)
		}
		if !recovering {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("restore: waiting for recovery: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	for _, name := range []string{"restore_command", "recovery_target_time", "recovery_target_action"} {
		if _, err := conn.Exec(ctx, "ALTER SYSTEM RESET "+name); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
	}
	return nil
}

// copyTree copies the directory from to to (which must not exist yet),
// keeping modes; symbolic links are copied as links.
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, info.Mode().Perm())
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		default:
			return copyFile(path, dst, info.Mode().Perm())
		}
	})
}

func copyFile(from, to string, perm fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
