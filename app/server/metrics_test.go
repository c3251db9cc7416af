package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/models"
)

// GET /metrics shows request durations by route template and status, and the
// database pool's use.
func TestMetricsByRouteTemplate(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	e.mustStatus(e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil), 200)
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/funding-lines/999999999", nil), 404)
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/no/such/page", nil), 404)
	if _, err := e.st.Verify(t.Context(), store.VerifyFull, store.TriggerDemand, nil); err != nil {
		t.Fatal(err)
	}
	r := e.do("", "GET", "/metrics", nil)
	e.mustStatus(r, 200)
	body := string(r.Body)
	for _, want := range []string{
		`granttrack_http_request_duration_seconds_count{method="GET",route="/api/v1/funding-lines/:id",status="200"} 1`,
		`granttrack_http_request_duration_seconds_count{method="GET",route="/api/v1/funding-lines/:id",status="404"} 1`,
		`granttrack_http_request_duration_seconds_count{method="GET",route="unmatched",status="404"} 1`,
		"granttrack_db_pool_max_connections ",
		"granttrack_db_pool_acquires_total ",
		`granttrack_audit_verification_ok{scope="full"} 1`,
		`granttrack_audit_verification_age_seconds{scope="full"} `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID)) {
		t.Error("/metrics labels a request by its raw path, one series per id")
	}
}

// With a JSON logger at DEBUG, every request is one JSON line carrying the
// request id the response was given.
func TestRequestLogLinesAreJSONWithTheRequestID(t *testing.T) {
	st, err := store.Open(context.Background(), pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var logs bytes.Buffer
	srv, err := server.New(server.Config{Store: st, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, path := range []string{"/healthz", "/api/v1/spend", "/no/such/page"} {
		resp, err := srv.App().Test(httptest.NewRequest("GET", path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("X-Request-ID")
		if id == "" {
			t.Fatalf("%s: no X-Request-ID", path)
		}
		ids = append(ids, id)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		if rec["msg"] == "request" {
			id, _ := rec["request_id"].(string)
			seen[id] = true
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("no request log line carries request id %s:\n%s", id, logs.String())
		}
	}
}
