package models

import (
	"regexp"
	"strings"

	"granttrack/models/registers"
)

// orgIDList describes one org-id.guide register: the shape of its
// identifiers, in words and with an example for the error message.
type orgIDList struct {
	prefix  string
	name    string
	pattern *regexp.Regexp
	format  string
	example string
	// canonical tidies an identifier before it is checked, e.g. pads a
	// company number; nil when no tidying applies.
	canonical func(string) string
	// registered says whether an identifier of the right shape is in the
	// register itself (the copy shipped in models/registers); nil when
	// granttrack holds no copy of that register.
	registered func(string) bool
}

// orgIDLists are the registers granttrack accepts, sorted by prefix. Any
// other prefix is refused rather than stored unchecked: a mistyped prefix
// would silently break matching with 360Giving data.
var orgIDLists = []orgIDList{
	{"GB-CHC", "Charity Commission for England and Wales", regexp.MustCompile(`^[0-9]{6,7}$`), "6 or 7 digits", "GB-CHC-1077810", nil, nil},
	{"GB-COH", "Companies House", companyNumber,
		"8 digits, or one of Companies House's 2-character prefixes (such as SC, NI, OC, SO, NC or R0) and 6 digits (a shorter all-digit number is padded with leading zeros)",
		"GB-COH-01234567", padCompanyNumber, nil},
	{"GB-EDU", "Department for Education schools register", regexp.MustCompile(`^[0-9]{6}$`), "the school's 6-digit URN", "GB-EDU-100000", nil, nil},
	{"GB-GOR", "UK government organisation register", regexp.MustCompile(`^[A-Z]{1,3}[0-9]{1,6}$`), "1 to 3 letters then up to 6 digits", "GB-GOR-PB188", nil, nil},
	{"GB-LAE", "Local authorities in England", regexp.MustCompile(`^[A-Z]{3,4}$`),
		"a council's code in the local-authority-eng register (Hackney is HCK, Lambeth LBH)", "GB-LAE-LBH", nil, inLocalAuthorityEng},
	{"GB-LANI", "Local authorities in Northern Ireland", regexp.MustCompile(`^[A-Z]{3,4}$`), "a 3 or 4 letter council code", "GB-LANI-BFS", nil, nil},
	{"GB-LAS", "Local authorities in Scotland", regexp.MustCompile(`^[A-Z]{3,4}$`), "a 3 or 4 letter council code", "GB-LAS-EDH", nil, nil},
	{"GB-LAW", "Local authorities in Wales", regexp.MustCompile(`^[A-Z]{3,4}$`), "a 3 or 4 letter council code", "GB-LAW-CRF", nil, nil},
	{"GB-MPR", "Mutuals Public Register", regexp.MustCompile(`^[A-Z]{0,2}[0-9]{1,6}[A-Z]{0,2}$`), "the register number, digits with optional letters such as IP or R", "GB-MPR-12345R", nil, nil},
	{"GB-NHS", "NHS organisation data service", regexp.MustCompile(`^[A-Z0-9]{3,6}$`), "the 3 to 6 character ODS code", "GB-NHS-RJ1", nil, nil},
	{"GB-NIC", "Charity Commission for Northern Ireland", regexp.MustCompile(`^[0-9]{6}$`), "6 digits", "GB-NIC-100001", nil, nil},
	{"GB-PLA", "Police authorities", regexp.MustCompile(`^[A-Z0-9]{2,10}$`), "2 to 10 letters or digits", "GB-PLA-MPS", nil, nil},
	{"GB-SC", "Office of the Scottish Charity Regulator", regexp.MustCompile(`^SC[0-9]{6}$`), "SC followed by 6 digits", "GB-SC-SC012345", nil, nil},
	{"GB-UKPRN", "UK Register of Learning Providers", regexp.MustCompile(`^1[0-9]{7}$`), "8 digits starting with 1", "GB-UKPRN-10001234", nil, nil},
}

// companyNumber is the shape of a Companies House company number: 8
// digits (England and Wales), or a 2-character prefix naming the kind of
// body and where it is registered, then 6 digits. The prefixes are those
// Companies House uses: SC, SO, SL, SF, SA, SE, SG, SI, SP, SR, SZ (Scotland);
// NI, NC, NL, NF, NA, NO, NP, NR, NV, NZ, R0 (Northern Ireland); OC (limited
// liability partnerships), LP (limited partnerships), FC, FE (overseas
// companies), GE, GN, GS (European economic interest groupings), IC, IP, RC,
// RS, AC, ZC, ES (other bodies), CE, CS (charitable incorporated
// organisations) and OE (overseas entities).
var companyNumber = regexp.MustCompile(`^([0-9]{8}|(AC|CE|CS|ES|FC|FE|GE|GN|GS|IC|IP|LP|NA|NC|NF|NI|NL|NO|NP|NR|NV|NZ|OC|OE|R0|RC|RS|SA|SC|SE|SF|SG|SI|SL|SO|SP|SR|SZ|ZC)[0-9]{6})$`)

// inLocalAuthorityEng says whether a code is in the local-authority-eng
// register, the list behind org-id.guide's GB-LAE.
func inLocalAuthorityEng(code string) bool {
	_, ok := registers.LocalAuthorityEng(code)
	return ok
}

// padCompanyNumber restores the leading zeros that spreadsheets strip from
// all-digit company numbers.
func padCompanyNumber(n string) string {
	if len(n) < 8 && asciiDigits(n) { // asciiDigits rejects ""
		return strings.Repeat("0", 8-len(n)) + n
	}
	return n
}

// orgIDPrefixList returns the supported prefixes for messages, e.g.
// "GB-CHC, GB-COH, ...".
func orgIDPrefixList() string {
	names := make([]string, len(orgIDLists))
	for i, l := range orgIDLists {
		names[i] = l.prefix
	}
	return strings.Join(names, ", ")
}

// NormaliseOrgID checks a 360Giving organisation identifier against its
// register's format and returns it in canonical form: surrounding spaces
// removed, upper-case (every supported register writes its letters in
// capitals, so "gb-sc-sc012345" is unambiguous), and Companies House numbers
// padded to eight characters. The error is EINVALID with a message giving
// the expected format and an example.
func NormaliseOrgID(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	// A list code is the country and the register, e.g. GB-CHC; the rest is
	// the identifier within that register.
	country, rest, _ := strings.Cut(s, "-")
	register, id, hasID := strings.Cut(rest, "-")
	prefix := country + "-" + register
	var list *orgIDList
	for i := range orgIDLists {
		if orgIDLists[i].prefix == prefix {
			list = &orgIDLists[i]
			break
		}
	}
	if list == nil {
		return "", Errorf(EINVALID, "must start with a supported register prefix (%s) followed by the number, for example GB-CHC-1077810",
			orgIDPrefixList())
	}
	if !hasID || id == "" {
		return "", Errorf(EINVALID, "must have the %s number after %s-: %s, for example %s",
			list.name, list.prefix, list.format, list.example)
	}
	if list.canonical != nil {
		id = list.canonical(id)
	}
	if !list.pattern.MatchString(id) {
		return "", Errorf(EINVALID, "is not a valid %s identifier: after %s- it must be %s, for example %s",
			list.name, list.prefix, list.format, list.example)
	}
	if list.registered != nil && !list.registered(id) {
		return "", Errorf(EINVALID, "is not in the %s register: %s is not %s, for example %s",
			list.name, id, list.format, list.example)
	}
	return list.prefix + "-" + id, nil
}

// OrgIDForCharity returns the org-id of a charity registered in England and
// Wales, given its charity number.
func OrgIDForCharity(number string) (string, error) {
	return NormaliseOrgID("GB-CHC-" + strings.TrimSpace(number))
}

// OrgIDForCompany returns the org-id of a company registered at Companies
// House, given its company number.
func OrgIDForCompany(number string) (string, error) {
	return NormaliseOrgID("GB-COH-" + strings.TrimSpace(number))
}
