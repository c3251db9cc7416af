// Package oidctest runs a real OpenID provider for tests: zitadel/oidc's
// OpenID-certified op package with its example storage and sign-in page,
// on a loopback port, signing ID tokens with its own RSA key. It issues the
// claims Microsoft Entra ID does (oid, tid, roles, groups,
// preferred_username), and can be told to issue tokens for another audience
// or already expired, as a misconfigured or hostile provider would.
package oidctest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	exstorage "github.com/zitadel/oidc/v3/example/server/storage"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// Person is someone with an account at the provider.
type Person struct {
	Subject  string // sub: Entra ID's is pairwise, per application
	Username string // preferred_username, typed on the sign-in page
	Password string
	Email    string // empty: no email claim (Entra ID sends one only when asked)
	Name     string
	OID      string // Entra ID's object id
	TenantID string
	Roles    []string // app roles
	Groups   []string // group object ids
}

// Provider is a running OpenID provider.
type Provider struct {
	Issuer       string
	ClientID     string
	ClientSecret string

	mu        sync.Mutex
	people    map[string]Person // by subject
	audience  []string
	lifetime  time.Duration
	challenge string // the code challenge method of the last authorization request
}

// Start serves a provider on ln with one confidential web client allowed to
// send people back to redirectURL, and these people; it stops with the test.
func Start(t testing.TB, ln net.Listener, redirectURL string, people ...Person) *Provider {
	t.Helper()
	p := &Provider{Issuer: "http://" + ln.Addr().String(), ClientID: "granttrack-test", ClientSecret: "test-client-secret",
		people: map[string]Person{}}
	for _, person := range people {
		p.people[person.Subject] = person
	}
	clients := map[string]*exstorage.Client{p.ClientID: exstorage.WebClient(p.ClientID, p.ClientSecret, redirectURL)}
	st := &storage{Storage: exstorage.NewStorageWithClients(userStore{p}, clients), p: p}
	srv := &http.Server{Handler: exampleop.SetupServer(p.Issuer, st, nil, false), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("oidctest: %v", err)
		}
	}()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// SetAudience makes the provider issue ID tokens to these audiences instead
// of the client's; none restores the client's.
func (p *Provider) SetAudience(aud ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.audience = aud
}

// SetIDTokenLifetime makes ID tokens last d (negative: already expired when
// issued); zero restores the example's hour.
func (p *Provider) SetIDTokenLifetime(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lifetime = d
}

// CodeChallengeMethod returns the PKCE method of the last authorization
// request ("" when it had none).
func (p *Provider) CodeChallengeMethod() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.challenge
}

// storage is the example storage with Entra ID's claims and the knobs.
type storage struct {
	*exstorage.Storage
	p *Provider
}

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, userID string) (op.AuthRequest, error) {
	s.p.mu.Lock()
	s.p.challenge = string(req.CodeChallengeMethod)
	s.p.mu.Unlock()
	return s.Storage.CreateAuthRequest(ctx, req, userID)
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.Storage.AuthRequestByCode(ctx, code)
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if err != nil || s.p.audience == nil {
		return r, err
	}
	return otherAudience{AuthRequest: r, aud: s.p.audience}, nil
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.Storage.GetClientByClientID(ctx, id)
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	if err != nil || s.p.lifetime == 0 {
		return c, err
	}
	return lifetime{Client: c, d: s.p.lifetime}, nil
}

// SetUserinfoFromRequest adds what Entra ID puts in an ID token.
func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	if err := s.Storage.SetUserinfoFromRequest(ctx, ui, req, scopes); err != nil {
		return err
	}
	s.p.mu.Lock()
	person, ok := s.p.people[req.GetSubject()]
	s.p.mu.Unlock()
	if !ok {
		return errors.New("oidctest: no such person")
	}
	ui.Email, ui.Name, ui.PreferredUsername = person.Email, person.Name, person.Username
	for k, v := range map[string]string{"oid": person.OID, "tid": person.TenantID} {
		if v != "" {
			ui.AppendClaims(k, v)
		}
	}
	if person.Roles != nil {
		ui.AppendClaims("roles", person.Roles)
	}
	if person.Groups != nil {
		ui.AppendClaims("groups", person.Groups)
	}
	return nil
}

type otherAudience struct {
	op.AuthRequest
	aud []string
}

func (o otherAudience) GetAudience() []string { return o.aud }

type lifetime struct {
	op.Client
	d time.Duration
}

func (l lifetime) IDTokenLifetime() time.Duration { return l.d }

// userStore is the example's user store over the provider's people.
type userStore struct{ p *Provider }

func (u userStore) user(person Person, ok bool) *exstorage.User {
	if !ok {
		return nil
	}
	return &exstorage.User{ID: person.Subject, Username: person.Username, Password: person.Password, Email: person.Email,
		EmailVerified: person.Email != "", FirstName: person.Name, PreferredLanguage: language.BritishEnglish}
}

func (u userStore) GetUserByID(id string) *exstorage.User {
	u.p.mu.Lock()
	defer u.p.mu.Unlock()
	person, ok := u.p.people[id]
	return u.user(person, ok)
}

func (u userStore) GetUserByUsername(name string) *exstorage.User {
	u.p.mu.Lock()
	defer u.p.mu.Unlock()
	for _, person := range u.p.people {
		if person.Username == name {
			return u.user(person, true)
		}
	}
	return nil
}

func (u userStore) ExampleClientID() string { return exstorage.ServiceUserID }
