package pgembed

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// start starts a cluster in dir for a test and stops it when the test ends,
// whatever happens, so that a failing test leaves no server behind.
func start(t *testing.T, dir string, fast bool) *Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := Start(ctx, Options{DataDir: dir, Fast: fast, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %q: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// postmasterPID reads the pid the running server wrote into its data dir.
func postmasterPID(t *testing.T, c *Cluster) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(first)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// serverProcesses lists the live processes of a server: those whose command
// line names its data dir (the postmaster), whose working directory is the
// data dir (postgres works there, and its children inherit it), or whose
// parent is the postmaster (backends and auxiliary processes rewrite their
// command lines to "postgres: ..."; each calls setsid, so the process group
// does not find them). Zombies are dead and not counted.
func serverProcesses(t *testing.T, pgdata string, postmaster int) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) < 3 || fields[0] == "Z" || fields[0] == "X" {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cmd := strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " "))
		if strings.Contains(cmd, pgdata) || cwd == pgdata || (postmaster > 0 && (pid == postmaster || ppid == postmaster)) {
			found = append(found, fmt.Sprintf("%d %s", pid, cmd))
		}
	}
	return found
}

func TestStartReuseStopRestart(t *testing.T) {
	dir := t.TempDir() // 0700 under /tmp: as root, the server's user must still get in
	ctx := context.Background()

	begin := time.Now()
	owner := start(t, dir, false)
	t.Logf("cold start (initdb + start + create database): %v", time.Since(begin))
	if !owner.Owned() {
		t.Fatal("first Start in a fresh dir: Owned() = false, want true")
	}
	if want := filepath.Join(dir, "pg"); owner.DataDir() != want {
		t.Errorf("DataDir() = %q, want %q", owner.DataDir(), want)
	}
	var db, role string
	var super bool
	if err := connect(t, owner.DSN()).QueryRow(ctx, "SELECT current_database(), current_user, usesuper FROM pg_user WHERE usename = current_user").Scan(&db, &role, &super); err != nil {
		t.Fatal(err)
	}
	if db != "granttrack" || role != App || super {
		t.Errorf("DSN connects to database %q as %q (superuser %v), want granttrack as %q, no superuser", db, role, super, App)
	}
	conn := connect(t, owner.OwnerDSN())
	if err := conn.QueryRow(ctx, "SELECT current_user, usesuper FROM pg_user WHERE usename = current_user").Scan(&role, &super); err != nil {
		t.Fatal(err)
	}
	if role != Owner || super {
		t.Errorf("OwnerDSN connects as %q (superuser %v), want %q, no superuser", role, super, Owner)
	}
	var fsync, listen string
	if err := conn.QueryRow(ctx, "SELECT current_setting('fsync'), current_setting('listen_addresses')").Scan(&fsync, &listen); err != nil {
		t.Fatal(err)
	}
	if fsync != "on" || listen != "" {
		t.Errorf("fsync = %q, listen_addresses = %q; want on and empty", fsync, listen)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives a restart')"); err != nil {
		t.Fatal(err)
	}
	pid := postmasterPID(t, owner)
	if os.Geteuid() == 0 {
		// PostgreSQL refuses root, so the server must run as postgres (or nobody).
		st, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid)))
		if err != nil {
			t.Fatal(err)
		}
		if uid := st.Sys().(*syscall.Stat_t).Uid; uid == 0 {
			t.Errorf("postmaster %d runs as root", pid)
		} else if u, err := user.LookupId(strconv.Itoa(int(uid))); err == nil {
			t.Logf("running as root; the server runs as %s", u.Username)
		}
	}

	// A second Start on the same dir, here from the same process, must find
	// the running server, not start another, and must not stop it.
	begin = time.Now()
	again := start(t, dir, false)
	t.Logf("Start reusing a running server: %v", time.Since(begin))
	if again.Owned() {
		t.Fatal("second Start on a running cluster: Owned() = true, want false")
	}
	if got := postmasterPID(t, again); got != pid {
		t.Fatalf("second Start: postmaster pid %d, want the first one, %d", got, pid)
	}
	if err := again.Stop(); err != nil {
		t.Fatalf("Stop of a reused cluster: %v", err)
	}
	if err := connect(t, again.DSN()).Ping(ctx); err != nil {
		t.Fatalf("the server stopped when a Cluster that does not own it was stopped: %v", err)
	}
	conn.Close(ctx)

	if procs := serverProcesses(t, owner.DataDir(), pid); len(procs) < 2 {
		t.Fatalf("the process scan finds only %q for a running server; it could not see a leftover one", procs)
	}
	begin = time.Now()
	if err := owner.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop: %v", time.Since(begin))
	if procs := serverProcesses(t, owner.DataDir(), pid); len(procs) > 0 {
		t.Fatalf("after Stop, server processes remain:\n%s", strings.Join(procs, "\n"))
	}
	if err := owner.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(filepath.Join(owner.DataDir(), "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a clean Stop, postmaster.pid: %v; want it removed", err)
	}

	begin = time.Now()
	restarted := start(t, dir, false)
	t.Logf("warm start (existing cluster): %v", time.Since(begin))
	if !restarted.Owned() {
		t.Fatal("Start after Stop: Owned() = false, want true")
	}
	var v string
	if err := connect(t, restarted.OwnerDSN()).QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil {
		t.Fatalf("reading the table written before the restart: %v", err)
	}
	if v != "survives a restart" {
		t.Errorf("read %q after restart", v)
	}
	pid = postmasterPID(t, restarted)
	if err := restarted.Stop(); err != nil {
		t.Fatal(err)
	}
	if procs := serverProcesses(t, restarted.DataDir(), pid); len(procs) > 0 {
		t.Fatalf("after Stop, server processes remain:\n%s", strings.Join(procs, "\n"))
	}
}

func TestConcurrentStartsShareOneServer(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	clusters := make([]*Cluster, 3)
	errs := make([]error, 3)
	for i := range clusters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			clusters[i], errs[i] = Start(ctx, Options{DataDir: dir, Database: fmt.Sprintf("db%d", i), Fast: true})
		}()
	}
	wg.Wait()
	owners := 0
	for i, c := range clusters {
		if errs[i] != nil {
			t.Fatalf("Start %d: %v", i, errs[i])
		}
		t.Cleanup(func() { _ = c.Stop() })
		if c.Owned() {
			owners++
		}
	}
	if owners != 1 {
		t.Fatalf("%d of 3 simultaneous Starts own a server, want exactly 1", owners)
	}
	for i, c := range clusters {
		if err := connect(t, c.DSN()).Ping(context.Background()); err != nil {
			t.Errorf("database db%d: %v", i, err)
		}
	}
}

func TestFastSettings(t *testing.T) {
	c := start(t, filepath.Join(t.TempDir(), `data dir with 'quotes' "double" and \back\slashes`), true)
	var fsync, sc, fpw string
	err := connect(t, c.DSN()).QueryRow(context.Background(),
		"SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')").Scan(&fsync, &sc, &fpw)
	if err != nil {
		t.Fatal(err)
	}
	if fsync != "off" || sc != "off" || fpw != "off" {
		t.Errorf("Fast: fsync=%s synchronous_commit=%s full_page_writes=%s, want all off", fsync, sc, fpw)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
}

// TestMissingBinaries hides every PostgreSQL installation: Start must fail
// with the message that tells the operator what to do.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	old := searchGlob
	searchGlob = filepath.Join(t.TempDir(), "*", "bin")
	t.Cleanup(func() { searchGlob = old })

	c, err := Start(context.Background(), Options{DataDir: t.TempDir()})
	if err == nil {
		_ = c.Stop()
		t.Fatal("Start with no PostgreSQL binaries anywhere succeeded")
	}
	if !errors.Is(err, ErrNoBinaries) {
		t.Errorf("error %v is not ErrNoBinaries", err)
	}
	for _, want := range []string{"PostgreSQL server binaries were not found", "apt-get install postgresql", "DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

// TestFindBinaries checks the search order with fake installations.
func TestFindBinaries(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"9.6", "10", "15", "16", "17"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		minor := v + ".1"
		if v == "17" { // an unfinished installation: no postgres
			writeScript(t, filepath.Join(bin, "initdb"), "exit 0")
			continue
		}
		writeScript(t, filepath.Join(bin, "initdb"), "exit 0")
		writeScript(t, filepath.Join(bin, "postgres"), fmt.Sprintf("echo 'postgres (PostgreSQL) %s (Test)'", minor))
	}
	path := t.TempDir()
	t.Setenv("PATH", path)
	old := searchGlob
	searchGlob = filepath.Join(root, "*", "bin")
	t.Cleanup(func() { searchGlob = old })

	for _, tc := range []struct{ data, wantDir, wantVersion string }{
		{"", "16", "16"},      // the newest complete installation
		{"15", "15", "15"},    // an existing cluster needs its own major version
		{"9.6", "9.6", "9.6"}, // two-part major versions
	} {
		dir, v, err := findBinaries(tc.data)
		if err != nil {
			t.Errorf("findBinaries(%q): %v", tc.data, err)
			continue
		}
		if want := filepath.Join(root, tc.wantDir, "bin"); dir != want || v != tc.wantVersion {
			t.Errorf("findBinaries(%q) = %s, %s; want %s, %s", tc.data, dir, v, want, tc.wantVersion)
		}
	}
	if _, _, err := findBinaries("14"); err == nil || !strings.Contains(err.Error(), "created by PostgreSQL 14") {
		t.Errorf("findBinaries for a version 14 cluster: %v, want a version mismatch error", err)
	}

	// pg_config on PATH comes first.
	writeScript(t, filepath.Join(path, "pg_config"), "echo "+filepath.Join(root, "10", "bin"))
	if dir, _, err := findBinaries(""); err != nil || dir != filepath.Join(root, "10", "bin") {
		t.Errorf("with pg_config on PATH: %s, %v; want pg_config's bindir", dir, err)
	}
}

// Tool finds a client program of the server's major version, or else the
// newest later one, and names the package to install when there is neither.
func TestTool(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"13", "15", "16", "17"} {
		bin := filepath.Join(root, v, "bin")
		if err := os.MkdirAll(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		if v != "17" { // 17 has the server only
			writeScript(t, filepath.Join(bin, "pg_dump"), fmt.Sprintf("echo 'pg_dump (PostgreSQL) %s.2 (Test)'", v))
		}
	}
	t.Setenv("PATH", t.TempDir())
	old := searchGlob
	searchGlob = filepath.Join(root, "*", "bin")
	t.Cleanup(func() { searchGlob = old })
	for major, want := range map[string]string{"15": "15", "13": "13", "14": "16", "12": "16"} {
		got, err := Tool("pg_dump", major)
		if err != nil || got != filepath.Join(root, want, "bin", "pg_dump") {
			t.Errorf("Tool(pg_dump, %s) = %s, %v; want version %s's", major, got, err, want)
		}
	}
	if _, err := Tool("pg_dump", "17"); err == nil || !strings.Contains(err.Error(), "apt-get install postgresql-client-17") {
		t.Errorf("Tool for a version with no pg_dump: %v", err)
	}
}

func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestDataDirWithComma(t *testing.T) {
	_, err := Start(context.Background(), Options{DataDir: filepath.Join(t.TempDir(), "a,b")})
	if err == nil || !strings.Contains(err.Error(), "comma") {
		t.Fatalf("Start in a data dir with a comma: %v", err)
	}
}

func TestDataDirTooDeep(t *testing.T) {
	deep := filepath.Join(t.TempDir(), strings.Repeat("d", 110))
	_, err := Start(context.Background(), Options{DataDir: deep})
	if err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("Start in a data dir too deep for a socket: %v", err)
	}
}

// TestServerStopsWhenOwnerDies starts a cluster in a child process, kills
// that process with SIGKILL (no chance to call Stop), and checks that the
// server shuts itself down: Pdeathsig must survive the switch to the
// postgres user.
func TestServerStopsWhenOwnerDies(t *testing.T) {
	if dir := os.Getenv("PGEMBED_TEST_OWNER_DIR"); dir != "" {
		// The child: start, report, and wait to be killed.
		c, err := Start(context.Background(), Options{DataDir: dir, Fast: true})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready", c.Owned())
		select {}
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerStopsWhenOwnerDies$")
	cmd.Env = append(os.Environ(), "PGEMBED_TEST_OWNER_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "ready true" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child: %q", line)
	}
	c := &Cluster{pgdata: filepath.Join(dir, "pg")}
	pid := postmasterPID(t, c)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGQUIT) }) // if the test fails
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	deadline := time.Now().Add(30 * time.Second)
	for len(serverProcesses(t, c.pgdata, pid)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("30 s after its owner died, server processes remain:\n%s", strings.Join(serverProcesses(t, c.pgdata, pid), "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "pg.log"))
	if !strings.Contains(string(log), "fast shutdown request") {
		t.Errorf("the server did not log a fast shutdown; its log:\n%s", log)
	}
}

// sharedUser starts a cluster in dir from a child process, which holds it
// until told "stop" on its stdin (it then calls Stop and exits) or killed.
func sharedUser(t *testing.T, dir string) (cmd *exec.Cmd, stop func()) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^TestSharedClusterOutlivesItsStarter$")
	cmd.Env = append(os.Environ(), "PGEMBED_TEST_SHARED_DIR="+dir)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	out := bufio.NewReader(pipe)
	if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "ready true" {
		t.Fatalf("child: %q", line)
	}
	return cmd, func() {
		t.Helper()
		fmt.Fprintln(in, "stop")
		if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "stopped" {
			t.Fatalf("child's Stop: %q", line)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child: %v", err)
		}
	}
}

// mustBeDown checks that no process of c's server is left and that it shut
// down cleanly.
func mustBeDown(t *testing.T, c *Cluster, pid int) {
	t.Helper()
	if procs := serverProcesses(t, c.DataDir(), pid); len(procs) > 0 {
		t.Fatalf("after the last Stop, server processes remain:\n%s", strings.Join(procs, "\n"))
	}
	if _, err := os.Stat(filepath.Join(c.DataDir(), "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after the last Stop, postmaster.pid: %v; want it removed", err)
	}
}

// Two processes share one data dir: the first, which started the server,
// stops, and the second still queries; the second stops, and the server is
// down.
func TestSharedClusterOutlivesItsStarter(t *testing.T) {
	if dir := os.Getenv("PGEMBED_TEST_SHARED_DIR"); dir != "" {
		c, err := Start(context.Background(), Options{DataDir: dir, Fast: true})
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("ready", c.Owned())
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		if err := c.Stop(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("stopped")
		os.Exit(0)
	}
	ctx := context.Background()
	dir := t.TempDir()
	_, stopFirst := sharedUser(t, dir)
	second := start(t, dir, true)
	if second.Owned() {
		t.Fatal("the second process started a server of its own")
	}
	pid := postmasterPID(t, second)
	conn := connect(t, second.DSN())

	stopFirst()
	var n int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatalf("the second process's connection, after the first stopped: %v", err)
	}
	if err := connect(t, second.DSN()).QueryRow(ctx, "SELECT 2").Scan(&n); err != nil || n != 2 {
		t.Fatalf("a new connection, after the first process stopped: %v", err)
	}
	if got := postmasterPID(t, second); got != pid {
		t.Fatalf("the server was restarted (pid %d, then %d)", pid, got)
	}
	conn.Close(ctx)

	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	mustBeDown(t, second, pid)
	log, _ := os.ReadFile(filepath.Join(dir, "pg.log"))
	if !strings.Contains(string(log), "fast shutdown request") {
		t.Errorf("the server did not log a fast shutdown; its log:\n%s", log)
	}
}

// A process that dies without calling Stop drops its hold with it: the server
// keeps running for the other user, and stops when that one does.
func TestSharedClusterSurvivesAUserThatDies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, _ := sharedUser(t, dir)
	second := start(t, dir, true)
	pid := postmasterPID(t, second)
	_ = first.Process.Kill()
	_ = first.Wait()
	// Long enough for the supervisor to have looked several times whether
	// anyone still holds the server.
	time.Sleep(8 * idlePoll)
	var n int
	if err := connect(t, second.DSN()).QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatalf("after the process that started the server died: %v", err)
	}
	if got := postmasterPID(t, second); got != pid {
		t.Fatalf("the server was restarted (pid %d, then %d)", pid, got)
	}
	if err := second.Stop(); err != nil {
		t.Fatal(err)
	}
	mustBeDown(t, second, pid)
}

// TestUpgradesAClusterWithoutRoles plays a cluster made by a granttrack
// that connected as the superuser for everything: the database, its tables,
// their sequences and functions all belong to the superuser, and neither
// role exists. The next Start makes the roles and hands everything to the
// owner, which can then alter it; the application role owns nothing.
func TestUpgradesAClusterWithoutRoles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c := start(t, dir, true)
	old := connect(t, c.DSNAs(Superuser, "postgres"))
	for _, q := range []string{
		"ALTER DATABASE granttrack OWNER TO " + Superuser,
		"DROP ROLE " + App, "DROP ROLE " + Owner,
	} {
		if _, err := old.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := connect(t, c.DSNAs(Superuser, "granttrack")).Exec(ctx, `CREATE TABLE ledger (id bigserial PRIMARY KEY, v text);
		CREATE VIEW ledger_view AS SELECT v FROM ledger;
		CREATE FUNCTION ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`); err != nil {
		t.Fatal(err)
	}
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}

	c = start(t, dir, true)
	var owners []string
	err := connect(t, c.DSNAs(Superuser, "granttrack")).QueryRow(ctx, `SELECT ARRAY[
		(SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'granttrack'),
		(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'ledger'),
		(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'ledger_id_seq'),
		(SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'ledger_view'),
		(SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'ledger_guard')]`).Scan(&owners)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range owners {
		if o != Owner {
			t.Errorf("object %d of database, table, sequence, view, function: owned by %q, want %q", i, o, Owner)
		}
	}
	if _, err := connect(t, c.OwnerDSN()).Exec(ctx, "ALTER TABLE ledger ADD COLUMN w text"); err != nil {
		t.Errorf("the owner cannot alter the adopted table: %v", err)
	}
	if _, err := connect(t, c.DSN()).Exec(ctx, "SELECT 1"); err != nil {
		t.Errorf("the application role cannot connect: %v", err)
	}
}
