package models

import (
	"regexp"
	"sort"
	"strings"
)

// orgIDList describes one org-id.guide register: the shape of its
// identifiers and an example for the error message.
type orgIDList struct {
	name    string
	pattern *regexp.Regexp
	example string
	// canonical tidies a valid identifier, e.g. pads a company number.
	canonical func(string) string
}

// orgIDLists are the registers granttrack accepts, keyed by prefix. Patterns
// follow the registers' published number formats.
var orgIDLists = map[string]orgIDList{
	"GB-CHC":   {"Charity Commission for England and Wales", regexp.MustCompile(`^[0-9]{6,7}$`), "GB-CHC-1077810", nil},
	"GB-SC":    {"Office of the Scottish Charity Regulator", regexp.MustCompile(`^SC[0-9]{6}$`), "GB-SC-SC012345", nil},
	"GB-NIC":   {"Charity Commission for Northern Ireland", regexp.MustCompile(`^[0-9]{6}$`), "GB-NIC-100001", nil},
	"GB-COH":   {"Companies House", regexp.MustCompile(`^([0-9]{8}|[A-Z]{2}[0-9]{6})$`), "GB-COH-01234567", padCompanyNumber},
	"GB-LAE":   {"Local authorities in England", regexp.MustCompile(`^[A-Z]{3,4}$`), "GB-LAE-LBH", nil},
	"GB-LAS":   {"Local authorities in Scotland", regexp.MustCompile(`^[A-Z]{3,4}$`), "GB-LAS-EDH", nil},
	"GB-LAW":   {"Local authorities in Wales", regexp.MustCompile(`^[A-Z]{3,4}$`), "GB-LAW-CRF", nil},
	"GB-LANI":  {"Local authorities in Northern Ireland", regexp.MustCompile(`^[A-Z]{3,4}$`), "GB-LANI-BFS", nil},
	"GB-GOR":   {"UK government organisation register", regexp.MustCompile(`^[A-Z]{1,3}[0-9]{1,6}$`), "GB-GOR-PB188", nil},
	"GB-PLA":   {"Police authorities", regexp.MustCompile(`^[A-Z0-9]{2,10}$`), "GB-PLA-MPS", nil},
	"GB-MPR":   {"Mutuals Public Register", regexp.MustCompile(`^[0-9]{1,6}[A-Z]{0,2}$`), "GB-MPR-12345R", nil},
	"GB-EDU":   {"Department for Education schools register (URN)", regexp.MustCompile(`^[0-9]{6}$`), "GB-EDU-100000", nil},
	"GB-NHS":   {"NHS organisation data service", regexp.MustCompile(`^[A-Z0-9]{3,6}$`), "GB-NHS-RJ1", nil},
	"GB-UKPRN": {"UK Register of Learning Providers", regexp.MustCompile(`^1[0-9]{7}$`), "GB-UKPRN-10001234", nil},
}

func padCompanyNumber(n string) string {
	if len(n) < 8 && strings.Trim(n, "0123456789") == "" {
		return strings.Repeat("0", 8-len(n)) + n
	}
	return n
}

// NormaliseOrgID checks a 360Giving organisation identifier against its
// register's format and returns it in canonical form: the prefix upper-case,
// Companies House numbers padded to eight characters with leading zeros.
func NormaliseOrgID(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	var prefix string
	for p := range orgIDLists {
		if strings.HasPrefix(s, p+"-") && len(p) > len(prefix) {
			prefix = p
		}
	}
	if prefix == "" {
		return "", Errorf(EINVALID, "must start with a known register prefix (%s), for example GB-CHC-1077810", strings.Join(orgIDPrefixes(), ", "))
	}
	list := orgIDLists[prefix]
	id := strings.TrimPrefix(s, prefix+"-")
	if list.canonical != nil {
		id = list.canonical(id)
	}
	if !list.pattern.MatchString(id) {
		return "", Errorf(EINVALID, "is not a valid %s identifier; expected a form like %s", list.name, list.example)
	}
	return prefix + "-" + id, nil
}

// OrgIDForCharity returns the org-id of a charity registered in England and Wales.
func OrgIDForCharity(number string) (string, error) {
	return NormaliseOrgID("GB-CHC-" + strings.TrimSpace(number))
}

// OrgIDForCompany returns the org-id of a company registered at Companies House.
func OrgIDForCompany(number string) (string, error) {
	return NormaliseOrgID("GB-COH-" + strings.TrimSpace(number))
}

func orgIDPrefixes() []string {
	out := make([]string, 0, len(orgIDLists))
	for p := range orgIDLists {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
