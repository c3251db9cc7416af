package server_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"granttrack/app/auth"
	"granttrack/app/oidctest"
	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/app/store"
	"granttrack/models"
)

// ssoEnv is the server, with single sign-on, and a real OpenID provider,
// each on its own loopback port.
type ssoEnv struct {
	*env
	idp  *oidctest.Provider
	base string
	ln   net.Listener // the server's, served by serve or by a browser test
	sso  *auth.OIDC
}

const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// ssoPeople are the provider's accounts: Entra ID's claims, app roles in
// "roles".
var ssoPeople = []oidctest.Person{
	{Subject: "pairwise-ana", Username: "ana@vru.example", Password: "ana-password", Email: "ana@vru.example", Name: "Ana Officer",
		OID: "00000000-0000-0000-0000-00000000a0a0", TenantID: tenant, Roles: []string{"GrantTrack.FinanceOfficer"}},
	{Subject: "pairwise-ben", Username: "ben@vru.example", Password: "ben-password", Email: "ben@vru.example", Name: "Ben Unmapped",
		OID: "00000000-0000-0000-0000-00000000b0b0", TenantID: tenant, Roles: []string{"SomeOtherApp.Reader"}, Groups: []string{"g-unmapped"}},
	{Subject: "pairwise-cat", Username: "cat@vru.example", Password: "cat-password", Email: "cat@vru.example", Name: "Cat Left",
		OID: "00000000-0000-0000-0000-00000000c0c0", TenantID: tenant, Roles: []string{"GrantTrack.Auditor"}},
	{Subject: "pairwise-dan", Username: "dan@vru.example", Password: "dan-password", Email: "dan@vru.example", Name: "Dan New",
		OID: "00000000-0000-0000-0000-00000000d0d0", TenantID: tenant, Roles: []string{"GrantTrack.FinanceOfficer"}},
	{Subject: "pairwise-gil", Username: "gil@vru.example", Password: "gil-password", Email: "gil@vru.example", Name: "Gil Demoted",
		OID: "00000000-0000-0000-0000-00000000e0e0", TenantID: tenant, Roles: []string{"GrantTrack.Auditor"}},
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// mustSSO starts the provider with people and a server whose single
// sign-on points at it, matching people by Entra ID's oid.
func mustSSO(t *testing.T, createUsers bool, people ...oidctest.Person) *ssoEnv {
	t.Helper()
	e := MustEnv(t)
	ln := listen(t)
	base := "http://" + ln.Addr().String()
	idp := oidctest.Start(t, listen(t), base+auth.OIDCCallbackPath, people...)
	sso, err := auth.NewOIDC(auth.OIDCConfig{Issuer: idp.Issuer, ClientID: idp.ClientID, ClientSecret: idp.ClientSecret,
		RedirectURL: base + auth.OIDCCallbackPath, SubjectClaim: "oid", RolesClaim: "roles", CreateUsers: createUsers,
		Label: "Sign in with Microsoft", RoleMap: map[string]models.Role{"GrantTrack.FinanceOfficer": models.RoleFinanceOfficer,
			"GrantTrack.Auditor": models.RoleAuditor, "GrantTrack.Admin": models.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	if e.srv, err = server.New(server.Config{Store: e.st, SignInAttempts: 1 << 20, OIDC: sso}); err != nil {
		t.Fatal(err)
	}
	return &ssoEnv{env: e, idp: idp, base: base, ln: ln, sso: sso}
}

// serve answers HTTP on the server's port until the test ends.
func (s *ssoEnv) serve(t *testing.T) {
	go func() { _ = s.srv.Serve(s.ln) }()
	t.Cleanup(func() { _ = s.srv.Shutdown(context.Background()) })
}

// link makes a user with role (active or not) linked to person's oid.
func (s *ssoEnv) link(t *testing.T, person oidctest.Person, role models.Role, active bool) *models.User {
	t.Helper()
	ctx := context.Background()
	u := &models.User{Email: unique("sso") + "@test.example", Name: person.Name, Role: role, PasswordHash: testHash, Active: active}
	if err := s.st.CreateUser(ctx, models.SystemActor("test"), u); err != nil {
		t.Fatal(err)
	}
	if err := s.st.LinkOIDC(ctx, models.SystemActor("test"), u.ID, s.idp.Issuer, person.OID); err != nil {
		t.Fatal(err)
	}
	return u
}

// ssoBrowser is an HTTP client with cookies that follows redirects, as a
// browser does, between the server and the provider.
type ssoBrowser struct {
	t        *testing.T
	s        *ssoEnv
	client   *http.Client
	callback string // the last callback URL the provider sent the browser to
	state    string // the state of the last authorization request
}

func (s *ssoEnv) browser(t *testing.T) *ssoBrowser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &ssoBrowser{t: t, s: s}
	b.client = &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == auth.OIDCCallbackPath {
			b.callback = req.URL.String()
		} else if st := req.URL.Query().Get("state"); st != "" && strings.HasPrefix(req.URL.String(), s.idp.Issuer) {
			b.state = st
		}
		return nil
	}}
	return b
}

// putStateCookie gives the browser the cookie the server binds state to.
func (b *ssoBrowser) putStateCookie(state string) {
	u, err := url.Parse(b.s.base + auth.OIDCCallbackPath)
	if err != nil {
		b.t.Fatal(err)
	}
	b.client.Jar.SetCookies(u, []*http.Cookie{{Name: "granttrack_oidc", Value: state, Path: auth.OIDCCallbackPath}})
}

var (
	ssoCSRF   = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	idpReqID  = regexp.MustCompile(`name="id" value="([^"]+)"`)
	pageAlert = regexp.MustCompile(`(?s)class="flash error" role="alert">(.*?)</p>`)
)

// page is where the browser ended up and what it shows.
type page struct {
	Status int
	URL    *url.URL
	Body   string
}

// alert returns the error the sign-in page shows.
func (p page) alert() string {
	if m := pageAlert.FindStringSubmatch(p.Body); m != nil {
		return m[1]
	}
	return ""
}

func (b *ssoBrowser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return page{Status: resp.StatusCode, URL: resp.Request.URL, Body: string(body)}
}

func (b *ssoBrowser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *ssoBrowser) post(u string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// toProvider opens the sign-in page, presses the single sign-on button and
// returns the provider's sign-in page it lands on.
func (b *ssoBrowser) toProvider(next string) page {
	b.t.Helper()
	login := b.get(b.s.base + "/login?next=" + url.QueryEscape(next))
	m := ssoCSRF.FindStringSubmatch(login.Body)
	if m == nil || !strings.Contains(login.Body, "Sign in with Microsoft") {
		b.t.Fatalf("the sign-in page offers no single sign-on: %s", login.Body)
	}
	at := b.post(b.s.base+"/login/oidc", url.Values{"_csrf": {m[1]}, "next": {next}})
	if !strings.HasPrefix(at.URL.String(), b.s.idp.Issuer+"/login/username") || at.Status != 200 {
		b.t.Fatalf("pressing the button led to %d %s, not the provider's sign-in page", at.Status, at.URL)
	}
	return at
}

// signIn signs in at the provider as person and returns the page the
// server finally shows.
func (b *ssoBrowser) signIn(person oidctest.Person, next string) page {
	b.t.Helper()
	at := b.toProvider(next)
	return b.atProvider(at, person)
}

func (b *ssoBrowser) atProvider(at page, person oidctest.Person) page {
	b.t.Helper()
	m := idpReqID.FindStringSubmatch(at.Body)
	if m == nil {
		b.t.Fatalf("the provider's page has no request id: %s", at.Body)
	}
	return b.post(b.s.idp.Issuer+"/login/username", url.Values{"id": {m[1]}, "username": {person.Username}, "password": {person.Password}})
}

// lastSignInEvent returns the newest sign-in event's action and payload.
func (s *ssoEnv) lastSignInEvent(t *testing.T) (string, map[string]any) {
	t.Helper()
	var action string
	var after []byte
	err := s.st.DB().NewRaw(`SELECT action, after FROM audit_events WHERE action IN ('session.sign_in', 'session.sign_in_failed')
		ORDER BY seq DESC LIMIT 1`).Scan(context.Background(), &action, &after)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(after, &m); err != nil {
		t.Fatal(err)
	}
	return action, m
}

// mustRefuse checks the page refuses the sign-in with status, says why, and
// that the refusal is in the audit trail with reason.
func (s *ssoEnv) mustRefuse(t *testing.T, p page, status int, reason, says string) {
	t.Helper()
	if p.Status != status || p.URL.Path != auth.OIDCCallbackPath || !strings.Contains(p.alert(), says) {
		t.Fatalf("got %d at %s saying %q; want %d saying %q", p.Status, p.URL, p.alert(), status, says)
	}
	action, after := s.lastSignInEvent(t)
	if action != "session.sign_in_failed" || after["reason"] != reason || after["method"] != "oidc" {
		t.Fatalf("audit: %s %v, want session.sign_in_failed with reason %s", action, after, reason)
	}
}

// TestSignInThroughTheIdentityProvider signs in through a real OpenID
// provider (zitadel/oidc's op) issuing Entra ID's claims: a linked officer
// gets in with PKCE, state and nonce and signs out; a replayed state, a
// token for another audience, an expired token, a tampered nonce, a person
// whose roles map to nothing, a deactivated user, a user the provider no
// longer gives their role and a person linked to no user are refused and
// audited.
func TestSignInThroughTheIdentityProvider(t *testing.T) {
	s := mustSSO(t, false, ssoPeople...)
	s.serve(t)
	ana, ben, cat, dan, gil := ssoPeople[0], ssoPeople[1], ssoPeople[2], ssoPeople[3], ssoPeople[4]
	officer := s.link(t, ana, models.RoleFinanceOfficer, true)

	t.Run("OK", func(t *testing.T) {
		b := s.browser(t)
		p := b.signIn(ana, "/spend")
		if p.Status != 200 || p.URL.String() != s.base+"/spend" {
			t.Fatalf("signed in to %d %s, want 200 at /spend: %s", p.Status, p.URL, p.alert())
		}
		if m := s.idp.CodeChallengeMethod(); m != "S256" {
			t.Fatalf("the authorization request's PKCE method is %q, want S256", m)
		}
		action, after := s.lastSignInEvent(t)
		if action != "session.sign_in" || after["method"] != "oidc" || after["subject"] != ana.OID || after["tenant_id"] != tenant {
			t.Fatalf("audit: %s %v", action, after)
		}
		var actor sql.NullInt64
		if err := s.st.DB().NewRaw("SELECT actor_id FROM audit_events WHERE action = 'session.sign_in' ORDER BY seq DESC LIMIT 1").
			Scan(context.Background(), &actor); err != nil || actor.Int64 != officer.ID {
			t.Fatalf("the sign-in is audited as user %v (%v), want %d", actor, err, officer.ID)
		}
		if b.get(s.base+"/funding-lines").URL.Path != "/funding-lines" {
			t.Fatal("signed in through the provider, the pages still send the browser to sign in")
		}

		// The callback again, with the state cookie put back: the state was
		// used, so it is refused, and nobody is signed in by it.
		replay := s.browser(t)
		u, _ := url.Parse(b.callback)
		replay.putStateCookie(u.Query().Get("state"))
		s.mustRefuse(t, replay.get(b.callback), 401, "state", "expired or was already used")
		if replay.get(s.base+"/funding-lines").URL.Path != "/login" {
			t.Fatal("a replayed state signed a browser in")
		}

		// Sign-out ends the local session.
		var sessions int
		count := func() int {
			if err := s.st.DB().NewRaw("SELECT count(*) FROM sessions").Scan(context.Background(), &sessions); err != nil {
				t.Fatal(err)
			}
			return sessions
		}
		before := count()
		m := ssoCSRF.FindStringSubmatch(b.get(s.base + "/funding-lines").Body)
		if out := b.post(s.base+"/logout", url.Values{"_csrf": {m[1]}}); out.URL.Path != "/login" {
			t.Fatalf("sign-out went to %s", out.URL)
		}
		if count() != before-1 {
			t.Fatal("sign-out left the session in the database")
		}
		if b.get(s.base+"/funding-lines").URL.Path != "/login" {
			t.Fatal("still signed in after signing out")
		}
	})

	t.Run("CallbackFromAnotherBrowser", func(t *testing.T) {
		b := s.browser(t)
		at := b.toProvider("/")
		// Someone else's browser, without the state cookie, is sent the
		// callback: refused, and the state stays good for the browser that
		// began the sign-in.
		other := s.browser(t)
		other.client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == auth.OIDCCallbackPath {
				return http.ErrUseLastResponse
			}
			return nil
		}
		m := idpReqID.FindStringSubmatch(at.Body)
		// The provider keeps its sign-in by request id, not by browser.
		resp, err := other.client.PostForm(s.idp.Issuer+"/login/username", url.Values{"id": {m[1]}, "username": {ana.Username}, "password": {ana.Password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if !strings.Contains(loc, auth.OIDCCallbackPath) {
			t.Fatalf("the provider did not send the browser back: %d %q", resp.StatusCode, loc)
		}
		s.mustRefuse(t, other.get(loc), 401, "browser", "did not start in this browser")
	})

	t.Run("ProviderSaysNo", func(t *testing.T) {
		// The person cancels at the provider, which sends the browser back
		// with an error (here with a NUL the audit trail cannot hold).
		b := s.browser(t)
		b.toProvider("/")
		p := b.get(s.base + auth.OIDCCallbackPath + "?" + url.Values{"state": {b.state}, "error": {"access_denied"},
			"error_description": {"the user said no\x00"}}.Encode())
		s.mustRefuse(t, p, 401, "provider", "did not sign you in")
		// The refusal used the state up.
		b.putStateCookie(b.state)
		s.mustRefuse(t, b.get(s.base+auth.OIDCCallbackPath+"?state="+url.QueryEscape(b.state)+"&code=x"), 401, "state", "expired or was already used")
	})

	t.Run("HostileCallback", func(t *testing.T) {
		p := s.browser(t).get(s.base + auth.OIDCCallbackPath + "?state=%00%E2%80%AE&code=%00")
		s.mustRefuse(t, p, 401, "browser", "did not start in this browser")
	})

	t.Run("WrongAudience", func(t *testing.T) {
		s.idp.SetAudience("another-application")
		defer s.idp.SetAudience()
		s.mustRefuse(t, s.browser(t).signIn(ana, "/"), 401, "audience", "issued for another application")
	})

	t.Run("ExpiredToken", func(t *testing.T) {
		s.idp.SetIDTokenLifetime(-time.Minute)
		defer s.idp.SetIDTokenLifetime(0)
		s.mustRefuse(t, s.browser(t).signIn(ana, "/"), 401, "expired", "has expired")
	})

	t.Run("TamperedNonce", func(t *testing.T) {
		b := s.browser(t)
		at := b.toProvider("/")
		// Someone able to write the table (the schema's owner) swaps the
		// nonce the server expects: the provider's token no longer matches.
		owner, err := store.Open(context.Background(), pgtest.OwnerDSN())
		if err != nil {
			t.Fatal(err)
		}
		defer owner.Close()
		if _, err := owner.DB().ExecContext(context.Background(), "UPDATE oidc_sign_ins SET nonce = 'tampered'"); err != nil {
			t.Fatal(err)
		}
		s.mustRefuse(t, b.atProvider(at, ana), 401, "nonce", "belongs to another sign-in")
	})

	t.Run("UnmappedGroup", func(t *testing.T) {
		s.link(t, ben, models.RoleAuditor, true)
		s.mustRefuse(t, s.browser(t).signIn(ben, "/"), 403, "unmapped", "not given any role")
	})

	t.Run("DeactivatedUser", func(t *testing.T) {
		s.link(t, cat, models.RoleAuditor, false)
		s.mustRefuse(t, s.browser(t).signIn(cat, "/"), 403, "deactivated", "deactivated")
	})

	t.Run("RoleNoLongerGiven", func(t *testing.T) {
		// The provider says auditor; granttrack made gil an admin: the
		// provider may narrow, never widen, so gil is refused.
		s.link(t, gil, models.RoleAdmin, true)
		s.mustRefuse(t, s.browser(t).signIn(gil, "/"), 403, "role", "no longer gives you the admin role")
	})

	t.Run("UnknownPersonWithoutJustInTimeCreation", func(t *testing.T) {
		users := s.count("users")
		p := s.browser(t).signIn(dan, "/")
		s.mustRefuse(t, p, 403, "unknown", "No granttrack account is linked")
		if !strings.Contains(p.alert(), dan.OID) || s.count("users") != users {
			t.Fatalf("the refusal should name the reference to link and create no user: %q", p.alert())
		}
	})
}

// TestJustInTimeUsersGetNoMoneyAuthority turns on creating users at their
// first sign-in: a new person the provider calls a finance officer becomes
// a board member (no authority over money) linked by issuer and subject,
// and comes back as the same user; a person whose email an existing user
// has is refused rather than joined to that user.
func TestJustInTimeUsersGetNoMoneyAuthority(t *testing.T) {
	s := mustSSO(t, true, ssoPeople...)
	s.serve(t)
	dan := ssoPeople[3]
	p := s.browser(t).signIn(dan, "/")
	if p.Status != 200 || p.URL.Path != "/dashboard" {
		t.Fatalf("a new user landed on %d %s (%s), want the board member's dashboard", p.Status, p.URL, p.alert())
	}
	u, err := s.st.UserByOIDC(context.Background(), s.idp.Issuer, dan.OID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != auth.NewSSOUserRole() || u.Role != models.RoleBoardMember || u.Email != dan.Email || u.Name != dan.Name || !u.Active {
		t.Fatalf("created %+v", u)
	}
	if auth.PasswordMatches("", u.PasswordHash) || auth.PasswordMatches(auth.NoPassword, u.PasswordHash) {
		t.Fatal("a user made by single sign-on has a password")
	}
	var created map[string]any
	var raw []byte
	if err := s.st.DB().NewRaw("SELECT after FROM audit_events WHERE action = 'user.create' AND entity_id = ?", fmt.Sprint(u.ID)).
		Scan(context.Background(), &raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &created); err != nil || created["oidc_subject"] != dan.OID || created["role"] != "board_member" {
		t.Fatalf("user.create audited as %s (%v)", raw, err)
	}
	// The second time, the same user.
	s.browser(t).signIn(dan, "/")
	var dans int
	if err := s.st.DB().NewRaw("SELECT count(*) FROM users WHERE email = ?", dan.Email).Scan(context.Background(), &dans); err != nil {
		t.Fatal(err)
	}
	if again, err := s.st.UserByOIDC(context.Background(), s.idp.Issuer, dan.OID); err != nil || again.ID != u.ID || dans != 1 {
		t.Fatalf("the second sign-in made another user (%v)", err)
	}

	// Never joined on an email: the provider's ana has the email of a user
	// who signs in with a password.
	ana := ssoPeople[0]
	pw := &models.User{Email: ana.Email, Name: "Ana Password", Role: models.RoleAdmin, PasswordHash: testHash, Active: true}
	if err := s.st.CreateUser(context.Background(), models.SystemActor("test"), pw); err != nil {
		t.Fatal(err)
	}
	s.mustRefuse(t, s.browser(t).signIn(ana, "/"), 403, "email_taken", "never joined on an email")
	if _, err := s.st.UserByOIDC(context.Background(), s.idp.Issuer, ana.OID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("the provider's account was linked to the password user (%v)", err)
	}
	// Unmapped people are still refused, and no user is made for them.
	users := s.count("users")
	s.mustRefuse(t, s.browser(t).signIn(ssoPeople[1], "/"), 403, "unmapped", "not given any role")
	if s.count("users") != users {
		t.Fatal("a user was made for a person with no mapped role")
	}
}

// TestSingleSignOnRoutesAreWebOnly: the sign-in through the provider is a
// web page, open to anyone not yet signed in; without configuration the
// routes do not exist; and starting one needs the form's CSRF token.
func TestSingleSignOnRoutesAreWebOnly(t *testing.T) {
	s := mustSSO(t, false, ssoPeople...)
	for _, rt := range s.srv.Routes() {
		if strings.Contains(rt.Path, "oidc") {
			t.Fatalf("%s %s is in the API's route list", rt.Method, rt.Path)
		}
	}
	s.serve(t)
	b := s.browser(t)
	if p := b.post(s.base+"/login/oidc", url.Values{}); p.Status != 403 {
		t.Fatalf("starting without a CSRF token: %d", p.Status)
	}
	// Every role, signed in, may start again (to switch accounts).
	for _, role := range models.AllRoles() {
		sb := spendWebSignIn(t, s.env, role)
		r := sb.request("POST", "/login/oidc", url.Values{"next": {"/"}})
		if r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), s.idp.Issuer) {
			t.Fatalf("%s: %d to %q", role, r.Status, r.Header.Get("Location"))
		}
	}
	plain := MustEnv(t)
	for _, path := range []string{"/login/oidc", auth.OIDCCallbackPath} {
		if r := plain.do("", "GET", path, nil); r.Status != 404 && r.Status != 405 {
			t.Fatalf("GET %s without single sign-on: %d", path, r.Status)
		}
	}
	if strings.Contains(string(plain.do("", "GET", "/login", nil).Body), "/login/oidc") {
		t.Fatal("the sign-in page offers single sign-on that is not configured")
	}
}

// TestSignInThroughTheIdentityProviderInABrowser signs in in headless
// Chromium: the sign-in page's single sign-on button, the provider's own
// sign-in page, back to the page asked for, then sign-out.
func TestSignInThroughTheIdentityProviderInABrowser(t *testing.T) {
	s := mustSSO(t, false, ssoPeople...)
	ana := ssoPeople[0]
	s.link(t, ana, models.RoleFinanceOfficer, true)
	ctx, base := s.browseOn(t, s.ln)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/spend"),
		chromedp.WaitVisible(`#sso button`),
		chromedp.Click(`#sso button`),
		chromedp.WaitVisible(`#username`),
		chromedp.SendKeys(`#username`, ana.Username),
		chromedp.SendKeys(`#password`, ana.Password),
		chromedp.Submit(`#password`),
		chromedp.WaitVisible(`form[action="/logout"] button`),
	)
	if err != nil {
		t.Fatalf("sign in through the provider: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/spend" {
		t.Fatalf("signed in at %q (%v), want the page asked for, /spend", loc, err)
	}
	screenshot(t, ctx, "signed-in-through-the-identity-provider.png")
	action, after := s.lastSignInEvent(t)
	if action != "session.sign_in" || after["method"] != "oidc" {
		t.Fatalf("audit: %s %v", action, after)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`#sso button`)); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/spend"), chromedp.WaitVisible(`#sso button`)); err != nil {
		t.Fatalf("after sign-out, /spend should ask to sign in: %v", err)
	}
}

// TestSingleSignOnCallbacksAreLimitedByAddress: callbacks that sign nobody
// in (a guessed state) count against the address's sign-in limit, and a
// locked address is refused even a good callback; another address is not.
func TestSingleSignOnCallbacksAreLimitedByAddress(t *testing.T) {
	s := mustSSO(t, false, ssoPeople...)
	limited := newServer(t, s.env, server.Config{TrustedProxies: peer, SignInAttempts: 3, OIDC: s.sso})
	guesser, other := uniqueIP(), uniqueIP()
	callback := func(from string) response {
		req := httptest.NewRequest("GET", auth.OIDCCallbackPath+"?state=guess&code=guess", nil)
		req.Header.Set("X-Forwarded-For", from)
		req.AddCookie(&http.Cookie{Name: "granttrack_oidc", Value: "guess"})
		return limited.send(req)
	}
	for range 3 {
		s.mustStatus(callback(guesser), 401)
	}
	r := callback(guesser)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.Body), "Too many failed sign-ins") {
		t.Fatalf("a fourth guess from one address: %d %v\n%s", r.Status, r.Header, r.Body)
	}
	if n, lock := throttle(t, s.env, "address", guesser); n != 3 || lock != time.Minute {
		t.Fatalf("address: %d failures locked %v, want 3 and 1m", n, lock)
	}
	s.mustStatus(callback(other), 401)
}
