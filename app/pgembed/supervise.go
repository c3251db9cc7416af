package pgembed

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// supervisorEnv, set in its environment, turns a process running this
// package (granttrack, or a test binary) into a cluster's supervisor: see
// supervise. Re-running the same executable needs no second binary beside
// granttrack.
const supervisorEnv = "GRANTTRACK_PGEMBED_SUPERVISE"

func init() {
	if spec, ok := os.LookupEnv(supervisorEnv); ok {
		os.Exit(supervise(spec))
	}
}

// supervisorSpec is what a supervisor needs: the postgres command to run
// and the two lock files of the data dir.
type supervisorSpec struct {
	Path      string   `json:"path"`
	Args      []string `json:"args"`
	Env       []string `json:"env"`
	UID       *uint32  `json:"uid,omitempty"`
	GID       *uint32  `json:"gid,omitempty"`
	StartLock string   `json:"start_lock"`
	Users     string   `json:"users"`
}

// idlePoll is how often a supervisor checks whether anyone still uses its
// server.
const idlePoll = 250 * time.Millisecond

// supervisor returns the command that starts a supervisor for the server
// pg would run. The supervisor has a session of its own, so that neither a
// terminal's Ctrl-C nor this process's death reaches it.
func (c *Cluster) supervisor(pg *exec.Cmd) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("pgembed: finding this executable to supervise PostgreSQL: %w", err)
	}
	spec := supervisorSpec{Path: pg.Path, Args: pg.Args[1:], Env: pg.Env, StartLock: c.startLock, Users: c.users}
	if cr := pg.SysProcAttr.Credential; cr != nil {
		spec.UID, spec.GID = &cr.Uid, &cr.Gid
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), supervisorEnv+"="+string(b))
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd, nil
}

// supervise runs the server spec describes as its child and stops it when no
// Cluster in any process holds the users lock any more (the last one died
// without calling Stop), or on SIGTERM. It exits when the server does: when
// the last Cluster out has stopped it, or when it failed.
func supervise(specJSON string) int {
	var spec supervisorSpec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, "pgembed supervisor:", err)
		return 2
	}
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)

	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env, cmd.Dir = spec.Env, "/"
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// Pdeathsig gives the server a fast shutdown should the supervisor die
	// (Go sets it after switching credentials, which would otherwise clear it).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT}
	if spec.UID != nil && spec.GID != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: *spec.UID, Gid: *spec.GID} // Groups nil: drops root's groups
	}
	srv, err := launch(cmd)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgembed supervisor:", err)
		return 1
	}
	tick := time.NewTicker(idlePoll)
	defer tick.Stop()
	for {
		select {
		case <-srv.done:
			return 0
		case <-term:
			return report(stopProcess(srv.pid, srv.done))
		case <-tick.C:
			release, idle := unused(spec)
			if !idle {
				continue
			}
			fmt.Fprintln(os.Stderr, "pgembed supervisor: no granttrack process uses this cluster any more; stopping PostgreSQL")
			err := stopProcess(srv.pid, srv.done)
			release()
			return report(err)
		}
	}
}

func report(err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgembed supervisor:", err)
		return 1
	}
	return 0
}

// unused reports whether no Cluster holds the server. It checks holding the
// start lock, so that no Start joins and no Stop decides meanwhile; when it
// reports true it keeps both locks until release is called.
func unused(spec supervisorSpec) (release func(), idle bool) {
	start, err := tryFlock(spec.StartLock, syscall.LOCK_EX)
	if err != nil || start == nil {
		return nil, false
	}
	users, err := tryFlock(spec.Users, syscall.LOCK_EX)
	if err != nil || users == nil {
		start.Close()
		return nil, false
	}
	return func() { users.Close(); start.Close() }, true
}

// holdShared opens path and holds a shared flock on it until the file is
// closed (or the process dies). The descriptor is close-on-exec, so no child
// inherits the hold.
func holdShared(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("pgembed: lock %s: %w", path, err)
		}
	}
}

// inUse reports whether any Cluster, in this process or another, holds path
// shared.
func inUse(path string) (bool, error) {
	f, err := tryFlock(path, syscall.LOCK_EX)
	if err != nil {
		return false, err
	}
	if f == nil {
		return true, nil
	}
	return false, f.Close()
}

// tryFlock takes a flock on path without waiting; it returns a nil file when
// someone else holds a conflicting lock.
func tryFlock(path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("pgembed: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case err == nil:
			return f, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			f.Close()
			return nil, nil
		default:
			f.Close()
			return nil, fmt.Errorf("pgembed: lock %s: %w", path, err)
		}
	}
}
