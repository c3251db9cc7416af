package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"granttrack/app/store"
	"granttrack/models"
)

// TestOIDCStateIsTakenOnceAndExpires: a sign-in's state is good once, even
// when two callbacks race for it, and not after its time.
func TestOIDCStateIsTakenOnceAndExpires(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	in := store.OIDCSignIn{Nonce: "nonce", CodeVerifier: "verifier", Next: "/spend"}
	state := unique("state-")
	if err := st.BeginOIDCSignIn(ctx, state, in, time.Minute); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	got := make([]error, 8)
	for i := range got {
		wg.Go(func() {
			var out *store.OIDCSignIn
			out, got[i] = st.TakeOIDCSignIn(ctx, state)
			if got[i] == nil && *out != in {
				t.Errorf("took %+v, want %+v", out, in)
			}
		})
	}
	wg.Wait()
	taken := 0
	for _, err := range got {
		switch models.ErrorCode(err) {
		case "":
			taken++
		case models.ENOTFOUND:
		default:
			t.Fatal(err)
		}
	}
	if taken != 1 {
		t.Fatalf("the state was taken %d times, want once", taken)
	}
	// The database keeps only the state's hash.
	var stored int
	if err := st.DB().NewRaw("SELECT count(*) FROM oidc_sign_ins WHERE position(convert_to(?, 'UTF8') in state_hash) > 0", state).
		Scan(ctx, &stored); err != nil || stored != 0 {
		t.Fatalf("the state is stored as it is (%v)", err)
	}

	expired := unique("state-")
	if err := st.BeginOIDCSignIn(ctx, expired, in, -time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := st.TakeOIDCSignIn(ctx, expired); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("an expired state: %v", err)
	}
}

// TestOIDCIdentityLinksOneUser: one provider account is linked to at most
// one user, by the store and, through raw SQL as the application role, by
// the database; an identity is whole (issuer and subject) or absent.
func TestOIDCIdentityLinksOneUser(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	var users []*models.User
	for range 2 {
		u := &models.User{Email: unique("sso") + "@example.org", Name: "SSO", Role: models.RoleAuditor, PasswordHash: "x", Active: true}
		if err := st.CreateUser(ctx, actor, u); err != nil {
			t.Fatal(err)
		}
		users = append(users, u)
	}
	issuer, subject := "https://login.microsoftonline.com/tenant/v2.0", unique("oid-")
	if err := st.LinkOIDC(ctx, actor, users[0].ID, issuer, subject); err != nil {
		t.Fatal(err)
	}
	if u, err := st.UserByOIDC(ctx, issuer, subject); err != nil || u.ID != users[0].ID {
		t.Fatalf("UserByOIDC: %v", err)
	}
	err := st.LinkOIDC(ctx, actor, users[1].ID, issuer, subject)
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "nother user is linked") {
		t.Fatalf("a second user linked to the same account: %v", err)
	}
	// The database holds both rules for the application role too.
	if err := raw(st, "UPDATE users SET oidc_issuer = ?, oidc_subject = ? WHERE id = ?", issuer, subject, users[1].ID); err == nil ||
		!strings.Contains(err.Error(), "users_oidc_identity_key") {
		t.Fatalf("PostgreSQL let a second user link the same account: %v", err)
	}
	if err := raw(st, "UPDATE users SET oidc_issuer = ? WHERE id = ?", issuer, users[1].ID); err == nil ||
		!strings.Contains(err.Error(), "users_oidc_identity_whole") {
		t.Fatalf("PostgreSQL let a user have an issuer without a subject: %v", err)
	}
	// Unlinking frees the account for another user, and both are audited.
	if err := st.LinkOIDC(ctx, actor, users[0].ID, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := st.LinkOIDC(ctx, actor, users[1].ID, issuer, subject); err != nil {
		t.Fatal(err)
	}
	var links int
	if err := st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE action = 'user.sso_link' AND entity_id IN (?, ?)",
		fmt.Sprint(users[0].ID), fmt.Sprint(users[1].ID)).Scan(ctx, &links); err != nil || links != 3 {
		t.Fatalf("%d user.sso_link events (%v), want 3", links, err)
	}
}
