package auth

import (
	"strings"
	"testing"
)

func TestPasswords(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !PasswordMatches("correct horse battery", h) || PasswordMatches("correct horse batterY", h) || PasswordMatches("x", "not a hash") {
		t.Fatal("PasswordMatches is wrong")
	}
	for pw, ok := range map[string]bool{"short": false, "exactly12chr": true, strings.Repeat("é", 12): true, strings.Repeat("x", 201): false} {
		if got := CheckPassword(pw) == ""; got != ok {
			t.Errorf("CheckPassword(%q) acceptable = %v, want %v", pw, got, ok)
		}
	}
}

func TestSecretsAreFreshAndRecognisable(t *testing.T) {
	a, b := NewAPIToken(), NewAPIToken()
	if a == b || !strings.HasPrefix(a, "gt_") || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if p := NewPassword(); CheckPassword(p) != "" {
		t.Fatalf("generated password %q fails the password rule", p)
	}
}
