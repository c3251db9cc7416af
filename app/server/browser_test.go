package server_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"granttrack/app/demo"
	"granttrack/models"
)

// chromium finds the browser; the test fails rather than skips without it,
// because CI must run it (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium on this machine: apt-get install chromium (the browser test must run, not skip)")
	return ""
}

// artifactDir is where the browser test leaves its screenshot:
// $GRANTTRACK_TEST_ARTIFACTS, or a folder in the system's temp dir.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("GRANTTRACK_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "granttrack-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestBoardMemberReadsTheDashboardInABrowser signs in as a board member in
// headless Chromium, opens the dashboard on the demo data, reads the figures
// and the charts' data off the page and compares them with the API.
func TestBoardMemberReadsTheDashboardInABrowser(t *testing.T) {
	e := MustEnv(t)
	if _, err := demo.Load(context.Background(), e.st); err != nil {
		t.Fatal(err)
	}
	ctx, base := e.browse(t)
	err := chromedp.Do(ctx, signIn(base, e.users[models.RoleBoardMember]), chromedp.WaitVisible(`#chart-programmes`))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	landed, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.HasSuffix(landed, "/dashboard") {
		t.Fatalf("a board member landed on %q (%v), not the dashboard", landed, err)
	}

	// 2024-25, when most of the demo's story happens.
	err = chromedp.Do(ctx, chromedp.Navigate(base+"/dashboard?fy=2024-25"), chromedp.WaitVisible(`body[data-charts="drawn"]`))
	if err != nil {
		t.Fatalf("dashboard with charts drawn: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries(
		[...document.querySelectorAll('[data-figure^="total."]')].map(el => [el.dataset.figure.slice(6), el.textContent.trim()]))`))
	if err != nil {
		t.Fatal(err)
	}
	var api struct {
		Groups []figureMap
		Total  figureMap
	}
	e.do(models.RoleBoardMember, "GET", "/api/v1/reports/budget?fy=2024-25", nil).json(t, &api)
	if api.Total["spent"] == "0.00" {
		t.Fatal("the demo's 2024-25 has no spend; the comparison would mean nothing")
	}
	for _, k := range []string{"budget", "reserved", "committed", "pending", "spent", "remaining", "forecast", "variance", "burn_rate"} {
		if got := plain(shown[k]); got != api.Total[k] {
			t.Errorf("%s: the page shows %q, the API says %q", k, shown[k], api.Total[k])
		}
	}
	// The bar chart draws the API's spend per programme.
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`Chart.getChart('chart-programmes').data.datasets[2].data`))
	if err != nil {
		t.Fatal(err)
	}
	if len(drawn) != len(api.Groups) {
		t.Fatalf("the chart has %d programmes, the API %d", len(drawn), len(api.Groups))
	}
	for i, g := range api.Groups {
		// The chart's number, shortest form, is the API's amount.
		if got := decimal.NewFromFloat(drawn[i]).StringFixed(2); got != g["spent"] {
			t.Errorf("programme %s: chart %s, API %s", g["code"], got, g["spent"])
		}
	}
	// Each trend draws its indicator's readings as the API gives them.
	var vfm struct {
		Outcomes []struct {
			Series []struct {
				PeriodEnd string `json:"period_end"`
				Value     string `json:"value"`
			} `json:"series"`
		} `json:"outcomes"`
	}
	e.do(models.RoleBoardMember, "GET", "/api/v1/reports/value-for-money?fy=2024-25", nil).json(t, &vfm)
	if len(vfm.Outcomes) == 0 || len(vfm.Outcomes[0].Series) == 0 {
		t.Fatal("the demo's first indicator has no readings in 2024-25; the comparison would mean nothing")
	}
	type trend struct {
		Labels []string  `json:"labels"`
		Data   []float64 `json:"data"`
	}
	drew, err := chromedp.Run(ctx, chromedp.Evaluate[trend](`(c => ({labels: c.data.labels, data: c.data.datasets[0].data}))(Chart.getChart('chart-indicator-0'))`))
	if err != nil {
		t.Fatal(err)
	}
	series := vfm.Outcomes[0].Series
	if len(drew.Labels) != len(series) || len(drew.Data) != len(series) {
		t.Fatalf("the first trend draws %d readings (%d values), the API has %d", len(drew.Labels), len(drew.Data), len(series))
	}
	for i, m := range series {
		if drew.Labels[i] != m.PeriodEnd || !decimal.NewFromFloat(drew.Data[i]).Equal(decimal.RequireFromString(m.Value)) {
			t.Errorf("reading %d: drawn %s %v, API %s %s", i, drew.Labels[i], drew.Data[i], m.PeriodEnd, m.Value)
		}
	}
	screenshot(t, ctx, "dashboard-2024-25.png")
}

// browse serves e on a local port and opens headless Chromium; it returns
// the browser's context (closed with the test) and the server's base URL.
func (e *env) browse(t *testing.T) (context.Context, string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return e.browseOn(t, ln)
}

// browseOn is browse with the server on ln.
func (e *env) browseOn(t *testing.T, ln net.Listener) (context.Context, string) {
	browser := chromium(t)
	go func() { _ = e.srv.Serve(ln) }()
	t.Cleanup(func() { _ = e.srv.Shutdown(context.Background()) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.Headless,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true), chromedp.WindowSize(1400, 1800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// A safety net, not a timed assertion: a loaded machine is slow.
	ctx, cancelTime := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancelTime)
	return ctx, "http://" + ln.Addr().String()
}

// signIn fills in the sign-in form as u.
func signIn(base string, u *models.User) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, u.Email),
		chromedp.SendKeys(`input[name="password"]`, testPassword),
		chromedp.Submit(`input[name="password"]`),
	)
}

// screenshot saves the whole page as name in the artifact folder.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifactDir(t), name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(shot) < 10_000 {
		t.Fatalf("the screenshot %s is only %d bytes", name, len(shot))
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(shot))
}

// TestFinanceOfficersRecordAndApproveInABrowser walks the maker-checker flow
// in headless Chromium: a finance officer sees the line's remaining budget
// as they choose it, is told beside the field what is wrong with an amount
// (and nothing is stored), records the entry, cannot approve it themselves;
// an admin then approves it from the queue, and is refused, with the
// shortfall named, an entry that would overspend the line.
func TestFinanceOfficersRecordAndApproveInABrowser(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("36500.00")
	ctx, base := e.browse(t)
	maker, checker := e.users[models.RoleFinanceOfficer], e.users[models.RoleFinanceManager]
	lineOption := fmt.Sprintf(`select[name="funding_line_id"] option[value="%d"]`, f.LineID)
	entries := func() int {
		var n int
		if err := e.st.DB().NewRaw("SELECT count(*) FROM spend_entries WHERE funding_line_id = ?", f.LineID).Scan(context.Background(), &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The form opened from the line's page offers the line whatever else
	// the shared database holds.
	form := fmt.Sprintf("%s/spend/new?funding_line_id=%d&payee_id=%d", base, f.LineID, f.RecipientID)
	fill := func(amount, purpose string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Navigate(form),
			chromedp.WaitVisible(`select[name="funding_line_id"]`),
			chromedp.SetValue(`select[name="funding_line_id"]`, strconv.FormatInt(f.LineID, 10)),
			chromedp.SetValue(`select[name="payee_id"]`, strconv.FormatInt(f.RecipientID, 10)),
			chromedp.SendKeys(`input[name="amount"]`, amount),
			chromedp.SetValue(`input[name="incurred_on"]`, "2024-06-14"),
			chromedp.SendKeys(`input[name="reference"]`, "INV-0042"),
			chromedp.SendKeys(`textarea[name="purpose"]`, purpose),
			chromedp.SendKeys(`textarea[name="vfm_reason"]`, "Three quotes; the lowest was taken."),
			chromedp.Submit(`input[name="amount"]`),
		)
	}

	if err := chromedp.Do(ctx, signIn(base, maker), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)), chromedp.Navigate(form),
		chromedp.WaitReady(chromedp.CSS(lineOption))); err != nil {
		t.Fatalf("the record-spend form: %v", err)
	}
	option, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(lineOption)))
	if err != nil || !strings.Contains(option, "£36,500.00 remaining") {
		t.Fatalf("the line is offered as %q (%v), without its remaining budget", option, err)
	}

	// A fraction of a penny is refused beside the field, never rounded.
	if err := chromedp.Do(ctx, fill("1250.005", "Youth outreach sessions"), chromedp.WaitVisible(`#amount-error`)); err != nil {
		t.Fatalf("a bad amount: %v", err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(`#amount-error`))
	if err != nil || !strings.Contains(msg, "decimal") && !strings.Contains(msg, "penny") && !strings.Contains(msg, "pence") {
		t.Fatalf("beside the amount: %q (%v)", msg, err)
	}
	if n := entries(); n != 0 {
		t.Fatalf("%d entries stored after a refused form", n)
	}
	screenshot(t, ctx, "record-spend-amount-refused.png")

	if err := chromedp.Do(ctx, fill("1250.00", "Youth outreach sessions"), chromedp.WaitVisible(`h1 .status`)); err != nil {
		t.Fatalf("recording: %v", err)
	}
	first := entryOnPage(t, ctx, "Pending")
	if mine, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.innerText.includes('someone else must approve')`)); err != nil || !mine {
		t.Fatalf("the recorder was not told someone else must approve (%v)", err)
	}
	if err := chromedp.Do(ctx, fill("35250.01", "Equipment"), chromedp.WaitVisible(`h1 .status`)); err != nil {
		t.Fatalf("recording the second entry: %v", err)
	}
	second := entryOnPage(t, ctx, "Pending")

	// The second officer approves the first from the queue.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(`input[name="email"]`),
		signIn(base, checker), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)), chromedp.Navigate(base+"/spend"),
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`#queue a[href="/spend/%d"]`, first))),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`h1 .status.approved`)))
	if err != nil {
		t.Fatalf("approving from the queue: %v", err)
	}
	if got := entryOnPage(t, ctx, "Approved"); got != first {
		t.Fatalf("approved #%d, want #%d", got, first)
	}

	// £1,250.00 + £35,250.01 is a penny over the budget.
	err = chromedp.Do(ctx, chromedp.Navigate(fmt.Sprintf("%s/spend/%d", base, second)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.error`)))
	if err != nil {
		t.Fatalf("approving an overspend: %v", err)
	}
	refusal, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.flash.error`)))
	if err != nil || !strings.Contains(refusal, "£0.01") || !strings.Contains(refusal, "£36,500.00") {
		t.Fatalf("the refusal reads %q (%v); it must name the budget and the shortfall", refusal, err)
	}
	entryOnPage(t, ctx, "Pending")
	if err := chromedp.Do(ctx, chromedp.Navigate(form), chromedp.WaitReady(chromedp.CSS(lineOption))); err != nil {
		t.Fatal(err)
	}
	if option, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(lineOption))); err != nil || !strings.Contains(option, "£35,250.00 remaining") {
		t.Fatalf("after the approval the line is offered as %q (%v)", option, err)
	}
	screenshot(t, ctx, "record-spend-form.png")
}

// entryOnPage reads the spend entry page's id and checks its status.
func entryOnPage(t *testing.T, ctx context.Context, status string) int64 {
	t.Helper()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	// After a refused decision the page is the form's answer, /spend/{id}/approve.
	m := regexp.MustCompile(`/spend/(\d+)(/\w+)?$`).FindStringSubmatch(loc)
	if m == nil {
		t.Fatalf("not on an entry's page: %s", loc)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	shown, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`h1 .status`)))
	if err != nil || shown != status {
		t.Fatalf("entry #%d shows %q (%v), want %q", id, shown, err, status)
	}
	return id
}

// TestCheckerApprovesAnImportInABrowser uploads a spend CSV through the web
// form as one finance officer, then, as an admin, finds the import among
// those awaiting approval and approves all of it at once.
func TestCheckerApprovesAnImportInABrowser(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("5000.00")
	ctx, base := e.browse(t)
	fl, err := e.st.FundingLine(context.Background(), f.LineID)
	if err != nil {
		t.Fatal(err)
	}
	payee, err := e.st.Organisation(context.Background(), f.RecipientID)
	if err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(t.TempDir(), "june.csv")
	csv := strings.Join(models.SpendImportColumns, ",") + "\n"
	for i, amount := range []string{"120.00", "480.50", "1250.00"} {
		csv += fmt.Sprintf("%s,,\"%s\",%s,2024-06-%02d,services,JUN-%d,Sessions,Youth outreach,Framework rate\n", fl.Code, payee.Name, amount, i+3, i)
	}
	if err := os.WriteFile(csvPath, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(ctx, signIn(base, e.users[models.RoleFinanceOfficer]), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
		chromedp.Navigate(base+"/spend/import"), chromedp.WaitVisible(chromedp.CSS(`input[type="file"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[type="file"]`), []string{csvPath}),
		chromedp.Submit(chromedp.CSS(`input[type="file"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.flash.ok`)))
	if err != nil {
		t.Fatalf("uploading the file: %v", err)
	}
	result, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.flash.ok`)))
	if err != nil || !strings.Contains(result, "Imported 3 spend entries totalling £1,850.50") {
		t.Fatalf("the import says %q (%v)", result, err)
	}
	importPage, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.flash.ok a[href^="/spend/imports/"]').getAttribute('href')`))
	if err != nil {
		t.Fatalf("the result links no import page: %v", err)
	}

	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(`input[name="email"]`),
		signIn(base, e.users[models.RoleFinanceManager]), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
		chromedp.Navigate(base+"/spend"), chromedp.Click(chromedp.CSS(`#imports a[href="`+importPage+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/approve"] button`)))
	if err != nil {
		t.Fatalf("finding the import awaiting approval: %v", err)
	}
	button, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`form[action$="/approve"] button`)))
	if err != nil || button != "Approve all 3 (£1,850.50)" {
		t.Fatalf("the approve button reads %q (%v)", button, err)
	}
	screenshot(t, ctx, "import-awaiting-approval.png")
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)),
		chromedp.WaitNotPresent(chromedp.CSS(`form[action$="/approve"]`)))
	if err != nil {
		t.Fatalf("approving the import: %v", err)
	}
	approved, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-figure="approved"]`)))
	if err != nil || approved != "3" {
		t.Fatalf("the import page shows %q approved (%v), want 3", approved, err)
	}
	var spent string
	if err := e.st.DB().NewRaw("SELECT coalesce(sum(amount), 0)::text FROM spend_entries WHERE funding_line_id = ? AND status = 'approved'", f.LineID).
		Scan(context.Background(), &spent); err != nil || spent != "1850.50" {
		t.Fatalf("approved on the line: %s (%v), want 1850.50", spent, err)
	}
}

// TestSignInLinksCannotPlantCookiesOrLeaveTheSiteInABrowser follows links
// that once added a header to the sign-in's redirect, or sent Chromium to
// another site after sign-in, in headless Chromium.
func TestSignInLinksCannotPlantCookiesOrLeaveTheSiteInABrowser(t *testing.T) {
	e := MustEnv(t)
	ctx, base := e.browse(t)
	u := e.users[models.RoleAuditor]
	for _, next := range []string{"/%0d%0aSet-Cookie:planted=1", "/%09/evil.example/", "/%5C%5Cevil.example/", "//evil.example/"} {
		err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/login?next="+next),
			chromedp.WaitVisible(`input[name="email"]`),
			chromedp.SendKeys(`input[name="email"]`, u.Email),
			chromedp.SendKeys(`input[name="password"]`, testPassword),
			chromedp.Submit(`input[name="password"]`),
			chromedp.WaitVisible(`form[action="/logout"] button`),
		)
		if err != nil {
			t.Fatalf("next=%s: sign in: %v", next, err)
		}
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil || !strings.HasPrefix(loc, base+"/") {
			t.Fatalf("next=%s: the browser is at %q (%v), want this site", next, loc, err)
		}
		cookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
		if err != nil || strings.Contains(cookies, "planted") {
			t.Fatalf("next=%s: cookies %q (%v)", next, cookies, err)
		}
		// Signed in, the same link redirects at once: still to this site.
		if err := chromedp.Do(ctx, chromedp.Navigate(base+"/login?next="+next), chromedp.WaitVisible(`form[action="/logout"] button`)); err != nil {
			t.Fatalf("next=%s signed in: %v", next, err)
		}
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, base+"/") {
			t.Fatalf("next=%s signed in: the browser is at %q (%v)", next, loc, err)
		}
		if err := chromedp.Do(ctx, chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`input[name="email"]`)); err != nil {
			t.Fatalf("sign out: %v", err)
		}
	}
}
