package registers

import (
	"strings"
	"testing"
)

func TestLocalAuthorityEng(t *testing.T) {
	for code, name := range map[string]string{"HCK": "Hackney", "LBH": "Lambeth", "LND": "City of London", "GLA": "Greater London", "BIR": "Birmingham"} {
		la, ok := LocalAuthorityEng(code)
		if !ok || la.Name != name {
			t.Errorf("%s: %+v %v, want %s", code, la, ok, name)
		}
	}
	for _, code := range []string{"HACK", "XXX", "", "hck", "BAS\tUA"} {
		if la, ok := LocalAuthorityEng(code); ok {
			t.Errorf("%q is not in the register: %+v", code, la)
		}
	}
	if n := len(lae); n < 350 {
		t.Errorf("the register holds %d authorities; the 2018 file has 354", n)
	}
	if s := LocalAuthorityEngSource(); !strings.Contains(s, "openregister/local-authority-data") || !strings.Contains(s, "2018-02-23") {
		t.Errorf("the source header: %s", s)
	}
}
