package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
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

// metric reads one series' value from GET /metrics (0 when it is absent).
func (e *env) metric(series string) float64 {
	e.t.Helper()
	r := e.do("", "GET", "/metrics", nil)
	e.mustStatus(r, 200)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				e.t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	return 0
}

// TestMetricsCountDecisionsImportsAndExports does each thing, then reads
// /metrics and checks that its counter moved by exactly that.
func TestMetricsCountDecisionsImportsAndExports(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	spend := func() int64 {
		var got struct{ ID int64 }
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
			"amount": "12.00", "incurred_on": "2024-06-03", "category": "other"})
		e.mustStatus(r, 201)
		r.json(t, &got)
		return got.ID
	}
	moved := func(series string, by float64, do func()) {
		t.Helper()
		before := e.metric(series)
		do()
		if after := e.metric(series); after-before != by {
			t.Errorf("%s went from %v to %v, want a rise of %v", series, before, after, by)
		}
	}
	moved(`granttrack_decisions_total{kind="spend_entry",outcome="approved"}`, 1, func() {
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", spend()), nil), 200)
	})
	moved(`granttrack_decisions_total{kind="spend_entry",outcome="rejected"}`, 1, func() {
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", spend()), map[string]any{"reason": "Duplicate"}), 200)
	})
	moved(`granttrack_decisions_total{kind="spend_entry",outcome="refused"}`, 1, func() {
		// The recorder may not approve their own entry.
		e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", spend()), nil), 403)
	})
	var imported int64
	moved(`granttrack_imports_total{outcome="stored"}`, 1, func() { imported = e.mustImport(f, "10.00", "20.00", "30.00") })
	moved(`granttrack_imported_rows_total`, 3, func() { e.mustImport(f, "10.00", "20.00", "30.00") })
	moved(`granttrack_decisions_total{kind="spend_import",outcome="approved"}`, 1, func() {
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/approve", imported), nil), 200)
	})
	moved(`granttrack_imports_total{outcome="refused"}`, 1, func() {
		u := e.users[models.RoleFinanceOfficer]
		_, err := e.st.ImportSpend(t.Context(), models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role},
			strings.NewReader(strings.Join(models.SpendImportColumns, ",")+"\nNO-SUCH-LINE,,Nobody,1.00,2024-06-01,services,,,,\n"),
			store.ImportOptions{FileName: "bad.csv"})
		if err == nil {
			t.Fatal("a file naming no real line was imported")
		}
	})
	var size int
	moved(`granttrack_exports_total{format="csv",outcome="ok"}`, 1, func() {
		r := e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=csv&funding_line_id=%d", f.LineID), nil)
		e.mustStatus(r, 200)
		size = len(r.Body)
	})
	moved(`granttrack_exported_bytes_total{format="csv"}`, float64(size), func() {
		e.mustStatus(e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=csv&funding_line_id=%d", f.LineID), nil), 200)
	})
	moved(`granttrack_exports_total{format="unknown",outcome="failed"}`, 1, func() {
		e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/exports/ledger?format=xml", nil), 422)
	})
}
