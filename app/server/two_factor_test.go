package server_test

import (
	"bytes"
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"granttrack/app/auth"
	"granttrack/app/pgtest"
	"granttrack/models"
)

// twoFactorEnv is a server on a database of its own in which the roles
// given must sign in with two-factor (the setting is global, so other
// tests' databases keep it off).
func twoFactorEnv(t *testing.T, roles ...models.Role) *env {
	t.Helper()
	e := mustEnvAt(t, pgtest.FreshMigrated(t))
	if _, err := e.st.SetTwoFactorRoles(context.Background(), models.SystemActor("test"), roles); err != nil {
		t.Fatal(err)
	}
	return e
}

var (
	totpSecretShown = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)
	recoveryShown   = regexp.MustCompile(`class="recovery-code">([a-z2-7-]+)<`)
)

// passwordSignIn posts the sign-in form as u from a fresh browser.
func passwordSignIn(e *env, u *models.User) (*spendBrowser, response) {
	b := newBrowser(e)
	b.request("GET", "/login", nil)
	return b, b.request("POST", "/login", url.Values{"email": {u.Email}, "password": {testPassword}, "next": {"/funding-lines"}})
}

// mustEnrol enrols b's user from the enrolment page and returns the
// secret and the recovery codes shown.
func mustEnrol(t *testing.T, e *env, b *spendBrowser) (string, []string) {
	t.Helper()
	r := b.request("GET", "/account/two-factor", nil)
	e.mustStatus(r, 200)
	m := totpSecretShown.FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the enrolment page shows no secret:\n%s", r.Body)
	}
	secret := string(m[1])
	qr := b.request("GET", "/account/two-factor/qr.png", nil)
	if qr.Status != 200 || qr.Header.Get("Content-Type") != "image/png" || !bytes.HasPrefix(qr.Body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("QR code: %d %s, %d bytes", qr.Status, qr.Header.Get("Content-Type"), len(qr.Body))
	}
	r = b.request("POST", "/account/two-factor", url.Values{"code": {"000000"}})
	if r.Status != 422 || !strings.Contains(string(r.Body), `id="code-error"`) {
		t.Fatalf("a wrong code at enrolment: %d, want 422 with the message beside the code\n%s", r.Status, r.Body)
	}
	if e.count("two_factor_recovery_codes") != 0 {
		t.Fatal("a wrong code at enrolment kept recovery codes")
	}
	r = b.request("POST", "/account/two-factor", url.Values{"code": {mustCode(t, secret, time.Now())}})
	e.mustStatus(r, 200)
	var codes []string
	for _, m := range recoveryShown.FindAllSubmatch(r.Body, -1) {
		codes = append(codes, string(m[1]))
	}
	if len(codes) != auth.RecoveryCodes {
		t.Fatalf("enrolment showed %d recovery codes, want %d:\n%s", len(codes), auth.RecoveryCodes, r.Body)
	}
	return secret, codes
}

func mustCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := auth.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// auditCount counts audit events of action about user id.
func auditCount(t *testing.T, e *env, action string, id int64) int {
	t.Helper()
	var n int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = ? AND entity_id = ?::text", action, id).
		Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestTwoFactorEnrolmentIsForcedThenAskedAfterThePassword(t *testing.T) {
	e := twoFactorEnv(t, models.RoleFinanceManager)
	manager := e.users[models.RoleFinanceManager]

	// Not enrolled: the password leads to enrolment, and nothing else opens.
	b, r := passwordSignIn(e, manager)
	if r.Status != 303 || r.Header.Get("Location") != "/account/two-factor" {
		t.Fatalf("password of a role that must enrol: %d to %q, want enrolment", r.Status, r.Header.Get("Location"))
	}
	for _, p := range []string{"/funding-lines", "/account", "/approvals"} {
		if r := b.request("GET", p, nil); r.Status != 303 || r.Header.Get("Location") != "/account/two-factor" {
			t.Errorf("%s before enrolment: %d to %q, want enrolment", p, r.Status, r.Header.Get("Location"))
		}
	}
	tokens := e.count("api_tokens")
	if r := b.request("POST", "/account/tokens", url.Values{"name": {"x"}, "expires_on": {time.Now().AddDate(0, 1, 0).Format(models.DateLayout)}}); r.Status != 303 {
		t.Errorf("token form before enrolment: %d, want a redirect to enrolment", r.Status)
	}
	r = e.do(models.RoleFinanceManager, "POST", "/api/v1/me/tokens", map[string]string{"name": "x", "expires_on": time.Now().AddDate(0, 1, 0).Format(models.DateLayout)})
	if r.Status != 403 || !strings.Contains(r.problem(t).Detail, "two-factor") {
		t.Errorf("API token before enrolment: %d %s, want 403 naming two-factor", r.Status, r.Body)
	}
	if e.count("api_tokens") != tokens {
		t.Fatal("a token was made before enrolment")
	}
	// A board member (not required) goes straight in.
	if _, r := passwordSignIn(e, e.users[models.RoleBoardMember]); r.Header.Get("Location") != "/funding-lines" {
		t.Fatalf("a role that need not enrol: %d to %q", r.Status, r.Header.Get("Location"))
	}

	secret, codes := mustEnrol(t, e, b)
	e.mustStatus(b.request("GET", "/funding-lines", nil), 200)
	if auditCount(t, e, "two_factor.enrol", manager.ID) != 1 {
		t.Fatal("enrolment was not audited")
	}
	// Turning it off is refused to a role that must use it.
	e.mustStatus(b.request("POST", "/account/two-factor/off", url.Values{}), 403)

	// Enrolled: the password leads to the code, and gives no access.
	b, r = passwordSignIn(e, manager)
	if r.Status != 303 || r.Header.Get("Location") != "/login/two-factor" {
		t.Fatalf("password of an enrolled account: %d to %q, want the code", r.Status, r.Header.Get("Location"))
	}
	if r := b.request("GET", "/funding-lines", nil); r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("half signed in, /funding-lines: %d to %q, want sign-in", r.Status, r.Header.Get("Location"))
	}
	e.mustStatus(b.request("GET", "/login/two-factor", nil), 200)
	r = b.request("POST", "/login/two-factor", url.Values{"code": {"123456"}})
	if r.Status != 401 || !strings.Contains(string(r.Body), `id="code-error"`) {
		t.Fatalf("wrong code: %d, want 401 with the message beside the code\n%s", r.Status, r.Body)
	}
	if auditCount(t, e, "session.second_factor_failed", manager.ID) != 1 {
		t.Fatal("the wrong code was not audited")
	}
	// The code of the next step: the enrolment used this one.
	next := mustCode(t, secret, time.Now().Add(30*time.Second))
	r = b.request("POST", "/login/two-factor", url.Values{"code": {next}})
	if r.Status != 303 || r.Header.Get("Location") != "/funding-lines" {
		t.Fatalf("right code: %d to %q\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	e.mustStatus(b.request("GET", "/funding-lines", nil), 200)

	// The same code again, in a new sign-in, is refused.
	b2, _ := passwordSignIn(e, manager)
	e.mustStatus(b2.request("POST", "/login/two-factor", url.Values{"code": {next}}), 401)

	// A recovery code signs in once.
	e.mustStatus(b2.request("POST", "/login/two-factor", url.Values{"code": {strings.ToUpper(codes[3])}}), 303)
	e.mustStatus(b2.request("GET", "/funding-lines", nil), 200)
	if auditCount(t, e, "two_factor.recovery_code_used", manager.ID) != 1 {
		t.Fatal("the recovery code's use was not audited")
	}
	b3, _ := passwordSignIn(e, manager)
	e.mustStatus(b3.request("POST", "/login/two-factor", url.Values{"code": {codes[3]}}), 401)
	// The pending sign-in was used up: its page sends back to sign-in.
	if r := b2.request("GET", "/login/two-factor", nil); r.Status != 303 {
		t.Fatalf("a used pending sign-in: %d, want a redirect to sign-in", r.Status)
	}

	// An admin resets it (audited); the next sign-in enrols again.
	admin := spendWebSignIn(t, e, models.RoleAdmin)
	e.mustStatus(admin.request("POST", "/users/"+strconv.FormatInt(manager.ID, 10)+"/two-factor-reset", url.Values{}), 200)
	if auditCount(t, e, "two_factor.reset", manager.ID) != 1 || e.count("user_totp") != 0 || e.count("two_factor_recovery_codes") != 0 {
		t.Fatal("the reset was not audited, or left the secret or the codes")
	}
	if _, r := passwordSignIn(e, manager); r.Header.Get("Location") != "/account/two-factor" {
		t.Fatalf("after a reset: %d to %q, want enrolment", r.Status, r.Header.Get("Location"))
	}
}

func TestFailedSecondFactorsLockTheAccount(t *testing.T) {
	e := twoFactorEnv(t, models.RoleAuditor)
	auditor := e.users[models.RoleAuditor]
	b, _ := passwordSignIn(e, auditor)
	secret, _ := mustEnrol(t, e, b)

	b, _ = passwordSignIn(e, auditor)
	locked := false
	for range 10 {
		r := b.request("POST", "/login/two-factor", url.Values{"code": {"999999"}})
		if r.Status == 429 {
			locked = true
			break
		}
		e.mustStatus(r, 401)
	}
	if !locked {
		t.Fatal("ten wrong codes did not lock the account")
	}
	// Locked: the right code, and the right password, are refused for now.
	r := b.request("POST", "/login/two-factor", url.Values{"code": {mustCode(t, secret, time.Now().Add(30*time.Second))}})
	e.mustStatus(r, 429)
	if _, r := passwordSignIn(e, auditor); r.Status != 429 {
		t.Fatalf("the password of a locked account: %d, want 429", r.Status)
	}
}

func TestTwoFactorSettings(t *testing.T) {
	e := twoFactorEnv(t, models.RoleAuditor)
	r := e.do(models.RoleBoardMember, "GET", "/api/v1/two-factor-settings", nil)
	e.mustStatus(r, 200)
	var got struct {
		RequiredRoles []models.Role `json:"required_roles"`
	}
	r.json(t, &got)
	if len(got.RequiredRoles) != 1 || got.RequiredRoles[0] != models.RoleAuditor {
		t.Fatalf("required roles %v, want [auditor]", got.RequiredRoles)
	}
	e.mustStatus(e.do(models.RoleFinanceManager, "PUT", "/api/v1/two-factor-settings", map[string]any{"required_roles": []string{}}), 403)
	r = e.do(models.RoleAdmin, "PUT", "/api/v1/two-factor-settings", map[string]any{"required_roles": []string{"admin", "chancellor"}})
	if r.Status != 422 || r.problem(t).Errors[0].Field != "required_roles" {
		t.Fatalf("an unknown role: %d %s", r.Status, r.Body)
	}
	r = e.do(models.RoleAdmin, "PUT", "/api/v1/two-factor-settings", map[string]any{"required_roles": []string{"auditor", "finance_officer"}})
	e.mustStatus(r, 200)
	r.json(t, &got)
	if len(got.RequiredRoles) != 2 || got.RequiredRoles[0] != models.RoleFinanceOfficer {
		t.Fatalf("saved %v, want [finance_officer auditor]", got.RequiredRoles)
	}
	// On the web: the admin's form (audited, like the API's change).
	admin := spendWebSignIn(t, e, models.RoleAdmin)
	r = admin.request("GET", "/users", nil)
	if !regexp.MustCompile(`name="role_auditor" value="on" checked`).Match(r.Body) {
		t.Fatalf("the users page does not show the setting:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", "/two-factor-settings", url.Values{"role_board_member": {"on"}}), 200)
	roles, err := e.st.TwoFactorRoles(context.Background())
	if err != nil || len(roles) != 1 || roles[0] != models.RoleBoardMember {
		t.Fatalf("after the form: %v %v", roles, err)
	}
	if n := auditCount(t, e, "two_factor_settings.update", 1); n != 4 {
		t.Fatalf("%d changes of the setting audited, want 4 (the test set-up's two, the API's and the form's)", n)
	}
}

// TestTwoFactorInABrowser: in headless Chromium, a finance manager whose
// role must use two-factor is taken to enrolment after the password, reads
// the secret beside the QR code (which the browser draws from the server's
// PNG), turns two-factor on with a code computed here, signs out, and signs
// in again with the password and a fresh code.
func TestTwoFactorInABrowser(t *testing.T) {
	e := twoFactorEnv(t, models.RoleFinanceManager)
	manager := e.users[models.RoleFinanceManager]
	ctx, base := e.browse(t)
	if err := chromedp.Do(ctx, signIn(base, manager), chromedp.WaitVisible(`#totp-secret`)); err != nil {
		t.Fatalf("sign in, then enrolment: %v", err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('totp-secret').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	// The image's width once it has loaded (0 if it fails to).
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Promise(done => {
		const img = document.getElementById('totp-qr');
		if (img.complete) { done(img.naturalWidth); return; }
		img.onload = () => done(img.naturalWidth);
		img.onerror = () => done(0);
	})`, chromedp.EvalAwaitPromise))
	if err != nil || drawn == 0 {
		t.Fatalf("the QR code was not drawn (width %d, %v)", drawn, err)
	}
	// Any other page sends the browser back to enrolment.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/funding-lines"), chromedp.WaitVisible(`#must-enrol`)); err != nil {
		t.Fatalf("another page before enrolment: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`input[name="code"]`, mustCode(t, secret, time.Now())),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`#recovery-codes`))
	if err != nil {
		t.Fatalf("enrol: %v", err)
	}
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.recovery-code').length`))
	if err != nil || codes != auth.RecoveryCodes {
		t.Fatalf("%d recovery codes shown (%v), want %d", codes, err, auth.RecoveryCodes)
	}
	screenshot(t, ctx, "two-factor-enrolled.png")

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/account"), chromedp.WaitVisible(`button`),
		chromedp.Submit(`form[action="/logout"]`), chromedp.WaitVisible(`input[name="email"]`),
		signIn(base, manager), chromedp.WaitVisible(`input[name="code"]`))
	if err != nil {
		t.Fatalf("sign out and in again: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`input[name="code"]`, mustCode(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Submit(`input[name="code"]`),
		chromedp.WaitVisible(`form.filters[action="/funding-lines"]`))
	if err != nil {
		t.Fatalf("the code: %v", err)
	}
	landed, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(landed, "/funding-lines") {
		t.Fatalf("after the code, the browser is at %q (%v), not the funding lines", landed, err)
	}
}

// TestTwoFactorOffWhenTheRoleAllows: a board member, whose role need not
// use two-factor, may turn it on and off again (audited); signing in then
// asks no code.
func TestTwoFactorOffWhenTheRoleAllows(t *testing.T) {
	e := twoFactorEnv(t, models.RoleAuditor)
	board := e.users[models.RoleBoardMember]
	b, r := passwordSignIn(e, board)
	if r.Header.Get("Location") != "/funding-lines" {
		t.Fatalf("a role that need not enrol: %d to %q", r.Status, r.Header.Get("Location"))
	}
	mustEnrol(t, e, b)
	if _, r := passwordSignIn(e, board); r.Header.Get("Location") != "/login/two-factor" {
		t.Fatalf("enrolled: %d to %q, want the code", r.Status, r.Header.Get("Location"))
	}
	r = b.request("POST", "/account/two-factor/off", url.Values{})
	if r.Status != 200 || !strings.Contains(string(r.Body), "Two-factor sign-in is off.") {
		t.Fatalf("turning it off: %d\n%s", r.Status, r.Body)
	}
	// The page shown afterwards offers enrolment again with a fresh secret,
	// unconfirmed and so inert: only a confirmed one would ask for codes.
	confirmed := "user_totp WHERE confirmed_at IS NOT NULL"
	if auditCount(t, e, "two_factor.off", board.ID) != 1 || e.count(confirmed) != 0 || e.count("two_factor_recovery_codes") != 0 {
		t.Fatalf("turning it off was not audited (%d events), or left the secret (%d) or the codes (%d)",
			auditCount(t, e, "two_factor.off", board.ID), e.count(confirmed), e.count("two_factor_recovery_codes"))
	}
	if _, r := passwordSignIn(e, board); r.Header.Get("Location") != "/funding-lines" {
		t.Fatalf("after turning it off: %d to %q, want straight in", r.Status, r.Header.Get("Location"))
	}
}
