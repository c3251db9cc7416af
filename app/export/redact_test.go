package export

import "testing"

// Telephone numbers are redacted in every written form, and references that
// merely contain digits are left alone: a reference such as
// "MOPAC-HC-2024-003-44832822" was once published as "[redacted telephone
// number]".
func TestRedactionTellsTelephoneNumbersFromReferences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"call 020 7946 0018 today", "call [redacted telephone number] today"},
		{"call 0207-946-0018", "call [redacted telephone number]"},
		{"mobile 07700 900123", "mobile [redacted telephone number]"},
		{"ring +44 (0)20 7946 0018", "ring [redacted telephone number]"},
		{"ring +44 20 7946 0018", "ring [redacted telephone number]"},
		{"TEST-AWARD MOPAC-HC-2024-003-44832822", "TEST-AWARD MOPAC-HC-2024-003-44832822"},
		{"PCD 2026-118", "PCD 2026-118"},
		{"invoice 00123 4567 8901", "invoice 00123 4567 8901"},
	} {
		if got, _ := redactText(tc.in); got != tc.want {
			t.Errorf("redactText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
