package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"granttrack/app/auth"
	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

// env is a server on the package's database with one user and API token per role.
type env struct {
	t      testing.TB
	srv    *server.Server
	st     *store.Store
	tokens map[models.Role]string
	users  map[models.Role]*models.User
}

var seq atomic.Int64

// unique returns a short string no other test in this run uses.
func unique(prefix string) string { return fmt.Sprintf("%s%d", prefix, seq.Add(1)) }

func MustEnv(t testing.TB) *env {
	t.Helper()
	return mustEnvAt(t, pgtest.DSN())
}

// mustEnvAt is MustEnv on the database at dsn.
func mustEnvAt(t testing.TB, dsn string) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// Every test request comes from the same peer (0.0.0.0), so the limit by
	// address is out of the way here; the sign-in tests set their own.
	srv, err := server.New(server.Config{Store: st, SignInAttempts: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	// Two-factor sign-in is off for every role here, as most tests sign in
	// with a password only; the two-factor tests turn it on in a database
	// of their own (pgtest.FreshMigrated).
	if _, err := st.SetTwoFactorRoles(ctx, models.SystemActor("test"), nil); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, st: st, tokens: map[models.Role]string{}, users: map[models.Role]*models.User{}}
	for _, r := range models.AllRoles() {
		e.users[r], e.tokens[r] = e.mustUser(r)
	}
	return e
}

const testPassword = "correct horse battery"

var testHash = func() string {
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
}()

func (e *env) mustUser(r models.Role) (*models.User, string) {
	e.t.Helper()
	ctx := context.Background()
	u := &models.User{Email: unique(string(r)) + "@test.example", Name: "Test " + string(r), Role: r, PasswordHash: testHash, Active: true}
	if err := e.st.CreateUser(ctx, models.SystemActor("test"), u); err != nil {
		e.t.Fatal(err)
	}
	token := auth.NewAPIToken()
	if _, err := e.st.CreateAPIToken(ctx, models.SystemActor("test"), u.ID, "test", token); err != nil {
		e.t.Fatal(err)
	}
	return u, token
}

// response is what a request got back.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, r.Body)
	}
}

func (r response) problem(t testing.TB) server.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p server.Problem
	r.json(t, &p)
	if p.Status != r.Status {
		t.Fatalf("problem status %d differs from HTTP status %d", p.Status, r.Status)
	}
	return p
}

// do sends a request with the role's token ("" role: no token). A string
// body is sent as is; anything else is marshalled as JSON.
func (e *env) do(role models.Role, method, path string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := e.srv.App().Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: b}
	// Every API response a test sees must match the OpenAPI document.
	if err := contractOf(e.t, e.srv).check(req.Method, req.URL.Path, r); err != nil {
		e.t.Errorf("OpenAPI: %v", err)
	}
	return r
}

// fixture is a programme, a funder, a recipient and an active funding line.
type fixture struct {
	ProgrammeID, FunderID, RecipientID, LineID int64
}

func (e *env) mustFixture(budget string) fixture {
	e.t.Helper()
	var f fixture
	var got struct{ ID int64 }
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/programmes", map[string]any{"code": unique("P"), "name": "Programme", "plan": "Plan 2022-25"})
	e.mustStatus(r, 201)
	r.json(e.t, &got)
	f.ProgrammeID = got.ID
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/organisations", map[string]any{"name": unique("Funder "), "is_funder": true})
	e.mustStatus(r, 201)
	r.json(e.t, &got)
	f.FunderID = got.ID
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/organisations", map[string]any{"name": unique("Recipient "), "is_recipient": true, "org_id": *storetest.OrgID()})
	e.mustStatus(r, 201)
	r.json(e.t, &got)
	f.RecipientID = got.ID
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("L"), "title": "Line", "kind": "grant",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": budget, "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
	e.mustStatus(r, 201)
	r.json(e.t, &got)
	f.LineID = got.ID
	// Two people make the line: a finance officer proposes each step and an
	// admin approves it, citing a decision record (lines above £1,000,000
	// must).
	r = e.do(models.RoleFinanceManager, "POST", "/api/v1/decision-records", map[string]any{"reference": unique("PCD "), "title": "Test decision",
		"signed_on": "2024-03-28", "decision_maker": "Deputy Mayor for Policing and Crime"})
	e.mustStatus(r, 201)
	r.json(e.t, &got)
	record := got.ID
	for _, s := range []string{"approved", "active"} {
		r = e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/decisions", f.LineID),
			map[string]any{"to_status": s, "decision_record_id": record})
		e.mustStatus(r, 201)
		r.json(e.t, &got)
		e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/approve", got.ID), nil), 200)
	}
	return f
}

// mustApproveAward approves a proposed award as the admin.
func (e *env) mustApproveAward(id int64) {
	e.t.Helper()
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/awards/%d/approve", id), nil), 200)
}

func (e *env) mustStatus(r response, want int) {
	e.t.Helper()
	if r.Status != want {
		e.t.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
}

func (e *env) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM "+table).Scan(context.Background(), &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}
