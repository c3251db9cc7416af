package auth

import (
	"bytes"
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/alexedwards/argon2id"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app reads.
const (
	TOTPIssuer = "granttrack"
	totpPeriod = 30
	// totpSkew is how many time steps either side of now a code is
	// accepted in, for a phone clock a little off.
	totpSkew = 1
	// RecoveryCodes is how many one-time recovery codes an enrolment gives.
	RecoveryCodes = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// NewTOTPSecret returns a fresh random TOTP secret (160 bits, base32
// without padding, as authenticator apps show it).
func NewTOTPSecret() string {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: TOTPIssuer, AccountName: "new"})
	if err != nil {
		panic("auth: no randomness: " + err.Error()) // crypto/rand does not fail on Linux
	}
	return k.Secret()
}

// TOTPKey returns the key an authenticator app is given for account, as an
// otpauth:// URL; EINVALID-free: the secret comes from NewTOTPSecret.
func TOTPKey(secret, account string) (*otp.Key, error) {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", TOTPIssuer)
	v.Set("period", fmt.Sprint(totpPeriod))
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + TOTPIssuer + ":" + account, RawQuery: v.Encode()}
	return otp.NewKeyFromURL(u.String())
}

// TOTPQRCode returns a PNG QR code of the key for account, for an
// authenticator app to scan (drawn here: no outside service sees it).
func TOTPQRCode(secret, account string) ([]byte, error) {
	k, err := TOTPKey(secret, account)
	if err != nil {
		return nil, fmt.Errorf("auth: TOTP key: %w", err)
	}
	img, err := k.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("auth: QR code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("auth: QR code: %w", err)
	}
	return b.Bytes(), nil
}

// TOTPStep returns the time step of t.
func TOTPStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// TOTPCode returns the code of secret at t (for tests and the demo).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// MatchTOTP returns the time step, within one step of now, whose code is
// code, and whether there is one. The caller refuses a step not after the
// last one used, so that a code is never accepted twice.
func MatchTOTP(secret, code string, now time.Time) (int64, bool) {
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	if len(code) != 6 {
		return 0, false
	}
	step := TOTPStep(now)
	for d := int64(-totpSkew); d <= totpSkew; d++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix((step+d)*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step + d, true
		}
	}
	return 0, false
}

// NewRecoveryCodes returns RecoveryCodes fresh one-time codes, each ten
// base32 letters and digits in two groups ("abcde-fghij": 50 bits).
func NewRecoveryCodes() []string {
	out := make([]string, RecoveryCodes)
	for i := range out {
		s := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(randomBytes(7)))[:10]
		out[i] = s[:5] + "-" + s[5:]
	}
	return out
}

// recoveryParams are argon2id's parameters for recovery codes: the same
// hash as passwords, lighter, because a code is 50 random bits (no
// dictionary to try) and enrolment hashes ten of them at once. Sign-in
// checks them with PasswordMatches (the hash names its parameters).
var recoveryParams = &argon2id.Params{Memory: 8 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// HashRecoveryCode returns the argon2id hash of a recovery code.
func HashRecoveryCode(code string) (string, error) {
	h, err := argon2id.CreateHash(NormalRecoveryCode(code), recoveryParams)
	if err != nil {
		return "", fmt.Errorf("auth: hash recovery code: %w", err)
	}
	return h, nil
}

// NormalRecoveryCode returns a recovery code as typed, in the form it was
// hashed in: lower case, with its one hyphen, spaces dropped.
func NormalRecoveryCode(code string) string {
	code = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
	if len(code) == 10 && !strings.Contains(code, "-") {
		code = code[:5] + "-" + code[5:]
	}
	return code
}
