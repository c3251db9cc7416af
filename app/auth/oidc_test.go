package auth

import (
	"slices"
	"testing"

	"granttrack/models"
)

// TestIdentityReadsEntraClaims: the subject is sub or Entra ID's oid; the
// roles claim may be one string or a list; values map to roles once each;
// Entra ID's group overage is noticed; what is not text is dropped.
func TestIdentityReadsEntraClaims(t *testing.T) {
	cfg := OIDCConfig{Issuer: "https://login.microsoftonline.com/t/v2.0", ClientID: "c", ClientSecret: "s",
		RedirectURL: "https://granttrack.example/login/oidc/callback", SubjectClaim: "oid", RolesClaim: "groups",
		RoleMap: map[string]models.Role{"g-finance": models.RoleFinanceOfficer, "g-finance-2": models.RoleFinanceOfficer, "g-audit": models.RoleAuditor}}
	o, err := NewOIDC(cfg)
	if err != nil {
		t.Fatal(err)
	}
	id, err := o.identity(cfg.Issuer, "pairwise", map[string]any{"oid": "object-id", "tid": "t", "preferred_username": "Ana@VRU.example",
		"name": "Ana", "groups": []any{"g-finance", "g-finance-2", "g-audit", "g-other", "bad\x00", 7}})
	if err != nil {
		t.Fatal(err)
	}
	if id.Subject != "object-id" || id.Email != "ana@vru.example" || id.TenantID != "t" ||
		!slices.Equal(id.Roles, []models.Role{models.RoleAuditor, models.RoleFinanceOfficer}) || len(id.Values) != 4 {
		t.Fatalf("%+v", id)
	}
	if !id.Grants(models.RoleAuditor) || !id.Grants(NewSSOUserRole()) || id.Grants(models.RoleAdmin) {
		t.Fatal("Grants: the provider gives auditor and finance officer (and the starting role), not admin")
	}
	one, err := o.identity(cfg.Issuer, "pairwise", map[string]any{"oid": "x", "groups": "g-audit"})
	if err != nil || !slices.Equal(one.Roles, []models.Role{models.RoleAuditor}) {
		t.Fatalf("one string: %+v %v", one, err)
	}
	over, err := o.identity(cfg.Issuer, "pairwise", map[string]any{"oid": "x", "_claim_names": map[string]any{"groups": "src1"}})
	if err != nil || !over.Overage || len(over.Roles) != 0 || over.Grants(NewSSOUserRole()) {
		t.Fatalf("overage: %+v %v", over, err)
	}
	if _, err := o.identity(cfg.Issuer, "pairwise", map[string]any{"oid": "\x00"}); err == nil {
		t.Fatal("a subject that is not text was accepted")
	}
}

func TestParseRoleMap(t *testing.T) {
	m, err := ParseRoleMap(" GrantTrack.Admin = admin , 0b1f-group=auditor,,")
	if err != nil || len(m) != 2 || m["GrantTrack.Admin"] != models.RoleAdmin || m["0b1f-group"] != models.RoleAuditor {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"admin", "=admin", "X=root", "X=admin,X=auditor"} {
		if _, err := ParseRoleMap(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}
