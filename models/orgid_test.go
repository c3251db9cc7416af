package models

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// orgIDColumnCheck is the organisations.org_id CHECK constraint in the
// foundation migration; every canonical form must satisfy it.
var orgIDColumnCheck = regexp.MustCompile(`^[A-Z]{2}-[A-Z0-9]+-\S+$`)

func TestNormaliseOrgIDReturnsCanonicalForm(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"GB-CHC-1077810", "GB-CHC-1077810"},
		{"GB-CHC-123456", "GB-CHC-123456"},
		{"gb-chc-1077810", "GB-CHC-1077810"},
		{"  GB-CHC-1077810\t", "GB-CHC-1077810"},
		{"GB-SC-SC012345", "GB-SC-SC012345"},
		{"gb-sc-sc012345", "GB-SC-SC012345"},
		{"GB-NIC-100001", "GB-NIC-100001"},
		{"GB-COH-01234567", "GB-COH-01234567"},
		{"GB-COH-1234567", "GB-COH-01234567"}, // leading zero restored
		{"GB-COH-123", "GB-COH-00000123"},
		{"GB-COH-00000123", "GB-COH-00000123"}, // leading zeros kept
		{"GB-COH-SC123456", "GB-COH-SC123456"},
		{"gb-coh-oc123456", "GB-COH-OC123456"},
		{"GB-COH-NI012345", "GB-COH-NI012345"},
		{"GB-LAE-LND", "GB-LAE-LND"},
		{"GB-LAE-CAM", "GB-LAE-CAM"},
		{"gb-lae-lbh", "GB-LAE-LBH"},
		{"GB-LAE-HCK", "GB-LAE-HCK"},
		{"GB-COH-R0123456", "GB-COH-R0123456"},
		{"GB-COH-SO301234", "GB-COH-SO301234"},
		{"GB-COH-NC001234", "GB-COH-NC001234"},
		{"GB-LAS-EDH", "GB-LAS-EDH"},
		{"GB-LAW-CRF", "GB-LAW-CRF"},
		{"GB-LANI-BFS", "GB-LANI-BFS"},
		{"GB-GOR-PB188", "GB-GOR-PB188"},
		{"GB-GOR-PC390", "GB-GOR-PC390"}, // the demo data's funders
		{"GB-GOR-D1", "GB-GOR-D1"},
		{"GB-PLA-MPS", "GB-PLA-MPS"},
		{"GB-MPR-12345R", "GB-MPR-12345R"},
		{"GB-MPR-IP28143R", "GB-MPR-IP28143R"},
		{"GB-MPR-30287", "GB-MPR-30287"},
		{"GB-EDU-100000", "GB-EDU-100000"},
		{"GB-NHS-RJ1", "GB-NHS-RJ1"},
		{"GB-NHS-A81001", "GB-NHS-A81001"},
		{"GB-UKPRN-10001234", "GB-UKPRN-10001234"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormaliseOrgID(tc.in)
			if err != nil {
				t.Fatalf("NormaliseOrgID(%q) error: %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("NormaliseOrgID(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if !orgIDColumnCheck.MatchString(got) {
				t.Errorf("%q would fail the organisations.org_id CHECK constraint", got)
			}
			again, err := NormaliseOrgID(got)
			if err != nil || again != got {
				t.Errorf("NormaliseOrgID is not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}
}

func TestNormaliseOrgIDRejectsMalformedIdentifiersWithFormatAndExample(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{"supported register prefix", "GB-CHC-1077810"}},
		{"1077810", []string{"supported register prefix"}},
		{"GB", []string{"supported register prefix"}},
		{"GB-XYZ-123", []string{"supported register prefix", "GB-CHC, GB-COH", "GB-UKPRN"}},
		{"US-EIN-123456789", []string{"supported register prefix"}},
		{"XI-IATI-ABC", []string{"supported register prefix"}},
		{"GB-CHC1077810", []string{"supported register prefix"}},
		{"GB-CHC", []string{"must have the Charity Commission for England and Wales number", "6 or 7 digits", "GB-CHC-1077810"}},
		{"GB-CHC-", []string{"must have", "GB-CHC-1077810"}},
		{"GB-CHC-12345", []string{"Charity Commission for England and Wales", "6 or 7 digits", "for example GB-CHC-1077810"}},
		{"GB-CHC-12345678", []string{"6 or 7 digits"}},
		{"GB-CHC-1077810-1", []string{"6 or 7 digits"}},
		{"GB-CHC-107 7810", []string{"6 or 7 digits"}},
		{"GB-CHC-１０７７８１０", []string{"6 or 7 digits"}},
		{"GB-SC-012345", []string{"Scottish Charity Regulator", "SC followed by 6 digits", "GB-SC-SC012345"}},
		{"GB-SC-SC12345", []string{"SC followed by 6 digits"}},
		{"GB-NIC-NIC100001", []string{"Northern Ireland", "6 digits", "GB-NIC-100001"}},
		{"GB-NIC-10000", []string{"6 digits"}},
		{"GB-COH-123456789", []string{"Companies House", "8 digits", "GB-COH-01234567"}},
		{"GB-COH-SC12345", []string{"2-character prefixes", "and 6 digits"}},
		{"GB-COH-XX123456", []string{"Companies House", "such as SC, NI, OC, SO, NC or R0"}},
		{"GB-COH-R1123456", []string{"Companies House"}},
		{"GB-LAE-HACK", []string{"not in the Local authorities in England register", "Hackney is HCK"}},
		{"GB-LAE-ABCD", []string{"not in the Local authorities in England register"}},
		{"GB-COH-S1234567", []string{"Companies House"}},
		{"GB-COH-", []string{"must have the Companies House number"}}, // not padded to 00000000
		{"GB-COH-12-345", []string{"Companies House"}},
		{"GB-LAE-LO", []string{"Local authorities in England", "local-authority-eng register", "GB-LAE-LBH"}},
		{"GB-LAE-LONDN", []string{"local-authority-eng register"}},
		{"GB-LAE-L1D", []string{"local-authority-eng register"}},
		{"GB-LAS-E", []string{"Scotland"}},
		{"GB-LAW-12", []string{"Wales"}},
		{"GB-LANI-B", []string{"Local authorities in Northern Ireland"}},
		{"GB-GOR-188", []string{"government organisation register", "GB-GOR-PB188"}},
		{"GB-GOR-PB", []string{"1 to 3 letters then up to 6 digits"}},
		{"GB-PLA-M", []string{"Police", "2 to 10"}},
		{"GB-MPR-R", []string{"Mutuals Public Register"}},
		{"GB-EDU-10000", []string{"6-digit URN", "GB-EDU-100000"}},
		{"GB-NHS-R1", []string{"ODS code"}},
		{"GB-NHS-R1-X", []string{"ODS code"}},
		{"GB-UKPRN-20001234", []string{"8 digits starting with 1", "GB-UKPRN-10001234"}},
		{"GB-UKPRN-1000123", []string{"8 digits starting with 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormaliseOrgID(tc.in)
			if err == nil {
				t.Fatalf("NormaliseOrgID(%q) = %q, want an error", tc.in, got)
			}
			if got != "" {
				t.Errorf("NormaliseOrgID(%q) returned %q alongside the error", tc.in, got)
			}
			assertEINVALID(t, err, tc.want...)
		})
	}
}

func TestOrgIDListsAreSortedAndExamplesValid(t *testing.T) {
	prefixes := make([]string, len(orgIDLists))
	for i, l := range orgIDLists {
		prefixes[i] = l.prefix
		// Every example quoted in a message must itself be accepted, or
		// the message would mislead.
		got, err := NormaliseOrgID(l.example)
		if err != nil || got != l.example {
			t.Errorf("example %q for %s: NormaliseOrgID = %q, %v", l.example, l.prefix, got, err)
		}
		if strings.Count(l.prefix, "-") != 1 {
			t.Errorf("prefix %q must be COUNTRY-REGISTER", l.prefix)
		}
	}
	if !slices.IsSorted(prefixes) {
		t.Errorf("prefixes not sorted, so the message lists them in a muddle: %v", prefixes)
	}
	for _, want := range []string{"GB-CHC", "GB-SC", "GB-NIC", "GB-COH", "GB-LAE", "GB-LAS", "GB-LAW", "GB-LANI",
		"GB-GOR", "GB-PLA", "GB-MPR", "GB-EDU", "GB-NHS", "GB-UKPRN"} {
		if !slices.Contains(prefixes, want) {
			t.Errorf("register %s is not supported", want)
		}
	}
}

func TestOrgIDForCharityAndCompanyBuildCanonicalIDs(t *testing.T) {
	tests := []struct {
		name    string
		fn      func(string) (string, error)
		in      string
		want    string
		wantErr string
	}{
		{"charity", OrgIDForCharity, "1077810", "GB-CHC-1077810", ""},
		{"charity with spaces", OrgIDForCharity, " 1077810 ", "GB-CHC-1077810", ""},
		{"charity too short", OrgIDForCharity, "12345", "", "6 or 7 digits"},
		{"charity empty", OrgIDForCharity, "", "", "must have"},
		{"charity given an org-id", OrgIDForCharity, "GB-CHC-1077810", "", "6 or 7 digits"},
		{"company", OrgIDForCompany, "01234567", "GB-COH-01234567", ""},
		{"company zeros stripped", OrgIDForCompany, "1234567", "GB-COH-01234567", ""},
		{"company Scottish", OrgIDForCompany, "sc123456", "GB-COH-SC123456", ""},
		{"company too long", OrgIDForCompany, "123456789", "", "8 digits"},
		{"company empty", OrgIDForCompany, " ", "", "must have"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.fn(tc.in)
			if tc.wantErr != "" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				assertEINVALID(t, err, tc.wantErr)
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestNormaliseOrgIDBriefCases(t *testing.T) {
	tests := []struct {
		in, want string
		wantMsg  []string // set when the identifier must be refused
	}{
		{in: "GB-CHC-1077810", want: "GB-CHC-1077810"},
		{in: "gb-chc-1077810", want: "GB-CHC-1077810"},
		{in: "GB-COH-1234567", want: "GB-COH-01234567"},
		{in: "GB-COH-SC123456", want: "GB-COH-SC123456"},
		{in: "GB-LAE-LBH", want: "GB-LAE-LBH"},
		{in: "GB-SC-SC012345", want: "GB-SC-SC012345"},
		{in: "GB-COH-123456789", wantMsg: []string{"Companies House", "GB-COH-01234567"}},
		{in: "GB-LAE-L1", wantMsg: []string{"local-authority-eng register", "GB-LAE-LBH"}},
		{in: "XX-ABC-1", wantMsg: []string{"supported register prefix", orgIDPrefixList(), "GB-CHC, GB-COH, GB-EDU"}},
		{in: "GB-CHC-12AB", wantMsg: []string{"6 or 7 digits", "GB-CHC-1077810"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormaliseOrgID(tc.in)
			if tc.wantMsg == nil {
				if err != nil || got != tc.want {
					t.Errorf("NormaliseOrgID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("NormaliseOrgID(%q) = %q, want an error", tc.in, got)
			}
			if ErrorCode(err) != EINVALID {
				t.Errorf("ErrorCode = %q, want %q", ErrorCode(err), EINVALID)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(ErrorMessage(err), w) {
					t.Errorf("message %q does not mention %q", ErrorMessage(err), w)
				}
			}
		})
	}
	// The unknown-prefix message lists every supported register.
	_, err := NormaliseOrgID("XX-ABC-1")
	for _, l := range orgIDLists {
		if !strings.Contains(ErrorMessage(err), l.prefix) {
			t.Errorf("unknown-prefix message %q does not list %s", ErrorMessage(err), l.prefix)
		}
	}
}
