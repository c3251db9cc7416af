package auth

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"granttrack/models"
)

// OIDCCallbackPath is where the provider sends the browser back; the
// redirect URL registered at the provider must end with it.
const OIDCCallbackPath = "/login/oidc/callback"

// OIDCConfig is how granttrack signs people in through an OpenID provider
// (OpenID Connect's authorization code flow with PKCE, state and nonce).
type OIDCConfig struct {
	Issuer       string // the provider's issuer URL, e.g. https://login.microsoftonline.com/<tenant id>/v2.0
	ClientID     string
	ClientSecret string
	RedirectURL  string // this site's OIDCCallbackPath, as registered at the provider
	// SubjectClaim names the claim that identifies the person at the
	// provider: "sub" (the default) or, for Microsoft Entra ID, "oid" (the
	// object id an admin sees in the portal, the same for every application).
	SubjectClaim string
	// RolesClaim names the claim whose values RoleMap maps to roles: "roles"
	// (Entra ID's app roles, the default) or "groups" (group object ids).
	RolesClaim string
	RoleMap    map[string]models.Role
	// CreateUsers lets a person no user is linked to sign in, creating a user
	// with NewSSOUserRole; otherwise they are refused.
	CreateUsers bool
	Label       string // the sign-in button's text
}

// LoadOIDCConfig reads single sign-on's configuration through getenv; nil
// when GRANTTRACK_OIDC_ISSUER is not set (single sign-on is off).
func LoadOIDCConfig(getenv func(string) string) (*OIDCConfig, error) {
	cfg := &OIDCConfig{
		Issuer:       getenv("GRANTTRACK_OIDC_ISSUER"),
		ClientID:     getenv("GRANTTRACK_OIDC_CLIENT_ID"),
		ClientSecret: getenv("GRANTTRACK_OIDC_CLIENT_SECRET"),
		RedirectURL:  getenv("GRANTTRACK_OIDC_REDIRECT_URL"),
		SubjectClaim: getenv("GRANTTRACK_OIDC_SUBJECT_CLAIM"),
		RolesClaim:   getenv("GRANTTRACK_OIDC_ROLES_CLAIM"),
		Label:        getenv("GRANTTRACK_OIDC_LABEL"),
	}
	if cfg.Issuer == "" {
		return nil, nil
	}
	switch v := strings.ToLower(getenv("GRANTTRACK_OIDC_CREATE_USERS")); v {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		cfg.CreateUsers = true
	default:
		return nil, fmt.Errorf("GRANTTRACK_OIDC_CREATE_USERS must be true or false, not %q", v)
	}
	m, err := ParseRoleMap(getenv("GRANTTRACK_OIDC_ROLE_MAP"))
	if err != nil {
		return nil, fmt.Errorf("GRANTTRACK_OIDC_ROLE_MAP: %w", err)
	}
	cfg.RoleMap = m
	return cfg, cfg.Check()
}

// ParseRoleMap reads "value=role,value=role" (values are the roles claim's,
// such as an Entra app role's value or a group's object id).
func ParseRoleMap(s string) (map[string]models.Role, error) {
	m := map[string]models.Role{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		value, role, ok := strings.Cut(pair, "=")
		value, role = strings.TrimSpace(value), strings.TrimSpace(role)
		if !ok || value == "" {
			return nil, fmt.Errorf("%q is not value=role", pair)
		}
		if !models.Role(role).Valid() {
			return nil, fmt.Errorf("%q: %q is not a role (%s)", pair, role, roleNames())
		}
		if prev, dup := m[value]; dup && prev != models.Role(role) {
			return nil, fmt.Errorf("%q is mapped to both %s and %s", value, prev, role)
		}
		m[value] = models.Role(role)
	}
	return m, nil
}

func roleNames() string {
	var names []string
	for _, r := range models.AllRoles() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// Check returns what is wrong with the configuration, or nil; it fills in
// the defaults.
func (c *OIDCConfig) Check() error {
	if c.SubjectClaim == "" {
		c.SubjectClaim = "sub"
	}
	if c.RolesClaim == "" {
		c.RolesClaim = "roles"
	}
	if c.Label == "" {
		c.Label = "Sign in with single sign-on"
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"GRANTTRACK_OIDC_CLIENT_ID", c.ClientID},
		{"GRANTTRACK_OIDC_CLIENT_SECRET", c.ClientSecret}, {"GRANTTRACK_OIDC_REDIRECT_URL", c.RedirectURL}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("single sign-on (GRANTTRACK_OIDC_ISSUER) also needs %s", strings.Join(missing, ", "))
	}
	if u, err := url.Parse(c.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("GRANTTRACK_OIDC_ISSUER %q is not an http(s) URL", c.Issuer)
	}
	if u, err := url.Parse(c.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.Path != OIDCCallbackPath || u.RawQuery != "" {
		return fmt.Errorf("GRANTTRACK_OIDC_REDIRECT_URL %q must be this site's https://HOST%s", c.RedirectURL, OIDCCallbackPath)
	}
	if c.SubjectClaim != "sub" && c.SubjectClaim != "oid" {
		return fmt.Errorf("GRANTTRACK_OIDC_SUBJECT_CLAIM must be sub or oid, not %q", c.SubjectClaim)
	}
	if len(c.RoleMap) == 0 {
		return errors.New("single sign-on needs GRANTTRACK_OIDC_ROLE_MAP: which values of the roles claim give which role (e.g. GrantTrack.Auditor=auditor)")
	}
	return nil
}

// NewSSOUserRole is the role of a user created at their first sign-in
// through the provider (GRANTTRACK_OIDC_CREATE_USERS): one with no
// authority over money, whatever the provider says, until an admin gives
// them another. It is the one place that decides it.
func NewSSOUserRole() models.Role { return models.RoleBoardMember }

// OIDC signs people in through one OpenID provider. Its discovery document
// is fetched at the first sign-in (and again after a failure), so granttrack
// starts while the provider is unreachable.
type OIDC struct {
	cfg      OIDCConfig
	mu       sync.Mutex
	provider *oidc.Provider
}

// NewOIDC returns the sign-in through the provider cfg describes.
func NewOIDC(cfg OIDCConfig) (*OIDC, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	return &OIDC{cfg: cfg}, nil
}

// Config returns the configuration.
func (o *OIDC) Config() OIDCConfig { return o.cfg }

func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(ctx, o.cfg.Issuer)
		if err != nil {
			return nil, fmt.Errorf("auth: the identity provider %s: %w", o.cfg.Issuer, err)
		}
		o.provider = p
	}
	return o.provider, nil
}

// Origins returns where the browser is sent to sign in: the issuer's
// origin, and the authorization endpoint's once the provider is discovered
// (the same for Entra ID and most providers).
func (o *OIDC) Origins() []string {
	origins := []string{origin(o.cfg.Issuer)}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		if a := origin(o.provider.Endpoint().AuthURL); a != "" && a != origins[0] {
			origins = append(origins, a)
		}
	}
	return origins
}

func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

func (o *OIDC) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
}

// OIDCStart is a sign-in sent to the provider: the secrets to keep until the
// browser comes back, and where to send the browser.
type OIDCStart struct {
	State, Nonce, Verifier string
	URL                    string
}

// Start begins a sign-in: a fresh state, nonce and PKCE verifier (S256), and
// the provider's authorization URL carrying them.
func (o *OIDC) Start(ctx context.Context) (OIDCStart, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return OIDCStart{}, err
	}
	st := OIDCStart{State: NewSecret(32), Nonce: NewSecret(32), Verifier: oauth2.GenerateVerifier()}
	st.URL = o.oauth(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	return st, nil
}

// Identity is the person the provider vouched for in a verified ID token.
type Identity struct {
	Issuer, Subject string
	Email, Name     string
	TenantID        string   // Entra ID's tid, for the audit trail
	Values          []string // the roles claim's values, as sent
	Roles           []models.Role
	// Overage is set when the provider left the roles claim out because the
	// person has too many groups (Entra ID's group overage).
	Overage bool
}

// Grants reports whether the provider lets the person hold role in
// granttrack: it can narrow what granttrack's admins gave, never widen it.
// The role new users start with carries no authority over money, so any
// mapped value allows it.
func (id *Identity) Grants(role models.Role) bool {
	return len(id.Roles) > 0 && (slices.Contains(id.Roles, role) || role == NewSSOUserRole())
}

// Refusal is a sign-in the provider's answer does not allow: Reason is a
// short word for the audit trail and the tests, the message is for people.
type Refusal struct {
	Reason  string
	Message string
	Err     error
}

func (r *Refusal) Error() string {
	if r.Err != nil {
		return "auth: sign-in refused (" + r.Reason + "): " + r.Err.Error()
	}
	return "auth: sign-in refused (" + r.Reason + "): " + r.Message
}

func (r *Refusal) Unwrap() error { return r.Err }

func refuse(reason, msg string, err error) *Refusal {
	return &Refusal{Reason: reason, Message: msg, Err: err}
}

// Finish redeems the authorization code with the PKCE verifier, verifies
// the ID token (signature by the provider's keys, issuer, audience (this
// client alone) and authorised party, expiry) and its nonce, and returns who it names. A
// *Refusal says why a token is not accepted; other errors are failures to
// reach the provider.
func (o *OIDC) Finish(ctx context.Context, code, verifier, nonce string) (*Identity, error) {
	p, err := o.discover(ctx)
	if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, refuse("code", "The identity provider sent no authorization code.", nil)
	}
	tok, err := o.oauth(p).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, refuse("exchange", "The identity provider did not accept the sign-in.", err)
		}
		return nil, fmt.Errorf("auth: redeeming the code at %s: %w", o.cfg.Issuer, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, refuse("token", "The identity provider sent no ID token.", nil)
	}
	// The audience is checked below, with the authorised party.
	idt, err := p.Verifier(&oidc.Config{SkipClientIDCheck: true}).Verify(ctx, raw)
	if err != nil {
		var exp *oidc.TokenExpiredError
		if errors.As(err, &exp) {
			return nil, refuse("expired", "The identity provider's token has expired. Sign in again.", err)
		}
		return nil, refuse("token", "The identity provider's token could not be verified.", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return nil, refuse("token", "The identity provider's token could not be read.", err)
	}
	// granttrack trusts no audience but itself, so a token also issued to
	// another application is refused (OpenID Connect Core 3.1.3.7), as is
	// one authorised for another party.
	azp, _ := claims["azp"].(string)
	if len(idt.Audience) != 1 || idt.Audience[0] != o.cfg.ClientID || (azp != "" && azp != o.cfg.ClientID) {
		return nil, refuse("audience", "The identity provider's token was issued for another application.",
			fmt.Errorf("audience %q, authorised party %q, want %q", idt.Audience, azp, o.cfg.ClientID))
	}
	if idt.Nonce == "" || idt.Nonce != nonce {
		return nil, refuse("nonce", "The identity provider's token belongs to another sign-in.", nil)
	}
	return o.identity(idt.Issuer, idt.Subject, claims)
}

// identity reads the person out of verified claims.
func (o *OIDC) identity(issuer, sub string, claims map[string]any) (*Identity, error) {
	// Whatever the token says is kept only when it is text (it goes into
	// the users table and the audit trail).
	text := func(v string) bool { return len(v) <= 500 && models.CheckText(v, false) == nil }
	str := func(name string) string {
		v, _ := claims[name].(string)
		if v = strings.TrimSpace(v); !text(v) {
			return ""
		}
		return v
	}
	id := &Identity{Issuer: issuer, Subject: sub, Name: str("name"), TenantID: str("tid")}
	if o.cfg.SubjectClaim == "oid" {
		id.Subject = str("oid")
	} else if !text(sub) {
		id.Subject = ""
	}
	if id.Subject == "" {
		return nil, refuse("subject", "The identity provider's token does not say who you are ("+o.cfg.SubjectClaim+" is missing).", nil)
	}
	for _, c := range []string{"email", "preferred_username"} {
		if a, err := mail.ParseAddress(str(c)); err == nil && a.Address == str(c) {
			id.Email = strings.ToLower(a.Address)
			break
		}
	}
	switch v := claims[o.cfg.RolesClaim].(type) {
	case string:
		if text(v) {
			id.Values = []string{v}
		}
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok && text(s) {
				id.Values = append(id.Values, s)
			}
		}
	}
	if names, ok := claims["_claim_names"].(map[string]any); ok {
		_, id.Overage = names[o.cfg.RolesClaim]
	}
	for _, v := range id.Values {
		if r, ok := o.cfg.RoleMap[v]; ok && !slices.Contains(id.Roles, r) {
			id.Roles = append(id.Roles, r)
		}
	}
	sort.Slice(id.Roles, func(i, j int) bool { return id.Roles[i] < id.Roles[j] })
	return id, nil
}
