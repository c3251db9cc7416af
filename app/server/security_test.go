package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/models"
)

// signInForm posts the sign-in form of a fresh visitor with the given next
// and, when forwardedFor is not empty, an X-Forwarded-For header.
func signInForm(e *env, b *spendBrowser, email, password, next, forwardedFor string) response {
	e.t.Helper()
	if b.csrf == "" {
		b.request("GET", "/login", nil)
	}
	form := url.Values{"email": {email}, "password": {password}, "next": {next}, "_csrf": {b.csrf}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", forwardedFor)
	}
	return b.send(req)
}

// uniqueIP returns a client address no other test in this run uses.
func uniqueIP() string {
	n := seq.Add(1)
	return fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255)
}

func newBrowser(e *env) *spendBrowser { return &spendBrowser{e: e, cookies: map[string]*http.Cookie{}} }

func plantedCookie(r response) bool {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "planted" {
			return true
		}
	}
	return strings.Contains(strings.ToLower(fmt.Sprint(r.Header)), "planted")
}

func TestNextStaysOnSiteAndAddsNoHeader(t *testing.T) {
	e := MustEnv(t)
	email := e.users[models.RoleAuditor].Email
	bad := []string{
		"/\r\nSet-Cookie: planted=1", "/\rSet-Cookie: planted=1", "/\nSet-Cookie: planted=1", "/%0d%0aSet-Cookie:%20planted=1",
		"/\t/evil.example/", "/%09/evil.example/", "//evil.example/", "///evil.example", "/\\evil.example", "\\/evil.example",
		"/%5Cevil.example", "/%2F%2Fevil.example", "/%252F%252Fevil.example", "https://evil.example/", "javascript:alert(1)",
		"%6Aavascript:alert(1)", "/\u3002evil.example", "/\uff0f\uff0fevil.example", "/\u2028evil.example", "http:evil.example",
	}
	// Sign-in through the form, as a browser does after /login?next=…
	for _, next := range []string{bad[0], bad[3], bad[5], bad[6], bad[8]} {
		b := newBrowser(e)
		r := b.request("GET", "/login?next="+url.QueryEscape(next), nil)
		e.mustStatus(r, 200)
		if plantedCookie(r) || strings.Contains(string(r.Body), "evil.example") {
			t.Errorf("next %q: the sign-in page carries it on:\n%s", next, r.Body)
		}
		r = signInForm(e, b, email, testPassword, next, "")
		e.mustStatus(r, 303)
		if loc := r.Header.Get("Location"); loc != "/" || plantedCookie(r) {
			t.Errorf("next %q: Location %q, headers %v; want / and no planted cookie", next, loc, r.Header)
		}
	}
	// Already signed in, /login?next=… redirects straight away.
	signedIn := spendWebSignIn(t, e, models.RoleAuditor)
	for _, next := range bad {
		r := signedIn.request("GET", "/login?next="+url.QueryEscape(next), nil)
		if loc := r.Header.Get("Location"); r.Status != 303 || loc != "/" || plantedCookie(r) {
			t.Errorf("signed in, next %q: %d to %q, headers %v", next, r.Status, loc, r.Header)
		}
	}
	// The request as the attacker sends it, encoded once in the link.
	for _, raw := range []string{"/%0d%0aSet-Cookie:planted=1", "/%09/evil.example/", "/%5C%5Cevil.example"} {
		r := signedIn.request("GET", "/login?next="+raw, nil)
		if loc := r.Header.Get("Location"); loc != "/" || plantedCookie(r) {
			t.Errorf("next=%s: Location %q, headers %v", raw, loc, r.Header)
		}
	}
	// A path on this site is kept.
	b := newBrowser(e)
	r := b.request("GET", "/funding-lines?fy=2024-25", nil)
	e.mustStatus(r, 303)
	next, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	r = signInForm(e, b, email, testPassword, next.Query().Get("next"), "")
	if loc := r.Header.Get("Location"); loc != "/funding-lines?fy=2024-25" {
		t.Fatalf("after sign-in, Location %q; want the page asked for", loc)
	}
}

func TestVisitorsWriteNoSessionRows(t *testing.T) {
	e := MustEnv(t)
	before := e.count("sessions")
	paths := []string{"/login", "/no-such-page", "/funding-lines", "/", "/static/app.css", "/dashboard?fy=2024-25"}
	for i := range 300 {
		b := newBrowser(e)
		r := b.request("GET", paths[i%len(paths)], nil)
		if r.Status >= 500 {
			t.Fatalf("%s: %d", paths[i%len(paths)], r.Status)
		}
	}
	// A failed sign-in and a sign-out without a session write none either.
	b := newBrowser(e)
	e.mustStatus(signInForm(e, b, e.users[models.RoleAuditor].Email, "wrong password!", "/", ""), 401)
	e.mustStatus(b.request("POST", "/logout", url.Values{}), 303)
	if n := e.count("sessions"); n != before {
		t.Fatalf("visitors wrote %d session rows", n-before)
	}
	b = spendWebSignIn(t, e, models.RoleAuditor)
	if n := e.count("sessions"); n != before+1 {
		t.Fatalf("a sign-in wrote %d session rows, want 1", n-before)
	}
	var hours float64
	if err := e.st.DB().NewRaw("SELECT extract(epoch FROM expires_at - now()) / 3600 FROM sessions WHERE key = ?",
		b.cookies["granttrack_session"].Value).Scan(context.Background(), &hours); err != nil || hours > 8 || hours < 7.9 {
		t.Fatalf("the session expires in %.2f hours (%v), want 8", hours, err)
	}
	e.mustStatus(b.request("POST", "/logout", url.Values{}), 303)
	if n := e.count("sessions"); n != before {
		t.Fatalf("sign-out left %d session rows", n-before)
	}
}

func TestSignInSweepsExpiredSessions(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	expired, live := unique("expired-"), unique("live-")
	if _, err := e.st.DB().ExecContext(ctx, `INSERT INTO sessions (key, data, expires_at) VALUES
		(?, '\x00', now() - interval '1 minute'), (?, '\x00', now() + interval '1 hour')`, expired, live); err != nil {
		t.Fatal(err)
	}
	stale := uniqueIP()
	if _, err := e.st.DB().ExecContext(ctx, `INSERT INTO sign_in_throttles (scope, subject, failures, last_attempt_at)
		VALUES ('address', ?, 3, now() - interval '2 hours')`, stale); err != nil {
		t.Fatal(err)
	}
	spendWebSignIn(t, e, models.RoleAuditor)
	var n int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM sessions WHERE key IN (?, ?)", expired, live).Scan(ctx, &n); err != nil || n != 1 {
		t.Fatalf("after a sign-in %d of the expired and the live session are left (%v), want only the live one", n, err)
	}
	if err := e.st.DB().NewRaw("SELECT count(*) FROM sign_in_throttles WHERE subject = ?", stale).Scan(ctx, &n); err != nil || n != 0 {
		t.Fatalf("forgotten sign-in failures are kept (%d, %v)", n, err)
	}
}

// postWith posts form to path with the browser's cookies; csrfQuery and
// csrfHeader put a token in the query string or the X-CSRF-Token header.
func postWith(b *spendBrowser, path string, form url.Values, csrfQuery, csrfHeader string) response {
	b.e.t.Helper()
	if csrfQuery != "" {
		path += "?_csrf=" + url.QueryEscape(csrfQuery)
	}
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if csrfHeader != "" {
		req.Header.Set("X-CSRF-Token", csrfHeader)
	}
	return b.send(req)
}

func TestCSRFTokenComesFromTheFormOrHeaderAndRotates(t *testing.T) {
	e := MustEnv(t)
	email := e.users[models.RoleAuditor].Email
	b := newBrowser(e)
	b.request("GET", "/login", nil)
	before := b.csrf
	if before == "" {
		t.Fatal("the sign-in page has no CSRF token")
	}
	creds := url.Values{"email": {email}, "password": {testPassword}}
	e.mustStatus(postWith(b, "/login", creds, before, ""), 403) // in the query string: refused
	e.mustStatus(postWith(b, "/login", creds, "", "forged"), 403)
	// Credentials in the query string are not read either.
	e.mustStatus(postWith(b, "/login?"+creds.Encode(), url.Values{"_csrf": {before}}, "", ""), 401)
	r := postWith(b, "/login", creds, "", before) // in the header: accepted
	e.mustStatus(r, 303)
	signedIn := b.csrf
	if signedIn == before || signedIn == "" {
		t.Fatal("the CSRF token did not change at sign-in")
	}
	// The token from before sign-in no longer works, in the form or the cookie.
	stale := url.Values{"_csrf": {before}}
	e.mustStatus(postWith(b, "/logout", stale, "", ""), 403)
	e.mustStatus(postWith(b, "/logout", url.Values{}, signedIn, ""), 403)
	e.mustStatus(b.request("GET", "/funding-lines", nil), 200) // still signed in
	e.mustStatus(postWith(b, "/logout", url.Values{"_csrf": {signedIn}}, "", ""), 303)
	if b.csrf == signedIn || b.csrf == "" {
		t.Fatal("the CSRF token did not change at sign-out")
	}
	e.mustStatus(b.request("GET", "/funding-lines", nil), 303) // signed out
	// The signed-in token is worthless after sign-out.
	creds.Set("_csrf", signedIn)
	e.mustStatus(postWith(b, "/login", creds, "", ""), 403)
}

func TestClientRequestIDNeverEntersTheAuditTrail(t *testing.T) {
	e := MustEnv(t)
	forged := unique("forged-request-")
	req := httptest.NewRequest("POST", "/api/v1/programmes", strings.NewReader(fmt.Sprintf(`{"code":%q,"name":"Programme","plan":"Plan"}`, unique("RID"))))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
	req.Header.Set("X-Request-ID", forged)
	r := e.send(req)
	e.mustStatus(r, 201)
	id := r.Header.Get("X-Request-ID")
	if id == "" || id == forged {
		t.Fatalf("X-Request-ID %q: want one the server made", id)
	}
	var mine, forgedEvents int
	ctx := context.Background()
	if err := e.st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE request_id = ?", id).Scan(ctx, &mine); err != nil {
		t.Fatal(err)
	}
	if err := e.st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE request_id = ? OR after::text LIKE ?", forged, "%"+forged+"%").
		Scan(ctx, &forgedEvents); err != nil {
		t.Fatal(err)
	}
	if mine != 1 || forgedEvents != 0 {
		t.Fatalf("%d events carry the server's request id (want 1), %d the client's (want 0)", mine, forgedEvents)
	}
	// A failed sign-in from the web is recorded under the server's id too.
	b := newBrowser(e)
	b.request("GET", "/login", nil)
	form := url.Values{"email": {"nobody@test.example"}, "password": {"wrong password!"}, "_csrf": {b.csrf}}
	req = httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-ID", forged)
	e.mustStatus(b.send(req), 401)
	if err := e.st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE request_id = ?", forged).Scan(ctx, &forgedEvents); err != nil || forgedEvents != 0 {
		t.Fatalf("the client's request id is in %d events (%v)", forgedEvents, err)
	}
	// The client's id is kept in the log, beside the server's.
	var log bytes.Buffer
	logged := newServer(t, e, server.Config{Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	req = httptest.NewRequest("GET", "/healthz", nil)
	req.Header.Set("X-Request-ID", forged)
	r = logged.send(req)
	if line := log.String(); !strings.Contains(line, "client_request_id="+forged) || !strings.Contains(line, "request_id="+r.Header.Get("X-Request-ID")) {
		t.Fatalf("the log should name both ids:\n%s", line)
	}
}

// newServer is a second server on the test database, as another app node.
func newServer(t *testing.T, e *env, cfg server.Config) *env {
	t.Helper()
	cfg.Store = e.st
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, srv: srv, st: e.st, tokens: e.tokens, users: e.users}
}

// peer is the address app.Test gives every request.
var peer = []netip.Prefix{netip.MustParsePrefix("0.0.0.0/32")}

// failedSignInIP returns the address recorded with the latest failed sign-in
// of email.
func failedSignInIP(t *testing.T, e *env, email string) string {
	t.Helper()
	var ip string
	err := e.st.DB().NewRaw(`SELECT after->>'ip' FROM audit_events WHERE action = 'session.sign_in_failed' AND after->>'email' = ?
		ORDER BY seq DESC LIMIT 1`, email).Scan(context.Background(), &ip)
	if err != nil {
		t.Fatal(err)
	}
	return ip
}

func TestForwardedForIsBelievedOnlyFromTrustedProxies(t *testing.T) {
	e := MustEnv(t)
	behind := newServer(t, e, server.Config{TrustedProxies: peer})
	direct := newServer(t, e, server.Config{SignInAttempts: 1 << 20}) // every test request comes from 0.0.0.0
	for _, c := range []struct {
		name         string
		srv          *env
		forwardedFor string
		want         string
	}{
		{"ProxyAppendsTheClient", behind, "203.0.113.7", "203.0.113.7"},
		{"ClientForgesTheLeftOfTheList", behind, "198.51.100.1, 203.0.113.8", "203.0.113.8"},
		{"ChainOfTrustedProxies", behind, "198.51.100.2, 203.0.113.9, 0.0.0.0", "203.0.113.9"},
		{"GarbageIsNotAnAddress", behind, "203.0.113.10, not-an-address", "0.0.0.0"},
		{"NoProxyTrusted", direct, "203.0.113.11", "0.0.0.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			email := unique("proxy") + "@test.example"
			c.srv.t = t
			e.mustStatus(signInForm(c.srv, newBrowser(c.srv), email, "wrong password!", "/", c.forwardedFor), 401)
			if got := failedSignInIP(t, e, email); got != c.want {
				t.Fatalf("recorded address %q, want %q", got, c.want)
			}
		})
	}
}

// throttle returns a sign-in count's failures and how long its lock lasts
// from its last attempt (0 when unlocked).
func throttle(t *testing.T, e *env, scope, subject string) (int, time.Duration) {
	t.Helper()
	var row struct {
		Failures int
		Lock     float64
	}
	err := e.st.DB().NewRaw(`SELECT failures, coalesce(extract(epoch FROM locked_until - last_attempt_at), 0) AS lock
		FROM sign_in_throttles WHERE scope = ? AND subject = ?`, scope, subject).Scan(context.Background(), &row)
	if err != nil {
		t.Fatalf("%s %s: %v", scope, subject, err)
	}
	return row.Failures, time.Duration(row.Lock * float64(time.Second))
}

// unlock ends a lock as if its time had passed.
func unlock(t *testing.T, e *env, scope, subject string) {
	t.Helper()
	if _, err := e.st.DB().ExecContext(context.Background(), `UPDATE sign_in_throttles SET locked_until = now() - interval '1 second'
		WHERE scope = ? AND subject = ?`, scope, subject); err != nil {
		t.Fatal(err)
	}
}

// The sign-in tests use lower limits than the defaults (10 by address, 5 by
// account; see TestSignInLimitDefaults) as each attempt hashes a password.
var testLimits = server.Config{TrustedProxies: peer, SignInAttempts: 4, AccountSignInAttempts: 3}

func TestSignInLimitsAreSharedByEveryNode(t *testing.T) {
	e := MustEnv(t)
	nodes := []*env{newServer(t, e, testLimits), newServer(t, e, testLimits)}
	user, _ := e.mustUser(models.RoleFinanceOfficer)
	attempt := func(i int, password, from string) response {
		n := nodes[i%2]
		return signInForm(n, newBrowser(n), user.Email, password, "/", from)
	}
	// By account: three failures from three addresses, on both nodes, lock it.
	for i := range 3 {
		e.mustStatus(attempt(i, "wrong password!", uniqueIP()), 401)
	}
	r := attempt(3, testPassword, uniqueIP())
	e.mustStatus(r, 429)
	if r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "Too many failed sign-ins") {
		t.Fatalf("a locked account should say when to come back: %v\n%s", r.Header, r.Body)
	}
	if n, lock := throttle(t, e, "account", user.Email); n != 3 || lock != time.Minute {
		t.Fatalf("account: %d failures locked %v, want 3 and 1m", n, lock)
	}
	// Each further failure doubles the lock.
	for i, want := range []time.Duration{2 * time.Minute, 4 * time.Minute} {
		unlock(t, e, "account", user.Email)
		e.mustStatus(attempt(i, "wrong password!", uniqueIP()), 401)
		if _, lock := throttle(t, e, "account", user.Email); lock != want {
			t.Fatalf("lock %v, want %v", lock, want)
		}
		e.mustStatus(attempt(i+1, testPassword, uniqueIP()), 429)
	}
	unlock(t, e, "account", user.Email)
	e.mustStatus(attempt(0, testPassword, uniqueIP()), 303)
	var rows int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM sign_in_throttles WHERE scope = 'account' AND subject = ?", user.Email).
		Scan(context.Background(), &rows); err != nil || rows != 0 {
		t.Fatalf("a sign-in should forget the account's failures (%d rows, %v)", rows, err)
	}

	// By address: four failures on four accounts lock the address on both nodes.
	addr := uniqueIP()
	for i := range 4 {
		n := nodes[i%2]
		e.mustStatus(signInForm(n, newBrowser(n), unique("nobody")+"@test.example", "wrong password!", "/", addr), 401)
	}
	e.mustStatus(attempt(1, testPassword, addr), 429)
	if n, lock := throttle(t, e, "address", addr); n != 4 || lock != time.Minute {
		t.Fatalf("address: %d failures locked %v, want 4 and 1m", n, lock)
	}
	e.mustStatus(attempt(0, testPassword, uniqueIP()), 303) // another address is not locked
	// An hour after the last attempt, the failures are forgotten.
	if _, err := e.st.DB().ExecContext(context.Background(), `UPDATE sign_in_throttles SET locked_until = NULL,
		last_attempt_at = now() - interval '61 minutes' WHERE scope = 'address' AND subject = ?`, addr); err != nil {
		t.Fatal(err)
	}
	e.mustStatus(signInForm(nodes[0], newBrowser(nodes[0]), unique("nobody")+"@test.example", "wrong password!", "/", addr), 401)
	if n, lock := throttle(t, e, "address", addr); n != 1 || lock != 0 {
		t.Fatalf("address after an hour: %d failures locked %v, want 1 and none", n, lock)
	}
}

func TestCSRFTokensWorkOnEveryNode(t *testing.T) {
	e := MustEnv(t)
	a, b := newServer(t, e, server.Config{TrustedProxies: peer}), newServer(t, e, server.Config{TrustedProxies: peer})
	browser := newBrowser(a)
	browser.request("GET", "/login", nil) // the form from node a
	browser.e = b                         // posted to node b
	e.mustStatus(signInForm(b, browser, e.users[models.RoleAuditor].Email, testPassword, "/", uniqueIP()), 303)
}

func TestSignInAttemptsAtOnceCannotPassTheLimit(t *testing.T) {
	e := MustEnv(t)
	nodes := []*env{newServer(t, e, testLimits), newServer(t, e, testLimits)}
	user, _ := e.mustUser(models.RoleAuditor)
	statuses := make([]int, 10)
	var wg sync.WaitGroup
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := nodes[i%2]
			b := newBrowser(n)
			statuses[i] = signInForm(n, b, user.Email, "wrong password!", "/", uniqueIP()).Status
		}()
	}
	wg.Wait()
	var refused, locked int
	for _, s := range statuses {
		switch s {
		case 401:
			refused++
		case 429:
			locked++
		default:
			t.Fatalf("status %d", s)
		}
	}
	if refused != 3 || locked != 7 {
		t.Fatalf("%d wrong passwords checked and %d locked out, want 3 and 7: %v", refused, locked, statuses)
	}
}

// outage is a TCP proxy in front of the test database that can be cut, as a
// database that stops answering.
type outage struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func newOutage(t *testing.T, dsn string) (*outage, string) {
	t.Helper()
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	network, address := "tcp", net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port))
	if strings.HasPrefix(cfg.Host, "/") {
		network, address = "unix", fmt.Sprintf("%s/.s.PGSQL.%d", cfg.Host, cfg.Port)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	o := &outage{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			db, err := net.Dial(network, address)
			if err != nil {
				c.Close()
				continue
			}
			o.mu.Lock()
			o.conns = append(o.conns, c, db)
			o.mu.Unlock()
			go func() { io.Copy(db, c); db.Close() }()
			go func() { io.Copy(c, db); c.Close() }()
		}
	}()
	t.Cleanup(o.cut)
	u := &url.URL{Scheme: "postgres", User: url.UserPassword(cfg.User, cfg.Password), Host: ln.Addr().String(), Path: "/" + cfg.Database,
		RawQuery: "sslmode=disable"}
	return o, u.String()
}

// cut refuses new connections and breaks the open ones.
func (o *outage) cut() {
	o.ln.Close()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.conns {
		c.Close()
	}
}

func TestDatabaseOutageAnswers503(t *testing.T) {
	proxy, dsn := newOutage(t, pgtest.DSN())
	down := mustEnvAt(t, dsn)
	signedIn := spendWebSignIn(t, down, models.RoleAuditor)
	down.mustStatus(down.do(models.RoleAuditor, "GET", "/api/v1/programmes", nil), 200)
	down.mustStatus(down.do("", "GET", "/readyz", nil), 200)

	proxy.cut()
	for _, c := range []struct {
		name string
		r    func() response
	}{
		{"APIWithAValidToken", func() response { return down.do(models.RoleAuditor, "GET", "/api/v1/programmes", nil) }},
		{"APIWrite", func() response {
			return down.do(models.RoleFinanceOfficer, "POST", "/api/v1/programmes", map[string]any{"code": "X", "name": "X", "plan": "X"})
		}},
		{"APIWithAnUnknownToken", func() response {
			req := httptest.NewRequest("GET", "/api/v1/audit", nil)
			req.Header.Set("Authorization", "Bearer gt_not-a-token")
			return down.send(req)
		}},
		{"Readyz", func() response { return down.do("", "GET", "/readyz", nil) }},
		{"WebPageSignedIn", func() response { return signedIn.request("GET", "/funding-lines", nil) }},
		{"WebPageForbiddenToTheRole", func() response { return signedIn.request("GET", "/funding-lines/new", nil) }},
		{"SignIn", func() response {
			return signInForm(down, newBrowser(down), down.users[models.RoleAuditor].Email, testPassword, "/", "")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			down.t = t
			r := c.r()
			if r.Status != 503 {
				t.Fatalf("status %d, want 503 (never 401 or 403); body %s", r.Status, r.Body)
			}
		})
	}
	down.t = t
	p := down.do(models.RoleAuditor, "GET", "/api/v1/programmes", nil).problem(t)
	if p.Code != models.EUNAVAILABLE {
		t.Fatalf("problem %+v", p)
	}
}
