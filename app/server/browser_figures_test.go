package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"granttrack/app/demo"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// TestBoardFiguresThatDoNotMisleadInABrowser reads, in headless Chromium,
// three figures the dashboard used to get wrong:
//   - the headline of 2031-32, on 30 September 2031 (183 of 366 days gone),
//     over three programmes each profiled £100,000.00 for the year: one has
//     spent £60,000.00 (forecast £120,000.00, red), one £40,000.00 (£80,000.00,
//     red), one £50,000.00 (£100,000.00, green). Netted, £300,000.00 against
//     £300,000.00 was rated green; it is red, the worst of its parts, with
//     the count beside it;
//   - the demo's hate crime line, which ended on 31 March 2025, in the year
//     its duplicate invoice was reversed: "Ended" (it said "Not started"),
//     with the reversal dated after its end shown as an exception;
//   - the demo's cost per county line closed in 2024-25: £2,702.70 (£500,000.00
//     ÷ the 185 closures of the year), not £869.57 (÷ the 575 since 2022),
//     and £3,478.26 life to date (£2,000,000.00 ÷ 575).
func TestBoardFiguresThatDoNotMisleadInABrowser(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	if _, err := demo.Load(ctx, e.st); err != nil {
		t.Fatal(err)
	}
	var reversedOn time.Time
	if err := e.st.DB().NewRaw(`SELECT incurred_on FROM spend_entries WHERE reverses_id IN (SELECT id FROM spend_entries WHERE reference = 'GAL-INV-0412/2')`).
		Scan(ctx, &reversedOn); err != nil {
		t.Fatal(err)
	}
	officers := storetest.Officers(t, e.st, "browser-headline-maker@test.example", "browser-headline-checker@test.example")
	for i, amount := range []string{"60000.00", "40000.00", "50000.00"} {
		l := storetest.ActiveLine(t, e.st, storetest.LineSpec{Code: fmt.Sprintf("BROWSER-HEADLINE-%d", i), PayeeName: fmt.Sprintf("Browser headline payee %d", i),
			Budget: "200000.00", StartsOn: "2031-04-01", EndsOn: "2033-03-31", Profile: map[string]string{"2031-32": "100000.00", "2032-33": "100000.00"}})
		s, err := models.SpendInput{FundingLineID: l.ID, PayeeID: l.Payee.ID, Amount: amount, IncurredOn: "2031-06-01", Category: "grant_payment",
			Purpose: "Payment", VFMReason: "Milestone evidence"}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.RecordSpend(ctx, officers[0], s, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.ApproveSpend(ctx, officers[1], s.ID); err != nil {
			t.Fatal(err)
		}
	}
	real := e.st.Clock()
	t.Cleanup(func() { e.st.SetClock(real) })
	e.st.SetClock(func() time.Time { return time.Date(2031, 9, 30, 12, 0, 0, 0, time.UTC) })

	bctx, base := e.browse(t)
	if err := chromedp.Do(bctx, signIn(base, e.users[models.RoleBoardMember]), chromedp.WaitVisible(`#chart-programmes`)); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	// The headline: today's year, 2031-32.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/dashboard"), chromedp.WaitReady(`#programmes-table`)); err != nil {
		t.Fatal(err)
	}
	headline, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[document.querySelector('[data-figure="total.rag"]').textContent.trim(),
		document.querySelector('[data-figure="total.rollup"]').textContent.trim()]`))
	if err != nil {
		t.Fatal(err)
	}
	if headline[0] != "Red" || headline[1] != "worst of 3 programmes: 2 red, 0 amber, 1 green" {
		t.Fatalf("headline %q", headline)
	}

	// The ended line, in the year of the reversal.
	fy := models.FinancialYearOf(reversedOn)
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/dashboard?fy="+fy.String()), chromedp.WaitReady(`#lines-table`)); err != nil {
		t.Fatal(err)
	}
	ended, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => {
		const row = [...document.querySelectorAll('#lines-table tr')].find(r => r.textContent.includes('HATE-CRIME-SUPPORT'));
		if (!row) return [];
		const after = row.querySelector('[data-figure="after_end"]');
		return [row.querySelector('[data-figure="state"]').textContent.trim(), after ? after.textContent.trim() : ''];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(ended) != 2 || ended[0] != "Ended" || !strings.Contains(ended[1], "-£3,250.00") || !strings.Contains(ended[1], "after the line ended") {
		t.Fatalf("the hate crime line in %s: %q", fy, ended)
	}

	// Cost per county line closed in 2024-25.
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"/dashboard?fy=2024-25"), chromedp.WaitReady(`#outcomes-table`)); err != nil {
		t.Fatal(err)
	}
	costs, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => {
		const row = [...document.querySelectorAll('#outcomes-table tr')].find(r => r.textContent.includes('County lines closed'));
		if (!row) return [];
		return [row.querySelector('[data-figure="cost"] [data-figure="value"]').textContent.trim(),
			row.querySelector('[data-figure="cost_to_date"] [data-figure="value"]').textContent.trim(),
			document.getElementById('cost-method').textContent];
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(costs) != 3 || costs[0] != "£2,702.70" || costs[1] != "£3,478.26" || !strings.Contains(costs[2], "the latest reading dated on or before its first day") {
		t.Fatalf("county lines: %q", costs)
	}
	screenshot(t, bctx, "dashboard-cost-per-outcome.png")
}
