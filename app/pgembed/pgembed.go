// Package pgembed runs granttrack's private PostgreSQL cluster from the
// PostgreSQL server binaries installed on the machine, so that granttrack
// needs no separately administered database server. The cluster is created on
// first use in DataDir/pg, listens only on a Unix socket inside that directory
// (so it can never collide with another server's TCP port or be reached from
// the network), and is shared by every granttrack process using that data
// dir: it keeps running while any of them uses it, and the last one out stops
// it (see Stop). Each process holds a shared flock on DataDir/pgembed.users
// for as long as it uses the cluster, so the count of users survives crashes:
// the kernel drops a dead process's lock. A small supervisor process (this
// same executable, started again; see supervise) is the server's parent and
// stops it when no process holds the lock any more, even if the last one
// died without calling Stop.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Options say where the cluster lives and how it runs.
type Options struct {
	// DataDir is granttrack's data dir; the cluster lives in DataDir/pg and
	// its server log in DataDir/pg.log.
	DataDir string
	// Logf receives progress messages (cluster created, started, reused).
	// It may be nil.
	Logf func(format string, args ...any)
	// Database is the database Start makes sure exists; default "granttrack".
	Database string
	// Fast turns off fsync, synchronous_commit and full_page_writes. A crash
	// of the machine can then corrupt the cluster, which only throw-away test
	// clusters can afford; it applies only when this process starts the server.
	Fast bool
	// WALArchive, when set, is a directory the server archives every
	// completed WAL segment into (archive_mode), for point-in-time recovery
	// from a base backup. It applies only when this process starts the
	// server; WALArchiving reports whether a running one archives.
	WALArchive string
}

// Cluster is a running private PostgreSQL server, started by this process or
// found already running in the same data dir.
type Cluster struct {
	pgdata   string
	database string
	srv      *server // the supervisor this process started; nil when the server was already running
	// startLock serialises finding, starting and stopping the server; users
	// is held shared by holder for as long as this Cluster uses the server.
	startLock, users string
	holder           *os.File
	archive          string // Options.WALArchive, absolute

	stopOnce sync.Once
	stopErr  error
}

// The roles of every private cluster. The server trusts every local
// connection: only users who can reach the socket inside the 0700 data dir
// can connect at all. What the roles separate is what granttrack's own
// connections can do: the application connects as App, which is no
// superuser and owns nothing, so neither a bug nor an injected statement can
// switch the ledger's triggers off; only migrations connect as Owner.
const (
	// Superuser is the role initdb creates; pgembed uses it only to create
	// the other roles and the databases.
	Superuser = "granttrack"
	// Owner owns the databases and every table in them, and runs migrations.
	Owner = "granttrack_owner"
	// App is the application role: the privileges migrations/privileges.sql
	// grants, nothing else.
	App = "granttrack_app"
)

// port is fixed: the socket lives in the cluster's own directory, so clusters
// never compete for it.
const port = "5432"

// maxSocketPath is the longest Unix socket path Linux accepts (sun_path is
// 108 bytes including the terminating NUL).
const maxSocketPath = 107

// searchGlob is where PostgreSQL server binaries are looked for after
// pg_config and PATH: Debian and Ubuntu install each major version there
// without putting initdb or postgres on PATH. Tests replace it.
var searchGlob = "/usr/lib/postgresql/*/bin"

// ErrNoBinaries says the PostgreSQL server binaries are not installed. Its
// text tells the operator the two ways forward.
var ErrNoBinaries = errors.New("PostgreSQL server binaries were not found; install them with `apt-get install postgresql` or set DATABASE_URL to use an existing server")

// Start finds or starts the cluster in opts.DataDir, creating it on first
// use, and makes sure opts.Database exists. A server already running in the
// same data dir (started by another granttrack process, or earlier by this
// one) is reused rather than started twice. Either way the returned Cluster
// counts as one of the server's users until Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.DataDir == "" {
		return nil, errors.New("pgembed: Options.DataDir is empty")
	}
	if opts.Database == "" {
		opts.Database = "granttrack"
	}
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dataDir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("pgembed: data dir: %w", err)
	}
	c := &Cluster{pgdata: filepath.Join(dataDir, "pg"), database: opts.Database,
		startLock: filepath.Join(dataDir, "pgembed.lock"), users: filepath.Join(dataDir, "pgembed.users")}
	// Checked up front because postgres would otherwise fail with a message
	// about the socket that does not say what to change.
	if sock := filepath.Join(c.pgdata, ".s.PGSQL."+port); len(sock) > maxSocketPath {
		return nil, fmt.Errorf("pgembed: data dir %s is too deep: the server's socket path %s would be %d bytes, more than the %d Unix sockets allow; use a shorter data dir",
			dataDir, sock, len(sock), maxSocketPath)
	}
	// pgx reads a comma in the host as a list of hosts, with no escape.
	if strings.Contains(dataDir, ",") {
		return nil, fmt.Errorf("pgembed: data dir %s contains a comma, which PostgreSQL connection strings cannot express; use another data dir", dataDir)
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("pgembed: data dir: %w", err)
	}
	if opts.WALArchive != "" {
		if c.archive, err = filepath.Abs(opts.WALArchive); err != nil {
			return nil, fmt.Errorf("pgembed: WAL archive: %w", err)
		}
		// archive_command is a shell command: keep the path a plain word.
		if strings.ContainsAny(c.archive, "'\"%\n") {
			return nil, fmt.Errorf("pgembed: WAL archive %s: use a directory whose path has no quotes, %% or newlines", c.archive)
		}
	}

	// Two granttrack processes starting at once must not both decide the
	// server is down and both start one: the lock makes find-or-start atomic.
	unlock, err := lockFile(ctx, c.startLock)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Counted as a user before the server is found or started, so that no
	// supervisor stops it in between.
	if c.holder, err = holdShared(c.users); err != nil {
		return nil, err
	}

	if pid, ok := c.running(ctx); ok {
		logf("pgembed: using the PostgreSQL server already running in %s (pid %d)", c.pgdata, pid)
	} else {
		if err := c.create(ctx, opts.Fast, logf); err != nil {
			c.release()
			return nil, err
		}
	}
	if err := c.ensureRoles(ctx); err != nil {
		_ = c.Stop()
		return nil, err
	}
	if err := c.ensureDatabase(ctx, opts.Database); err != nil {
		c.stopOnce.Do(func() { c.stopErr = c.leave() })
		return nil, err
	}
	return c, nil
}

// DSN returns the connection string of the cluster's database
// (Options.Database) as the application role.
func (c *Cluster) DSN() string { return c.DSNAs(App, c.database) }

// OwnerDSN returns the connection string of the cluster's database as its
// owner, for migrations.
func (c *Cluster) OwnerDSN() string { return c.DSNAs(Owner, c.database) }

// DSNAs returns the connection string of any database on the cluster as
// role, in the keyword form pgx and libpq accept. The host is the socket
// directory; values are quoted when they contain spaces or quotes.
func (c *Cluster) DSNAs(role, dbname string) string {
	return fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable",
		dsnValue(c.pgdata), port, dsnValue(role), dsnValue(dbname))
}

// Owned reports whether this Cluster started the server. Any user of the
// server may be the last one out and stop it.
func (c *Cluster) Owned() bool { return c.srv != nil }

// WALArchiving reports whether the running server archives its WAL.
func (c *Cluster) WALArchiving(ctx context.Context) (bool, error) {
	conn, err := pgx.Connect(ctx, c.DSNAs(Superuser, "postgres"))
	if err != nil {
		return false, fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(context.Background())
	var mode string
	if err := conn.QueryRow(ctx, "SELECT current_setting('archive_mode')").Scan(&mode); err != nil {
		return false, fmt.Errorf("pgembed: %w", err)
	}
	return mode == "on" || mode == "always", nil
}

// prepareArchive creates the WAL archive directory, writable by the
// server's user.
func prepareArchive(dir string, as *runAs, logf func(string, ...any)) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("pgembed: WAL archive: %w", err)
	}
	if as == nil {
		return nil
	}
	if err := os.Chown(dir, int(as.uid), int(as.gid)); err != nil {
		return fmt.Errorf("pgembed: giving the WAL archive %s to user %s: %w", dir, as.name, err)
	}
	return reachable(dir, as, logf)
}

// DataDir returns the cluster's PGDATA directory (Options.DataDir/pg).
func (c *Cluster) DataDir() string { return c.pgdata }

// Stop ends this Cluster's use of the server and, when no other Cluster in
// any process still uses it, shuts the server down: the last one out stops
// it, whoever started it. The shutdown is a fast one (SIGINT: sessions are
// ended, everything is written), then after 30 s an immediate one (SIGQUIT),
// and as a last resort SIGKILL. Stop returns once the server has exited (or
// at once when others still use it), and is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		if c.holder == nil {
			return
		}
		unlock, err := lockFile(context.Background(), c.startLock)
		if err != nil {
			c.release()
			c.stopErr = err
			return
		}
		defer unlock()
		c.stopErr = c.leave()
	})
	return c.stopErr
}

// leave drops this Cluster's hold and stops the server if no one else holds
// it. The caller holds the start lock, so no Start joins, and no supervisor
// checks, while it decides.
func (c *Cluster) leave() error {
	if c.holder == nil {
		return nil
	}
	c.release()
	if held, err := inUse(c.users); err != nil || held {
		return err
	}
	var err error
	if pid, ok := c.postmaster(); ok {
		err = stopProcess(pid, exited(pid))
	}
	if c.srv != nil {
		// The supervisor this process started exits with the server; reap it.
		select {
		case <-c.srv.done:
		case <-time.After(10 * time.Second):
		}
	}
	return err
}

// release closes this Cluster's hold on the server, and with it the lock.
func (c *Cluster) release() {
	if c.holder != nil {
		_ = c.holder.Close()
		c.holder = nil
	}
}

// abandon stops a server this Cluster was starting when the start failed,
// and drops the hold: the supervisor stops its server on SIGTERM.
func (c *Cluster) abandon() {
	if c.srv != nil {
		_ = syscall.Kill(c.srv.pid, syscall.SIGTERM)
		<-c.srv.done
		c.srv = nil
	}
	c.release()
}

// create initialises the cluster if needed and starts its server.
func (c *Cluster) create(ctx context.Context, fast bool, logf func(string, ...any)) error {
	dataVersion := ""
	if b, err := os.ReadFile(filepath.Join(c.pgdata, "PG_VERSION")); err == nil {
		dataVersion = strings.TrimSpace(string(b))
	}
	bin, binVersion, err := findBinaries(dataVersion)
	if err != nil {
		return err
	}
	as, err := serverUser()
	if err != nil {
		return err
	}
	if err := c.prepareDir(as, logf); err != nil {
		return err
	}
	if dataVersion == "" {
		begin := time.Now()
		if err := c.initdb(ctx, bin, as); err != nil {
			return err
		}
		logf("pgembed: created a PostgreSQL %s cluster in %s in %v", binVersion, c.pgdata, time.Since(begin).Round(time.Millisecond))
	}
	begin := time.Now()
	if err := c.start(ctx, bin, as, fast); err != nil {
		return err
	}
	pid, _ := c.postmaster()
	logf("pgembed: started PostgreSQL %s in %s (pid %d) in %v", binVersion, c.pgdata, pid, time.Since(begin).Round(time.Millisecond))
	return nil
}

// findBinaries returns the directory holding initdb and postgres, and their
// major version. It asks pg_config, then PATH, then the newest version under
// searchGlob. When the cluster already exists (dataVersion is its
// PG_VERSION), only binaries of that major version can run it, so the first
// candidate of that version wins.
func findBinaries(dataVersion string) (dir, version string, err error) {
	seen := map[string]bool{}
	var found []string // "version (dir)", for the mismatch message
	for _, d := range binDirs() {
		if d == "" || seen[d] || !isExecutable(filepath.Join(d, "initdb")) || !isExecutable(filepath.Join(d, "postgres")) {
			continue
		}
		seen[d] = true
		v, err := serverVersion(filepath.Join(d, "postgres"))
		if err != nil {
			continue
		}
		if dataVersion == "" || v == dataVersion {
			return d, v, nil
		}
		found = append(found, fmt.Sprintf("%s (%s)", v, d))
	}
	if len(found) > 0 {
		return "", "", fmt.Errorf("pgembed: the cluster was created by PostgreSQL %s, but only PostgreSQL %s is installed; install PostgreSQL %s's server binaries or upgrade the cluster with pg_upgrade",
			dataVersion, strings.Join(found, ", "), dataVersion)
	}
	return "", "", ErrNoBinaries
}

// Tool returns the path of the PostgreSQL program name (pg_dump,
// pg_restore, pg_basebackup, ...) of major version major, looked for where
// the server binaries are (pg_config, PATH, searchGlob); failing that, the
// newest of a later version, which can still read that version's data.
func Tool(name, major string) (string, error) {
	var later, laterVersion string
	seen := map[string]bool{}
	for _, d := range binDirs() {
		p := filepath.Join(d, name)
		if d == "" || seen[d] || !isExecutable(p) {
			continue
		}
		seen[d] = true
		v, err := serverVersion(p)
		if err != nil {
			continue
		}
		if v == major {
			return p, nil
		}
		if versionLess(major, v) && (later == "" || versionLess(laterVersion, v)) {
			later, laterVersion = p, v
		}
	}
	if later != "" {
		return later, nil
	}
	return "", fmt.Errorf("pgembed: %s of PostgreSQL %s or later was not found; install it with `apt-get install postgresql-client-%s`", name, major, major)
}

// binDirs lists where PostgreSQL programs may be, in order of preference:
// pg_config's bindir, the directory of initdb on PATH, then each version
// under searchGlob, newest first.
func binDirs() []string {
	var candidates []string
	if p, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(p, "--bindir").Output(); err == nil {
			candidates = append(candidates, strings.TrimSpace(string(out)))
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real // initdb finds postgres next to its real path, so must we
		}
		candidates = append(candidates, filepath.Dir(p))
	}
	globbed, _ := filepath.Glob(searchGlob)
	sort.SliceStable(globbed, func(i, j int) bool {
		return versionLess(filepath.Base(filepath.Dir(globbed[j])), filepath.Base(filepath.Dir(globbed[i])))
	})
	return append(candidates, globbed...)
}

// serverVersion returns the major version of a PostgreSQL program as
// PG_VERSION spells it ("15", "9.6").
func serverVersion(postgres string) (string, error) {
	out, err := exec.Command(postgres, "--version").Output() // allowed as root
	if err != nil {
		return "", err
	}
	f := strings.Fields(string(out)) // postgres (PostgreSQL) 15.18 (Debian ...)
	if len(f) < 3 {
		return "", fmt.Errorf("pgembed: unexpected %s --version output %q", postgres, out)
	}
	parts := strings.Split(f[2], ".")
	if n, err := strconv.Atoi(parts[0]); err == nil && n < 10 && len(parts) > 1 {
		return parts[0] + "." + parts[1], nil // before 10 the major version had two parts
	}
	return strings.TrimRightFunc(parts[0], func(r rune) bool { return r < '0' || r > '9' }), nil
}

// versionLess orders version directory names numerically ("9.6" < "10" < "15").
func versionLess(a, b string) bool {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) || i < len(pb); i++ {
		var x, y int
		if i < len(pa) {
			x, _ = strconv.Atoi(pa[i])
		}
		if i < len(pb) {
			y, _ = strconv.Atoi(pb[i])
		}
		if x != y {
			return x < y
		}
	}
	return false
}

func isExecutable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0
}

// runAs is the unprivileged user the server runs as when granttrack runs as
// root, because PostgreSQL refuses to run as root.
type runAs struct {
	uid, gid   uint32
	name, home string
}

// serverUser returns nil when granttrack is not root (the server runs as
// granttrack's own user), else the postgres user, else nobody.
func serverUser() (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		home := u.HomeDir
		if st, err := os.Stat(home); err != nil || !st.IsDir() {
			home = "/"
		}
		return &runAs{uid: uint32(uid), gid: uint32(gid), name: name, home: home}, nil
	}
	return nil, errors.New("pgembed: running as root, which PostgreSQL refuses, and there is no 'postgres' or 'nobody' user to run it as")
}

// prepareDir creates PGDATA. When the server runs as another user it hands
// PGDATA to that user (all of it: a cluster restored or copied by root would
// otherwise be unreadable) and makes every parent directory searchable by it.
func (c *Cluster) prepareDir(as *runAs, logf func(string, ...any)) error {
	if err := os.MkdirAll(c.pgdata, 0o700); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if as == nil {
		return nil
	}
	err := filepath.WalkDir(c.pgdata, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && st.Uid == as.uid && st.Gid == as.gid {
			return nil
		}
		return os.Lchown(path, int(as.uid), int(as.gid))
	})
	if err != nil {
		return fmt.Errorf("pgembed: giving %s to user %s: %w", c.pgdata, as.name, err)
	}
	// postgres insists on 0700 or 0750 for PGDATA.
	if st, err := os.Stat(c.pgdata); err == nil && st.Mode().Perm()&0o027 != 0 {
		if err := os.Chmod(c.pgdata, 0o700); err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
	}
	return reachable(c.pgdata, as, logf)
}

// reachable makes every parent of dir searchable by the server's user: temp
// dirs and home dirs are often 0700. Only the search bit is added, never
// read.
func reachable(dir string, as *runAs, logf func(string, ...any)) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
		if perm := st.Mode().Perm(); perm&0o001 == 0 {
			if err := os.Chmod(p, perm|0o001); err != nil {
				return fmt.Errorf("pgembed: %s must be searchable by user %s: %w", p, as.name, err)
			}
			logf("pgembed: made %s searchable by others (o+x) so that PostgreSQL, running as %s, can reach %s", p, as.name, dir)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// command prepares one of the PostgreSQL programs, run as `as` when set.
func command(bin, name string, as *runAs, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	// PG* variables meant for clients (PGPORT, PGDATA, ...) would change the
	// server's settings; a C locale keeps initdb and the server independent
	// of the machine's locales.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") && !strings.HasPrefix(kv, "LC_") && !strings.HasPrefix(kv, "LANG=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C", "LANG=C")
	if as != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: as.uid, Gid: as.gid} // Groups nil: drops root's groups
		cmd.Env = append(cmd.Env, "HOME="+as.home, "USER="+as.name, "LOGNAME="+as.name)
	}
	// The working directory may be one the server's user cannot enter
	// (root's home), which initdb reports as an error.
	cmd.Dir = "/"
	return cmd
}

func (c *Cluster) initdb(ctx context.Context, bin string, as *runAs) error {
	cmd := command(bin, "initdb", as, "-D", c.pgdata, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
	out, err := runCtx(ctx, cmd)
	if err != nil {
		return fmt.Errorf("pgembed: initdb %s failed: %w\n%s", c.pgdata, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// runCtx runs cmd, killing it if ctx ends first, and returns its output.
func runCtx(ctx context.Context, cmd *exec.Cmd) ([]byte, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		return []byte(out.String()), err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-exited
		return []byte(out.String()), ctx.Err()
	}
}

// server is a postgres process started by this process.
type server struct {
	pid     int
	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // set before done is closed
}

func (c *Cluster) start(ctx context.Context, bin string, as *runAs, fast bool) error {
	logPath := filepath.Join(filepath.Dir(c.pgdata), "pg.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	defer logFile.Close() // the child has its own copy
	logStart, _ := logFile.Seek(0, io.SeekEnd)

	// A copy of another cluster's data dir (a base backup, a replica made
	// with pg_basebackup) carries that server's socket lock, naming a
	// process that may well be alive; no server runs here (Start checked,
	// under the start lock), so the lock is stale.
	for _, f := range []string{".s.PGSQL." + port + ".lock", ".s.PGSQL." + port} {
		if err := os.Remove(filepath.Join(c.pgdata, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pgembed: removing a stale socket lock: %w", err)
		}
	}
	args := []string{"-D", c.pgdata,
		"-c", "listen_addresses=", // no TCP: nothing outside this machine, or outside the data dir's permissions, can connect
		"-c", "unix_socket_directories=" + gucListItem(c.pgdata),
		"-c", "port=" + port,
		"-c", "max_connections=200",
		"-c", "shared_buffers=128MB",
		"-c", "timezone=UTC",
	}
	if fast {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	if c.archive != "" {
		if err := prepareArchive(c.archive, as, func(string, ...any) {}); err != nil {
			return err
		}
		// Copied under a temporary name and renamed, so a segment in the
		// archive is always whole; an existing one is never overwritten.
		dst := c.archive + "/%f"
		args = append(args, "-c", "archive_mode=on", "-c", "archive_timeout=60",
			"-c", fmt.Sprintf("archive_command=test ! -f '%s' && cp '%%p' '%s.tmp' && mv '%s.tmp' '%s'", dst, dst, dst, dst))
	}
	cmd, err := c.supervisor(command(bin, "postgres", as, args...))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	srv, err := launch(cmd)
	if err != nil {
		return fmt.Errorf("pgembed: starting %s: %w", cmd.Path, err)
	}
	c.srv = srv

	deadline := time.Now().Add(60 * time.Second)
	for {
		err := c.ping(ctx, "postgres")
		if err == nil {
			return nil
		}
		select {
		case <-srv.done:
			c.srv = nil
			c.release()
			return fmt.Errorf("pgembed: PostgreSQL exited during start-up (%v); %s says:\n%s", srv.waitErr, logPath, tailFrom(logPath, logStart, 20))
		case <-ctx.Done():
			c.abandon()
			return fmt.Errorf("pgembed: waiting for PostgreSQL to start: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.abandon()
			return fmt.Errorf("pgembed: PostgreSQL did not accept connections within 60 s (%v); %s says:\n%s", err, logPath, tailFrom(logPath, logStart, 20))
		}
	}
}

// launch starts cmd from a goroutine locked to its OS thread, which stays
// blocked waiting for the process until it exits. Linux delivers Pdeathsig
// when the thread that forked the child ends, not the process, and the Go
// runtime may end idle threads; the locked, waiting thread lives exactly as
// long as granttrack does or the server does.
func launch(cmd *exec.Cmd) (*server, error) {
	started := make(chan error, 1)
	srv := &server{done: make(chan struct{})}
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		srv.pid = cmd.Process.Pid
		started <- nil
		srv.waitErr = cmd.Wait()
		close(srv.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return srv, nil
}

// stopProcess shuts the postmaster pid down and returns once done is closed
// (it has exited): a fast shutdown, after 30 s an immediate one, after 10 s
// more SIGKILL.
func stopProcess(pid int, done <-chan struct{}) error {
	_ = syscall.Kill(pid, syscall.SIGINT) // fast shutdown
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
	}
	_ = syscall.Kill(pid, syscall.SIGQUIT) // immediate shutdown
	select {
	case <-done:
		return errors.New("pgembed: PostgreSQL ignored a fast shutdown for 30 s and was shut down immediately")
	case <-time.After(10 * time.Second):
	}
	// Its children (each in a session of its own) notice the postmaster's
	// death and exit by themselves.
	_ = syscall.Kill(pid, syscall.SIGKILL)
	<-done
	return errors.New("pgembed: PostgreSQL did not shut down and was killed")
}

// exited returns a channel closed once process pid (not a child of this
// process) has exited.
func exited(pid int) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for alive(pid) {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return done
}

// alive reports whether process pid exists and is not a zombie waiting for
// its parent to reap it.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// running reports whether a server is already answering in this data dir,
// and its pid.
func (c *Cluster) running(ctx context.Context) (int, bool) {
	pid, ok := c.postmaster()
	if !ok {
		return 0, false
	}
	return pid, c.ping(ctx, "postgres") == nil
}

// postmaster returns the pid in postmaster.pid if that process is alive. A
// postmaster.pid naming a dead process is stale; postgres itself deals with
// it on start.
func (c *Cluster) postmaster() (int, bool) {
	b, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 || !alive(pid) {
		return 0, false
	}
	return pid, true
}

func (c *Cluster) ping(ctx context.Context, db string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSNAs(Superuser, db))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// ensureRoles creates the owner and application roles if the cluster lacks
// them (a new cluster, or one created before granttrack had them).
func (c *Cluster) ensureRoles(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.DSNAs(Superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(context.Background())
	for _, role := range []string{Owner, App} {
		var ok bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role).Scan(&ok); err != nil {
			return fmt.Errorf("pgembed: %w", err)
		}
		if ok {
			continue
		}
		// Spelled out: neither may create roles or databases, and neither is
		// a superuser (the defaults, but a reader should not have to know).
		_, err := conn.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS")
		if err != nil && !isDuplicate(err) { // another process on the same server made it meanwhile
			return fmt.Errorf("pgembed: create role %s: %w", role, err)
		}
	}
	return nil
}

// adoptSQL hands the database and whatever the superuser owns in its public
// schema to the owner role. Clusters created before granttrack had an owner
// role made every table as the superuser; REASSIGN OWNED cannot move them,
// because the superuser also owns the system catalogs.
const adoptSQL = `DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS name, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO ` + Owner + `',
            CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, r.name);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'public' AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO ` + Owner + `', r.name);
    END LOOP;
    -- Before PostgreSQL 15 the bootstrap superuser owned the public schema.
    IF (SELECT nspowner FROM pg_namespace WHERE nspname = 'public') = (SELECT oid FROM pg_roles WHERE rolname = current_user) THEN
        ALTER SCHEMA public OWNER TO ` + Owner + `;
    END IF;
END $$`

// adopt makes Owner the owner of database name and of everything in it.
func (c *Cluster) adopt(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.DSNAs(Superuser, name))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(context.Background())
	var owner string
	if err := conn.QueryRow(ctx, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()").Scan(&owner); err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if owner == Owner {
		return nil
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	defer tx.Rollback(context.Background()) //nolint:errcheck // after Commit it does nothing
	if _, err := tx.Exec(ctx, adoptSQL); err != nil {
		return fmt.Errorf("pgembed: giving database %s's tables to %s: %w", name, Owner, err)
	}
	if _, err := tx.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER TO "+Owner); err != nil {
		return fmt.Errorf("pgembed: giving database %s to %s: %w", name, Owner, err)
	}
	return tx.Commit(ctx)
}

func isDuplicate(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "42710" || pgErr.Code == "23505") // duplicate_object, or the catalog's unique index in a race
}

// ensureDatabase creates database name, owned by Owner, unless it exists,
// and makes sure Owner owns it and everything in it.
func (c *Cluster) ensureDatabase(ctx context.Context, name string) error {
	if err := c.createDatabase(ctx, name); err != nil {
		return err
	}
	return c.adopt(ctx, name)
}

func (c *Cluster) createDatabase(ctx context.Context, name string) error {
	conn, err := pgx.Connect(ctx, c.DSNAs(Superuser, "postgres"))
	if err != nil {
		return fmt.Errorf("pgembed: connect: %w", err)
	}
	defer conn.Close(context.Background())
	exists := func() (bool, error) {
		var ok bool
		err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
		return ok, err
	}
	ok, err := exists()
	if err != nil {
		return fmt.Errorf("pgembed: %w", err)
	}
	if ok {
		return nil
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()+" OWNER "+Owner); err != nil {
		if ok, _ := exists(); ok { // another process using the same server created it meanwhile
			return nil
		}
		return fmt.Errorf("pgembed: create database %s: %w", name, err)
	}
	return nil
}

// lockFile takes an exclusive flock on path, waiting for it as long as ctx
// allows, and returns its release. The descriptor is close-on-exec, so the
// server does not inherit the lock.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pgembed: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("pgembed: waiting for %s (another granttrack is starting PostgreSQL): %w", path, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		_ = f.Close()
	}, nil
}

// WithDatabase points a connection string, URL or keyword/value form, at
// another database.
func WithDatabase(base, name string) (string, error) {
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			return "", fmt.Errorf("connection string: %w", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String(), nil
	}
	if strings.TrimSpace(base) == "" {
		return "", errors.New("empty connection string")
	}
	return base + " dbname=" + name, nil // a later keyword overrides an earlier one
}

// dsnValue quotes a keyword/value connection string value when needed.
func dsnValue(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n\r'\\") {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// gucListItem quotes a directory for a list setting such as
// unix_socket_directories, which splits on commas and trims spaces.
func gucListItem(s string) string {
	if !strings.ContainsAny(s, " \t\"") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// tailFrom returns the last lines of what was written to path after offset:
// this start's part of the server log.
func tailFrom(path string, offset int64, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	if offset > 0 && offset <= int64(len(b)) {
		b = b[offset:]
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
