package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode"

	"granttrack/models"
)

// documentFields are an invitation to tender's form fields.
func documentFields(extra ...string) map[string]string {
	f := map[string]string{"kind": "invitation_to_tender", "title": "Invitation to tender", "published_on": "2024-03-01"}
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i]] = extra[i+1]
	}
	return f
}

// TestContractDocumentsThroughTheAPI uploads a contract line's invitation
// to tender, replays it with its Idempotency-Key, replaces it, downloads it
// with safe headers, and sees hostile uploads refused with nothing stored.
func TestContractDocumentsThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", contractBody(f, e.mustSupplier(), "18500.00"))
	e.mustStatus(r, 201)
	var line struct{ ID int64 }
	r.json(t, &line)
	docs := fmt.Sprintf("/api/v1/funding-lines/%d/documents", line.ID)
	post := func(role models.Role, fields map[string]string, name string, data []byte) response {
		t.Helper()
		body, ct := multipartBody(t, "file", name, "", data, fields)
		if strings.ContainsFunc(name, unicode.IsControl) {
			// A control character reaches the server only encoded (RFC 7578's
			// filename*), as a hostile client would send it.
			body = bytes.Replace(body, []byte(`filename="`+name+`"`), []byte(`filename*=UTF-8''`+url.PathEscape(name)), 1)
		}
		return e.send(e.multipartRequest(role, docs, body, ct))
	}
	type doc struct {
		ID           int64
		Kind, SHA256 string
		PublishedOn  *string `json:"published_on"`
		SignedOn     *string `json:"signed_on"`
		SupersededBy *int64  `json:"superseded_by"`
	}

	// A retry sends the same bytes, the multipart boundary included.
	key := unique("itt-")
	body, ct := multipartBody(t, "file", "ITT MOPAC-T-2024-017.pdf", "", testPDF, documentFields())
	send := func() response {
		req := e.multipartRequest(models.RoleFinanceOfficer, docs, body, ct)
		req.Header.Set("Idempotency-Key", key)
		return e.send(req)
	}
	r = send()
	e.mustStatus(r, 201)
	var itt doc
	r.json(t, &itt)
	sum := sha256.Sum256(testPDF)
	if itt.Kind != "invitation_to_tender" || itt.SHA256 != hex.EncodeToString(sum[:]) || itt.PublishedOn == nil || *itt.PublishedOn != "2024-03-01" || itt.SignedOn != nil {
		t.Fatalf("the invitation to tender: %+v", itt)
	}
	before := e.count("contract_documents")
	r = send()
	e.mustStatus(r, 201)
	if r.Header.Get("Idempotent-Replayed") != "true" || e.count("contract_documents") != before {
		t.Fatalf("a retry with the same Idempotency-Key stores nothing new: replayed %q, %d documents", r.Header.Get("Idempotent-Replayed"), e.count("contract_documents"))
	}

	t.Run("Hostile", func(t *testing.T) {
		for _, c := range []struct {
			name, file string
			data       []byte
			fields     map[string]string
			status     int
			field, msg string
		}{
			{"ErrEmpty", "itt.pdf", nil, documentFields(), 422, "file", "empty"},
			{"ErrImage", "itt.png", testPNG, documentFields(), 422, "file", "PDF, DOCX or ODT"},
			{"ErrHTML", "itt.pdf", []byte("<html><script>alert(1)</script></html>"), documentFields(), 422, "file", "not accepted"},
			{"ErrWorkbook", "itt.xlsx", testXLSX(t, true), documentFields(), 422, "file", "not accepted"},
			{"ErrExtensionLies", "itt.docx", testPDF, documentFields(), 422, "file", "named .docx but its contents are a PDF"},
			{"ErrControlCharacterInName", "itt\x07.pdf", testPDF, documentFields(), 422, "file", "control characters"},
			{"ErrBidiInName", "itt\u202efdp.exe", testPDF, documentFields(), 422, "file", "bidirectional"},
			{"ErrNoDate", "itt.pdf", testPDF, documentFields("published_on", ""), 422, "published_on", "required"},
			{"ErrWrongDate", "itt.pdf", testPDF, documentFields("signed_on", "2024-03-02"), 422, "signed_on", "leave it empty"},
			{"ErrKind", "itt.pdf", testPDF, documentFields("kind", "invoice"), 422, "kind", "must be"},
			{"ErrTitleControl", "itt.pdf", testPDF, documentFields("title", "a\x1b[31m"), 422, "title", "control"},
			{"ErrSupersedesOtherKind", "contract.pdf", testPDF, map[string]string{"kind": "contract", "title": "Contract", "signed_on": "2024-04-20",
				"supersedes_id": fmt.Sprint(itt.ID)}, 422, "supersedes_id", "same kind"},
			{"ErrJustOversize", "itt.pdf", append(append([]byte{}, testPDF...), make([]byte, models.MaxContractDocumentSize)...), documentFields(), 422, "file", "at most 10 MiB"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := e.count("contract_documents")
				r := post(models.RoleFinanceOfficer, c.fields, c.file, c.data)
				e.mustStatus(r, c.status)
				if !strings.Contains(string(r.Body), c.msg) || (c.field != "" && !strings.Contains(string(r.Body), `"field":"`+c.field+`"`)) {
					t.Fatalf("want %q on %q: %s", c.msg, c.field, r.Body)
				}
				if e.count("contract_documents") != before {
					t.Fatal("a refused upload stored a document")
				}
			})
		}
		before := e.count("contract_documents")
		refuseOverLimit(t, e, docs, 12<<20, "Authorization: Bearer "+e.tokens[models.RoleFinanceOfficer], "The upload is too large: the file may be at most 10 MiB.")
		if e.count("contract_documents") != before {
			t.Fatal("an upload over the limit stored a document")
		}
		e.mustStatus(post(models.RoleBoardMember, documentFields(), "itt.pdf", testPDF), 403)
		e.mustStatus(post(models.RoleAdmin, documentFields(), "itt.pdf", testPDF), 403)
		grant := fmt.Sprintf("/api/v1/funding-lines/%d/documents", f.LineID)
		body, ct := multipartBody(t, "file", "itt.pdf", "", testPDF, documentFields())
		r := e.send(e.multipartRequest(models.RoleFinanceOfficer, grant, body, ct))
		e.mustStatus(r, 422)
		if !strings.Contains(string(r.Body), "not a contract line") {
			t.Fatalf("a grant line has no tender documents: %s", r.Body)
		}
	})

	t.Run("ReplacedNotChanged", func(t *testing.T) {
		r := post(models.RoleFinanceManager, documentFields("supersedes_id", fmt.Sprint(itt.ID), "title", "Invitation to tender (corrected)"), "itt-v2.pdf", testPDF)
		e.mustStatus(r, 201)
		var v2 doc
		r.json(t, &v2)
		r = post(models.RoleFinanceOfficer, documentFields("supersedes_id", fmt.Sprint(itt.ID)), "itt-v3.pdf", testPDF)
		e.mustStatus(r, 409)
		if !strings.Contains(string(r.Body), "already been replaced") {
			t.Fatalf("a document is replaced once: %s", r.Body)
		}
		r = e.do(models.RoleAuditor, "GET", docs, nil)
		e.mustStatus(r, 200)
		var got struct{ Items []doc }
		r.json(t, &got)
		if len(got.Items) != 2 || got.Items[0].SupersededBy == nil || *got.Items[0].SupersededBy != v2.ID || got.Items[1].SupersededBy != nil {
			t.Fatalf("both versions are kept, the first naming its replacement: %+v", got.Items)
		}
	})

	t.Run("DownloadIsSafe", func(t *testing.T) {
		r := e.do(models.RoleBoardMember, "GET", fmt.Sprintf("%s/%d", docs, itt.ID), nil)
		e.mustStatus(r, 200)
		if !bytes.Equal(r.Body, testPDF) || r.Header.Get("Content-Type") != "application/pdf" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
			r.Header.Get("Content-Disposition") != `attachment; filename="ITT MOPAC-T-2024-017.pdf"` {
			t.Fatalf("download headers: %v", r.Header)
		}
		e.mustStatus(e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/documents/%d", f.LineID, itt.ID), nil), 404)
	})
}

// TestContractLinePageForms uploads a document and proposes a band
// exception on a contract line's page, each refused first with the
// message beside its field, and the exception approved by a finance
// manager on /approvals.
func TestContractLinePageForms(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", contractBody(f, e.mustSupplier(), ""))
	e.mustStatus(r, 201)
	var line struct{ ID int64 }
	r.json(t, &line)
	page := fmt.Sprintf("/funding-lines/%d", line.ID)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	e.mustStatus(officer.request("GET", page, nil), 200)

	before := e.count("contract_documents")
	r = officer.upload(page+"/documents", documentFields("title", "Invitation to tender T-1"), "itt.png", testPNG, false)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="file-error">[^<]*PDF, DOCX or ODT`).Match(r.Body) || !strings.Contains(string(r.Body), `value="Invitation to tender T-1"`) {
		t.Fatalf("the file's error belongs beside the file, with the typed title kept:\n%s", r.Body)
	}
	r = officer.upload(page+"/documents", documentFields("published_on", "2024-02-30"), "itt.pdf", testPDF, false)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="published_on-error">`).Match(r.Body) || e.count("contract_documents") != before {
		t.Fatalf("a bad date is refused beside its field, nothing stored:\n%s", r.Body)
	}
	e.mustStatus(officer.upload(page+"/documents", documentFields(), "itt.pdf", testPDF, true), 403)
	r = officer.upload(page+"/documents", documentFields(), "itt.pdf", testPDF, false)
	e.mustStatus(r, 303)
	r = officer.request("GET", page, nil)
	sum := sha256.Sum256(testPDF)
	if !strings.Contains(string(r.Body), "published 2024-03-01") || !strings.Contains(string(r.Body), hex.EncodeToString(sum[:])) {
		t.Fatalf("the page lists the document with its date and SHA-256:\n%s", r.Body)
	}
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	r = board.request("GET", page, nil)
	if strings.Contains(string(r.Body), `action="`+page+`/documents"`) || strings.Contains(string(r.Body), `action="`+page+`/band-exceptions"`) {
		t.Fatal("a board member is offered no upload or proposal form")
	}
	e.mustStatus(board.upload(page+"/documents", documentFields(), "itt.pdf", testPDF, false), 403)

	// A band exception: refused inside the band, beside the value; then
	// proposed and approved by the finance manager on /approvals.
	before = e.count("contract_band_exceptions")
	r = officer.request("POST", page+"/band-exceptions", url.Values{"contract_value": {"20000.00"}, "reason": {"Scope widened"}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="contract_value-error">[^<]*lies within the band`).Match(r.Body) || e.count("contract_band_exceptions") != before {
		t.Fatalf("a value inside the band needs no exception:\n%s", r.Body)
	}
	r = officer.request("POST", page+"/band-exceptions", url.Values{"contract_value": {"32500.00"}, "reason": {""}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="reason-error">`).Match(r.Body) || !strings.Contains(string(r.Body), `value="32500.00"`) {
		t.Fatalf("a reason is required, beside its field:\n%s", r.Body)
	}
	r = officer.request("POST", page+"/band-exceptions", url.Values{"contract_value": {"32500.00"}, "reason": {"Every borough, as the board asked"}})
	e.mustStatus(r, 303)
	manager := spendWebSignIn(t, e, models.RoleFinanceManager)
	r = manager.request("GET", "/approvals?per_page=500", nil)
	m := regexp.MustCompile(`action="/approvals/contract_band_exception/(\d+)/approve"`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the exception waits on the manager's approvals:\n%s", r.Body)
	}
	r = manager.request("POST", "/approvals/contract_band_exception/"+string(m[1])+"/approve", url.Values{})
	if r.Status != 303 {
		t.Fatalf("approving: %d %s", r.Status, r.Body)
	}
	r = officer.request("GET", page, nil)
	if !regexp.MustCompile(`£32,500.00</td><td>Every borough, as the board asked`).Match(r.Body) || !strings.Contains(string(r.Body), `<span class="status approved">Approved</span>`) {
		t.Fatalf("the line's page shows the approved exception:\n%s", r.Body)
	}
}
