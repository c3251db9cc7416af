package main

import (
	"context"
	"maps"
	"strings"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

// ssoEnv is the package database's environment with single sign-on
// configured for Entra ID.
func ssoEnv() map[string]string {
	return map[string]string{"DATABASE_URL": pgtest.DSN(),
		"GRANTTRACK_OIDC_ISSUER":        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
		"GRANTTRACK_OIDC_CLIENT_ID":     "6731de76-14a6-49ae-97bc-6eba6914391e",
		"GRANTTRACK_OIDC_CLIENT_SECRET": "secret",
		"GRANTTRACK_OIDC_REDIRECT_URL":  "https://granttrack.example/login/oidc/callback",
		"GRANTTRACK_OIDC_SUBJECT_CLAIM": "oid",
		"GRANTTRACK_OIDC_ROLE_MAP":      "GrantTrack.FinanceOfficer=finance_officer, GrantTrack.Auditor=auditor"}
}

// TestUserSSOLinksByIssuerAndSubject: an admin links a user to the
// provider's account by its subject; a second user cannot take the same
// account; unlinking frees it; without single sign-on the command says
// what to configure.
func TestUserSSOLinksByIssuerAndSubject(t *testing.T) {
	env := ssoEnv()
	for _, email := range []string{"sso-one@example.org", "sso-two@example.org"} {
		if code, _, errOut := granttrack(t, "a long enough password\n", "user", "add", "--email", email, "--name", "SSO", "--role", "auditor"); code != 0 {
			t.Fatal(errOut)
		}
	}
	oid := "00000000-0000-0000-0000-0000000001d0"
	if code, out, errOut := granttrackEnv(t, env, "", "user", "sso", "--email", "sso-one@example.org", "--subject", oid); code != 0 || !strings.Contains(out, oid) {
		t.Fatalf("user sso: %d %q %q", code, out, errOut)
	}
	st, err := store.Open(context.Background(), pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if u, err := st.UserByOIDC(context.Background(), env["GRANTTRACK_OIDC_ISSUER"], oid); err != nil || u.Email != "sso-one@example.org" {
		t.Fatalf("linked user: %v", err)
	}
	if code, _, errOut := granttrackEnv(t, env, "", "user", "sso", "--email", "sso-two@example.org", "--subject", oid); code != 1 || !strings.Contains(errOut, "nother user is linked") {
		t.Fatalf("a second user linked to the same account: %d %q", code, errOut)
	}
	if code, _, errOut := granttrackEnv(t, env, "", "user", "sso", "--email", "sso-one@example.org", "--unlink"); code != 0 {
		t.Fatal(errOut)
	}
	if _, err := st.UserByOIDC(context.Background(), env["GRANTTRACK_OIDC_ISSUER"], oid); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("still linked after --unlink: %v", err)
	}
	if code, _, errOut := granttrack(t, "", "user", "sso", "--email", "sso-one@example.org", "--subject", oid); code != 2 || !strings.Contains(errOut, "GRANTTRACK_OIDC_ISSUER") {
		t.Fatalf("user sso without single sign-on: %d %q", code, errOut)
	}
}

// TestSingleSignOnConfigurationIsChecked: an incomplete or wrong
// configuration stops every command, naming the variable.
func TestSingleSignOnConfigurationIsChecked(t *testing.T) {
	for _, tc := range []struct {
		name, key, value, want string
	}{
		{"NoClientID", "GRANTTRACK_OIDC_CLIENT_ID", "", "GRANTTRACK_OIDC_CLIENT_ID"},
		{"NoRoleMap", "GRANTTRACK_OIDC_ROLE_MAP", "", "GRANTTRACK_OIDC_ROLE_MAP"},
		{"UnknownRole", "GRANTTRACK_OIDC_ROLE_MAP", "GrantTrack.Boss=boss", `"boss" is not a role`},
		{"TwoRolesForOneValue", "GRANTTRACK_OIDC_ROLE_MAP", "X=auditor,X=admin", "mapped to both"},
		{"RedirectElsewhere", "GRANTTRACK_OIDC_REDIRECT_URL", "https://granttrack.example/callback", "/login/oidc/callback"},
		{"SubjectClaim", "GRANTTRACK_OIDC_SUBJECT_CLAIM", "email", "sub or oid"},
		{"CreateUsers", "GRANTTRACK_OIDC_CREATE_USERS", "maybe", "true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := maps.Clone(ssoEnv())
			env[tc.key] = tc.value
			if code, _, errOut := granttrackEnv(t, env, "", "audit", "verify"); code != 2 || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d %q, want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}
