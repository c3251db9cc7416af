package server_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/pgtest"
	"granttrack/models"
)

// mustEntries records n pending entries of £1.00 to £7.00 on the fixture's
// line, with references ref-0 … and returns their total.
func (e *env) mustEntries(f fixture, ref string, n int) decimal.Decimal {
	e.t.Helper()
	officer := models.Actor{UserID: e.users[models.RoleFinanceOfficer].ID, Label: "officer", Role: models.RoleFinanceOfficer}
	sum := decimal.Zero
	for i := range n {
		amount := fmt.Sprintf("%d.00", 1+i%7)
		en, err := models.SpendInput{FundingLineID: f.LineID, PayeeID: f.RecipientID, Amount: amount,
			IncurredOn: fmt.Sprintf("2024-%02d-%02d", 4+i%9, 1+i%28), Category: "services", Reference: fmt.Sprintf("%s-%d", ref, i),
			Description: "Workshop", Purpose: "Purpose", VFMReason: "Tendered"}.Validate()
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := e.st.RecordSpend(context.Background(), officer, en, "", nil); err != nil {
			e.t.Fatal(err)
		}
		sum = sum.Add(decimal.RequireFromString(amount))
	}
	return sum
}

var nextHref = regexp.MustCompile(`href="([^"]+)" rel="next"`)

// TestSpendLedgerPages: the ledger of a line with 131 entries shows them 50
// at a time ("Entries 51–100 of 131") with the whole list's money on every
// page, links both ways that land where they say, a page past the end that
// says so, and a search box that finds an entry and takes % literally.
func TestSpendLedgerPages(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t)) // its 131 pending entries would crowd other tests' approval queues
	f := e.mustFixture("100000.00")
	ref := unique("LEDGER")
	sum := e.mustEntries(f, ref, 131)
	b := spendWebSignIn(t, e, models.RoleBoardMember)
	base := fmt.Sprintf("/spend?status=pending&q=%s", ref)
	r := b.request("GET", base, nil)
	e.mustStatus(r, 200)
	whole := ", " + models.PoundsText(sum.StringFixed(2)) + " in all."
	body := string(r.Body)
	if !strings.Contains(body, "Entries 1–50 of 131"+whole) || strings.Contains(body, `rel="prev"`) {
		t.Fatalf("first page:\n%s", body)
	}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		for _, m := range regexp.MustCompile(`<td><a href="/spend/(\d+)">`).FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("entry %s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		m := nextHref.FindStringSubmatch(body)
		if m == nil {
			if page != 3 || !strings.Contains(body, "Entries 101–131 of 131"+whole) || !strings.Contains(body, `rel="prev"`) {
				t.Fatalf("last page (%d):\n%s", page, body)
			}
			break
		}
		if page == 1 {
			defer func(next string) {
				// The second page, and back from it to the first.
				r := b.request("GET", next, nil)
				if !strings.Contains(string(r.Body), "Entries 51–100 of 131"+whole) {
					t.Fatalf("second page:\n%s", r.Body)
				}
			}(strings.ReplaceAll(m[1], "&amp;", "&"))
		}
		r = b.request("GET", strings.ReplaceAll(m[1], "&amp;", "&"), nil)
		e.mustStatus(r, 200)
		body = string(r.Body)
	}
	if len(seen) != 131 {
		t.Fatalf("the pages showed %d entries of 131", len(seen))
	}
	if r := b.request("GET", base+"&page=9", nil); !strings.Contains(string(r.Body), "No entries on this page: there are 131.") {
		t.Fatalf("a page past the end:\n%s", r.Body)
	}
	if r := b.request("GET", "/spend?q="+url.QueryEscape(ref+"-13%"), nil); !strings.Contains(string(r.Body), "No entries match.") {
		t.Fatalf("%% is a wildcard in the search:\n%s", r.Body)
	}
	r = b.request("GET", "/spend?q="+url.QueryEscape(ref+"-130"), nil)
	if !strings.Contains(string(r.Body), "Entries 1 of 1, £5.00 in all.") {
		t.Fatalf("search by reference:\n%s", r.Body)
	}
	r = b.request("GET", "/spend?q="+strings.Repeat("x", 101), nil)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "search with at most 100") {
		t.Fatalf("a search too long should be refused beside its field:\n%s", r.Body)
	}
	e.mustStatus(b.request("GET", "/spend?q=a%00b", nil), 422)
}

// TestAPISpendNextWalksTheListOnce: following next from the first page of
// the API's spend list visits every entry of the filtered list exactly
// once, and the last page has no next.
func TestAPISpendNextWalksTheListOnce(t *testing.T) {
	e := mustEnvAt(t, pgtest.FreshMigrated(t)) // its 131 pending entries would crowd other tests' approval queues
	f := e.mustFixture("100000.00")
	e.mustEntries(f, unique("API"), 131)
	for _, first := range []string{
		fmt.Sprintf("/api/v1/spend?funding_line_id=%d&per_page=50", f.LineID),
		fmt.Sprintf("/api/v1/funding-lines?q=%s&per_page=1", url.QueryEscape("Line")),
		fmt.Sprintf("/api/v1/audit?entity=spend_entry&per_page=40&from=2000-01-01T00:00:00Z"),
	} {
		seen := map[string]int{}
		var total, pages int
		for path := first; path != ""; pages++ {
			var l struct {
				Items []struct {
					ID  int64 `json:"id"`
					Seq int64 `json:"seq"`
				} `json:"items"`
				Total int    `json:"total"`
				Next  string `json:"next"`
			}
			r := e.do(models.RoleAuditor, "GET", path, nil)
			e.mustStatus(r, 200)
			r.json(t, &l)
			total = l.Total
			for _, it := range l.Items {
				seen[fmt.Sprint(it.ID, it.Seq)]++
			}
			path = l.Next
			if pages > 10_000 {
				t.Fatalf("%s: next never ends", first)
			}
		}
		if len(seen) != total || total == 0 {
			t.Fatalf("%s: the walk saw %d items of %d", first, len(seen), total)
		}
		for k, n := range seen {
			if n != 1 {
				t.Fatalf("%s: item %s seen %d times", first, k, n)
			}
		}
		if strings.HasPrefix(first, "/api/v1/spend") && (total != 131 || pages != 3) {
			t.Fatalf("spend: %d entries over %d pages", total, pages)
		}
	}
	p := e.do(models.RoleAuditor, "GET", "/api/v1/spend?after=yesterday", nil).problem(t)
	if p.Status != 422 && p.Status != 400 {
		t.Fatalf("a bad cursor: %+v", p)
	}
}

// TestListsPaginateAndSearch: the funding lines and organisations lists
// are paged with their totals and searched by their words.
func TestListsPaginateAndSearch(t *testing.T) {
	e := MustEnv(t)
	prog := unique("Prog search ")
	var progID struct{ ID int64 }
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/programmes", map[string]any{"code": unique("P"), "name": prog, "plan": "Plan"})
	e.mustStatus(r, 201)
	r.json(t, &progID)
	f := e.mustFixture("1000.00")
	for range 3 {
		e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", "/api/v1/funding-lines", map[string]any{"code": unique("SRCH"), "title": "Searchable line",
			"kind": "grant", "programme_id": progID.ID, "funder_id": f.FunderID, "budget": "250.50", "starts_on": "2024-04-01", "ends_on": "2025-03-31"}), 201)
	}
	b := spendWebSignIn(t, e, models.RoleBoardMember)
	r = b.request("GET", "/funding-lines?per_page=2&q="+url.QueryEscape(prog), nil)
	if !strings.Contains(string(r.Body), "Funding lines 1–2 of 3, £751.50 in all.") || !strings.Contains(string(r.Body), `rel="next"`) {
		t.Fatalf("lines by programme:\n%s", r.Body)
	}
	r = b.request("GET", "/funding-lines?per_page=2&page=2&q="+url.QueryEscape(prog), nil)
	if !strings.Contains(string(r.Body), "Funding lines 3 of 3, £751.50 in all.") || strings.Contains(string(r.Body), `rel="next"`) {
		t.Fatalf("lines, last page:\n%s", r.Body)
	}
	funder, _ := e.st.Organisation(context.Background(), f.FunderID)
	r = b.request("GET", "/organisations?q="+url.QueryEscape(strings.ToLower(funder.Name)), nil)
	if !strings.Contains(string(r.Body), "Organisations 1 of 1.") || !strings.Contains(string(r.Body), funder.Name) {
		t.Fatalf("organisations by name:\n%s", r.Body)
	}
	r = b.request("GET", "/organisations?q="+url.QueryEscape("_"+funder.Name[1:]), nil)
	if !strings.Contains(string(r.Body), "No organisations match.") {
		t.Fatalf("_ is a wildcard in the organisation search:\n%s", r.Body)
	}
	e.mustStatus(b.request("GET", "/organisations?q="+strings.Repeat("é", 101), nil), 422)
	p := e.do(models.RoleAuditor, "GET", "/api/v1/organisations?q="+strings.Repeat("é", 101), nil).problem(t)
	if p.Status != 422 || !strings.Contains(fmt.Sprint(p), "q") {
		t.Fatalf("a long search through the API: %+v", p)
	}
}

// TestRecordSpendFormFindsLines: the record-spend form offers the active
// lines its search finds, each with what remains, and the chosen line and
// payee whatever the search; a search too long is refused beside it.
func TestRecordSpendFormFindsLines(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("36500.00")
	other := e.mustFixture("1000.00")
	line, err := e.st.FundingLine(context.Background(), f.LineID)
	if err != nil {
		t.Fatal(err)
	}
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)
	r := officer.request("GET", "/spend/new?line_q="+url.QueryEscape(strings.ToLower(line.Code)), nil)
	e.mustStatus(r, 200)
	selects := func(body []byte) (lines, payees string) {
		m := regexp.MustCompile(`(?s)<select name="(funding_line_id|payee_id)".*?</select>`).FindAllStringSubmatch(string(body), -1)
		if len(m) != 2 {
			t.Fatalf("the form's selects: %d\n%s", len(m), body)
		}
		return m[0][0], m[1][0]
	}
	body, _ := selects(r.Body)
	option := regexp.MustCompile(fmt.Sprintf(`<option value="%d"\s*>[^<]*£36,500.00 remaining`, f.LineID))
	if !option.MatchString(body) || strings.Contains(body, fmt.Sprintf(`<option value="%d"`, other.LineID)) {
		t.Fatalf("a search by code should offer that line with what remains, and not another:\n%s", body)
	}
	r = officer.request("GET", fmt.Sprintf("/spend/new?funding_line_id=%d&payee_id=%d&line_q=%s&payee_q=%s", other.LineID, other.RecipientID,
		url.QueryEscape(line.Code), url.QueryEscape(unique("nobody"))), nil)
	lines, payees := selects(r.Body)
	if !strings.Contains(lines, fmt.Sprintf(`<option value="%d" selected>`, other.LineID)) ||
		!strings.Contains(payees, fmt.Sprintf(`<option value="%d" selected>`, other.RecipientID)) || strings.Count(payees, "<option") != 2 {
		t.Fatalf("the chosen line and payee are offered whatever the search:\n%s\n%s", lines, payees)
	}
	r = officer.request("GET", "/spend/new?line_q="+strings.Repeat("x", 101), nil)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "search with at most 100") {
		t.Fatalf("a long line search:\n%s", r.Body)
	}
}
