package server_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

// watched are the tables a refused request must leave as they were.
var watched = []string{"programmes", "organisations", "funding_lines", "awards", "spend_entries", "reservations",
	"spend_imports", "spend_evidence"}

func (e *env) counts() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, t := range watched {
		out[t] = e.count(t)
	}
	return out
}

func (e *env) mustCountsUnchanged(before map[string]int) {
	e.t.Helper()
	if after := e.counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		e.t.Fatalf("a refused request changed the row counts: before %v, after %v", before, after)
	}
}

// TestHostileInputThroughTheAPI sends every class of hostile input to the
// JSON API: each gets a 4xx problem naming the field and the rule, never a
// 500 or a silent change of meaning, and nothing is stored.
func TestHostileInputThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	spend := func(fields string) string {
		return fmt.Sprintf(`{"funding_line_id":%d,"payee_id":%d,"amount":"10.00","incurred_on":"2024-06-03","category":"other"%s}`,
			f.LineID, f.RecipientID, fields)
	}
	line := func(budget string) string {
		return fmt.Sprintf(`{"code":%q,"title":"T","kind":"grant","programme_id":%d,"funder_id":%d,"budget":%q,"starts_on":"2024-04-01","ends_on":"2025-03-31"}`,
			unique("H"), f.ProgrammeID, f.FunderID, budget)
	}
	reservations := fmt.Sprintf("/api/v1/funding-lines/%d/reservations", f.LineID)
	json := "application/json"
	tests := []struct {
		name, method, path, contentType, body string
		status                                int
		field, want                           string
	}{
		{"ErrNULInText", "POST", "/api/v1/programmes", json, `{"code":"NUL","name":"a\u0000b","plan":"p"}`, 422, "name", "NUL"},
		{"ErrYearZero", "POST", "/api/v1/spend", json, spend(`,"incurred_on":"0000-01-01"`)[0:0] + strings.Replace(spend(""), "2024-06-03", "0000-01-01", 1), 422, "incurred_on", "1900-01-01"},
		{"ErrAfterLatestDate", "POST", "/api/v1/spend", json, strings.Replace(spend(""), "2024-06-03", "2201-01-01", 1), 422, "incurred_on", "2200-12-31"},
		{"ErrYearZeroReservation", "POST", reservations, json, `{"amount":"10.00","purpose":"p","expected_on":"0000-01-01"}`, 422, "expected_on", "1900-01-01"},
		{"ErrNegativeAwardID", "POST", "/api/v1/spend", json, spend(`,"award_id":-1`), 422, "award_id", "positive"},
		{"ErrZeroAwardID", "POST", "/api/v1/spend", json, spend(`,"award_id":0`), 422, "award_id", "positive"},
		{"ErrNegativeTrancheID", "POST", "/api/v1/spend", json, spend(`,"award_id":1,"tranche_id":-7`), 422, "tranche_id", "positive"},
		{"ErrFractionalID", "POST", "/api/v1/spend", json, spend(`,"award_id":1.0`), 422, "award_id", "whole number"},
		{"ErrIDAsString", "POST", "/api/v1/spend", json, spend(`,"award_id":"1"`), 422, "award_id", "whole number"},
		{"ErrDuplicateKey", "POST", "/api/v1/spend", json, spend(`,"amount":"99999.00"`), 422, "amount", "more than once"},
		{"ErrCaseFoldedName", "POST", "/api/v1/spend", json, spend(`,"AMOUNT":"99999.00"`), 422, "AMOUNT", "not a recognised field"},
		{"ErrNestedUnknownName", "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), json,
			fmt.Sprintf(`{"recipient_id":%d,"reference":"R","amount":"1.00","awarded_on":"2024-04-01","starts_on":"2024-04-01","ends_on":"2024-06-30","tranches":[{"due_on":"2024-04-01","Amount":"1.00"}]}`, f.RecipientID),
			422, "tranches[0].Amount", "not a recognised field"},
		{"ErrMediaTypeJSONX", "POST", "/api/v1/spend", "application/jsonx", spend(""), 400, "Content-Type", "application/json"},
		{"ErrMediaTypeLatin1", "POST", "/api/v1/spend", "application/json; charset=latin1", spend(""), 400, "Content-Type", "application/json"},
		{"ErrInvalidUTF8", "POST", "/api/v1/spend", json, spend(`,"description":"caf` + "\xe9" + `"`), 422, "description", "UTF-8"},
		{"ErrBidiOverride", "POST", "/api/v1/spend", json, spend(`,"reference":"INV\u202egnp.exe"`), 422, "reference", "bidirectional"},
		{"ErrControlCharacter", "POST", "/api/v1/spend", json, spend(`,"description":"a\u001b[31m"`), 422, "description", "control"},
		{"ErrNewlineInSingleLine", "POST", "/api/v1/spend", json, spend(`,"reference":"a\nb"`), 422, "reference", "single line"},
		{"ErrNegativeZeroBudget", "POST", "/api/v1/funding-lines", json, line("-0"), 422, "budget", "negative"},
		{"ErrNotAnObject", "POST", "/api/v1/spend", json, `[1]`, 400, "", "JSON object"},
		{"ErrTrailingData", "POST", "/api/v1/spend", json, spend("") + `{}`, 400, "", "not valid JSON"},
		{"ErrIdempotencyKeyControl", "POST", "/api/v1/spend", json, spend(""), 400, "", "Idempotency-Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			before := e.counts()
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
			if tt.name == "ErrIdempotencyKeyControl" {
				req.Header.Set("Idempotency-Key", "key\u202e")
			}
			r := e.send(req)
			e.mustStatus(r, tt.status)
			p := r.problem(t)
			if tt.field == "" {
				if !strings.Contains(p.Detail, tt.want) {
					t.Fatalf("detail %q does not mention %q", p.Detail, tt.want)
				}
			} else if !hasField(p.Errors, tt.field, tt.want) {
				t.Fatalf("errors %+v do not name %s with %q", p.Errors, tt.field, tt.want)
			}
			e.mustCountsUnchanged(before)
		})
	}
	e.t = t
	// Charset utf-8 is JSON too: the same body is accepted.
	req := httptest.NewRequest("POST", "/api/v1/spend", strings.NewReader(spend(`,"description":"line one\nline two"`)))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
	e.mustStatus(e.send(req), 201)
}

func hasField(errs []models.FieldError, field, want string) bool {
	for _, fe := range errs {
		if fe.Field == field && strings.Contains(fe.Message, want) {
			return true
		}
	}
	return false
}

// TestHostilePathsAndQueries: ids that are not positive whole numbers in
// canonical form are not found, and bad query values are 422 naming the
// parameter; never a 500.
func TestHostilePathsAndQueries(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": "10.00", "incurred_on": "2024-06-03", "category": "other"})
	e.mustStatus(r, 201)
	var entry struct{ ID int64 }
	r.json(t, &entry)
	for _, path := range []string{"/api/v1/spend/0", "/api/v1/spend/-1", fmt.Sprintf("/api/v1/spend/0%d", entry.ID), "/api/v1/spend/%2B1",
		"/api/v1/spend/1e3", "/api/v1/spend/99999999999999999999", "/api/v1/spend/%00", fmt.Sprintf("/api/v1/spend/%d/evidence/01", entry.ID)} {
		e.mustStatus(e.do(models.RoleAuditor, "GET", path, nil), 404)
	}
	e.mustStatus(e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/spend/%d", entry.ID), nil), 200)
	for query, field := range map[string]string{"fy=garbage": "fy", "funding_line_id=01": "funding_line_id", "funding_line_id=-1": "funding_line_id",
		"from=0000-01-01": "from", "to=2024-13-01": "to", "page=0": "page", "per_page=1e9": "per_page", "status=%00": "status"} {
		r := e.do(models.RoleAuditor, "GET", "/api/v1/spend?"+query, nil)
		e.mustStatus(r, 422)
		if p := r.problem(t); !hasField(p.Errors, field, "") {
			t.Errorf("?%s: errors %+v do not name %s", query, p.Errors, field)
		}
	}
	for query, field := range map[string]string{"actor=%00": "actor", "entity=a%1Bb": "entity", "from=0000-01-01T00:00:00Z": "from", "from=0000-01-01": "from"} {
		r := e.do(models.RoleAuditor, "GET", "/api/v1/audit?"+query, nil)
		e.mustStatus(r, 422)
		if p := r.problem(t); !hasField(p.Errors, field, "") {
			t.Errorf("audit ?%s: errors %+v do not name %s", query, p.Errors, field)
		}
	}
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/exports/transparency/grants.csv?month=0000-01", nil), 422)

	// Evidence uploads: a malformed or missing multipart body is a 4xx.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.srv.App().Listener(ln) }()
	t.Cleanup(func() { _ = e.srv.App().Shutdown() })
	base := "http://" + ln.Addr().String()
	before := e.counts()
	evidence := fmt.Sprintf("/api/v1/spend/%d/evidence", entry.ID)
	for name, req := range map[string]struct{ ct, body string }{
		"NoBoundary":     {"multipart/form-data", "--x\r\n"},
		"WrongBoundary":  {"multipart/form-data; boundary=abc", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhi\r\n--xyz--\r\n"},
		"CutShort":       {"multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nhi"},
		"NoFile":         {"multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nhi\r\n--abc--\r\n"},
		"JSONInsteadOf":  {"application/json", `{"file":"x"}`},
		"BidiInFileName": {"multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\u202etxt.exe\"\r\n\r\nMZ\x00\x01\r\n--abc--\r\n"},
		"BinaryAsText":   {"multipart/form-data; boundary=abc", "--abc\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\n\x00\x01\x02\xff\r\n--abc--\r\n"},
	} {
		// Over a real connection: fasthttp refuses some bodies before any
		// handler runs, and the answer it then sends is what counts.
		hr, err := http.NewRequest("POST", base+evidence, bytes.NewReader([]byte(req.body)))
		if err != nil {
			t.Fatal(err)
		}
		hr.Header.Set("Content-Type", req.ct)
		hr.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			t.Fatalf("evidence %s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Errorf("evidence %s: status %d, want 4xx", name, resp.StatusCode)
		}
	}
	e.mustCountsUnchanged(before)
}

// TestHostileInputThroughTheWebForms posts the same classes through the
// forms, signed in with a CSRF token: each is a 422 with the problem
// named on the page, and nothing is stored.
func TestHostileInputThroughTheWebForms(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	spend := func(k, v string) url.Values {
		form := url.Values{"funding_line_id": {fmt.Sprint(f.LineID)}, "payee_id": {fmt.Sprint(f.RecipientID)},
			"amount": {"10.00"}, "incurred_on": {"2024-06-03"}, "category": {"other"}}
		form.Set(k, v)
		return form
	}
	line := func(k, v string) url.Values {
		form := url.Values{"code": {unique("W")}, "title": {"T"}, "kind": {"grant"}, "programme_id": {fmt.Sprint(f.ProgrammeID)},
			"funder_id": {fmt.Sprint(f.FunderID)}, "budget": {"10.00"}, "starts_on": {"2024-04-01"}, "ends_on": {"2025-03-31"}}
		form.Set(k, v)
		return form
	}
	programme := func(k, v string) url.Values {
		form := url.Values{"code": {unique("WP")}, "name": {"N"}, "plan": {"P"}}
		form.Set(k, v)
		return form
	}
	tests := []struct {
		name, get, post string
		form            url.Values
		field, want     string
	}{
		{"ErrNULInText", "/programmes/new", "/programmes/new", programme("name", "a\x00b"), "name", "NUL"},
		{"ErrInvalidUTF8", "/programmes/new", "/programmes/new", programme("description", "caf\xe9"), "description", "UTF-8"},
		{"ErrBidiOverride", "/spend/new", "/spend/new", spend("reference", "INV\u202egnp.exe"), "reference", "bidirectional"},
		{"ErrYearZero", "/spend/new", "/spend/new", spend("incurred_on", "0000-01-01"), "incurred_on", "1900-01-01"},
		{"ErrNegativeAwardID", "/spend/new", "/spend/new", spend("award_id", "-1"), "award_id", "positive"},
		{"ErrNonCanonicalID", "/spend/new", "/spend/new", spend("payee_id", fmt.Sprintf("0%d", f.RecipientID)), "payee_id", "positive"},
		{"ErrNegativeZeroBudget", "/funding-lines/new", "/funding-lines/new", line("budget", "-0"), "budget", "negative"},
		{"ErrControlInTitle", "/funding-lines/new", "/funding-lines/new", line("title", "a\x1bb"), "title", "control"},
		{"ErrYearZeroReservation", fmt.Sprintf("/funding-lines/%d", f.LineID), fmt.Sprintf("/funding-lines/%d/reservations", f.LineID),
			url.Values{"amount": {"10.00"}, "purpose": {"p"}, "expected_on": {"0000-01-01"}}, "expected_on", "1900-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			officer.request("GET", tt.get, nil)
			before := e.counts()
			r := officer.request("POST", tt.post, tt.form)
			e.mustStatus(r, 422)
			named := regexp.MustCompile(`<code>` + regexp.QuoteMeta(tt.field) + `</code>: [^<]*` + regexp.QuoteMeta(tt.want))
			if !named.Match(r.Body) {
				t.Fatalf("the page does not name %s with %q:\n%s", tt.field, tt.want, r.Body)
			}
			e.mustCountsUnchanged(before)
		})
	}
}

// TestHostileSignIn: an email no one could type is a failed sign-in, not a 500.
func TestHostileSignIn(t *testing.T) {
	e := MustEnv(t)
	b := &spendBrowser{e: e, cookies: map[string]*http.Cookie{}}
	b.request("GET", "/login", nil)
	for _, email := range []string{"a\x00b@test.example", "caf\xe9@test.example", "a\u202e@test.example"} {
		e.mustStatus(b.request("POST", "/login", url.Values{"email": {email}, "password": {testPassword}}), 401)
	}
}

// TestHostileImportFilesThroughTheWeb: a stray quote and a bad date in a
// CSV upload are listed by line, and a Windows-1252 file is converted and
// says so.
func TestHostileImportFilesThroughTheWeb(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	var line struct{ Code string }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil).json(t, &line)
	var payee struct{ Name string }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/organisations/%d", f.RecipientID), nil).json(t, &payee)
	header := strings.Join(models.SpendImportColumns, ",") + "\n"
	good := fmt.Sprintf("%s,,%s,10.00,2024-05-01,services,,,,\n", line.Code, payee.Name)
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	for name, tc := range map[string]struct{ file, want string }{
		"ErrStrayQuote": {header + good + "\"X\"Y,,p,1.00,2024-05-01,other,,,,\n", `<tr><td>3</td><td>(the row)</td><td>at character 3: a quoted value`},
		"ErrYearZero":   {header + strings.Replace(good, "2024-05-01", "0000-01-01", 1), `<tr><td>2</td><td><code>incurred_on</code></td><td>must be on or after 1900-01-01`},
		"ErrNULByte":    {header + good + "a\x00b\n", `<tr><td>3</td><td>(the row)</td><td>at character 2: the file holds a NUL byte`},
		"ErrUTF16":      {"\xff\xfe" + header, `the file is UTF-16`},
	} {
		t.Run(name, func(t *testing.T) {
			e.t = t
			officer.request("GET", "/spend/import", nil)
			before := e.counts()
			r := officer.upload("/spend/import", nil, "hostile.csv", []byte(tc.file), false)
			e.mustStatus(r, 422)
			if !strings.Contains(string(r.Body), tc.want) {
				t.Fatalf("the page does not show %q:\n%s", tc.want, r.Body)
			}
			e.mustCountsUnchanged(before)
		})
	}
	e.t = t
	officer.request("GET", "/spend/import", nil)
	excel := header + fmt.Sprintf("%s,,%s,10.00,2024-05-01,services,INV-\xa31,Caf\xe9,,\r\n", line.Code, payee.Name)
	r := officer.upload("/spend/import", nil, "excel.csv", []byte(excel), false)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "converted from Windows-1252") {
		t.Fatalf("the page should say the file was converted:\n%s", r.Body)
	}
	var got struct {
		Items []struct{ Reference, Description string }
	}
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/spend?funding_line_id=%d", f.LineID), nil).json(t, &got)
	if len(got.Items) != 1 || got.Items[0].Reference != "INV-£1" || got.Items[0].Description != "Café" {
		t.Fatalf("stored %+v, want the text as written", got.Items)
	}
}
