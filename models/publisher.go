package models

import (
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Open-data formats that need the publisher's identifiers.
const (
	Format360Giving = "360giving"
	FormatOCDS      = "ocds"
)

// Publisher is who publishes the open-data packages and the identifiers
// it registered for them. Admins keep it in the publisher settings; an
// environment variable (GRANTTRACK_PUBLISHER_NAME, GRANTTRACK_PUBLISHER_URI,
// GRANTTRACK_PUBLISHER_ORG_ID, GRANTTRACK_360GIVING_PREFIX,
// GRANTTRACK_OCID_PREFIX, GRANTTRACK_DATA_LICENCE) stands in for a setting
// left empty. Until every one a package needs is set to a real value the
// package is refused, so that no file is published with identifiers that
// belong to nobody.
type Publisher struct {
	// Name is the publishing body's name, e.g. "Mayor's Office for Policing
	// and Crime".
	Name string `json:"name" bun:"name"`
	// URI is its web address; OCDS names each package by a URI under it.
	URI string `json:"uri" bun:"uri"`
	// OrgID is the publishing organisation's org-id, e.g. GB-GOR-PC000001.
	OrgID string `json:"org_id" bun:"org_id"`
	// ThreeSixtyGivingPrefix is "360G-" and the name 360Giving assigns on
	// registration. A grant's id is the prefix and the award's reference.
	ThreeSixtyGivingPrefix string `json:"three_sixty_giving_prefix" bun:"three_sixty_giving_prefix"`
	// OCIDPrefix is "ocds-" and the six characters the Open Contracting
	// Partnership registers for the publisher. A process's ocid is the
	// prefix, "granttrack" and the funding line's code.
	OCIDPrefix string `json:"ocid_prefix" bun:"ocid_prefix"`
	// Licence is the URI of the licence the data is published under, e.g.
	// the Open Government Licence.
	Licence string `json:"licence" bun:"licence"`
}

// Placeholder identifiers from before the publisher's were configurable:
// they validate against the schemas but belong to nobody, so they are
// refused like unset ones.
const (
	Placeholder360Prefix = "360G-granttrack"
	PlaceholderOCID      = "ocds-xxxxxx"
)

var (
	threeSixtyPrefix = regexp.MustCompile(`^360G-[A-Za-z0-9_-]+$`)
	ocidPrefix       = regexp.MustCompile(`^ocds-[a-z0-9]{6}$`)
)

// PublisherFields maps each setting's environment variable to its field in
// the API and the settings form.
var PublisherFields = map[string]string{
	"GRANTTRACK_PUBLISHER_NAME":   "name",
	"GRANTTRACK_PUBLISHER_URI":    "uri",
	"GRANTTRACK_PUBLISHER_ORG_ID": "org_id",
	"GRANTTRACK_360GIVING_PREFIX": "three_sixty_giving_prefix",
	"GRANTTRACK_OCID_PREFIX":      "ocid_prefix",
	"GRANTTRACK_DATA_LICENCE":     "licence",
}

// Check returns, for each setting that is malformed, the problem with it,
// keyed by its environment variable; empty settings are not problems here
// (see Missing).
func (p Publisher) Check() map[string]string {
	out := map[string]string{}
	if p.URI != "" {
		if u, err := url.Parse(p.URI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			out["GRANTTRACK_PUBLISHER_URI"] = "must be a web address starting https://"
		}
	}
	if p.Licence != "" {
		if u, err := url.Parse(p.Licence); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			out["GRANTTRACK_DATA_LICENCE"] = "must be the licence's web address, e.g. https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
		}
	}
	if p.OrgID != "" {
		if _, err := NormaliseOrgID(p.OrgID); err != nil {
			out["GRANTTRACK_PUBLISHER_ORG_ID"] = ErrorMessage(err)
		}
	}
	if p.ThreeSixtyGivingPrefix != "" && !threeSixtyPrefix.MatchString(p.ThreeSixtyGivingPrefix) {
		out["GRANTTRACK_360GIVING_PREFIX"] = "must be 360G- and the name 360Giving registered, e.g. 360G-mopac"
	}
	if p.OCIDPrefix != "" && !ocidPrefix.MatchString(p.OCIDPrefix) {
		out["GRANTTRACK_OCID_PREFIX"] = "must be ocds- and the 6 characters the Open Contracting Partnership registered, e.g. ocds-abc123"
	}
	return out
}

// Problems is Check keyed by the settings' field names, for the API and
// the form; nil when every setting is well formed.
func (p Publisher) Problems() error {
	var probs Problems
	for env, msg := range p.Check() {
		probs.Add(PublisherFields[env], "%s", msg)
	}
	slices.SortFunc(probs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
	return probs.Err()
}

// Trimmed is p without surrounding spaces in any setting.
func (p Publisher) Trimmed() Publisher {
	for _, f := range []*string{&p.Name, &p.URI, &p.OrgID, &p.ThreeSixtyGivingPrefix, &p.OCIDPrefix, &p.Licence} {
		*f = strings.TrimSpace(*f)
	}
	return p
}

// Or is p with each empty setting taken from fallback: stored settings
// first, the environment for what an admin has not set.
func (p Publisher) Or(fallback Publisher) Publisher {
	pick := func(v, f string) string {
		if v == "" {
			return f
		}
		return v
	}
	return Publisher{Name: pick(p.Name, fallback.Name), URI: pick(p.URI, fallback.URI), OrgID: pick(p.OrgID, fallback.OrgID),
		ThreeSixtyGivingPrefix: pick(p.ThreeSixtyGivingPrefix, fallback.ThreeSixtyGivingPrefix),
		OCIDPrefix:             pick(p.OCIDPrefix, fallback.OCIDPrefix), Licence: pick(p.Licence, fallback.Licence)}
}

// Missing lists the settings a package in format still needs, by
// environment variable: unset, malformed or placeholders.
func (p Publisher) Missing(format string) []string {
	bad := p.Check()
	var out []string
	need := func(env, v string, placeholder ...string) {
		if strings.TrimSpace(v) == "" || bad[env] != "" || slices.Contains(placeholder, v) {
			out = append(out, env)
		}
	}
	need("GRANTTRACK_PUBLISHER_NAME", p.Name, "granttrack")
	need("GRANTTRACK_PUBLISHER_URI", p.URI, "https://granttrack.example")
	need("GRANTTRACK_DATA_LICENCE", p.Licence)
	switch format {
	case Format360Giving:
		need("GRANTTRACK_360GIVING_PREFIX", p.ThreeSixtyGivingPrefix, Placeholder360Prefix)
	case FormatOCDS:
		need("GRANTTRACK_OCID_PREFIX", p.OCIDPrefix, PlaceholderOCID)
	}
	return out
}

// GrantID is the 360Giving identifier of the grant an award makes: the
// publisher's prefix and the award's reference. The 360Giving package,
// grants.csv and spend-over-500.csv all name a grant by it.
func (p Publisher) GrantID(awardReference string) string {
	return p.ThreeSixtyGivingPrefix + "-" + awardReference
}
