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

// userView is what the audit trail records of a user: never the password hash.
type userView struct {
	ID     int64       `json:"id"`
	Email  string      `json:"email"`
	Name   string      `json:"name"`
	Role   models.Role `json:"role"`
	Active bool        `json:"active"`
}

func viewUser(u *models.User) userView {
	return userView{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Active: u.Active}
}

// CreateUser stores a new user; ECONFLICT when the email is taken.
func (s *Store) CreateUser(ctx context.Context, actor models.Actor, u *models.User) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(u).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "user.create", Entity: "user", EntityID: u.ID, After: viewUser(u)})
	})
}

// SetUserPassword replaces a user's password hash.
func (s *Store) SetUserPassword(ctx context.Context, actor models.Actor, userID int64, hash string) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		u := new(models.User)
		if err := tx.NewSelect().Model(u).Where("id = ?", userID).For("UPDATE").Scan(ctx); err != nil {
			return notFound(err, "User", userID)
		}
		if _, err := tx.NewUpdate().Model(u).Set("password_hash = ?", hash).WherePK().Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "user.password", Entity: "user", EntityID: u.ID})
	})
}

// UserByEmail returns the user with that email; ENOTFOUND if none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	u := new(models.User)
	if err := s.db.NewSelect().Model(u).Where("email = lower(?)", email).Scan(ctx); err != nil {
		return nil, notFound(err, "User", email)
	}
	return u, nil
}

// UserByID returns the user; ENOTFOUND if none.
func (s *Store) UserByID(ctx context.Context, id int64) (*models.User, error) {
	u := new(models.User)
	if err := s.db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "User", id)
	}
	return u, nil
}

// Users lists every user by email.
func (s *Store) Users(ctx context.Context) ([]*models.User, error) {
	var us []*models.User
	err := s.db.NewSelect().Model(&us).Order("email").Scan(ctx)
	return us, translate(err)
}

// HashToken returns the SHA-256 under which a bearer token is stored. Tokens
// are long random strings, so a fast hash is enough: nothing to brute-force.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// CreateAPIToken stores the hash of a new token for the user, lasting
// until revoked.
func (s *Store) CreateAPIToken(ctx context.Context, actor models.Actor, userID int64, name, token string) (*models.APIToken, error) {
	return s.CreateAPITokenUntil(ctx, actor, userID, name, token, nil)
}

// CreateAPITokenUntil stores the hash of a new token for the user that
// stops working at expires (nil: when revoked). EINVALID for an expiry not
// in the future.
func (s *Store) CreateAPITokenUntil(ctx context.Context, actor models.Actor, userID int64, name, token string, expires *time.Time) (*models.APIToken, error) {
	if expires != nil && !expires.After(s.clock.Now()) {
		return nil, &models.Error{Code: models.EINVALID, Message: "A token's expiry must be in the future.",
			Fields: []models.FieldError{{Field: "expires_on", Message: "must be in the future"}}}
	}
	t := &models.APIToken{UserID: userID, Name: name, TokenHash: HashToken(token), ExpiresAt: expires}
	err := s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(t).Returning("*").Exec(ctx); err != nil {
			return err
		}
		return s.audit(ctx, tx, actor, Change{Action: "api_token.create", Entity: "api_token", EntityID: t.ID,
			After: map[string]any{"user_id": userID, "name": name, "expires_at": expires}})
	})
	return t, err
}

// RevokeAPIToken stops a token from working.
func (s *Store) RevokeAPIToken(ctx context.Context, actor models.Actor, tokenID int64) error {
	return s.revokeAPIToken(ctx, actor, tokenID, 0)
}

// revokeAPIToken revokes a token, of owner only unless owner is 0.
func (s *Store) revokeAPIToken(ctx context.Context, actor models.Actor, tokenID, owner int64) error {
	return s.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*models.APIToken)(nil)).Set("revoked_at = now()").
			Where("id = ? AND revoked_at IS NULL AND (? = 0 OR user_id = ?)", tokenID, owner, owner).Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return models.Errorf(models.ENOTFOUND, "API token %d was not found or is already revoked.", tokenID)
		}
		return s.audit(ctx, tx, actor, Change{Action: "api_token.revoke", Entity: "api_token", EntityID: tokenID})
	})
}

// tokenUseResolution is how finely a token's last use is kept; a coarser
// clock saves a write on almost every API request.
const tokenUseResolution = time.Minute

// UserByToken returns the active user owning an unrevoked token and notes the
// token's use (to the minute); EUNAUTHORIZED otherwise.
func (s *Store) UserByToken(ctx context.Context, token string) (*models.User, error) {
	var row struct {
		models.User
		TokenID    int64
		LastUsedAt *time.Time
	}
	err := s.db.NewRaw(`
		SELECT u.*, t.id AS token_id, t.last_used_at
		FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()) AND u.active`,
		HashToken(token)).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &models.Error{Code: models.EUNAUTHORIZED, Message: "The API token is missing, unknown, expired or revoked.", Err: err}
	}
	if err != nil {
		// An outage is not a refusal: a client told 401 throws a good token away.
		return nil, translate(err)
	}
	now := s.clock.Now().UTC()
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= tokenUseResolution {
		if _, err := s.db.NewRaw("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", now, row.TokenID).Exec(ctx); err != nil {
			return nil, translate(err)
		}
	}
	u := row.User
	return &u, nil
}
