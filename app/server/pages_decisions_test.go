package server_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

// TestDecisionRecordAndSchemeChangeWebForms: a finance officer records a
// published decision on the scheme's page, with problems shown beside the
// fields; only an admin proposes a change to the scheme there, which waits
// for another admin.
func TestDecisionRecordAndSchemeChangeWebForms(t *testing.T) {
	e := MustEnv(t)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	officer.request("GET", "/delegation", nil)
	r := officer.request("POST", "/decision-records", url.Values{"reference": {"PCD 9001"}, "title": {""}, "signed_on": {"2024-03-28"},
		"decision_maker": {"Deputy Mayor"}, "url": {"ftp://example"}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`name="title"[^>]*>\s*<small class="field-error">`).Match(r.Body) || !strings.Contains(string(r.Body), "https://") {
		t.Fatalf("problems beside the fields:\n%s", r.Body)
	}
	reference := unique("PCD ")
	e.mustStatus(officer.request("POST", "/decision-records", url.Values{"reference": {reference}, "title": {"Knife crime hotspots"},
		"signed_on": {"2024-03-28"}, "decision_maker": {"Deputy Mayor for Policing and Crime"}, "url": {"https://www.london.gov.uk/pcd"}}), 303)
	if r := officer.request("GET", "/delegation?per_page=500", nil); !strings.Contains(string(r.Body), reference) {
		t.Fatalf("the record is listed:\n%s", r.Body)
	}
	if strings.Contains(string(r.Body), `id="delegation-change-form"`) {
		t.Fatal("a finance officer is offered the scheme change form")
	}
	e.mustStatus(officer.request("POST", "/delegation/changes", url.Values{"decision_kind": {"spend"}, "role": {"finance_officer"},
		"max_amount": {"50000.00"}, "reason": {"Lower limit"}}), 403)

	admin := spendWebSignIn(t, e, models.RoleAdmin)
	admin.request("GET", "/delegation", nil)
	r = admin.request("POST", "/delegation/changes", url.Values{"decision_kind": {"spend"}, "role": {"finance_officer"}, "max_amount": {"lots"},
		"reason": {"Lower limit"}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`name="max_amount"[^>]*>\s*<small class="field-error">`).Match(r.Body) {
		t.Fatalf("a bad limit is refused beside it:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", "/delegation/changes", url.Values{"decision_kind": {"spend"}, "role": {"finance_officer"},
		"max_amount": {"50000.00"}, "reason": {"Lower limit after the audit"}}), 303)
	var pending int
	if err := e.st.DB().NewRaw(`SELECT count(*) FROM delegation_changes WHERE status = 'pending' AND decision_kind = 'spend'
		AND role = 'finance_officer' AND max_amount = 50000.00 AND proposed_by = ?`, e.users[models.RoleAdmin].ID).Scan(t.Context(), &pending); err != nil || pending != 1 {
		t.Fatalf("pending scheme changes: %d %v", pending, err)
	}
}
