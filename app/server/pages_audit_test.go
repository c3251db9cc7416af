package server_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"granttrack/app/server"
	"granttrack/models"
)

// auditSeqs are the sequence numbers of the events an audit page shows, in order.
func auditSeqs(body []byte) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<article class="audit-event" id="seq-(\d+)">`).FindAllSubmatch(body, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

func TestAuditPage(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("10.00")
	auditor := spendWebSignIn(t, e, models.RoleAuditor)

	// The page shows the last check, not one made for each view: a full
	// check asked for on the page is kept, audited, and shown.
	r := auditor.request("GET", "/audit", nil)
	e.mustStatus(r, 200)
	r = auditor.request("POST", "/audit/verify", url.Values{})
	e.mustStatus(r, 303)
	var asked int64
	if err := e.st.DB().NewRaw(`SELECT count(*) FROM verification_runs v JOIN audit_events a ON a.entity = 'verification_run' AND a.entity_id = v.id::text
		WHERE v.scope = 'full' AND v.trigger = 'demand' AND v.requested_by = ? AND a.action = 'audit.verify'`, e.users[models.RoleAuditor].ID).Scan(context.Background(), &asked); err != nil || asked == 0 {
		t.Fatalf("the check asked for on the page should be kept and audited: %d %v", asked, err)
	}
	r = auditor.request("GET", "/audit", nil)
	e.mustStatus(r, 200)
	if !regexp.MustCompile(`<strong>Ledger verified.</strong> All \d+ spend entries matched`).Match(r.Body) {
		t.Fatalf("the audit page should say the ledger matches the trail:\n%s", r.Body)
	}
	if !regexp.MustCompile(`<strong>Chain verified.</strong> The last full check, [0-9: -]+ UTC \(demand\), found \d+ events, all intact. Head: sequence \d+`).Match(r.Body) {
		t.Fatalf("the chain's state should lead the page:\n%s", r.Body)
	}
	if !strings.Contains(string(r.Body), `href="/audit"`) || !strings.Contains(string(r.Body), `href="/exports"`) {
		t.Fatal("an auditor's nav should link the audit trail and exports")
	}
	all := auditSeqs(r.Body)
	if len(all) != 50 && len(all) != e.count("audit_events") {
		t.Fatalf("%d events on the first page", len(all))
	}

	// The funding line's seven events (created; approval and activation
	// each proposed, approved and made), newest first, the change marked.
	r = auditor.request("GET", fmt.Sprintf("/audit?entity=funding_line&entity_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	seqs := auditSeqs(r.Body)
	if len(seqs) != 7 || !strings.Contains(string(r.Body), "Events 1–7 of 7.") {
		t.Fatalf("the line's events: %v\n%s", seqs, r.Body)
	}
	if !slices.IsSortedFunc(seqs, func(a, b string) int { return cmp.Compare(atoi(t, b), atoi(t, a)) }) {
		t.Fatalf("events should be newest first: %v", seqs)
	}
	if !strings.Contains(string(r.Body), `<mark>status</mark>`) || !strings.Contains(string(r.Body), `<mark>  &#34;status&#34;: &#34;active&#34;</mark>`) {
		t.Fatalf("the status change should be marked:\n%s", r.Body)
	}
	r = auditor.request("GET", fmt.Sprintf("/audit?entity=funding_line&entity_id=%d&action=funding_line.create", f.LineID), nil)
	if got := auditSeqs(r.Body); len(got) != 1 || got[0] != seqs[6] {
		t.Fatalf("action filter: %v, want [%s]", got, seqs[6])
	}
	r = auditor.request("GET", fmt.Sprintf("/audit?entity=funding_line&entity_id=%d&actor=%s", f.LineID, e.users[models.RoleFinanceManager].Email), nil)
	if got := auditSeqs(r.Body); len(got) != 4 {
		t.Fatalf("the admin approved the line and its activation (4 events), yet the actor filter shows %v", got)
	}
	r = auditor.request("GET", fmt.Sprintf("/audit?entity=funding_line&entity_id=%d&actor=%s", f.LineID, e.users[models.RoleFinanceOfficer].Email), nil)
	if got := auditSeqs(r.Body); len(got) != 3 { // created, and two proposals
		t.Fatalf("actor filter: %v", got)
	}
	r = auditor.request("GET", "/audit?to=2000-01-01", nil)
	if got := auditSeqs(r.Body); len(got) != 0 || !strings.Contains(string(r.Body), "No events match") {
		t.Fatalf("events before 2000: %v", got)
	}
	r = auditor.request("GET", "/audit?from=yesterday", nil)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "must be a time such as") {
		t.Fatalf("a bad date should be explained beside its field:\n%s", r.Body)
	}
	r = auditor.request("GET", fmt.Sprintf("/audit?entity=funding_line&entity_id=%d&per_page=3&page=3", f.LineID), nil)
	if got := auditSeqs(r.Body); len(got) != 1 || got[0] != seqs[6] || !strings.Contains(string(r.Body), "Events 7 of 7") ||
		!strings.Contains(string(r.Body), `rel="prev"`) || strings.Contains(string(r.Body), `rel="next"`) {
		t.Fatalf("second page: %v\n%s", got, r.Body)
	}

	admin := spendWebSignIn(t, e, models.RoleAdmin)
	e.mustStatus(admin.request("GET", "/audit", nil), 200)
	for _, role := range []models.Role{models.RoleFinanceOfficer, models.RoleBoardMember} {
		b := spendWebSignIn(t, e, role)
		r := b.request("GET", "/spend", nil)
		if strings.Contains(string(r.Body), `href="/audit"`) {
			t.Fatalf("%s should not be shown the audit trail in the nav", role)
		}
		for _, p := range []string{"/audit", "/exports", fmt.Sprintf("/exports/ledger?funding_line_id=%d", f.LineID)} {
			e.mustStatus(b.request("GET", p, nil), 403)
		}
	}
}

func TestExportThroughTheWebMatchesTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	for _, amount := range []string{"12.00", "700.00"} {
		r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
			"amount": amount, "incurred_on": "2024-06-03", "category": "other", "description": "=SUM(A1)", "purpose": "Venue", "vfm_reason": "Cheapest"})
		e.mustStatus(r, 201)
	}
	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	r := auditor.request("GET", "/exports", nil)
	e.mustStatus(r, 200)
	for _, format := range []string{"csv", "json"} {
		if !strings.Contains(string(r.Body), fmt.Sprintf(`<option value="%s"`, format)) {
			t.Fatalf("the form should offer %s:\n%s", format, r.Body)
		}
	}
	type manifest struct {
		Format      string         `json:"format"`
		Filters     map[string]any `json:"filters"`
		Rows        int            `json:"rows"`
		Total       string         `json:"total"`
		Approved    string         `json:"approved_total"`
		SHA256      string         `json:"sha256"`
		AuditSeq    int64          `json:"audit_head_seq"`
		GeneratedAt string         `json:"generated_at"`
	}
	for _, format := range []string{"csv", "json"} {
		q := fmt.Sprintf("?format=%s&funding_line_id=%d&fy=2024-25", format, f.LineID)
		api := e.do(models.RoleAuditor, "GET", "/api/v1/exports/ledger"+q, nil)
		e.mustStatus(api, 200)
		web := auditor.request("GET", "/exports/ledger"+q, nil)
		e.mustStatus(web, 200)
		if string(web.Body) != string(api.Body) || len(api.Body) < 100 {
			t.Fatalf("%s: the web export differs from the API's:\nweb %s\napi %s", format, web.Body, api.Body)
		}
		var mw, ma manifest
		if err := json.Unmarshal([]byte(web.Header.Get("Granttrack-Manifest")), &mw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(api.Header.Get("Granttrack-Manifest")), &ma); err != nil {
			t.Fatal(err)
		}
		// The API's export is itself audited, so the web's sees a later head.
		if mw.AuditSeq <= ma.AuditSeq || mw.GeneratedAt == "" {
			t.Fatalf("audit heads: web %d, api %d", mw.AuditSeq, ma.AuditSeq)
		}
		mw.AuditSeq, mw.GeneratedAt, ma.AuditSeq, ma.GeneratedAt = 0, "", 0, ""
		if fmt.Sprint(mw) != fmt.Sprint(ma) || mw.Rows != 2 || mw.Total != "712.00" {
			t.Fatalf("manifests differ:\nweb %+v\napi %+v", mw, ma)
		}
		for _, h := range []string{"Content-Type", "Content-Disposition"} {
			if web.Header.Get(h) != api.Header.Get(h) {
				t.Fatalf("%s: web %q, api %q", h, web.Header.Get(h), api.Header.Get(h))
			}
		}
	}
	// Both exports of each format were audited.
	evs := e.count(fmt.Sprintf("audit_events WHERE action = 'export.ledger' AND after->'filters'->>'funding_line_id' = '%d'", f.LineID))
	if evs != 4 {
		t.Fatalf("%d export events, want 4", evs)
	}
	r = auditor.request("GET", fmt.Sprintf("/exports/ledger?fy=2024&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="fy-error">[^<]+`).Match(r.Body) {
		t.Fatalf("a bad filter should be shown beside its field:\n%s", r.Body)
	}
	r = auditor.request("GET", "/exports/ledger?format=xml", nil)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), ">must be one of ") {
		t.Fatalf("an unknown format should be explained:\n%s", r.Body)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestVerifyExportOnTheWeb uploads a web export and its manifest to the
// verification form: as written it verifies; with an amount changed the
// row is named; without a manifest the message is beside the field.
func TestVerifyExportOnTheWeb(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	e.spendApproved(f, "120.00", "2024-06-03")
	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	auditor.request("GET", "/exports", nil)
	r := auditor.request("GET", fmt.Sprintf("/exports/ledger?format=csv&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	file, manifest := r.Body, r.Header.Get(server.ManifestHeader)
	if manifest == "" {
		t.Fatal("no manifest with the export")
	}
	r = auditor.upload("/exports/verify", map[string]string{"manifest": manifest}, "ledger.csv", file, false)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `id="verify-outcome">Verified`) {
		t.Fatalf("a clean export did not verify:\n%s", r.Body)
	}
	tampered := bytes.Replace(file, []byte(",120.00,"), []byte(",12.00,"), 1)
	if bytes.Equal(tampered, file) {
		t.Fatal("the amount to tamper with is not in the file")
	}
	r = auditor.upload("/exports/verify", map[string]string{"manifest": manifest}, "ledger.csv", tampered, false)
	e.mustStatus(r, 200)
	page := string(r.Body)
	if !strings.Contains(page, `id="verify-outcome">Not verified`) || !strings.Contains(page, "<td>amount</td>") {
		t.Fatalf("a changed amount was not reported by row:\n%s", page)
	}
	r = auditor.upload("/exports/verify", nil, "ledger.csv", file, false)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "must be the export&#39;s manifest") {
		t.Fatalf("no message beside the manifest field:\n%s", r.Body)
	}
	e.mustStatus(auditor.upload("/exports/verify", map[string]string{"manifest": manifest}, "ledger.csv", file, true), 403)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	e.mustStatus(officer.upload("/exports/verify", map[string]string{"manifest": manifest}, "ledger.csv", file, false), 403)
}
