package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"granttrack/app/server"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// contract checks real responses against the OpenAPI document: every
// response of a documented route that a test in this package receives (see
// env.send) must have a documented status and media type, and a JSON body
// must match the schema the document gives for that route and status.
type contract struct {
	doc      map[string]any
	compiler *jsonschema.Compiler
	routes   []routeMatch

	mu      sync.Mutex
	schemas map[string]*jsonschema.Schema
	seen    map[string]map[int]bool // "GET /api/v1/x/{id}" → statuses checked
}

type routeMatch struct {
	method, path string // path in OpenAPI's form
	re           *regexp.Regexp
}

var (
	theContract     *contract
	theContractOnce sync.Once
)

const contractURL = "mem://granttrack/openapi.json"

func contractOf(t testing.TB, srv *server.Server) *contract {
	theContractOnce.Do(func() {
		raw, err := json.Marshal(srv.OpenAPI())
		if err != nil {
			panic(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			panic(err)
		}
		c := &contract{compiler: jsonschema.NewCompiler(), schemas: map[string]*jsonschema.Schema{}, seen: map[string]map[int]bool{}}
		json.Unmarshal(raw, &c.doc)
		c.compiler.DefaultDraft(jsonschema.Draft2020)
		c.compiler.AssertFormat()
		if err := c.compiler.AddResource(contractURL, doc); err != nil {
			panic(err)
		}
		for _, r := range srv.Routes() {
			re := "^" + regexp.MustCompile(`:\w+`).ReplaceAllString(regexp.QuoteMeta(r.Path), "[^/]+") + "/?$"
			c.routes = append(c.routes, routeMatch{method: r.Method, path: server.OpenAPIPath(r.Path), re: regexp.MustCompile(re)})
		}
		theContract = c
	})
	return theContract
}

func (c *contract) match(method, path string) (routeMatch, bool) {
	for _, r := range c.routes {
		if r.method == method && r.re.MatchString(path) {
			return r, true
		}
	}
	return routeMatch{}, false
}

// pointer escapes a key for a JSON pointer.
func pointer(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(p))
	}
	return b.String()
}

func (c *contract) schema(ptr string) (*jsonschema.Schema, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.schemas[ptr]; ok {
		return s, nil
	}
	s, err := c.compiler.Compile(contractURL + "#" + ptr)
	if err != nil {
		return nil, err
	}
	c.schemas[ptr] = s
	return s, nil
}

// check returns what is wrong with a response to method path, or nil when
// it matches the document or the path is no documented route.
func (c *contract) check(method, path string, r response) error {
	route, ok := c.match(method, path)
	if !ok {
		return nil
	}
	op, _ := c.doc["paths"].(map[string]any)[route.path].(map[string]any)[strings.ToLower(method)].(map[string]any)
	responses, _ := op["responses"].(map[string]any)
	status := strconv.Itoa(r.Status)
	resp, ok := responses[status].(map[string]any)
	if !ok {
		return fmt.Errorf("%s %s: status %d is not documented (body %.300s)", method, route.path, r.Status, r.Body)
	}
	base := pointer("paths", route.path, strings.ToLower(method), "responses", status)
	if ref, ok := resp["$ref"].(string); ok {
		name := strings.TrimPrefix(ref, "#/components/responses/")
		resp = c.doc["components"].(map[string]any)["responses"].(map[string]any)[name].(map[string]any)
		base = pointer("components", "responses", name)
	}
	c.mu.Lock()
	if c.seen[method+" "+route.path] == nil {
		c.seen[method+" "+route.path] = map[int]bool{}
	}
	c.seen[method+" "+route.path][r.Status] = true
	c.mu.Unlock()
	content, _ := resp["content"].(map[string]any)
	if len(r.Body) == 0 || r.Status == http.StatusNoContent || method == http.MethodHead {
		return nil
	}
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("%s %s %d: Content-Type %q: %v", method, route.path, r.Status, r.Header.Get("Content-Type"), err)
	}
	if _, ok := content[mediaType]; !ok {
		return fmt.Errorf("%s %s %d: media type %s is not documented (documented: %v)", method, route.path, r.Status, mediaType, keys(content))
	}
	if mediaType != "application/json" && mediaType != "application/problem+json" {
		return nil
	}
	s, err := c.schema(base + pointer("content", mediaType, "schema"))
	if err != nil {
		return fmt.Errorf("%s %s %d: the document's schema does not compile: %v", method, route.path, r.Status, err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(r.Body))
	if err != nil {
		return fmt.Errorf("%s %s %d: body is not JSON: %v", method, route.path, r.Status, err)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("%s %s %d: body does not match the document: %v\nbody %.500s", method, route.path, r.Status, err, r.Body)
	}
	return nil
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestOpenAPIDescribesEveryRoute calls every route of the API, each at least
// once successfully and once with an error, and env.send checks every
// response against the document; the test then checks no route was missed.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := MustEnv(t)
	c := contractOf(t, e.srv)
	type result struct{ ok, failed bool }
	got := map[string]*result{}
	note := func(method, path string, r response) response {
		t.Helper()
		route, ok := c.match(method, strings.SplitN(path, "?", 2)[0])
		if !ok {
			t.Fatalf("%s %s is no route", method, path)
		}
		key := method + " " + route.path
		if got[key] == nil {
			got[key] = &result{}
		}
		if r.Status < 300 {
			got[key].ok = true
		} else if r.Status >= 400 {
			got[key].failed = true
		}
		return r
	}
	call := func(role models.Role, method, path string, body any) response {
		t.Helper()
		return note(method, path, e.do(role, method, path, body))
	}
	id := func(r response) int64 {
		t.Helper()
		var v struct{ ID int64 }
		r.json(t, &v)
		return v.ID
	}
	fo, fm, ad, au, bm := models.RoleFinanceOfficer, models.RoleFinanceManager, models.RoleAdmin, models.RoleAuditor, models.RoleBoardMember
	f := e.mustFixture("100000.00")
	const missing = 999999999

	call("", "GET", "/healthz", nil)
	call("", "GET", "/readyz", nil)
	call("", "GET", "/api/v1/openapi.json", nil)

	programme := map[string]any{"code": unique("OA"), "name": "Programme", "plan": "Plan 2022-25"}
	call(bm, "GET", "/api/v1/programmes", nil)
	call("", "GET", "/api/v1/programmes", nil)
	call(fo, "POST", "/api/v1/programmes", map[string]any{"code": "bad code!", "name": ""})
	pid := id(call(fo, "POST", "/api/v1/programmes", programme))
	call(au, "GET", fmt.Sprintf("/api/v1/programmes/%d", pid), nil)
	call(au, "GET", fmt.Sprintf("/api/v1/programmes/%d", missing), nil)
	call(fo, "PUT", fmt.Sprintf("/api/v1/programmes/%d", pid), programme)
	call(fo, "PUT", fmt.Sprintf("/api/v1/programmes/%d", pid), "{not json")

	org := map[string]any{"name": unique("Org "), "is_recipient": true}
	call(bm, "GET", "/api/v1/organisations?is_recipient=true", nil)
	call(bm, "GET", "/api/v1/organisations?page=0", nil)
	oid := id(call(fo, "POST", "/api/v1/organisations", org))
	call(bm, "POST", "/api/v1/organisations", org)
	call(au, "GET", fmt.Sprintf("/api/v1/organisations/%d", oid), nil)
	call(au, "GET", fmt.Sprintf("/api/v1/organisations/%d", missing), nil)
	call(fo, "PUT", fmt.Sprintf("/api/v1/organisations/%d", oid), org)
	call(fo, "PUT", fmt.Sprintf("/api/v1/organisations/%d", missing), org)

	line := map[string]any{"code": unique("OAL"), "title": "Line", "kind": "grant", "programme_id": f.ProgrammeID, "funder_id": f.FunderID,
		"budget": "5000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31"}
	call(bm, "GET", "/api/v1/funding-lines?fy=2024-25", nil)
	call(bm, "GET", "/api/v1/funding-lines?fy=2024", nil)
	lid := id(call(fo, "POST", "/api/v1/funding-lines", line))
	line["budget"] = "1.001"
	call(fo, "POST", "/api/v1/funding-lines", line)
	line["budget"] = "6000.00"
	call(au, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil)
	call(au, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", missing), nil)
	call(fo, "PUT", fmt.Sprintf("/api/v1/funding-lines/%d", lid), line)
	call(au, "PUT", fmt.Sprintf("/api/v1/funding-lines/%d", lid), line)
	call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/status", lid), map[string]any{"status": "approved"})
	call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/status", lid), map[string]any{"status": "draft"})
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/decisions", lid), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/status", lid), map[string]any{"status": "cancelled", "reason": "Not needed after all"})

	award := map[string]any{"recipient_id": f.RecipientID, "reference": unique("OA-AW-"), "amount": "1000.00",
		"awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31", "tranche_count": 2}
	aid := id(call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), award))
	call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), award) // the same reference again
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/awards", missing), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/awards/%d", aid), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/awards/%d", missing), nil)
	// Proposed awards: approved by an admin, rejected by one, withdrawn by
	// their proposer; the proposer may not approve their own.
	call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/approve", aid), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/awards/%d/approve", aid), nil)
	award["reference"] = unique("OA-AW-")
	call(fm, "POST", fmt.Sprintf("/api/v1/awards/%d/reject", id(call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), award))),
		map[string]any{"reason": "Not this year"})
	award["reference"] = unique("OA-AW-")
	call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/withdraw", id(call(fo, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), award))),
		map[string]any{"reason": "Proposed twice"})
	// The approved award varied and cancelled: proposed by the officer,
	// decided by an admin, withdrawn by the officer.
	vary := map[string]any{"amount": "1200.00", "reason": "Two more sessions",
		"tranches": []map[string]any{{"due_on": "2024-04-01", "amount": "600.00"}, {"due_on": "2024-07-01", "amount": "600.00"}}}
	call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/variations", aid), map[string]any{"amount": "0.001", "reason": ""})
	call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/variations", missing), vary)
	vid := id(call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/variations", aid), vary))
	call(bm, "GET", fmt.Sprintf("/api/v1/awards/%d/variations", aid), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/awards/%d/variations", missing), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/award-variations/%d", vid), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/award-variations/%d", missing), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/award-variations/%d/approve", vid), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/award-variations/%d/approve", vid), nil)
	cancel := map[string]any{"kind": "cancellation", "reason": "The charity closed"}
	call(fm, "POST", fmt.Sprintf("/api/v1/award-variations/%d/reject", id(call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/variations", aid), cancel))),
		map[string]any{"reason": "Keep it"})
	call(fm, "POST", fmt.Sprintf("/api/v1/award-variations/%d/reject", missing), map[string]any{"reason": "Gone"})
	call(fo, "POST", fmt.Sprintf("/api/v1/award-variations/%d/withdraw", id(call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/variations", aid), cancel))), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/award-variations/%d/withdraw", missing), nil)

	spend := map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID, "amount": "120.00", "incurred_on": "2024-06-03", "category": "other"}
	sid := id(call(fo, "POST", "/api/v1/spend", spend))
	call(fo, "POST", "/api/v1/spend", map[string]any{"amount": 120})
	rejected := e.mustSpend(f, "7.00")
	approved := e.spendApproved(f, "50.00", "2024-06-03")
	call(bm, "GET", "/api/v1/spend?status=pending", nil)
	call(bm, "GET", "/api/v1/spend?per_page=100000", nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/spend/%d", sid), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/spend/%d", missing), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", sid), nil) // the recorder may not
	call(fm, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", sid), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", rejected), map[string]any{"reason": "Duplicate"})
	call(fm, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", rejected), map[string]any{"reason": "Again"})
	call(fo, "POST", fmt.Sprintf("/api/v1/spend/%d/reverse", approved), map[string]any{"reason": "Wrong line"})
	call(fo, "POST", fmt.Sprintf("/api/v1/spend/%d/reverse", missing), map[string]any{"reason": "Wrong line"})
	evidence := fmt.Sprintf("/api/v1/spend/%d/evidence", sid)
	r := note("POST", evidence, e.upload(fo, evidence, "invoice.pdf", "application/pdf", testPDF))
	evid := id(r)
	note("POST", evidence, e.upload(fo, evidence, "invoice.png", "", testPDF))
	call(au, "GET", evidence, nil)
	call(au, "GET", fmt.Sprintf("/api/v1/spend/%d/evidence", missing), nil)
	call(au, "GET", fmt.Sprintf("%s/%d", evidence, evid), nil)
	call(au, "GET", fmt.Sprintf("%s/%d", evidence, missing), nil)

	imp, imp2 := e.mustImport(f, "10.00"), e.mustImport(f, "11.00")
	call(bm, "GET", "/api/v1/spend-imports", nil)
	call("", "GET", "/api/v1/spend-imports", nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/spend-imports/%d", imp), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/spend-imports/%d", missing), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/approve", imp), nil) // the importer may not
	call(fm, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/approve", imp), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/reject", imp2), map[string]any{"reason": "Wrong month"})
	call(fm, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/reject", imp2), map[string]any{})

	call(ad, "GET", "/api/v1/users", nil)
	call(fo, "GET", "/api/v1/users", nil)
	call(ad, "POST", "/api/v1/users", map[string]any{"email": unique("oa") + "@test.example", "name": "New", "role": "auditor",
		"password": "a long enough password"})
	call(ad, "POST", "/api/v1/users", map[string]any{"email": "not an email", "name": "New", "role": "king"})

	r = call(au, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=csv&funding_line_id=%d", f.LineID), nil)
	file, manifest := r.Body, r.Header.Get("Granttrack-Manifest")
	call(au, "GET", "/api/v1/exports/ledger?format=xml", nil)
	note("POST", "/api/v1/exports/verify", e.uploadExport(au, "/api/v1/exports/verify", file, manifest))
	note("POST", "/api/v1/exports/verify", e.uploadExport(au, "/api/v1/exports/verify", file, "not json"))
	call(au, "GET", "/api/v1/exports/transparency/grants.csv?month=2024-06", nil)
	call(au, "GET", "/api/v1/exports/transparency/grants.csv?month=June", nil)
	call(au, "GET", "/api/v1/audit?per_page=5", nil)
	call(bm, "GET", "/api/v1/audit", nil)
	call(au, "GET", "/api/v1/audit/verify", nil)
	call(au, "GET", "/api/v1/audit/verify?anchor=nonsense", nil)
	call(au, "POST", "/api/v1/audit/verification", nil)
	call(fo, "POST", "/api/v1/audit/verification", nil)
	call(au, "GET", "/api/v1/audit/verification", nil)
	call(bm, "GET", "/api/v1/audit/verification", nil)

	reservations := fmt.Sprintf("/api/v1/funding-lines/%d/reservations", f.LineID)
	res := id(call(fo, "POST", reservations, map[string]any{"amount": "100.00", "purpose": "Summer programme", "expected_on": "2024-06-01"}))
	held := id(call(fo, "POST", reservations, map[string]any{"amount": "100.00", "purpose": "Autumn programme", "expected_on": "2024-09-01"}))
	call(fo, "POST", reservations, map[string]any{"amount": "1.001", "purpose": "", "expected_on": "2024-13-01"})
	call(bm, "GET", reservations, nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/reservations", missing), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/reservations/%d", res), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/reservations/%d", missing), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/reservations/%d/release", res), map[string]any{"reason": "Cancelled"})
	call(fo, "POST", fmt.Sprintf("/api/v1/reservations/%d/release", res), map[string]any{"reason": "Again"})
	award["reference"], award["amount"] = unique("OA-RES-"), "100.00"
	call(fo, "POST", fmt.Sprintf("/api/v1/reservations/%d/convert", held), award)
	call(fo, "POST", fmt.Sprintf("/api/v1/reservations/%d/convert", held), award)

	ind := id(call(fo, "POST", "/api/v1/indicators", map[string]any{"funding_line_id": f.LineID, "name": "Young people stabbed",
		"unit": "count", "direction": "lower_is_better", "baseline_value": "1200", "baseline_on": "2019-03-31", "baseline_source": "MPS recorded crime", "target_source": "Police and Crime Plan",
		"target_value": "900", "target_on": "2025-03-31", "frequency": "quarterly"}))
	call(fo, "POST", "/api/v1/indicators", map[string]any{"name": ""})
	call(bm, "GET", "/api/v1/indicators", nil)
	call(bm, "GET", "/api/v1/indicators?funding_line_id=x", nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/indicators/%d", ind), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/indicators/%d", missing), nil)
	measurements := fmt.Sprintf("/api/v1/indicators/%d/measurements", ind)
	call(fo, "POST", measurements, map[string]any{"period_start": "2024-04-01", "period_end": "2024-06-30", "value": "1150",
		"source": "MPS recorded crime", "extracted_on": "2024-07-05"})
	call(fo, "POST", measurements, map[string]any{"period_start": "2024-07-01", "period_end": "2024-06-30", "value": "x", "source": ""})
	call(bm, "GET", measurements, nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/indicators/%d/measurements", missing), nil)
	revisions := fmt.Sprintf("/api/v1/indicators/%d/revisions", ind)
	var history struct{ Items []struct{ ID int64 } }
	call(bm, "GET", revisions, nil).json(t, &history)
	if len(history.Items) != 1 {
		t.Fatalf("a new indicator has %d revisions", len(history.Items))
	}
	firstRevision := history.Items[0].ID
	call(fo, "POST", revisions, map[string]any{"name": "Young people stabbed", "unit": "count", "direction": "lower_is_better",
		"baseline_value": "1210", "baseline_on": "2019-03-31", "baseline_source": "MPS recorded crime, re-extracted",
		"target_value": "900", "target_on": "2025-03-31", "target_source": "Police and Crime Plan", "supersedes": firstRevision,
		"reason": "MPS revised its 2018-19 count"})
	call(fo, "POST", revisions, map[string]any{"name": "", "supersedes": firstRevision})
	call(bm, "GET", fmt.Sprintf("/api/v1/indicators/%d/revisions", missing), nil)
	call(bm, "GET", "/api/v1/reports/budget?fy=2024-25", nil)
	call(bm, "GET", "/api/v1/reports/budget?fy=2024", nil)
	call(bm, "GET", "/api/v1/reports/value-for-money?fy=2024-25", nil)
	call(bm, "GET", "/api/v1/reports/value-for-money?fy=nope", nil)

	// as sends a request with another user's token: a second admin.
	as := func(token, method, path string, body any) response {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
		req := httptest.NewRequest(method, path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Authorization", "Bearer "+token)
		return note(method, path, e.send(req))
	}
	_, admin2 := e.mustUser(models.RoleAdmin)

	// Two-person decisions on a line: proposed, then approved, rejected or
	// withdrawn; never by the proposer, never twice.
	dl := id(call(fo, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("OAD"), "title": "Decided line", "kind": "grant",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "5000.00", "starts_on": "2024-04-01", "ends_on": "2025-03-31"}))
	decisions := fmt.Sprintf("/api/v1/funding-lines/%d/decisions", dl)
	call(bm, "GET", decisions, nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/decisions", missing), nil)
	ld := id(call(fo, "POST", decisions, map[string]any{"to_status": "approved", "reason": "Tender agreed"}))
	call(fo, "POST", decisions, map[string]any{"to_status": "closed"})
	call(fo, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/approve", ld), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/approve", ld), nil)
	ld = id(call(fo, "POST", decisions, map[string]any{"to_status": "active", "reason": "Go live"}))
	call(fm, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/reject", ld), map[string]any{"reason": "Not yet"})
	call(fm, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/reject", ld), map[string]any{"reason": "Again"})
	ld = id(call(fo, "POST", decisions, map[string]any{"to_status": "active", "reason": "Go live"}))
	call(fo, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/withdraw", ld), map[string]any{"reason": "Too early"})
	call(fo, "POST", fmt.Sprintf("/api/v1/line-decisions/%d/withdraw", missing), map[string]any{"reason": "Gone"})
	call(fm, "POST", fmt.Sprintf("/api/v1/awards/%d/reject", missing), map[string]any{"reason": "Gone"})
	call(fo, "POST", fmt.Sprintf("/api/v1/awards/%d/withdraw", missing), map[string]any{"reason": "Gone"})

	// Decision records, the approvals awaiting me and the scheme.
	call(bm, "GET", "/api/v1/decision-records", nil)
	call("", "GET", "/api/v1/decision-records", nil)
	call(fo, "POST", "/api/v1/decision-records", map[string]any{"reference": unique("PCD "), "title": "Knife crime hotspots",
		"signed_on": "2024-03-01", "decision_maker": "Deputy Mayor for Policing and Crime", "url": "https://www.london.gov.uk/decisions/pcd-1519"})
	call(fo, "POST", "/api/v1/decision-records", map[string]any{"reference": ""})
	call(ad, "GET", "/api/v1/approvals", nil)
	call("", "GET", "/api/v1/approvals", nil)
	call(bm, "GET", "/api/v1/delegation", nil)
	call("", "GET", "/api/v1/delegation", nil)
	change := map[string]any{"decision_kind": "award", "role": "finance_officer", "max_amount": "100000.00", "reason": "Confirm the limit"}
	dc := id(call(ad, "POST", "/api/v1/delegation/changes", change))
	call(fo, "POST", "/api/v1/delegation/changes", change)
	call(ad, "POST", fmt.Sprintf("/api/v1/delegation-changes/%d/approve", dc), nil)
	as(admin2, "POST", fmt.Sprintf("/api/v1/delegation-changes/%d/approve", dc), nil)
	dc = id(call(ad, "POST", "/api/v1/delegation/changes", change))
	as(admin2, "POST", fmt.Sprintf("/api/v1/delegation-changes/%d/reject", dc), map[string]any{"reason": "Not needed"})
	as(admin2, "POST", fmt.Sprintf("/api/v1/delegation-changes/%d/reject", dc), map[string]any{"reason": "Again"})
	dc = id(call(ad, "POST", "/api/v1/delegation/changes", change))
	call(ad, "POST", fmt.Sprintf("/api/v1/delegation-changes/%d/withdraw", dc), map[string]any{"reason": "Proposed twice"})
	call(ad, "POST", fmt.Sprintf("/api/v1/delegation-changes/%d/withdraw", missing), map[string]any{"reason": "Gone"})

	// Band exceptions on a contract line: proposed with a reason, decided by
	// someone else.
	bands := fmt.Sprintf("/api/v1/funding-lines/%d/band-exceptions", id(call(fo, "POST", "/api/v1/funding-lines", contractBody(f, e.mustSupplier(), "18500.00"))))
	exception := map[string]any{"contract_value": "40000.00", "reason": "Scope widened to every borough by the board"}
	bx := id(call(fo, "POST", bands, exception))
	call(fo, "POST", bands, map[string]any{"contract_value": "20000.00", "reason": "Inside the band"})
	call(bm, "GET", bands, nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/band-exceptions", missing), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/band-exceptions/%d/approve", bx), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/band-exceptions/%d/approve", bx), nil)
	bx = id(call(fo, "POST", bands, exception))
	call(fm, "POST", fmt.Sprintf("/api/v1/band-exceptions/%d/reject", bx), map[string]any{"reason": "Re-tender instead"})
	call(fm, "POST", fmt.Sprintf("/api/v1/band-exceptions/%d/reject", bx), map[string]any{"reason": "Again"})
	bx = id(call(fo, "POST", bands, exception))
	call(fo, "POST", fmt.Sprintf("/api/v1/band-exceptions/%d/withdraw", bx), map[string]any{"reason": "Proposed twice"})
	call(fo, "POST", fmt.Sprintf("/api/v1/band-exceptions/%d/withdraw", missing), map[string]any{"reason": "Gone"})

	// Office holders' expenses: recorded one by one or as a CSV, each
	// decided by someone else.
	expense := map[string]any{"office_holder": "Alex Morgan (fictional)", "office": "Deputy Mayor", "incurred_on": "2024-06-04",
		"category": "travel", "description": "Rail fare", "amount": "86.40"}
	ox := id(call(fo, "POST", "/api/v1/office-holder-expenses", expense))
	call(fo, "POST", "/api/v1/office-holder-expenses", map[string]any{"office_holder": "", "amount": "1.001"})
	call(bm, "GET", "/api/v1/office-holder-expenses?fy=2024-25", nil)
	call(bm, "GET", "/api/v1/office-holder-expenses?fy=2024", nil)
	note("POST", "/api/v1/office-holder-expenses/import", e.upload(models.RoleFinanceOfficer, "/api/v1/office-holder-expenses/import", "expenses.csv", "text/csv",
		[]byte("office_holder,office,incurred_on,category,description,amount\nAlex Morgan (fictional),Deputy Mayor,2024-06-18,subsistence,Dinner,31.75\n")))
	note("POST", "/api/v1/office-holder-expenses/import", e.upload(models.RoleFinanceOfficer, "/api/v1/office-holder-expenses/import", "expenses.csv", "text/csv",
		[]byte("office_holder,office,incurred_on,category,description,amount\n,Deputy Mayor,2024-13-01,travel,Bad,1.001\n")))
	call(fo, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", ox), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/approve", ox), nil)
	ox = id(call(fo, "POST", "/api/v1/office-holder-expenses", expense))
	call(fm, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/reject", ox), map[string]any{"reason": "No receipt"})
	call(fm, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/reject", ox), map[string]any{"reason": "Again"})
	ox = id(call(fo, "POST", "/api/v1/office-holder-expenses", expense))
	call(fo, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/withdraw", ox), map[string]any{"reason": "Recorded twice"})
	call(fo, "POST", fmt.Sprintf("/api/v1/office-holder-expenses/%d/withdraw", missing), map[string]any{"reason": "Gone"})
	// Contract documents: uploaded by the finance roles, read by anyone.
	docs := strings.TrimSuffix(bands, "band-exceptions") + "documents"
	body, ct := multipartBody(t, "file", "itt.pdf", "", testPDF, map[string]string{"kind": "invitation_to_tender", "title": "Invitation to tender",
		"published_on": "2024-03-01"})
	doc := id(note("POST", docs, e.send(e.multipartRequest(fo, docs, body, ct))))
	body, ct = multipartBody(t, "file", "itt.png", "", testPNG, map[string]string{"kind": "invitation_to_tender", "title": "Invitation to tender",
		"published_on": "2024-03-01"})
	note("POST", docs, e.send(e.multipartRequest(fo, docs, body, ct)))
	call(bm, "GET", docs, nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/documents", missing), nil)
	call(bm, "GET", fmt.Sprintf("%s/%d", docs, doc), nil)
	call(bm, "GET", fmt.Sprintf("%s/%d", docs, missing), nil)

	// Budgets by financial year: a draft's profile is replaced; an approved
	// line's is proposed as a re-profiling (202), decided by someone else.
	bl := id(call(fo, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("OAB"), "title": "Profiled line", "kind": "grant",
		"programme_id": f.ProgrammeID, "funder_id": f.FunderID, "budget": "2000.00", "starts_on": "2023-04-01", "ends_on": "2025-03-31"}))
	profile := fmt.Sprintf("/api/v1/funding-lines/%d/budget-profile", bl)
	years := func(first, second string) []map[string]any {
		return []map[string]any{{"financial_year": "2023-24", "amount": first}, {"financial_year": "2024-25", "amount": second}}
	}
	call(bm, "GET", profile, nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/budget-profile", missing), nil)
	call(fo, "PUT", profile, map[string]any{"years": years("1200.00", "800.00")})
	call(fo, "PUT", profile, map[string]any{"years": years("1200.001", "800.00")})
	if err := storetest.Activate(context.Background(), e.st, bl); err != nil {
		t.Fatal(err)
	}
	call(fo, "PUT", profile, map[string]any{"years": years("1300.00", "700.00"), "reason": "Delivery starts early", "effective_on": "2024-01-15"})
	reprofile := map[string]any{"kind": "reprofile", "reason": "Delivery starts early", "effective_on": "2024-01-15", "moves": []map[string]any{
		{"funding_line_id": bl, "financial_year": "2023-24", "delta": "100.00"}, {"funding_line_id": bl, "financial_year": "2024-25", "delta": "-100.00"}}}
	call(fo, "POST", "/api/v1/budget-changes/preview", reprofile)
	call(fo, "POST", "/api/v1/budget-changes/preview", map[string]any{"kind": "nope"})
	bc := id(call(fo, "POST", "/api/v1/budget-changes", reprofile))
	call(fo, "POST", "/api/v1/budget-changes", map[string]any{"kind": "nope"})
	call(bm, "GET", fmt.Sprintf("/api/v1/budget-changes?funding_line_id=%d", bl), nil)
	call(bm, "GET", "/api/v1/budget-changes?funding_line_id=x", nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/budget-changes/%d", bc), nil)
	call(bm, "GET", fmt.Sprintf("/api/v1/budget-changes/%d", missing), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/approve", bc), nil)
	call(fm, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/approve", bc), nil)
	bc = id(call(fo, "POST", "/api/v1/budget-changes", reprofile))
	call(fm, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/reject", bc), map[string]any{"reason": "Not now"})
	call(fm, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/reject", missing), map[string]any{"reason": "Gone"})
	bc = id(call(fo, "POST", "/api/v1/budget-changes", reprofile))
	call(fo, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/withdraw", bc), nil)
	call(fo, "POST", fmt.Sprintf("/api/v1/budget-changes/%d/withdraw", missing), nil)

	// Accounts: an admin manages them; a role that approves money waits for
	// a second admin; every user keeps their own password, tokens and sessions.
	call(ad, "GET", "/api/v1/users?role=finance_manager&active=true", nil)
	call(ad, "GET", "/api/v1/users?active=maybe", nil)
	moneyAccount := func() (int64, int64) {
		t.Helper()
		var u struct {
			ID             int64
			PendingGrantID *int64 `json:"pending_grant_id"`
		}
		call(ad, "POST", "/api/v1/users", map[string]any{"email": unique("oa-fm") + "@test.example", "name": "New manager",
			"role": "finance_manager", "password": "a long enough password", "reason": "Joined the finance team"}).json(t, &u)
		if u.PendingGrantID == nil {
			t.Fatalf("a finance manager's account has no pending grant: %+v", u)
		}
		return u.ID, *u.PendingGrantID
	}
	nu, grant := moneyAccount()
	call(ad, "POST", fmt.Sprintf("/api/v1/account-grants/%d/approve", grant), nil) // not the proposer
	as(admin2, "POST", fmt.Sprintf("/api/v1/account-grants/%d/approve", grant), nil)
	_, grant = moneyAccount()
	as(admin2, "POST", fmt.Sprintf("/api/v1/account-grants/%d/reject", grant), map[string]any{"reason": "Not on the finance team"})
	as(admin2, "POST", fmt.Sprintf("/api/v1/account-grants/%d/reject", missing), map[string]any{"reason": "Gone"})
	_, grant = moneyAccount()
	call(ad, "POST", fmt.Sprintf("/api/v1/account-grants/%d/withdraw", grant), map[string]any{"reason": "Proposed in error"})
	call(ad, "POST", fmt.Sprintf("/api/v1/account-grants/%d/withdraw", grant), nil)
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/role", nu), map[string]any{"role": "auditor", "reason": "Moved to audit"})
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/role", nu), map[string]any{"role": "king"})
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/deactivate", nu), nil)
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/deactivate", nu), nil)
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/reactivate", nu), nil)
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/reactivate", nu), nil)
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/password-reset", nu), nil)
	call(ad, "POST", fmt.Sprintf("/api/v1/users/%d/password-reset", missing), nil)
	nextMonth := time.Now().AddDate(0, 1, 0).Format("2006-01-02")
	tok := id(call(au, "POST", "/api/v1/me/tokens", map[string]any{"name": "Reporting laptop", "expires_on": nextMonth}))
	call(au, "POST", "/api/v1/me/tokens", map[string]any{"name": "", "expires_on": "2001-01-01"})
	call(au, "GET", "/api/v1/me/tokens", nil)
	call("", "GET", "/api/v1/me/tokens", nil)
	call(au, "POST", fmt.Sprintf("/api/v1/me/tokens/%d/revoke", tok), nil)
	call(au, "POST", fmt.Sprintf("/api/v1/me/tokens/%d/revoke", tok), nil)
	call(bm, "GET", "/api/v1/me/sessions", nil)
	call("", "GET", "/api/v1/me/sessions", nil)
	call(bm, "POST", "/api/v1/me/sessions/end", nil)
	call("", "POST", "/api/v1/me/sessions/end", nil)
	call(bm, "POST", "/api/v1/me/password", map[string]any{"current_password": "wrong", "new_password": "short"})
	call(bm, "POST", "/api/v1/me/password", map[string]any{"current_password": testPassword, "new_password": "another long enough password"})
	// Alerts and their thresholds.
	call(ad, "GET", "/api/v1/alerts", nil)
	call("", "GET", "/api/v1/alerts", nil)
	call(bm, "GET", "/api/v1/alert-settings", nil)
	call("", "GET", "/api/v1/alert-settings", nil)
	call(fo, "PUT", "/api/v1/alert-settings", models.DefaultAlertSettings)
	call(ad, "PUT", "/api/v1/alert-settings", map[string]any{"budget_used_percent": 0, "ending_within_days": 60, "tranche_grace_days": 0})
	call(ad, "PUT", "/api/v1/alert-settings", models.DefaultAlertSettings)
	// Two-factor settings (this package's database keeps every role off).
	call(bm, "GET", "/api/v1/two-factor-settings", nil)
	call("", "GET", "/api/v1/two-factor-settings", nil)
	call(ad, "PUT", "/api/v1/two-factor-settings", map[string]any{"required_roles": []string{"nobody"}})
	call(ad, "PUT", "/api/v1/two-factor-settings", map[string]any{"required_roles": []string{}})
	// Publisher settings: saved empty, so that other tests' exports are still refused.
	call(au, "GET", "/api/v1/publisher-settings", nil)
	call(bm, "GET", "/api/v1/publisher-settings", nil)
	call(ad, "PUT", "/api/v1/publisher-settings", map[string]any{"ocid_prefix": "ocds-x"})
	call(ad, "PUT", "/api/v1/publisher-settings", map[string]any{})
	// Paged lists: every award, filtered; a bad filter or page is refused.
	call(bm, "GET", fmt.Sprintf("/api/v1/awards?funding_line_id=%d&per_page=5", f.LineID), nil)
	call(bm, "GET", "/api/v1/awards?status=granted", nil)
	call(bm, "GET", "/api/v1/approvals?per_page=501", nil)
	exercisePaymentRoutes(t, e, f, call, note)

	var missed []string
	for _, r := range e.srv.Routes() {
		key := r.Method + " " + server.OpenAPIPath(r.Path)
		switch res := got[key]; {
		case res == nil:
			missed = append(missed, key+" (never called)")
		case !res.ok:
			missed = append(missed, key+" (never succeeded)")
		case !res.failed && r.Path != "/healthz" && r.Path != "/readyz" && r.Path != "/api/v1/openapi.json":
			missed = append(missed, key+" (never failed)")
		}
	}
	if len(missed) > 0 {
		t.Fatalf("routes not exercised:\n%s", strings.Join(missed, "\n"))
	}
}

// moneyName matches the names the API gives amounts of money.
var moneyName = regexp.MustCompile(`^(amount|budget|total|spent|committed|remaining|reserved|pending|uncommitted|forecast|variance|burn_rate|cumulative|min_value|max_value|cost_per_unit|pending_reversals|spent_after_end|.*_(total|amount|min_value|max_value|spend|spent))$`)

// TestOpenAPIDescribesMoneyAsAPatternedString checks that every amount of
// money in the document is a string with the money pattern, never a number.
func TestOpenAPIDescribesMoneyAsAPatternedString(t *testing.T) {
	e := MustEnv(t)
	doc := contractOf(t, e.srv).doc
	var found int
	for name, s := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		props, _ := s.(map[string]any)["properties"].(map[string]any)
		for prop, ps := range props {
			p := ps.(map[string]any)
			if !moneyName.MatchString(prop) {
				continue
			}
			typ := fmt.Sprint(p["type"])
			if p["$ref"] != nil || strings.Contains(typ, "object") || strings.Contains(typ, "array") || typ == "integer" {
				continue // a group of figures or a count, not an amount
			}
			found++
			pattern := `^-?[0-9]{1,13}\.[0-9]{2}$` // answers have two decimals
			if strings.HasSuffix(name, "Input") {
				pattern = `^-?[0-9]{1,13}(\.[0-9]{1,2})?$` // input may have fewer
			}
			if !strings.Contains(typ, "string") || p["pattern"] != pattern {
				t.Errorf("%s.%s is %v, want a string with the money pattern", name, prop, p)
			}
		}
	}
	if found < 20 {
		t.Fatalf("only %d amounts found in the document", found)
	}
}
