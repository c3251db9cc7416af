package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

// upload posts file and manifest as multipart/form-data; an empty part is left out.
func (e *env) uploadExport(role models.Role, path string, file []byte, manifest string) response {
	e.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if file != nil {
		fw, err := w.CreateFormFile("file", "ledger.csv")
		if err != nil {
			e.t.Fatal(err)
		}
		fw.Write(file)
	}
	if manifest != "" {
		mw, err := w.CreateFormFile("manifest", "ledger.csv.manifest.json")
		if err != nil {
			e.t.Fatal(err)
		}
		mw.Write([]byte(manifest))
	}
	w.Close()
	req := httptest.NewRequest("POST", path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	return e.send(req)
}

type verifyReport struct {
	OK       bool
	Rows     int
	Findings []struct {
		Kind  string
		Row   int
		Field string
	}
}

func TestVerifyExportThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	for _, amount := range []string{"12.00", "30.50"} {
		e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
			"amount": amount, "incurred_on": "2024-06-03", "category": "other"}), 201)
	}
	r := e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=csv&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	file, manifest := r.Body, r.Header.Get("Granttrack-Manifest")

	r = e.uploadExport(models.RoleAuditor, "/api/v1/exports/verify", file, manifest)
	e.mustStatus(r, 200)
	var rep verifyReport
	r.json(t, &rep)
	if !rep.OK || rep.Rows != 2 || len(rep.Findings) != 0 {
		t.Fatalf("clean export: %s", r.Body)
	}
	evs, _, err := e.st.AuditEvents(context.Background(), store.AuditFilter{Action: "export.verify", ActorID: e.users[models.RoleAuditor].ID})
	if err != nil || len(evs) != 1 {
		t.Fatalf("the verification is not audited: %d events, %v", len(evs), err)
	}

	tampered := bytes.Replace(file, []byte(",30.50,"), []byte(",3.50,"), 1)
	r = e.uploadExport(models.RoleAdmin, "/api/v1/exports/verify", tampered, manifest)
	e.mustStatus(r, 200)
	rep = verifyReport{}
	r.json(t, &rep)
	if rep.OK || len(rep.Findings) == 0 || rep.Findings[0].Kind != "amount_changed" || rep.Findings[0].Row != 2 || rep.Findings[0].Field != "amount" {
		t.Fatalf("changed amount: %s", r.Body)
	}

	p := e.uploadExport(models.RoleAuditor, "/api/v1/exports/verify", nil, manifest)
	e.mustStatus(p, 422)
	if pr := p.problem(t); len(pr.Errors) == 0 || pr.Errors[0].Field != "file" {
		t.Fatalf("no file: %s", p.Body)
	}
	e.mustStatus(e.uploadExport(models.RoleAuditor, "/api/v1/exports/verify", file, "not json"), 422)
	e.mustStatus(e.uploadExport(models.RoleFinanceOfficer, "/api/v1/exports/verify", file, manifest), 403)

	// The manifest's audit head anchors the chain.
	var m struct {
		Seq  int64  `json:"audit_head_seq"`
		Hash string `json:"audit_head_hash"`
	}
	if err := json.Unmarshal([]byte(manifest), &m); err != nil {
		t.Fatal(err)
	}
	var st store.ChainStatus
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/audit/verify?anchor=%s@%d", m.Hash, m.Seq), nil)
	e.mustStatus(r, 200)
	r.json(t, &st)
	if !st.OK || len(st.Anchors) != 1 {
		t.Fatalf("anchor: %s", r.Body)
	}
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/audit/verify?anchor=%s@%d", strings.Repeat("0", 64), m.Seq), nil)
	e.mustStatus(r, 200)
	st = store.ChainStatus{}
	r.json(t, &st)
	if st.OK || st.BrokenSeq != m.Seq || !strings.Contains(st.Reason, "rewritten") {
		t.Fatalf("wrong anchor: %s", r.Body)
	}
	p = e.do(models.RoleAuditor, "GET", "/api/v1/audit/verify?anchor=42", nil)
	e.mustStatus(p, 422)
	if pr := p.problem(t); len(pr.Errors) == 0 || pr.Errors[0].Field != "anchor" || !strings.Contains(pr.Errors[0].Message, "HASH@SEQ") {
		t.Fatalf("bad anchor: %s", p.Body)
	}
	evs, _, err = e.st.AuditEvents(context.Background(), store.AuditFilter{Action: "audit.verify", ActorID: e.users[models.RoleAuditor].ID})
	if err != nil || len(evs) != 2 {
		t.Fatalf("anchored verifications audited: %d, %v", len(evs), err)
	}
}

// An auditor asks for a full check through the API: the run is kept with
// the background's, names who asked, and is what the status then shows.
func TestVerificationThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	e.mustFixture("10.00")
	r := e.do(models.RoleAuditor, "POST", "/api/v1/audit/verification", nil)
	e.mustStatus(r, 200)
	var run struct {
		ID          int64  `json:"id"`
		Scope       string `json:"scope"`
		Trigger     string `json:"trigger"`
		RequestedBy *int64 `json:"requested_by"`
		OK          bool   `json:"ok"`
		HeadSeq     int64  `json:"head_seq"`
		HeadHash    string `json:"head_hash"`
		Events      int64  `json:"events"`
	}
	if err := json.Unmarshal(r.Body, &run); err != nil {
		t.Fatal(err)
	}
	if !run.OK || run.Scope != "full" || run.Trigger != "demand" || run.RequestedBy == nil || *run.RequestedBy != e.users[models.RoleAuditor].ID ||
		run.Events != run.HeadSeq || len(run.HeadHash) != 64 {
		t.Fatalf("the run: %s", r.Body)
	}
	r = e.do(models.RoleAuditor, "GET", "/api/v1/audit/verification", nil)
	e.mustStatus(r, 200)
	var status struct {
		OK          bool               `json:"ok"`
		Full        struct{ ID int64 } `json:"full"`
		Incremental json.RawMessage    `json:"incremental"`
	}
	if err := json.Unmarshal(r.Body, &status); err != nil {
		t.Fatal(err)
	}
	if !status.OK || status.Full.ID < run.ID {
		t.Fatalf("the status after the run %d: %s", run.ID, r.Body)
	}
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", "/api/v1/audit/verification", nil), 403)
}
