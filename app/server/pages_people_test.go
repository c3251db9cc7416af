package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"granttrack/models"
)

var resetPath = regexp.MustCompile(`id="reset-path">(/reset-password/[^<]+)<`)

// TestUsersPage: an admin lists users by role, adds an account (shown a
// one-time link to set its password, which works once), changes a role
// (a money role waits for a second admin on /approvals) and deactivates an
// account, which ends its sessions at once. Nobody else sees the page.
func TestUsersPage(t *testing.T) {
	e := MustEnv(t)
	admin := spendWebSignIn(t, e, models.RoleAdmin)
	r := admin.request("GET", "/users?role=auditor", nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), e.users[models.RoleAuditor].Email) || strings.Contains(string(r.Body), e.users[models.RoleBoardMember].Email) {
		t.Fatalf("the auditors' list:\n%s", r.Body)
	}
	for _, role := range []models.Role{models.RoleFinanceOfficer, models.RoleFinanceManager, models.RoleBoardMember, models.RoleAuditor} {
		e.mustStatus(spendWebSignIn(t, e, role).request("GET", "/users", nil), 403)
	}

	email := unique("newcomer") + "@test.example"
	r = admin.request("POST", "/users", url.Values{"email": {"not an email"}, "name": {"X"}, "role": {"auditor"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "must be an email address") {
		t.Fatalf("the email's problem should be beside it:\n%s", r.Body)
	}
	r = admin.request("POST", "/users", url.Values{"email": {email}, "name": {"Newcomer"}, "role": {"finance_manager"}, "reason": {"Joined"}})
	e.mustStatus(r, 200)
	m := resetPath.FindSubmatch(r.Body)
	if m == nil || !strings.Contains(string(r.Body), "a second admin must approve the grant") {
		t.Fatalf("no one-time link or grant notice:\n%s", r.Body)
	}
	link := string(m[1])
	newcomer := &spendBrowser{e: e, cookies: map[string]*http.Cookie{}}
	e.mustStatus(newcomer.request("GET", link, nil), 200)
	e.mustStatus(newcomer.request("POST", link, url.Values{"password": {"short"}}), 422)
	e.mustStatus(newcomer.request("POST", link, url.Values{"password": {"a newcomer's long password"}}), 200)
	e.mustStatus(newcomer.request("GET", link, nil), 404) // once only
	newcomer.request("GET", "/login", nil)
	e.mustStatus(newcomer.request("POST", "/login", url.Values{"email": {email}, "password": {"a newcomer's long password"}}), 303)

	// The grant waits for another admin on /approvals; the one who proposed
	// it is not offered it.
	other := &spendBrowser{e: e, cookies: map[string]*http.Cookie{}}
	otherAdmin, _ := e.mustUser(models.RoleAdmin)
	other.request("GET", "/login", nil)
	e.mustStatus(other.request("POST", "/login", url.Values{"email": {otherAdmin.Email}, "password": {testPassword}}), 303)
	if r := admin.request("GET", "/approvals?per_page=500", nil); strings.Contains(string(r.Body), email) {
		t.Fatal("the proposing admin is offered their own grant")
	}
	r = other.request("GET", "/approvals?per_page=500", nil)
	if !strings.Contains(string(r.Body), "Give Newcomer ("+email+") the finance_manager role (new account)") {
		t.Fatalf("the second admin is not offered the grant:\n%s", r.Body)
	}
	u, err := e.st.UserByEmail(t.Context(), email)
	if err != nil {
		t.Fatal(err)
	}
	var grant int64
	if err := e.st.DB().NewRaw("SELECT id FROM account_grants WHERE user_id = ? AND status = 'pending'", u.ID).Scan(t.Context(), &grant); err != nil {
		t.Fatal(err)
	}
	e.mustStatus(other.request("POST", fmt.Sprintf("/approvals/account_grant/%d/approve", grant), url.Values{}), 303)

	// Deactivating ends the newcomer's session at once.
	e.mustStatus(newcomer.request("GET", "/account", nil), 200)
	r = admin.request("POST", fmt.Sprintf("/users/%d/deactivate", u.ID), url.Values{})
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "their sessions ended") {
		t.Fatalf("deactivation notice:\n%s", r.Body)
	}
	if r := newcomer.request("GET", "/account", nil); r.Status != 303 || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
		t.Fatalf("a deactivated user's session still works: %d %s", r.Status, r.Header.Get("Location"))
	}
	// Nobody deactivates themselves.
	r = admin.request("POST", fmt.Sprintf("/users/%d/deactivate", e.users[models.RoleAdmin].ID), url.Values{})
	e.mustStatus(r, 422)
	r = admin.request("POST", fmt.Sprintf("/users/%d/role", e.users[models.RoleBoardMember].ID), url.Values{"role": {"auditor"}, "reason": {"Moved"}})
	e.mustStatus(r, 200)
	if got, _ := e.st.UserByID(t.Context(), e.users[models.RoleBoardMember].ID); got.Role != models.RoleAuditor {
		t.Fatalf("role not changed: %s", got.Role)
	}
}

// TestAccountPage: a user changes their password (the current one is
// needed), creates a token with an expiry that works on the API until it is
// revoked, lists their sessions and signs out everywhere.
func TestAccountPage(t *testing.T) {
	e := MustEnv(t)
	me := spendWebSignIn(t, e, models.RoleAuditor)
	elsewhere := spendWebSignIn(t, e, models.RoleAuditor)
	r := me.request("GET", "/account", nil)
	e.mustStatus(r, 200)
	if strings.Count(string(r.Body), "(this one)") != 1 || strings.Count(string(r.Body), "<td>0.0.0.0</td>") < 2 {
		t.Fatalf("both sessions should be listed, this one marked:\n%s", r.Body)
	}
	r = me.request("POST", "/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"a much longer password"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "is not your current password") {
		t.Fatalf("the wrong password's problem:\n%s", r.Body)
	}
	r = me.request("POST", "/account/password", url.Values{"current_password": {testPassword}, "new_password": {"a much longer password"}})
	e.mustStatus(r, 200)
	if r := elsewhere.request("GET", "/account", nil); r.Status != 303 {
		t.Fatalf("the other session outlived the password change: %d", r.Status)
	}
	e.mustStatus(me.request("GET", "/account", nil), 200)

	r = me.request("POST", "/account/tokens", url.Values{"name": {"Reporting"}, "expires_on": {"2001-01-01"}})
	e.mustStatus(r, 422)
	r = me.request("POST", "/account/tokens", url.Values{"name": {"Reporting"}, "expires_on": {time.Now().AddDate(0, 0, 7).Format("2006-01-02")}})
	e.mustStatus(r, 200)
	m := regexp.MustCompile(`id="new-token">(gt_[^<]+)<`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the new token is not shown:\n%s", r.Body)
	}
	e.tokens["reporting"] = string(m[1])
	e.mustStatus(e.do("reporting", "GET", "/api/v1/programmes", nil), 200)
	var tok int64
	if err := e.st.DB().NewRaw("SELECT id FROM api_tokens WHERE user_id = ? AND name = 'Reporting'", e.users[models.RoleAuditor].ID).Scan(t.Context(), &tok); err != nil {
		t.Fatal(err)
	}
	e.mustStatus(me.request("POST", fmt.Sprintf("/account/tokens/%d/revoke", tok), url.Values{}), 200)
	e.mustStatus(e.do("reporting", "GET", "/api/v1/programmes", nil), 401)
	// Someone else's token is not mine to revoke.
	other := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(other.request("POST", fmt.Sprintf("/account/tokens/%d/revoke", tok), url.Values{}), 422)

	e.mustStatus(me.request("POST", "/account/sessions/end", url.Values{}), 303)
	if r := me.request("GET", "/account", nil); r.Status != 303 {
		t.Fatalf("signed out everywhere, yet the page answers %d", r.Status)
	}
	var events int
	if err := e.st.DB().NewRaw(`SELECT count(*) FROM audit_events WHERE actor_id = ? AND action IN
		('user.password', 'api_token.create', 'api_token.revoke', 'session.sign_out_everywhere')`, e.users[models.RoleAuditor].ID).Scan(t.Context(), &events); err != nil {
		t.Fatal(err)
	}
	if events != 4 {
		t.Fatalf("%d audit events for the account's changes, want 4", events)
	}
}
