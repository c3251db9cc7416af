package export

import "testing"

func TestGeoCodeTypeFollowsThe360GivingCodelist(t *testing.T) {
	for gss, want := range map[string]string{
		"E09000022": "LONB",    // Lambeth, a London borough
		"E23000001": "PFA",     // the Metropolitan Police force area
		"E22000001": "CSP",     // a community safety partnership
		"E05013791": "WD",      // an English ward
		"W06000015": "UA",      // Cardiff, a Welsh unitary authority
		"S12000036": "CA",      // Edinburgh, a Scottish council area
		"E12000007": "RGN/GOR", // London, the region
		"K04000001": "",        // England and Wales: not in the codelist
		"E9":        "",        // too short to carry an entity
		"":          "",
	} {
		if got := geoCodeType(gss); got != want {
			t.Errorf("geoCodeType(%q) = %q, want %q", gss, got, want)
		}
	}
}
