package models

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseDate checks that any text either is a real calendar date in the
// accepted range, written exactly as it is stored, or is refused.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2024-04-01", "0000-01-01", "2024-02-30", "1899-12-31", "2200-12-31", "2201-01-01", "24-4-1", "2024-04-01\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			if ErrorCode(err) != EINVALID || ErrorMessage(err) == "" {
				t.Fatalf("ParseDate(%q) = %v, want an EINVALID error with a message", s, err)
			}
			return
		}
		if d.Before(MinDate) || d.After(MaxDate) {
			t.Fatalf("ParseDate(%q) = %s, outside %s..%s", s, d, MinDate, MaxDate)
		}
		if d.Format(DateLayout) != s {
			t.Fatalf("ParseDate(%q) = %s, which is written differently", s, d.Format(DateLayout))
		}
	})
}

// FuzzCheckText checks the text rule: what it accepts is valid UTF-8 with no
// NUL, no bidirectional controls and (on one line) no line breaks.
func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"Test kits", "a\x00b", "a\r\nb", "\u202Eexe", "caf\xe9"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, multiline bool) {
		if CheckText(s, multiline) != nil {
			return
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || strings.ContainsFunc(s, isBidiControl) {
			t.Fatalf("CheckText accepted %q", s)
		}
		if !multiline && strings.ContainsAny(s, "\r\n\t") {
			t.Fatalf("CheckText accepted %q on a single line", s)
		}
	})
}
