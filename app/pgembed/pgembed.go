// Package pgembed runs granttrack's private PostgreSQL cluster from the
// PostgreSQL binaries on the machine: created on first use, listening only on
// a Unix socket inside the data dir, stopped with the process that started it.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Options say where the cluster lives and how it runs.
type Options struct {
	DataDir  string                           // granttrack's data dir; the cluster is DataDir/pg
	Database string                           // database to create if missing; default "granttrack"
	Logf     func(format string, args ...any) // progress messages; may be nil
	// Fast trades durability for speed (fsync off): for tests only.
	Fast bool
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	pgdata   string
	database string
	cmd      *exec.Cmd // nil when another process owns the server
	done     chan struct{}
	stopped  bool
}

// User is the role every private cluster is created with.
const User = "granttrack"

// searchDirs are where PostgreSQL's server binaries are looked for after PATH.
var searchDirs = "/usr/lib/postgresql/*/bin"

// ErrNoBinaries says PostgreSQL's server binaries are not installed.
var ErrNoBinaries = errors.New("the PostgreSQL server binaries (initdb, postgres) were not found: " +
	"install them with 'apt-get install postgresql', or set DATABASE_URL to use an existing PostgreSQL server")

// Start finds or starts the cluster in opts.DataDir, creating it on first use,
// and makes sure opts.Database exists. A cluster already running in the same
// data dir, started by another granttrack process, is reused, not restarted.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Database == "" {
		opts.Database = "granttrack"
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("pgembed: data dir: %w", err)
	}
	// One process at a time decides whether to start the server.
	unlock, err := lockFile(filepath.Join(dataDir, "pgembed.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()

	c := &Cluster{pgdata: filepath.Join(dataDir, "pg"), database: opts.Database}
	if c.running(ctx) {
		logf("using the PostgreSQL cluster already running in %s", c.pgdata)
	} else {
		bin, err := findBinaries()
		if err != nil {
			return nil, err
		}
		cred, err := serverCredential()
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); err != nil {
			logf("creating a PostgreSQL cluster in %s", c.pgdata)
			if err := c.initdb(ctx, bin, cred); err != nil {
				return nil, err
			}
		}
		if err := c.start(ctx, bin, cred, opts.Fast); err != nil {
			return nil, err
		}
		logf("started PostgreSQL in %s", c.pgdata)
	}
	if err := c.ensureDatabase(ctx, opts.Database); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// DSN returns the connection string of the cluster's database.
func (c *Cluster) DSN() string { return c.DSNFor(c.database) }

// DSNFor returns the connection string of another database on the cluster.
func (c *Cluster) DSNFor(dbname string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", c.pgdata, User, dbname)
}

// Owned reports whether this process started the server (and so stops it).
func (c *Cluster) Owned() bool { return c.cmd != nil }

// DataDir returns the cluster's PGDATA.
func (c *Cluster) DataDir() string { return c.pgdata }

// Stop shuts the server down if this process started it: a fast shutdown
// (SIGINT), then an immediate one (SIGQUIT) if it has not ended in 30 s.
// It waits for the server to exit, and is safe to call twice.
func (c *Cluster) Stop() error {
	if c.cmd == nil || c.stopped {
		return nil
	}
	c.stopped = true
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
		return nil
	case <-time.After(10 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		return errors.New("pgembed: PostgreSQL did not stop in time and was killed")
	}
}

// findBinaries returns the directory holding initdb and postgres: PATH first,
// then the newest version under /usr/lib/postgresql.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	matches, _ := filepath.Glob(searchDirs)
	sort.Slice(matches, func(i, j int) bool { return versionOf(matches[i]) > versionOf(matches[j]) })
	for _, dir := range matches {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err == nil {
			return dir, nil
		}
	}
	return "", ErrNoBinaries
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// serverCredential returns who the server runs as: this process's user, or,
// when that is root (which PostgreSQL refuses), the postgres user or nobody.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
	}
	return nil, errors.New("pgembed: running as root, and there is no 'postgres' or 'nobody' user to run PostgreSQL as")
}

// command prepares one of the PostgreSQL programs, as cred when set.
func command(ctx context.Context, bin, name string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	if cred != nil {
		cmd.Env = append(cmd.Env, "HOME=/tmp")
	}
	cmd.Dir = "/"
	return cmd
}

func (c *Cluster) initdb(ctx context.Context, bin string, cred *syscall.Credential) error {
	if err := os.MkdirAll(c.pgdata, 0o700); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if cred != nil {
		if err := giveTo(c.pgdata, cred); err != nil {
			return err
		}
	}
	cmd := command(ctx, bin, "initdb", cred, "-D", c.pgdata, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgembed: initdb failed: %w\n%s", err, out)
	}
	return nil
}

// giveTo hands dir to the server's user and makes sure that user can reach
// it through every parent directory (adding only the search bit).
func giveTo(dir string, cred *syscall.Credential) error {
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, st.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("pgembed: %s must be searchable by the PostgreSQL user: %w", p, err)
			}
		}
		if p == "/" {
			return nil
		}
	}
}

func (c *Cluster) start(ctx context.Context, bin string, cred *syscall.Credential, fast bool) error {
	if cred != nil { // a data dir copied in by root must belong to the server's user
		if err := giveTo(c.pgdata, cred); err != nil {
			return err
		}
	}
	logPath := filepath.Join(filepath.Dir(c.pgdata), "pg.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	defer logFile.Close()
	args := []string{"-D", c.pgdata,
		"-c", "listen_addresses=", "-c", "unix_socket_directories=" + c.pgdata, "-c", "port=5432",
		"-c", "max_connections=200", "-c", "shared_buffers=128MB", "-c", "timezone=UTC"}
	if fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	// Not CommandContext: the server must outlive the start-up context.
	cmd := command(context.Background(), bin, "postgres", cred, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Its own process group keeps a terminal's Ctrl-C from reaching the
	// server before granttrack has closed its connections; Pdeathsig gives it
	// a fast shutdown if granttrack dies without stopping it.
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgembed: start postgres: %w", err)
	}
	c.cmd, c.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(c.done) }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		if c.ping(ctx, "postgres") == nil {
			return nil
		}
		select {
		case <-c.done:
			c.cmd = nil
			return fmt.Errorf("pgembed: PostgreSQL exited during start-up; its log (%s) ends:\n%s", logPath, tail(logPath, 20))
		case <-ctx.Done():
			c.Stop()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return fmt.Errorf("pgembed: PostgreSQL did not accept connections within 60 s; see %s", logPath)
		}
	}
}

// running reports whether a server is already answering in this data dir.
func (c *Cluster) running(ctx context.Context) bool {
	b, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil || syscall.Kill(pid, 0) != nil && !errors.Is(syscall.Kill(pid, 0), syscall.EPERM) {
		return false // a stale pid file; postgres itself deals with it
	}
	return c.ping(ctx, "postgres") == nil
}

func (c *Cluster) ping(ctx context.Context, db string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSNFor(db))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.DSNFor("postgres"))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if exists {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		var exists bool // another process may have created it meanwhile
		if conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists) == nil && exists {
			return nil
		}
		return fmt.Errorf("pgembed: create database %s: %w", name, err)
	}
	return nil
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("pgembed: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func tail(path string, lines int) string {
	b, _ := os.ReadFile(path)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
