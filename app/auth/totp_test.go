package auth_test

import (
	"regexp"
	"testing"
	"time"

	"granttrack/app/auth"
)

func TestTOTPCodesMatchWithinOneStep(t *testing.T) {
	secret := auth.NewTOTPSecret()
	now := time.Unix(1_800_000_015, 0)
	for _, c := range []struct {
		name  string
		at    time.Duration
		match bool
	}{{"Now", 0, true}, {"StepBefore", -30 * time.Second, true}, {"StepAfter", 30 * time.Second, true},
		{"ErrTwoStepsBefore", -60 * time.Second, false}, {"ErrTwoStepsAfter", 60 * time.Second, false}} {
		t.Run(c.name, func(t *testing.T) {
			code, err := auth.TOTPCode(secret, now.Add(c.at))
			if err != nil {
				t.Fatal(err)
			}
			step, ok := auth.MatchTOTP(secret, code[:3]+" "+code[3:], now)
			if ok != c.match || (ok && step != auth.TOTPStep(now.Add(c.at))) {
				t.Fatalf("match %v step %d, want %v at step %d", ok, step, c.match, auth.TOTPStep(now.Add(c.at)))
			}
		})
	}
	if _, ok := auth.MatchTOTP(secret, "12345", now); ok {
		t.Fatal("five digits matched")
	}
	png, err := auth.TOTPQRCode(secret, "ana@example.org")
	if err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Fatalf("QR code: %d bytes, %v", len(png), err)
	}
}

func TestRecoveryCodesAreRandomAndHashed(t *testing.T) {
	codes := auth.NewRecoveryCodes()
	seen := map[string]bool{}
	for _, c := range codes {
		if !regexp.MustCompile(`^[a-z2-7]{5}-[a-z2-7]{5}$`).MatchString(c) || seen[c] {
			t.Fatalf("recovery code %q: wrong form or repeated", c)
		}
		seen[c] = true
	}
	if len(codes) != auth.RecoveryCodes {
		t.Fatalf("%d codes, want %d", len(codes), auth.RecoveryCodes)
	}
	h, err := auth.HashRecoveryCode(codes[0])
	if err != nil {
		t.Fatal(err)
	}
	typed := map[string]bool{codes[0]: true, " " + codes[0][:5] + codes[0][6:] + " ": true, codes[1]: false}
	for in, want := range typed {
		if got := auth.PasswordMatches(auth.NormalRecoveryCode(in), h); got != want {
			t.Errorf("%q matches %v, want %v", in, got, want)
		}
	}
}
