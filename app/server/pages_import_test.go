package server_test

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"granttrack/models"
)

func TestSpendImportPage(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	var line struct{ Code string }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil).json(t, &line)
	var payee struct{ Name string }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/organisations/%d", f.RecipientID), nil).json(t, &payee)
	header := strings.Join(models.SpendImportColumns, ",") + "\n"
	officer := spendWebSignIn(t, e, models.RoleFinanceOfficer)

	r := officer.request("GET", "/spend", nil)
	if !strings.Contains(string(r.Body), `href="/spend/import"`) {
		t.Fatal("the spend list should link the import page")
	}
	r = officer.request("GET", "/spend/import", nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), strings.TrimSpace(header)) {
		t.Fatalf("the page should show the column layout:\n%s", r.Body)
	}

	// Every bad row is listed by line, column and reason; nothing is stored.
	bad := header +
		fmt.Sprintf("%s,,%s,12.345,2024-05-01,services,,,,\n", line.Code, payee.Name) +
		fmt.Sprintf("%s,,%s,10.00,2024-05-01,services,,,,\n", line.Code, payee.Name) +
		fmt.Sprintf("NO-SUCH-LINE,,%s,10.00,31/05/2024,snacks,,,,\n", payee.Name) +
		fmt.Sprintf("%s,,%s,900.00,2024-05-01,services,,,,\n", line.Code, payee.Name)
	before := e.count("spend_entries")
	r = officer.upload("/spend/import", nil, "bad.csv", []byte(bad), false)
	e.mustStatus(r, 422)
	rows := regexp.MustCompile(`<tr><td>(\d+)</td><td>(?:<code>)?([a-z_() ]+)(?:</code>)?</td><td>([^<]+)</td></tr>`).FindAllStringSubmatch(string(r.Body), -1)
	got := []string{}
	for _, m := range rows {
		got = append(got, m[1]+" "+m[2])
	}
	slices.Sort(got)
	want := []string{"2 amount", "4 category", "4 funding_line", "4 incurred_on", "5 purpose", "5 vfm_reason"}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Fatalf("bad rows shown: %v, want %v\n%s", got, want, r.Body)
	}
	if !strings.Contains(string(r.Body), "6 problem(s) in bad.csv; nothing was imported") || e.count("spend_entries") != before {
		t.Fatalf("a refused import must store nothing and say so:\n%s", r.Body)
	}

	// A good file is imported as pending, with a link to the import's page.
	good := header + fmt.Sprintf("%s,,%s,120.00,2024-05-01,services,INV-1,Venue,,\n", line.Code, payee.Name) +
		fmt.Sprintf("%s,,\"%s\",80.50,2024-05-02,training,INV-2,\"Training, one day\",,\n", line.Code, payee.Name)
	e.mustStatus(officer.upload("/spend/import", nil, "good.csv", []byte(good), true), 403)
	r = officer.upload("/spend/import", nil, "good.csv", []byte(good), false)
	e.mustStatus(r, 200)
	if !regexp.MustCompile(`Imported 2 spend entries totalling £200.50(.|\n)*href="/spend/imports/\d+"`).Match(r.Body) {
		t.Fatalf("the result should say what was imported:\n%s", r.Body)
	}
	if n := e.count("spend_entries"); n != before+2 {
		t.Fatalf("%d entries stored, want 2", n-before)
	}

	// The same file again is refused, with the choice to force it.
	r = officer.upload("/spend/import", nil, "good-again.csv", []byte(good), false)
	e.mustStatus(r, 409)
	if !strings.Contains(string(r.Body), "this file was already imported at") || !strings.Contains(string(r.Body), `name="force"`) {
		t.Fatalf("a re-import should be refused with a force box:\n%s", r.Body)
	}
	if n := e.count("spend_entries"); n != before+2 {
		t.Fatal("a refused re-import stored spend")
	}
	r = officer.upload("/spend/import", map[string]string{"force": "1"}, "good-again.csv", []byte(good), false)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "forced") || e.count("spend_entries") != before+4 {
		t.Fatalf("a forced re-import should store the file again:\n%s", r.Body)
	}

	r = officer.upload("/spend/import", nil, "notes.csv", []byte("hello,world\n"), false)
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "Nothing was imported. The header row must be exactly") {
		t.Fatalf("a wrong header should be explained:\n%s", r.Body)
	}
	// A file over the limit is refused as it arrives, with the limit named.
	refuseOverLimit(t, e, "/spend/import", 60<<20, "Accept: text/html", "The upload is too large: a spend file may be at most 50 MiB.")
	for _, role := range []models.Role{models.RoleBoardMember, models.RoleAuditor} {
		b := spendWebSignIn(t, e, role)
		e.mustStatus(b.request("GET", "/spend/import", nil), 403)
		e.mustStatus(b.upload("/spend/import", nil, "good.csv", []byte(good), false), 403)
	}
}

func TestSpendImportDecisionPages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	id := e.mustImport(f, "100.00", "250.50")
	page := fmt.Sprintf("/spend/imports/%d", id)
	importer, admin := spendWebSignIn(t, e, models.RoleFinanceOfficer), spendWebSignIn(t, e, models.RoleFinanceManager)

	r := importer.request("GET", page, nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), "You imported this file") || strings.Contains(string(r.Body), page+"/approve") {
		t.Fatalf("the importer should be told someone else decides, with no approve button:\n%s", r.Body)
	}
	r = importer.request("POST", page+"/approve", url.Values{})
	e.mustStatus(r, 403)
	if !strings.Contains(string(r.Body), "someone else must approve or reject") {
		t.Fatalf("the importer's approval should be refused on the page:\n%s", r.Body)
	}

	r = admin.request("GET", "/spend", nil)
	if !regexp.MustCompile(`href="` + page + `"(.|\n)*£350.50`).Match(r.Body) {
		t.Fatalf("the queue should list the import awaiting approval with its amount:\n%s", r.Body)
	}
	r = admin.request("POST", page+"/reject", url.Values{"reason": {""}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), "Give a reason") {
		t.Fatalf("a rejection without a reason should say so:\n%s", r.Body)
	}
	r = admin.request("GET", page, nil)
	if !strings.Contains(string(r.Body), "Approve all 2 (£350.50)") {
		t.Fatalf("the import page should offer to approve both entries:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", page+"/approve", url.Values{}), 303)
	r = admin.request("GET", page, nil)
	if !strings.Contains(string(r.Body), `data-figure="approved">2<`) || strings.Contains(string(r.Body), page+"/approve") {
		t.Fatalf("after approval the page should show 2 approved and no button:\n%s", r.Body)
	}
	if r = admin.request("GET", "/spend", nil); strings.Contains(string(r.Body), `href="`+page+`"`) {
		t.Fatal("a decided import should leave the queue")
	}
	// The ledger filtered by the import keeps the import when filtered again.
	r = admin.request("GET", fmt.Sprintf("/spend?import_id=%d&status=approved", id), nil)
	if !strings.Contains(string(r.Body), "Entries 1–2 of 2,") || !strings.Contains(string(r.Body), fmt.Sprintf(`name="import_id" value="%d"`, id)) {
		t.Fatalf("the ledger filtered by import should list its 2 entries and keep the filter:\n%s", r.Body)
	}
	// Each entry's page links its import and shows the import's events.
	var entryID int64
	if err := e.st.DB().NewRaw("SELECT min(id) FROM spend_entries WHERE import_id = ?", id).Scan(t.Context(), &entryID); err != nil {
		t.Fatal(err)
	}
	r = admin.request("GET", fmt.Sprintf("/spend/%d", entryID), nil)
	if !regexp.MustCompile(`href="` + page + `"(.|\n)*spend\.import(.|\n)*spend\.approve_import`).Match(r.Body) {
		t.Fatalf("an imported entry's page should link its import and show the import and its approval in its history:\n%s", r.Body)
	}
}
