package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

// spendBrowser is a signed-in web user: it keeps cookies and the CSRF token.
type spendBrowser struct {
	e       *env
	cookies map[string]*http.Cookie
	csrf    string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (b *spendBrowser) request(method, path string, form url.Values) response {
	b.e.t.Helper()
	var req *http.Request
	if form != nil {
		form.Set("_csrf", b.csrf)
		req = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	return b.send(req)
}

// send sends req with the browser's cookies and keeps what it gets back.
func (b *spendBrowser) send(req *http.Request) response {
	b.e.t.Helper()
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	r := b.e.send(req)
	b.keep(r)
	return r
}

// keep takes the cookies a response sets, and its CSRF token as a page
// would carry it in its forms.
func (b *spendBrowser) keep(r response) {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		b.cookies[c.Name] = c
		if c.Name == "granttrack_csrf" {
			b.csrf = c.Value
		}
	}
	if m := csrfField.FindSubmatch(r.Body); m != nil {
		b.csrf = string(m[1])
	}
}

func spendWebSignIn(t *testing.T, e *env, role models.Role) *spendBrowser {
	t.Helper()
	b := &spendBrowser{e: e, cookies: map[string]*http.Cookie{}}
	b.request("GET", "/login", nil)
	r := b.request("POST", "/login", url.Values{"email": {e.users[role].Email}, "password": {testPassword}})
	e.mustStatus(r, 303)
	return b
}

func TestSpendPages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	maker := spendWebSignIn(t, e, models.RoleFinanceOfficer)

	r := maker.request("GET", fmt.Sprintf("/spend/new?funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "£1,000.00 remaining") {
		t.Fatalf("the form should show the line's remaining budget:\n%s", r.Body)
	}
	before := e.count("spend_entries")
	r = maker.request("POST", "/spend/new", url.Values{"funding_line_id": {fmt.Sprint(f.LineID)}, "payee_id": {fmt.Sprint(f.RecipientID)},
		"amount": {"12.345"}, "incurred_on": {"2024-06-03"}, "category": {"other"}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="amount-error">[^<]*two decimal places`).Match(r.Body) || !strings.Contains(string(r.Body), `value="12.345"`) {
		t.Fatalf("the money error should sit beside the amount, with the typed value kept:\n%s", r.Body)
	}
	if e.count("spend_entries") != before {
		t.Fatal("a refused form stored spend")
	}
	r = maker.request("POST", "/spend/new", url.Values{"funding_line_id": {fmt.Sprint(f.LineID)}, "payee_id": {fmt.Sprint(f.RecipientID)},
		"amount": {"120.00"}, "incurred_on": {"2024-06-03"}, "category": {"other"}, "reference": {"INV-9"}})
	e.mustStatus(r, 303)
	entry := r.Header.Get("Location")
	r = maker.request("GET", entry, nil)
	if !strings.Contains(string(r.Body), "someone else must approve") {
		t.Fatalf("the recorder should not be offered approval:\n%s", r.Body)
	}
	r = maker.request("POST", entry+"/approve", url.Values{})
	e.mustStatus(r, 409)

	admin := spendWebSignIn(t, e, models.RoleFinanceManager)
	r = admin.request("GET", "/spend", nil)
	if !strings.Contains(string(r.Body), `href="`+entry+`"`) {
		t.Fatalf("the admin's approval queue should list %s", entry)
	}
	e.mustStatus(admin.request("POST", entry+"/approve", url.Values{}), 303)
	r = admin.request("GET", entry, nil)
	if !strings.Contains(string(r.Body), "spend.approve") || !strings.Contains(string(r.Body), "Record reversal") {
		t.Fatalf("an approved entry shows its history and the reversal form:\n%s", r.Body)
	}
	r = admin.request("POST", entry+"/reverse", url.Values{"reason": {""}})
	e.mustStatus(r, 409)
	e.mustStatus(admin.request("POST", entry+"/reverse", url.Values{"reason": {"Wrong line"}}), 303)

	board := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(board.request("GET", "/spend", nil), 200)
	e.mustStatus(board.request("GET", "/spend/new", nil), 403)
	e.mustStatus(board.request("POST", entry+"/approve", url.Values{}), 403)
}

// upload posts a multipart form with a file in field "file", with the CSRF
// token unless withoutCSRF.
func (b *spendBrowser) upload(path string, fields map[string]string, name string, data []byte, withoutCSRF bool) response {
	b.e.t.Helper()
	if fields == nil {
		fields = map[string]string{}
	}
	if !withoutCSRF {
		fields["_csrf"] = b.csrf
	}
	body, ct := multipartBody(b.e.t, "file", name, "", data, fields)
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	return b.send(req)
}

func TestSpendEvidencePages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)

	// Record spend with an invoice attached: both are stored together.
	officer.request("GET", "/spend/new", nil)
	fields := map[string]string{"funding_line_id": fmt.Sprint(f.LineID), "payee_id": fmt.Sprint(f.RecipientID),
		"amount": "75.00", "incurred_on": "2024-06-03", "category": "services"}
	before := e.count("spend_entries")
	r := officer.upload("/spend/new", fields, "invoice.pdf", []byte("<html>not a pdf</html>"), false)
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="file-error">[^<]*not accepted as evidence`).Match(r.Body) || e.count("spend_entries") != before {
		t.Fatalf("a bad file should be refused beside the field, storing no spend:\n%s", r.Body)
	}
	r = officer.upload("/spend/new", fields, "invoice.pdf", testPDF, false)
	e.mustStatus(r, 303)
	entry := r.Header.Get("Location")
	r = officer.request("GET", entry, nil)
	m := regexp.MustCompile(`href="(` + entry + `/evidence/\d+)" download>invoice.pdf<`).FindSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the entry page should link its evidence:\n%s", r.Body)
	}

	// Anyone who reads spend downloads the same bytes.
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	r = board.request("GET", string(m[1]), nil)
	e.mustStatus(r, 200)
	if !bytes.Equal(r.Body, testPDF) || r.Header.Get("Content-Disposition") != `attachment; filename="invoice.pdf"` || r.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("download: %v, %d bytes", r.Header, len(r.Body))
	}
	if strings.Contains(string(board.request("GET", entry, nil).Body), `action="`+entry+`/evidence"`) {
		t.Fatal("a board member should not be offered the upload form")
	}
	e.mustStatus(board.upload(entry+"/evidence", nil, "b.pdf", testPDF, false), 403)

	// The upload form on the entry page; without the CSRF token it is refused.
	officer.request("GET", entry, nil)
	e.mustStatus(officer.upload(entry+"/evidence", nil, "receipt.png", testPNG, true), 403)
	r = officer.upload(entry+"/evidence", nil, "receipt.png", testPNG, false)
	e.mustStatus(r, 303)
	r = officer.upload(entry+"/evidence", nil, "receipt.pdf", testPNG, false)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "The evidence was not added: the file is named .pdf but its contents are a PNG image") {
		t.Fatalf("the refusal should be on the page:\n%s", r.Body)
	}
	var n int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM spend_evidence WHERE spend_entry_id = ?", strings.TrimPrefix(entry, "/spend/")).
		Scan(context.Background(), &n); err != nil || n != 2 {
		t.Fatalf("%d files stored (%v), want 2", n, err)
	}
}
