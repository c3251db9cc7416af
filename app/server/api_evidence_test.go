package server_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strconv"
	"strings"
	"testing"

	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/models"
)

// multipartBody is a form with one file in field, sent with the given
// Content-Type header for the file part ("" for none), plus extra fields.
func multipartBody(t testing.TB, field, name, partType string, data []byte, extra map[string]string) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range extra {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, field, name))
	if partType != "" {
		h.Set("Content-Type", partType)
	}
	w, err := mw.CreatePart(h)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// upload posts a file as the role, through the API.
func (e *env) upload(role models.Role, path, name, partType string, data []byte) response {
	e.t.Helper()
	body, ct := multipartBody(e.t, "file", name, partType, data, nil)
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	return e.send(req)
}

// multipartRequest is a POST of a multipart body as the role, through the
// API.
func (e *env) multipartRequest(role models.Role, path string, body []byte, contentType string) *http.Request {
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer "+e.tokens[role])
	return req
}

// mustSpend records pending spend on the fixture's line and returns its id.
func (e *env) mustSpend(f fixture, amount string) int64 {
	e.t.Helper()
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": amount, "incurred_on": "2024-06-03", "category": "other"})
	e.mustStatus(r, 201)
	var got struct{ ID int64 }
	r.json(e.t, &got)
	return got.ID
}

var (
	testPDF = append([]byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n"), bytes.Repeat([]byte{0xe2, 0x80, 0x00, 0xff}, 100)...)
	testPNG = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{1, 2, 3}, 50)...)
)

func testXLSX(t testing.TB, workbook bool) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := []string{"[Content_Types].xml", "docProps/app.xml"}
	if workbook {
		names = append(names, "xl/workbook.xml", "xl/worksheets/sheet1.xml")
	}
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(w, "<?xml version=\"1.0\"?><x name=%q/>", n)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestEvidenceThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	id := e.mustSpend(f, "40.00")
	path := fmt.Sprintf("/api/v1/spend/%d/evidence", id)

	// The client's Content-Type for the part is ignored: the bytes decide.
	r := e.upload(models.RoleFinanceOfficer, path, `../../invoices/INV 42 <final>*?.pdf`, "image/png", testPDF)
	e.mustStatus(r, 201)
	var ev struct {
		ID          int64
		FileName    string `json:"file_name"`
		ContentType string `json:"content_type"`
		Size        int64
		SHA256      string
	}
	r.json(t, &ev)
	sum := sha256.Sum256(testPDF)
	if ev.FileName != "INV 42 _final___.pdf" || ev.ContentType != "application/pdf" || ev.Size != int64(len(testPDF)) || ev.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored %+v", ev)
	}
	if loc := r.Header.Get("Location"); loc != fmt.Sprintf("%s/%d", path, ev.ID) {
		t.Fatalf("Location %q", loc)
	}

	for _, role := range []models.Role{models.RoleBoardMember, models.RoleAuditor} {
		r := e.do(role, "GET", fmt.Sprintf("%s/%d", path, ev.ID), nil)
		e.mustStatus(r, 200)
		got := sha256.Sum256(r.Body)
		if !bytes.Equal(r.Body, testPDF) || got != sum {
			t.Fatalf("%s downloaded %d bytes that differ from the %d uploaded", role, len(r.Body), len(testPDF))
		}
		if r.Header.Get("Content-Type") != "application/pdf" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
			r.Header.Get("Content-Disposition") != `attachment; filename="INV 42 _final___.pdf"` {
			t.Fatalf("download headers %v", r.Header)
		}
		r = e.do(role, "GET", path, nil)
		e.mustStatus(r, 200)
		var l struct {
			Items []struct{ ID int64 }
			Total int
		}
		r.json(t, &l)
		if l.Total != 1 || l.Items[0].ID != ev.ID {
			t.Fatalf("%s lists %+v", role, l)
		}
	}
	e.mustStatus(e.do(models.RoleAuditor, "GET", fmt.Sprintf("%s/%d", path, ev.ID+1000), nil), 404)
	e.mustStatus(e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/spend/%d/evidence/%d", id+1000, ev.ID), nil), 404)

	// The audit trail names the file by name, size and hash, never its bytes.
	evs, _, err := e.st.AuditEvents(context.Background(), auditFilter("spend.evidence_add", id))
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 {
		t.Fatalf("%d audit events for the upload", len(evs))
	}
	var after map[string]any
	if err := json.Unmarshal(evs[0].After, &after); err != nil {
		t.Fatal(err)
	}
	if after["sha256"] != ev.SHA256 || after["size"] != float64(len(testPDF)) || after["file_name"] != ev.FileName ||
		after["evidence_id"] != float64(ev.ID) || len(evs[0].After) > 400 || evs[0].Actor != e.users[models.RoleFinanceOfficer].Email {
		t.Fatalf("audit event %s by %s", evs[0].After, evs[0].Actor)
	}

	// Refusals, each with a reason, and nothing stored.
	before := e.count("spend_evidence")
	refuse := func(name string, data []byte, status int, want string) {
		t.Helper()
		r := e.upload(models.RoleFinanceOfficer, path, name, "application/pdf", data)
		e.mustStatus(r, status)
		if p := r.problem(t); !strings.Contains(p.Detail+fmt.Sprint(p.Errors), want) {
			t.Fatalf("%s: problem %+v, want %q", name, p, want)
		}
	}
	refuse("big.pdf", append(bytes.Clone(testPDF), make([]byte, models.MaxEvidenceSize)...), 422, "at most 5 MiB")
	refuseOverLimit(t, e, path, 8<<20, "Authorization: Bearer "+e.tokens[models.RoleFinanceOfficer], "The upload is too large: the file may be at most 5 MiB.")
	refuse("page.pdf", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), 422, "not accepted")
	refuse("setup.pdf", append([]byte("MZ\x90\x00"), make([]byte, 200)...), 422, "not accepted")
	refuse("archive.xlsx", testXLSX(t, false), 422, "not accepted")
	refuse("photo.pdf", testPNG, 422, "named .pdf but its contents are a PNG image")
	refuse("empty.txt", nil, 422, "empty")
	r = e.do(models.RoleFinanceOfficer, "POST", path, map[string]any{"file": "not a form"})
	e.mustStatus(r, 422)
	for _, role := range []models.Role{models.RoleBoardMember, models.RoleAuditor} {
		e.mustStatus(e.upload(role, path, "a.pdf", "", testPDF), 403)
	}
	if n := e.count("spend_evidence"); n != before {
		t.Fatalf("refused uploads stored %d files", n-before)
	}

	// Four more files of the other kinds fill the entry; a sixth is refused.
	for _, up := range []struct{ name, want string }{{"scan", "image/png"}, {"sheet.xlsx", models.EvidenceXLSX},
		{"rows.csv", "text/csv; charset=utf-8"}, {"note.txt", "text/plain; charset=utf-8"}} {
		data := map[string][]byte{"scan": testPNG, "sheet.xlsx": testXLSX(t, true), "rows.csv": []byte("a,b\n1,£2\n"), "note.txt": []byte("Paid by BACS.\n")}[up.name]
		r := e.upload(models.RoleFinanceManager, path, up.name, "", data)
		e.mustStatus(r, 201)
		r.json(t, &ev)
		if ev.ContentType != up.want {
			t.Fatalf("%s stored as %s, want %s", up.name, ev.ContentType, up.want)
		}
		if up.name == "scan" && ev.FileName != "scan.png" {
			t.Fatalf("a name without an extension should get one: %q", ev.FileName)
		}
	}
	refuse("sixth.pdf", testPDF, 409, "already has 5 evidence files")

	// A rejected entry takes no more evidence.
	other := e.mustSpend(f, "5.00")
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", other), map[string]any{"reason": "duplicate"}), 200)
	e.mustStatus(e.upload(models.RoleFinanceManager, fmt.Sprintf("/api/v1/spend/%d/evidence", other), "a.pdf", "", testPDF), 409)

	// Evidence is append-only in the database itself: the application role
	// has no privilege to change it, and the owner, who has every privilege,
	// meets the trigger (in a transaction rolled back, whatever happens).
	owner, err := store.Open(context.Background(), pgtest.Owner(pgtest.DSN()))
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	for _, q := range []string{"UPDATE spend_evidence SET file_name = 'x.pdf'", "DELETE FROM spend_evidence", "TRUNCATE spend_evidence CASCADE"} {
		if _, err := e.st.DB().ExecContext(context.Background(), q); err == nil || !strings.Contains(err.Error(), "permission denied for table spend_evidence") {
			t.Fatalf("%s: err = %v, want the application role refused", q, err)
		}
		tx, err := owner.DB().BeginTx(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tx.ExecContext(context.Background(), q)
		tx.Rollback() //nolint:errcheck // always rolled back
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s as the owner: err = %v, want an append-only refusal", q, err)
		}
	}
}

func auditFilter(action string, entryID int64) store.AuditFilter {
	return store.AuditFilter{Action: action, Entity: "spend_entry", EntityID: strconv.FormatInt(entryID, 10)}
}

// refuseOverLimit announces a file far over the limit to a real listener
// and sends only its start: the server refuses it from the Content-Length,
// before reading the body or running any handler.
func refuseOverLimit(t *testing.T, e *env, path string, size int, header, want string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.srv.Serve(ln) //nolint:errcheck // ends with the listener
	t.Cleanup(func() { ln.Close() })
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: test\r\n%s\r\n"+
		"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n--x\r\n", path, header, size)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 413 || !strings.Contains(string(b), want) {
		t.Fatalf("status %d, body %s", resp.StatusCode, b)
	}
}
