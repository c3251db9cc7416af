package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"granttrack/app/pgtest"
)

// granttrackIn runs the command on the private cluster in data dir dir.
func granttrackIn(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := map[string]string{"GRANTTRACK_DATA_DIR": dir}
	code = Main(context.Background(), args, strings.NewReader(""), &out, &errOut, func(k string) string { return env[k] })
	return code, out.String(), errOut.String()
}

// A backup of a database restores into an empty data dir, where audit
// verify with the head from before the backup passes; a second restore into
// the same data dir is refused.
func TestBackupAndRestoreCommands(t *testing.T) {
	src := pgtest.FreshMigrated(t)
	if code, _, errOut := granttrackOn(t, src, "a long enough password\n", "user", "add", "--email", "kept@example.org", "--name", "Kept", "--role", "auditor"); code != 0 {
		t.Fatalf("user add: %s", errOut)
	}
	file := filepath.Join(t.TempDir(), "gt.dump")
	code, out, errOut := granttrackOn(t, src, "", "backup", "--out", file)
	if code != 0 {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	head := regexp.MustCompile(`audit head ([0-9a-f]{64}@[0-9]+)`).FindStringSubmatch(out)
	if head == nil {
		t.Fatalf("backup did not print the audit head: %q", out)
	}
	if _, err := os.Stat(file + ".manifest.json"); err != nil {
		t.Fatal(err)
	}

	data := filepath.Join(t.TempDir(), "restored")
	code, out, errOut = granttrackIn(t, data, "restore", file)
	if code != 0 || !strings.Contains(out, "--anchor "+head[1]) {
		t.Fatalf("restore: %d %q %s", code, out, errOut)
	}
	code, out, errOut = granttrackIn(t, data, "audit", "verify", "--anchor", head[1])
	if code != 0 || !strings.Contains(out, "anchor "+head[1]+": the event is still in the chain") {
		t.Fatalf("audit verify --anchor on the restore: %d %q %s", code, out, errOut)
	}
	code, out, errOut = granttrackIn(t, data, "restore", file)
	if code != 1 || !strings.Contains(errOut, "not empty") {
		t.Fatalf("a second restore into the same data dir: %d %q %s", code, out, errOut)
	}
	for name, args := range map[string][]string{
		"no file":                 {"restore"},
		"until without WAL":       {"restore", "--until", "2026-12-01T11:30:00Z"},
		"until not a time":        {"restore", "--until", "yesterday", "--wal-archive", t.TempDir()},
		"until and a file":        {"restore", file, "--until", "2026-12-01T11:30:00Z", "--wal-archive", t.TempDir()},
		"backup without out":      {"backup"},
		"base without an archive": {"backup", "--base"},
	} {
		if code, _, errOut := granttrackIn(t, filepath.Join(t.TempDir(), "unused"), args...); code != 2 || !strings.Contains(errOut, "usage") && !strings.Contains(errOut, "--until") {
			t.Errorf("%s: exit %d, %s; want a usage error", name, code, errOut)
		}
	}
}
