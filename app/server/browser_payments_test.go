package server_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"granttrack/models"
)

// TestPaymentRunInABrowser: in headless Chromium a finance officer ticks
// two due tranches and proposes them as a run; the finance manager
// approves it from the approvals page; the run's remittance is then
// downloaded with the manager's session, one CRLF row per payment.
func TestPaymentRunInABrowser(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	p := e.mustTrancheAward(f)
	ctx, base := e.browse(t)
	maker, checker := e.users[models.RoleFinanceOfficer], e.users[models.RoleFinanceManager]
	box := func(id int64) string { return fmt.Sprintf(`input[name="tranche_ids"][value="%d"]`, id) }

	err := chromedp.Do(ctx, signIn(base, maker), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)),
		chromedp.Navigate(base+"/payment-runs"), chromedp.WaitVisible(chromedp.CSS(box(p.Tranches[0]))),
		chromedp.Click(chromedp.CSS(box(p.Tranches[0]))), chromedp.Click(chromedp.CSS(box(p.Tranches[1]))),
		chromedp.SetValue(`input[name="pay_on"]`, "2024-12-05"),
		chromedp.SendKeys(`input[name="note"]`, "December tranches"),
		chromedp.Submit(`input[name="pay_on"]`),
		chromedp.WaitVisible(chromedp.CSS(`[data-figure="status"]`)))
	if err != nil {
		t.Fatalf("proposing the run: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id, err := strconv.ParseInt(loc[strings.LastIndex(loc, "/")+1:], 10, 64)
	if err != nil {
		t.Fatalf("the run's page is %s", loc)
	}
	screenshot(t, ctx, "payment-run-proposed.png")

	approve := fmt.Sprintf(`form[action="/approvals/payment_run/%d/approve"] button`, id)
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitVisible(`input[name="email"]`),
		signIn(base, checker), chromedp.WaitVisible(chromedp.CSS(`form[action="/logout"]`)), chromedp.Navigate(base+"/approvals?per_page=500"),
		chromedp.WaitVisible(chromedp.CSS(approve)), chromedp.Click(chromedp.CSS(approve)), chromedp.WaitNotPresent(chromedp.CSS(approve)),
		chromedp.Navigate(fmt.Sprintf("%s/payment-runs/%d", base, id)), chromedp.WaitVisible(chromedp.CSS(`#remittance`)))
	if err != nil {
		t.Fatalf("approving the run: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`[data-figure="status"]`)))
	if err != nil || status != "Approved" {
		t.Fatalf("the run is %q (%v)", status, err)
	}
	screenshot(t, ctx, "payment-run-approved.png")
	remittance, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(document.getElementById('remittance').href).then(r => r.text())`,
		func(p *runtime.EvaluateParams) { p.AwaitPromise = new(true) }))
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(remittance, "\r\n"), "\r\n")
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "payment_reference,payment_run,pay_on,") ||
		!strings.Contains(rows[1], ",2024-12-05,") || !strings.Contains(rows[2], ",3333.33,") {
		t.Fatalf("the remittance downloaded:\n%q", remittance)
	}
}
