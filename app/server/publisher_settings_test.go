package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/server"
	"granttrack/models"
)

// The publisher settings live in a database of their own here: set, they
// would let other tests' exports run that expect a refusal.
func TestPublisherSettingsAPIAndExports(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t))
	// The environment stands in for what the settings leave empty.
	e = newServer(t, e, server.Config{Publisher: export.Publisher{Name: "From the environment"}})
	f := e.mustFixture("5000.00")
	proposed := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), map[string]any{
		"recipient_id": f.RecipientID, "reference": unique("PUB-"), "amount": "1234.56", "awarded_on": "2024-05-01", "starts_on": "2024-05-01",
		"ends_on": "2025-03-31", "purpose": "Test"})
	e.mustStatus(proposed, 201)
	var award struct {
		ID int64 `json:"id"`
	}
	proposed.json(t, &award)
	e.mustApproveAward(award.ID)
	exportPath := fmt.Sprintf("/api/v1/exports/ledger?format=360giving&funding_line_id=%d", f.LineID)

	settings := map[string]any{"name": "", "uri": "https://www.london.gov.uk/mopac", "org_id": "GB-GOR-PC000001",
		"three_sixty_giving_prefix": "360G-mopactest", "ocid_prefix": "ocds-t3stxx", "licence": ""}
	for _, role := range []models.Role{models.RoleFinanceOfficer, models.RoleFinanceManager, models.RoleBoardMember, models.RoleAuditor} {
		e.mustStatus(e.do(role, "PUT", "/api/v1/publisher-settings", settings), 403)
	}
	bad := e.do(models.RoleAdmin, "PUT", "/api/v1/publisher-settings", map[string]any{"ocid_prefix": "ocds-x"}).problem(t)
	if bad.Status != 422 || len(bad.Errors) != 1 || bad.Errors[0].Field != "ocid_prefix" {
		t.Fatalf("a malformed ocid prefix: %+v, want 422 naming ocid_prefix", bad)
	}
	e.mustStatus(e.do(models.RoleAdmin, "PUT", "/api/v1/publisher-settings", settings), 200)
	var got map[string]string
	r := e.do(models.RoleAuditor, "GET", "/api/v1/publisher-settings", nil)
	e.mustStatus(r, 200)
	r.json(t, &got)
	if got["org_id"] != "GB-GOR-PC000001" || got["name"] != "" || got["ocid_prefix"] != "ocds-t3stxx" {
		t.Fatalf("the stored settings read back as %v", got)
	}
	e.mustStatus(e.do(models.RoleBoardMember, "GET", "/api/v1/publisher-settings", nil), 403)

	// The licence is set neither here nor in the environment: the export is
	// refused naming it, and only it.
	refused := e.do(models.RoleAuditor, "GET", exportPath, nil).problem(t)
	if refused.Status != 409 || !strings.Contains(refused.Detail, "GRANTTRACK_DATA_LICENCE") || strings.Contains(refused.Detail, "GRANTTRACK_PUBLISHER_NAME") {
		t.Fatalf("an export while the licence is missing: %+v", refused)
	}
	settings["licence"] = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
	e.mustStatus(e.do(models.RoleAdmin, "PUT", "/api/v1/publisher-settings", settings), 200)
	r = e.do(models.RoleAuditor, "GET", exportPath, nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `"360G-mopactest-`) || !strings.Contains(string(r.Body), "From the environment") {
		t.Fatalf("the 360Giving file should name the stored prefix and the environment's name:\n%s", r.Body)
	}
}

func TestPublisherSettingsForm(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t))
	admin := spendWebSignIn(t, e, models.RoleAdmin)
	r := admin.request("GET", "/settings/publisher", nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `name="three_sixty_giving_prefix"`) {
		t.Fatalf("the form has no 360Giving prefix:\n%s", r.Body)
	}
	form := url.Values{"name": {"MOPAC"}, "uri": {"https://www.london.gov.uk/mopac"}, "org_id": {"GB-GOR-PC000001"},
		"three_sixty_giving_prefix": {"mopac"}, "ocid_prefix": {"ocds-abc123"}, "licence": {""}}
	r = admin.request("POST", "/settings/publisher", form)
	e.mustStatus(r, 422)
	if body := string(r.Body); !strings.Contains(body, `<small class="field-error">must be 360G- and the name 360Giving registered`) ||
		!strings.Contains(body, `value="mopac"`) {
		t.Fatalf("a malformed prefix should be named beside its field, keeping what was typed:\n%s", body)
	}
	if p, err := e.st.PublisherSettings(t.Context()); err != nil || p != (models.Publisher{}) {
		t.Fatalf("a refused form stored %+v (%v)", p, err)
	}
	form.Set("three_sixty_giving_prefix", "360G-mopac")
	e.mustStatus(admin.request("POST", "/settings/publisher", form), 303)
	if p, err := e.st.PublisherSettings(t.Context()); err != nil || p.ThreeSixtyGivingPrefix != "360G-mopac" || p.Name != "MOPAC" {
		t.Fatalf("saved %+v (%v)", p, err)
	}
	for _, role := range []models.Role{models.RoleFinanceManager, models.RoleAuditor} {
		e.mustStatus(spendWebSignIn(t, e, role).request("POST", "/settings/publisher", form), 403)
	}
}
