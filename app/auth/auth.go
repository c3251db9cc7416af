// Package auth holds password hashing and the making of secrets: what the
// web sign-in and the command line share.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// MinPasswordLength follows NCSC guidance: length over complexity rules.
const MinPasswordLength = 12

// CheckPassword returns why a password is unacceptable, or "".
func CheckPassword(pw string) string {
	switch n := utf8.RuneCountInString(pw); {
	case n < MinPasswordLength:
		return fmt.Sprintf("must be at least %d characters", MinPasswordLength)
	case n > 200:
		return "must be at most 200 characters"
	}
	return ""
}

// HashPassword returns the argon2id hash of pw with the library's defaults.
func HashPassword(pw string) (string, error) {
	h, err := argon2id.CreateHash(pw, argon2id.DefaultParams)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// PasswordMatches reports whether pw matches hash, in constant time.
func PasswordMatches(pw, hash string) bool {
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// NewSecret returns n random bytes, URL-safe base64 encoded.
func NewSecret(n int) string { return base64.RawURLEncoding.EncodeToString(randomBytes(n)) }

// randomBytes returns n random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return b
}

// NewAPIToken returns a fresh bearer token; the prefix makes leaked tokens
// easy to recognise in logs and secret scanners.
func NewAPIToken() string { return "gt_" + NewSecret(32) }

// NewPassword returns a generated password for a new user.
func NewPassword() string { return NewSecret(15) }

// NoPassword is the password hash of a user who signs in only through the
// identity provider: no password matches it.
const NoPassword = "!no-password"
