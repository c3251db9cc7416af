package server

import (
	"fmt"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for _, next := range []string{"/", "/funding-lines", "/funding-lines?programme_id=3&fy=2024-25", "/spend/12#history", "/search?q=a%20b"} {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q, want it kept", next, got)
		}
	}
	for _, next := range []string{
		"", "funding-lines", "//evil.example", "///evil.example", "/\\evil.example", "\\/evil.example", "/\t/evil.example/",
		"/\r\nSet-Cookie: a=b", "/%0d%0aSet-Cookie:%20a=b", "/%250d%250aSet-Cookie", "/%2F%2Fevil.example", "/%5Cevil.example",
		"/%09/evil.example", "https://evil.example/", "javascript:alert(1)", "%6Aavascript:alert(1)", "JaVaScRiPt:alert(1)",
		"/\u3002evil.example", "/\u2028", "/\x7f", "/%7f", "/%c2%85", "/%ff", "/ /evil", "data:text/html,x", "%2F%2Fevil.example",
		"/%252F%252F%252F%252Fevil.example", "http:/evil.example", "/\u00a0",
	} {
		if got := safeNext(next); got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
	}
}

func TestSignInLimitDefaults(t *testing.T) {
	got := fmt.Sprintf("%+v", signInLimits(Config{}))
	want := "[{Scope:address Failures:10 Lock:1m0s MaxLock:1h0m0s} {Scope:account Failures:5 Lock:1m0s MaxLock:1h0m0s}]"
	if got != want {
		t.Fatalf("default sign-in limits %s, want %s", got, want)
	}
}
