package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"granttrack/app/export"
	"granttrack/app/store"
)

// runVerifier runs the independent Python verifier; ok is its exit status 0.
func runVerifier(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed (apt-get install python3): the offline verifier cannot run")
	}
	cmd := exec.Command(python, append([]string{filepath.Join("verifier", "verify_audit.py")}, args...)...)
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errorAs(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("verify_audit.py: %v\n%s", err, out)
	}
	return string(out), err == nil
}

func errorAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*target = e
	return ok
}

// TestAuditTrailVerifiesOffline exports the audit trail, with an event
// whose state holds every kind of text and number the canonical encoding
// must get right, and checks it with the Python verifier alone: the export
// verifies with its manifest and its head as an anchor; an altered event, a
// removed event and a cut-short file do not.
func TestAuditTrailVerifiesOffline(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	mustBooks(t, st, "AU")
	tricky := map[string]any{"ctl": "a\x01b\x1f\x7f", "breaks": "x\ny\r\tz\b\f", "separators": "\u2028\u2029", "html": "<a href=\"x\">&amp;</a>",
		"text": "Café সুরক্ষা 北京 😀", "escapes": `"\/`, "money": json.Number("1.50"), "big": json.Number("12345678901234567890"),
		"neg": -3, "nested": map[string]any{"z": 1, "a": []any{true, false, nil, "", map[string]any{}}},
		"é": 1, "Z": 2, "e\u0301": 3}
	if err := st.RecordEvent(ctx, sys, store.Change{Action: "test.tricky", Entity: "test", EntityID: 7, Before: map[string]any{"x": nil}, After: tricky}); err != nil {
		t.Fatal(err)
	}
	if cs, err := st.VerifyAuditChain(ctx); err != nil || !cs.OK {
		t.Fatalf("the chain itself: %+v %v", cs, err)
	}
	var buf bytes.Buffer
	m, err := export.AuditTrail(ctx, st, &buf)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if m.Events != len(lines) || m.Events < 10 || m.AuditSeq != int64(m.Events) {
		t.Fatalf("manifest %+v for %d lines", m, len(lines))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.jsonl")
	manifest, _ := json.Marshal(m)
	for name, b := range map[string][]byte{path: buf.Bytes(), path + ".manifest.json": manifest} {
		if err := os.WriteFile(name, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	anchor := fmt.Sprintf("%s@%d", m.AuditHash, m.AuditSeq)
	if out, ok := runVerifier(t, path, "--anchor", anchor); !ok || !strings.Contains(out, fmt.Sprintf("OK: %d events", m.Events)) {
		t.Fatalf("the export should verify offline:\n%s", out)
	}

	trickySeq := -1
	for i, l := range lines {
		if strings.Contains(l, `"test.tricky"`) {
			trickySeq = i
		}
	}
	copyWith := func(name string, lines []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines, "")), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	altered := append([]string(nil), lines...)
	altered[trickySeq] = strings.Replace(altered[trickySeq], "Café", "Cafe", 1)
	removed := append(append([]string(nil), lines[:3]...), lines[4:]...)
	for _, tc := range []struct {
		name, path, want string
		args             []string
	}{
		{"Altered", copyWith("altered.jsonl", altered), fmt.Sprintf("event %d: its content does not match its hash", trickySeq+1), nil},
		{"Removed", copyWith("removed.jsonl", removed), "expected sequence 4 but found 5", nil},
		{"CutShort", copyWith("short.jsonl", lines[:len(lines)-1]), "past the file's last event", []string{"--anchor", anchor}},
		{"NotTheManifests", copyWith("other.jsonl", lines), "not the manifest's", []string{"--manifest", path + ".manifest.json", "--anchor", anchor}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "NotTheManifests" {
				// The same events, written again with a trailing space: the
				// chain holds, but it is not the file the manifest describes.
				tc.path = copyWith("other.jsonl", append(append([]string(nil), lines...), " "))
			}
			out, ok := runVerifier(t, append([]string{tc.path}, tc.args...)...)
			if ok || !strings.Contains(out, "NOT OK") || !strings.Contains(out, tc.want) {
				t.Fatalf("want NOT OK and %q:\n%s", tc.want, out)
			}
		})
	}
}
