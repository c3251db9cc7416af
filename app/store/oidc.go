package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"granttrack/models"
)

// OIDCSignIn is a sign-in under way at the identity provider.
type OIDCSignIn struct {
	Nonce, CodeVerifier, Next string
}

func stateHash(state string) []byte {
	sum := sha256.Sum256([]byte(state))
	return sum[:]
}

// BeginOIDCSignIn keeps a sign-in sent to the provider until the browser
// comes back with state, for at most ttl; sign-ins past their time are
// swept away first.
func (s *Store) BeginOIDCSignIn(ctx context.Context, state string, in OIDCSignIn, ttl time.Duration) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw("DELETE FROM oidc_sign_ins WHERE expires_at <= now()").Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewRaw(`INSERT INTO oidc_sign_ins (state_hash, nonce, code_verifier, next, expires_at)
			VALUES (?, ?, ?, ?, now() + ? * interval '1 millisecond')`,
			stateHash(state), in.Nonce, in.CodeVerifier, in.Next, ttl.Milliseconds()).Exec(ctx)
		return err
	})
}

// TakeOIDCSignIn returns the sign-in begun with state and deletes it, so a
// state is good once; ENOTFOUND when there is none, it was taken before or
// it has expired.
func (s *Store) TakeOIDCSignIn(ctx context.Context, state string) (*OIDCSignIn, error) {
	var row struct {
		OIDCSignIn
		Live bool
	}
	err := s.db.NewRaw(`DELETE FROM oidc_sign_ins WHERE state_hash = ?
		RETURNING nonce, code_verifier, next, expires_at > now() AS live`, stateHash(state)).Scan(ctx, &row)
	if err == nil && !row.Live {
		err = sql.ErrNoRows
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, models.Errorf(models.ENOTFOUND, "That sign-in has expired or was already used.")
	}
	if err != nil {
		return nil, translate(err)
	}
	return &row.OIDCSignIn, nil
}

// UserByOIDC returns the user linked to the provider's account (issuer and
// subject); ENOTFOUND if none.
func (s *Store) UserByOIDC(ctx context.Context, issuer, subject string) (*models.User, error) {
	u := new(models.User)
	if err := s.db.NewSelect().Model(u).Where("oidc_issuer = ? AND oidc_subject = ?", issuer, subject).Scan(ctx); err != nil {
		return nil, notFound(err, "User", subject)
	}
	return u, nil
}

// oidcUserView is what the audit trail records of a user linked to a
// provider's account.
type oidcUserView struct {
	userView
	OIDCIssuer  *string `json:"oidc_issuer"`
	OIDCSubject *string `json:"oidc_subject"`
}

func viewOIDCUser(u *models.User) oidcUserView {
	return oidcUserView{userView: viewUser(u), OIDCIssuer: u.OIDCIssuer, OIDCSubject: u.OIDCSubject}
}

// CreateOIDCUser stores a new user linked to the provider's account, at
// their first sign-in; ECONFLICT when the email is taken (an account is
// never linked on its email) or the account is linked already.
func (s *Store) CreateOIDCUser(ctx context.Context, actor models.Actor, u *models.User, issuer, subject string) error {
	u.OIDCIssuer, u.OIDCSubject = &issuer, &subject
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "user.create", Entity: "user", EntityID: u.ID, After: viewOIDCUser(u)})
	})
}

// LinkOIDC links the user to the provider's account (issuer and subject),
// or unlinks them when issuer is empty; ENOTFOUND without the user,
// ECONFLICT when another user is linked to that account.
func (s *Store) LinkOIDC(ctx context.Context, actor models.Actor, userID int64, issuer, subject string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u := new(models.User)
		if err := tx.NewSelect().Model(u).Where("id = ?", userID).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "User", userID)
		}
		before := viewOIDCUser(u)
		u.OIDCIssuer, u.OIDCSubject = nil, nil
		if issuer != "" {
			u.OIDCIssuer, u.OIDCSubject = &issuer, &subject
		}
		if _, err := tx.NewUpdate().Model(u).Column("oidc_issuer", "oidc_subject").WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "user.sso_link", Entity: "user", EntityID: userID, Before: before, After: viewOIDCUser(u)})
	})
}
