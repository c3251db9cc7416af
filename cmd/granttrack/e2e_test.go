package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEndToEnd builds the binary, runs the demo on a fresh data dir, uses the
// API, stops it with SIGTERM, checks no PostgreSQL process is left, and runs
// it again to see that the data survived and was not loaded twice.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := buildBinary(t)
	data := filepath.Join(dir, "data")
	addr := freeAddr(t)

	first := startDemo(t, bin, data, addr)
	if !strings.Contains(first.output(), "Demo data loaded.") {
		t.Fatalf("first run did not load the demo:\n%s", first.output())
	}
	token := run(t, bin, data, "token", "create", "--email", "finance@granttrack.example")
	if !strings.HasPrefix(token, "gt_") || strings.Contains(token, "\n") {
		t.Fatalf("token create printed %q, want only the token", token)
	}
	lines := getJSON(t, "http://"+addr+"/api/v1/funding-lines?per_page=100", token)
	if lines.Total < 8 {
		t.Fatalf("demo has %d funding lines", lines.Total)
	}
	drug := findLine(t, lines, "DRUG-SUPPLY")
	if drug["budget"] != "2000000.00" {
		t.Fatalf("DRUG-SUPPLY budget = %v", drug["budget"])
	}
	first.stop(t)
	if pids := postgresFor(data); len(pids) > 0 {
		t.Fatalf("postgres processes left after SIGTERM: %v", pids)
	}

	second := startDemo(t, bin, data, addr)
	if !strings.Contains(second.output(), "already present") {
		t.Fatalf("second run should keep the data:\n%s", second.output())
	}
	again := getJSON(t, "http://"+addr+"/api/v1/funding-lines?per_page=100", token)
	if again.Total != lines.Total {
		t.Fatalf("funding lines went from %d to %d across a restart", lines.Total, again.Total)
	}
	if out := run(t, bin, data, "audit", "verify"); !strings.HasPrefix(out, "audit chain OK") {
		t.Fatalf("audit verify: %s", out)
	}
	second.stop(t)
	if pids := postgresFor(data); len(pids) > 0 {
		t.Fatalf("postgres processes left after the second SIGTERM: %v", pids)
	}
}

type demoProcess struct {
	cmd *exec.Cmd
	out *syncBuffer
}

func (d *demoProcess) output() string { return d.out.String() }

func (d *demoProcess) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exited with %v:\n%s", err, d.output())
		}
	case <-time.After(60 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("demo did not stop after SIGTERM:\n%s", d.output())
	}
	if !strings.Contains(d.output(), "Stopped.") {
		t.Fatalf("no clean stop:\n%s", d.output())
	}
}

func startDemo(t *testing.T, bin, data, addr string) *demoProcess {
	t.Helper()
	return startProcess(t, bin, cleanEnv(), "demo", "--data-dir", data, "--addr", addr)
}

// startProcess runs the binary with env and args, and returns once it says
// it is ready.
func startProcess(t *testing.T, bin string, env []string, args ...string) *demoProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	out := &syncBuffer{}
	cmd.Stderr = out
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &demoProcess{cmd: cmd, out: out}
	t.Cleanup(func() { cmd.Process.Kill() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			out.Write([]byte(sc.Text() + "\n"))
			if !signalled && strings.Contains(sc.Text(), "is ready at") {
				signalled = true
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(90 * time.Second):
		t.Fatalf("%s not ready in 90 s:\n%s", args[0], out.String())
	}
	return d
}

// cleanEnv keeps the test's environment but drops DATABASE_URL, so the
// binary runs its own cluster.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "GRANTTRACK_") {
			env = append(env, kv)
		}
	}
	return env
}

func run(t *testing.T, bin, data string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--data-dir", data)...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\n%s%s", args, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

type page struct {
	Items []map[string]any `json:"items"`
	Total int              `json:"total"`
}

func getJSON(t *testing.T, url, token string) page {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func findLine(t *testing.T, p page, code string) map[string]any {
	for _, it := range p.Items {
		if it["code"] == code {
			return it
		}
	}
	t.Fatalf("no funding line %s", code)
	return nil
}

// postgresFor lists postgres processes whose command line or working
// directory names the data dir.
func postgresFor(data string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
		cwd, _ := os.Readlink(filepath.Join(p, "cwd"))
		exe, _ := os.Readlink(filepath.Join(p, "exe"))
		if !strings.Contains(exe, "postgres") {
			continue
		}
		if strings.Contains(string(cmdline), data) || strings.HasPrefix(cwd, data) {
			found = append(found, filepath.Base(p))
		}
	}
	return found
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinary builds the granttrack binary once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "granttrack-bin-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "granttrack")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}
