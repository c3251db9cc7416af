package server_test

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/pgtest"
	"granttrack/models"
)

var prevHref = regexp.MustCompile(`href="([^"]+)" rel="prev"`)

// hrefOf is the link re finds in a page, as a browser would follow it; ""
// when there is none.
func hrefOf(body []byte, re *regexp.Regexp) string {
	if m := re.FindSubmatch(body); m != nil {
		return html.UnescapeString(string(m[1]))
	}
	return ""
}

// webList is a paged web list to walk: its first page's path (with its
// filters), how its rows are found (the first group is the row's key), its
// pager's noun and what the pager should say of the whole list.
type webList struct {
	First  string
	Row    *regexp.Regexp
	Noun   string // capitalised, as the pager starts: "Awards"
	Total  int
	Amount string // "£1,234.00", or "" for a list without money
	Per    int
}

// walkWebPages checks a paged web list the way a reader uses it: the first
// page says "Noun 1–per of Total" (with the whole list's money), Next
// leads through every row once with no gap and keeps the filters, Prev
// returns to the page before, a page past the end links the first page
// and per_page over the maximum is refused. It returns the rows' keys in
// the order shown.
func walkWebPages(t *testing.T, b *spendBrowser, l webList) []string {
	t.Helper()
	whole := "."
	if l.Amount != "" {
		whole = ", " + l.Amount + " in all."
	}
	filters, err := url.Parse(l.First)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	seen := map[string]bool{}
	var pages [][]string
	path := l.First
	for n := 1; path != ""; n++ {
		r := b.request("GET", path, nil)
		b.e.mustStatus(r, 200)
		var rows []string
		for _, m := range l.Row.FindAllSubmatch(r.Body, -1) {
			k := string(m[1])
			if seen[k] {
				t.Fatalf("%s: row %s shown twice (page %d)", l.First, k, n)
			}
			seen[k] = true
			rows = append(rows, k)
		}
		first, last := (n-1)*l.Per+1, min(n*l.Per, l.Total)
		where := fmt.Sprintf("%s %d–%d of %d%s", l.Noun, first, last, l.Total, whole)
		if first == last {
			where = fmt.Sprintf("%s %d of %d%s", l.Noun, first, l.Total, whole)
		}
		if len(rows) != last-first+1 || !strings.Contains(string(r.Body), where) {
			t.Fatalf("page %d of %s shows %d rows; want %q:\n%s", n, l.First, len(rows), where, r.Body)
		}
		if (n == 1) != (hrefOf(r.Body, prevHref) == "") {
			t.Fatalf("page %d of %s: previous link %q", n, l.First, hrefOf(r.Body, prevHref))
		}
		if n > 1 { // Prev shows the page before, row for row.
			back := b.request("GET", hrefOf(r.Body, prevHref), nil)
			var again []string
			for _, m := range l.Row.FindAllSubmatch(back.Body, -1) {
				again = append(again, string(m[1]))
			}
			if fmt.Sprint(again) != fmt.Sprint(pages[n-2]) {
				t.Fatalf("%s: previous from page %d shows %v, want %v", l.First, n, again, pages[n-2])
			}
		}
		pages = append(pages, rows)
		keys = append(keys, rows...)
		path = hrefOf(r.Body, nextHref)
		if path != "" {
			next, err := url.Parse(path)
			if err != nil || next.Path != filters.Path {
				t.Fatalf("next link %q leaves %s", path, filters.Path)
			}
			for k, v := range filters.Query() {
				if k != "page" && next.Query().Get(k) != v[0] {
					t.Fatalf("next link %q drops the filter %s=%s", path, k, v[0])
				}
			}
		}
		if n > l.Total+1 {
			t.Fatalf("%s: next never ends", l.First)
		}
	}
	if len(keys) != l.Total {
		t.Fatalf("%s: the pages showed %d rows of %d", l.First, len(keys), l.Total)
	}
	r := b.request("GET", withQuery(l.First, "page", "999"), nil)
	past := fmt.Sprintf("No %s on this page: there are %d.", strings.ToLower(l.Noun), l.Total)
	if !strings.Contains(string(r.Body), past) || !strings.Contains(string(r.Body), `href="`+html.EscapeString(filters.Path)) {
		t.Fatalf("a page past the end of %s:\n%s", l.First, r.Body)
	}
	b.e.mustStatus(b.request("GET", withQuery(l.First, "per_page", "501"), nil), 422)
	return keys
}

// withQuery is path with the query parameter k set to v.
func withQuery(path, k, v string) string {
	u, err := url.Parse(path)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

// walkAPIPages follows next from an API list's first page and returns the
// key of every item in order, checking each appears once, the total holds
// on every page, and per_page over the maximum is refused.
func walkAPIPages(t *testing.T, e *env, role models.Role, first, key string, total int) []string {
	t.Helper()
	var keys []string
	seen := map[string]bool{}
	for path, n := first, 0; path != ""; n++ {
		var l struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
			Next  string           `json:"next"`
		}
		r := e.do(role, "GET", path, nil)
		e.mustStatus(r, 200)
		r.json(t, &l)
		if l.Total != total {
			t.Fatalf("%s: total %d, want %d", path, l.Total, total)
		}
		for _, it := range l.Items {
			k := fmt.Sprint(it[key])
			if seen[k] {
				t.Fatalf("%s: item %s seen twice", first, k)
			}
			seen[k] = true
			keys = append(keys, k)
		}
		path = l.Next
		if n > total+1 {
			t.Fatalf("%s: next never ends", first)
		}
	}
	if len(keys) != total {
		t.Fatalf("%s: the walk saw %d items of %d", first, len(keys), total)
	}
	if p := e.do(role, "GET", withQuery(first, "per_page", "501"), nil).problem(t); p.Status != 422 || !strings.Contains(fmt.Sprint(p), "per_page") {
		t.Fatalf("%s: per_page 501: %+v", first, p)
	}
	return keys
}

// TestAuditPagesByKeyset: the audit trail, walked page by page through the
// web (newest first) and the API (in sequence), shows every event exactly
// once and in order; its links carry the sequence as a cursor, and a
// filter is kept across pages.
func TestAuditPagesByKeyset(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t))
	f := e.mustFixture("100.00")
	e.mustEntries(f, unique("AUD"), 12)
	var head int
	if err := e.st.DB().NewRaw("SELECT seq FROM audit_head").Scan(context.Background(), &head); err != nil || head < 30 {
		t.Fatalf("the audit head: %d %v", head, err)
	}
	auditor := spendWebSignIn(t, e, models.RoleAuditor)
	// The auditor's sign-in is itself audited; the walk starts after it.
	if err := e.st.DB().NewRaw("SELECT seq FROM audit_head").Scan(context.Background(), &head); err != nil {
		t.Fatal(err)
	}
	seqs := walkWebPages(t, auditor, webList{First: "/audit?per_page=7", Row: regexp.MustCompile(`<article class="audit-event" id="seq-(\d+)">`),
		Noun: "Events", Total: head, Per: 7})
	for i, s := range seqs {
		if s != strconv.Itoa(head-i) {
			t.Fatalf("row %d of the walk is event %s, want %d", i, s, head-i)
		}
	}
	r := auditor.request("GET", "/audit?per_page=7", nil)
	if next := hrefOf(r.Body, nextHref); !strings.Contains(next, fmt.Sprintf("after=%d", head-6)) || !strings.Contains(next, "page=2") {
		t.Fatalf("the next link should carry the last event shown as its cursor: %q", next)
	}

	// A filter kept across pages: the spend entries' events alone.
	var spendEvents int
	if err := e.st.DB().NewRaw("SELECT count(*) FROM audit_events WHERE entity = 'spend_entry'").Scan(context.Background(), &spendEvents); err != nil || spendEvents != 12 {
		t.Fatalf("spend events: %d %v", spendEvents, err)
	}
	walkWebPages(t, auditor, webList{First: "/audit?entity=spend_entry&per_page=5", Row: regexp.MustCompile(`<article class="audit-event" id="seq-(\d+)">`),
		Noun: "Events", Total: spendEvents, Per: 5})
	e.mustStatus(auditor.request("GET", "/audit?after=yesterday", nil), 422)

	// The API walks the trail in sequence order (the refusals above are
	// not events).
	if err := e.st.DB().NewRaw("SELECT seq FROM audit_head").Scan(context.Background(), &head); err != nil {
		t.Fatal(err)
	}
	keys := walkAPIPages(t, e, models.RoleAuditor, "/api/v1/audit?per_page=9&to=2199-01-01", "seq", head)
	for i, k := range keys {
		if k != strconv.Itoa(i+1) {
			t.Fatalf("item %d of the API walk is event %s", i, k)
		}
	}
	if got := walkAPIPages(t, e, models.RoleAuditor, "/api/v1/audit?entity=spend_entry&per_page=5", "seq", spendEvents); len(got) != 12 {
		t.Fatalf("spend events through the API: %v", got)
	}
	for _, bad := range []string{"after=0", "before=x", "after=3&before=9"} {
		if p := e.do(models.RoleAuditor, "GET", "/api/v1/audit?"+bad, nil).problem(t); p.Status != 422 {
			t.Fatalf("%s: %+v", bad, p)
		}
	}
}

// TestAwardsAndApprovalsPage: 131 awards on a line are listed 50 at a time
// on /awards and through the API ("Awards 51–100 of 131" with their whole
// amount), filters kept across pages; the line's page lists its first 50
// and links the rest; and the approvals list, with the 131 awards awaiting
// a manager, pages with the count of everything pending.
func TestAwardsAndApprovalsPage(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t)) // its 131 pending awards would crowd other tests' approval queues
	f := e.mustFixture("100000.00")
	other := e.mustFixture("1000.00")
	ref := unique("AWL")
	sum := decimal.Zero
	award := func(line int64, ref, amount string) {
		r := e.do(models.RoleFinanceOfficer, "POST", fmt.Sprintf("/api/v1/funding-lines/%d/awards", line), map[string]any{"recipient_id": f.RecipientID,
			"reference": ref, "amount": amount, "awarded_on": "2024-04-02", "starts_on": "2024-04-01", "ends_on": "2025-03-31"})
		e.mustStatus(r, 201)
	}
	for i := range 131 {
		amount := fmt.Sprintf("%d.00", 1+i%7)
		award(f.LineID, fmt.Sprintf("%s-%d", ref, i), amount)
		sum = sum.Add(decimal.RequireFromString(amount))
	}
	award(other.LineID, ref+"-other", "9.00")
	whole := models.PoundsText(sum.StringFixed(2))
	b := spendWebSignIn(t, e, models.RoleBoardMember)
	row := regexp.MustCompile(`<tr><td><a href="/awards/(\d+)">`)
	shown := walkWebPages(t, b, webList{First: fmt.Sprintf("/awards?funding_line_id=%d&status=pending&per_page=50", f.LineID), Row: row,
		Noun: "Awards", Total: 131, Amount: whole, Per: 50})
	walkWebPages(t, b, webList{First: "/awards?q=" + url.QueryEscape(ref) + "&per_page=40", Row: row, Noun: "Awards", Total: 132,
		Amount: models.PoundsText(sum.Add(decimal.NewFromInt(9)).StringFixed(2)), Per: 40})
	r := b.request("GET", "/awards?q="+url.QueryEscape(ref+"-13%"), nil)
	if !strings.Contains(string(r.Body), "No awards match.") {
		t.Fatalf("%% is a wildcard in the awards search:\n%s", r.Body)
	}
	e.mustStatus(b.request("GET", "/awards?status=granted", nil), 422)

	// The line's page lists its first 50 awards and links the rest.
	r = b.request("GET", fmt.Sprintf("/funding-lines/%d", f.LineID), nil)
	e.mustStatus(r, 200)
	if got := row.FindAllSubmatch(r.Body, -1); len(got) != 50 || string(got[0][1]) != shown[0] ||
		!strings.Contains(string(r.Body), fmt.Sprintf(`The first 50 of 131 awards (%s in all); <a href="/awards?funding_line_id=%d">`, whole, f.LineID)) {
		t.Fatalf("the line's page shows %d awards:\n%s", len(got), r.Body)
	}

	// The API: every award once, with the whole list's amount.
	api := walkAPIPages(t, e, models.RoleAuditor, fmt.Sprintf("/api/v1/awards?funding_line_id=%d&per_page=50", f.LineID), "id", 131)
	if fmt.Sprint(api) != fmt.Sprint(shown) {
		t.Fatalf("the API lists the awards in another order than the page")
	}
	walkAPIPages(t, e, models.RoleAuditor, fmt.Sprintf("/api/v1/funding-lines/%d/awards?per_page=30&q=%s", f.LineID, url.QueryEscape(ref)), "id", 131)
	var first struct{ Amount string }
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines/%d/awards?per_page=2", f.LineID), nil).json(t, &first)
	if first.Amount != sum.StringFixed(2) {
		t.Fatalf("the line's awards amount %s, want %s", first.Amount, sum.StringFixed(2))
	}

	// The manager's approvals: 132 awards and whatever else awaits them,
	// paged, with the count of all.
	pending, err := e.st.Approvals(context.Background(), e.users[models.RoleFinanceManager].ID)
	if err != nil || len(pending) < 132 {
		t.Fatalf("pending for the manager: %d %v", len(pending), err)
	}
	manager := spendWebSignIn(t, e, models.RoleFinanceManager)
	keys := walkWebPages(t, manager, webList{First: "/approvals?per_page=50", Row: regexp.MustCompile(`action="/approvals/([a-z_]+/\d+)/approve"`),
		Noun: "Decisions", Total: len(pending), Per: 50})
	for i, a := range pending {
		if keys[i] != fmt.Sprintf("%s/%d", a.Entity, a.ID) {
			t.Fatalf("approval %d is %s, want %s/%d", i, keys[i], a.Entity, a.ID)
		}
	}
	// A refused decision draws the list again, its links still the list's.
	manager.request("GET", "/approvals", nil)
	r = manager.request("POST", fmt.Sprintf("/approvals/%s/%d/reject", pending[0].Entity, pending[0].ID), url.Values{"reason": {"No"}})
	e.mustStatus(r, 422)
	if next := hrefOf(r.Body, nextHref); next != "/approvals?page=2" || !strings.Contains(string(r.Body), "Decisions 1–50 of") {
		t.Fatalf("the refused decision's page links %q:\n%s", next, r.Body)
	}
	ids := walkAPIPages(t, e, models.RoleFinanceManager, "/api/v1/approvals?per_page=60", "approve", len(pending))
	if ids[131] == ids[0] {
		t.Fatal("the API's approvals repeat")
	}
}

// TestSpendImportsPages: 61 imports, 10 of them rejected, are listed 25 at
// a time on /spend/imports (newest first, with the money they hold) and
// through the API (those awaiting a decision by default, oldest first);
// the awaiting filter is kept across pages, and the spend page lists the
// oldest 20 awaiting and links the rest.
func TestSpendImportsPages(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t)) // its 51 imports awaiting a decision would crowd other tests' queues
	f := e.mustFixture("100000.00")
	all, awaiting := decimal.Zero, decimal.Zero
	var ids []int64
	for i := range 61 {
		amount := fmt.Sprintf("%d.00", 1+i%7)
		ids = append(ids, e.mustImport(f, amount))
		all = all.Add(decimal.RequireFromString(amount))
		if i%6 == 5 {
			e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend-imports/%d/reject", ids[i]), map[string]any{"reason": "Wrong month"}), 200)
		} else {
			awaiting = awaiting.Add(decimal.RequireFromString(amount))
		}
	}
	b := spendWebSignIn(t, e, models.RoleBoardMember)
	row := regexp.MustCompile(`<tr><td><a href="/spend/imports/(\d+)">`)
	newest := walkWebPages(t, b, webList{First: "/spend/imports?per_page=25", Row: row, Noun: "Imports", Total: 61,
		Amount: models.PoundsText(all.StringFixed(2)), Per: 25})
	if newest[0] != fmt.Sprint(ids[60]) || newest[60] != fmt.Sprint(ids[0]) {
		t.Fatalf("imports should be newest first: %v", newest)
	}
	oldest := walkWebPages(t, b, webList{First: "/spend/imports?awaiting=true&per_page=20", Row: row, Noun: "Imports", Total: 51,
		Amount: models.PoundsText(awaiting.StringFixed(2)), Per: 20})
	if oldest[0] != fmt.Sprint(ids[0]) || oldest[5] != fmt.Sprint(ids[6]) {
		t.Fatalf("imports awaiting a decision should be oldest first, without the rejected: %v", oldest)
	}
	e.mustStatus(b.request("GET", "/spend/imports?awaiting=maybe", nil), 422)

	api := walkAPIPages(t, e, models.RoleAuditor, "/api/v1/spend-imports?per_page=20", "id", 51)
	if fmt.Sprint(api) != fmt.Sprint(oldest) {
		t.Fatalf("the API lists those awaiting as the page does: %v", api)
	}
	walkAPIPages(t, e, models.RoleAuditor, "/api/v1/spend-imports?awaiting=false&per_page=25", "id", 61)
	var first struct{ Amount string }
	e.do(models.RoleBoardMember, "GET", "/api/v1/spend-imports", nil).json(t, &first)
	if first.Amount != awaiting.StringFixed(2) {
		t.Fatalf("the imports awaiting hold %s, want %s", first.Amount, awaiting.StringFixed(2))
	}

	manager := spendWebSignIn(t, e, models.RoleFinanceManager)
	r := manager.request("GET", "/spend", nil)
	if got := row.FindAllSubmatch(r.Body, -1); len(got) != 20 || !strings.Contains(string(r.Body), `The oldest 20 of 51; <a href="/spend/imports?awaiting=true">`) {
		t.Fatalf("the spend page lists %d imports awaiting:\n%s", len(got), r.Body)
	}
}

// TestExpensesAndDecisionRecordsPages: office holders' expenses (a year's
// 55 of 61, newest first, with their amount) and decision records (61,
// newest signed first) page on their web pages and through the API, the
// year kept across pages.
func TestExpensesAndDecisionRecordsPages(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t)) // its 61 pending expenses would crowd other tests' approval queues
	ctx := context.Background()
	u := e.users[models.RoleFinanceOfficer]
	officer := models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
	var csv strings.Builder
	csv.WriteString("office_holder,office,incurred_on,category,description,amount\n")
	year := decimal.Zero
	for i := range 61 {
		day := fmt.Sprintf("2024-%02d-%02d", 4+i%9, 1+i%28)
		if i >= 55 {
			day = fmt.Sprintf("2023-05-%02d", i-50)
		}
		amount := fmt.Sprintf("%d.50", 1+i%7)
		fmt.Fprintf(&csv, "Sophie Linden,Deputy Mayor for Policing and Crime,%s,travel,Taxi %d,%s\n", day, i, amount)
		if i < 55 {
			year = year.Add(decimal.RequireFromString(amount))
		}
	}
	if _, err := e.st.ImportOfficeHolderExpenses(ctx, officer, strings.NewReader(csv.String())); err != nil {
		t.Fatal(err)
	}
	for i := range 61 {
		in := models.DecisionRecordInput{Reference: fmt.Sprintf("PCD %d", 1000+i), Title: "Knife crime hotspots",
			SignedOn: fmt.Sprintf("2024-%02d-%02d", 1+i%12, 1+i%28), DecisionMaker: "Deputy Mayor", URL: fmt.Sprintf("https://www.london.gov.uk/decisions/pcd-%d", 1000+i)}
		r, err := in.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if err := e.st.CreateDecisionRecord(ctx, officer, r); err != nil {
			t.Fatal(err)
		}
	}
	b := spendWebSignIn(t, e, models.RoleBoardMember)
	taxis := walkWebPages(t, b, webList{First: "/expenses?fy=2024-25&per_page=20", Row: regexp.MustCompile(`<td>(Taxi \d+)`),
		Noun: "Expenses", Total: 55, Amount: models.PoundsText(year.StringFixed(2)), Per: 20})
	walkWebPages(t, b, webList{First: "/delegation?per_page=25", Row: regexp.MustCompile(`<tr><td><a href="[^"]+" rel="noopener">([^<]+)</a>`),
		Noun: "Decision records", Total: 61, Per: 25})

	api := walkAPIPages(t, e, models.RoleAuditor, "/api/v1/office-holder-expenses?fy=2024-25&per_page=20", "description", 55)
	if fmt.Sprint(api) != fmt.Sprint(taxis) {
		t.Fatalf("the API lists the expenses as the page does:\n%v\n%v", api, taxis)
	}
	var first struct{ Amount string }
	e.do(models.RoleAuditor, "GET", "/api/v1/office-holder-expenses?fy=2024-25", nil).json(t, &first)
	if first.Amount != year.StringFixed(2) {
		t.Fatalf("the year's expenses add up to %s, want %s", first.Amount, year.StringFixed(2))
	}
	refs := walkAPIPages(t, e, models.RoleAuditor, "/api/v1/decision-records?per_page=25", "reference", 61)
	all, err := e.st.DecisionRecords(ctx)
	if err != nil || len(all) != 61 || refs[0] != all[0].Reference || refs[60] != all[60].Reference {
		t.Fatalf("decision records through the API: %v (%d, %v)", refs, len(all), err)
	}
}
