package server_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"granttrack/models"
)

// TestPaymentPages: the record-spend form offers the line's awards and
// their unpaid tranches and puts an overpayment's message beside the
// tranche; the award page shows paid, outstanding and overdue and moves a
// tranche; a run is proposed on the web, approved by someone else on the
// approvals page, and its remittance downloads.
func TestPaymentPages(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	p := e.mustTrancheAward(f)
	maker := spendWebSignIn(t, e, models.RoleFinanceOfficer)

	r := maker.request("GET", fmt.Sprintf("/spend/new?funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	for _, want := range []string{fmt.Sprintf(`<option value="%d" data-line="%d"`, p.AwardID, f.LineID),
		fmt.Sprintf(`<option value="%d" data-award="%d"`, p.Tranches[2], p.AwardID), "£3,333.34 outstanding"} {
		if !strings.Contains(string(r.Body), want) {
			t.Fatalf("the form lacks %s:\n%s", want, r.Body)
		}
	}
	r = maker.request("POST", "/spend/new", url.Values{"funding_line_id": {fmt.Sprint(f.LineID)}, "payee_id": {fmt.Sprint(f.RecipientID)},
		"award_id": {fmt.Sprint(p.AwardID)}, "tranche_id": {fmt.Sprint(p.Tranches[2])}, "amount": {"6000.00"}, "incurred_on": {"2024-12-02"},
		"category": {"grant_payment"}, "purpose": {"Tranche 3"}, "vfm_reason": {"Agreed schedule"}})
	e.mustStatus(r, 422)
	if !regexp.MustCompile(`id="tranche-error">tranche 3 of award [^<]* has £3,333.34 outstanding; £6,000.00 exceeds it by £2,666.66`).Match(r.Body) {
		t.Fatalf("the overpayment should be explained beside the tranche:\n%s", r.Body)
	}

	award := fmt.Sprintf("/awards/%d", p.AwardID)
	r = maker.request("GET", award, nil)
	e.mustStatus(r, 200)
	if !strings.Contains(string(r.Body), `data-figure="overdue">£10,000.00`) || !strings.Contains(string(r.Body), `data-figure="paid">£0.00`) {
		t.Fatalf("the award page should show what is paid and overdue:\n%s", r.Body)
	}
	withhold := fmt.Sprintf("/tranches/%d/withhold", p.Tranches[2])
	r = maker.request("POST", withhold, url.Values{"reason": {" "}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), `class="field-error">is required`) {
		t.Fatalf("a missing reason should be shown beside the tranche's form:\n%s", r.Body)
	}
	e.mustStatus(maker.request("POST", withhold, url.Values{"reason": {"Monitoring report late"}}), 303)
	if r = maker.request("GET", award, nil); !strings.Contains(string(r.Body), fmt.Sprintf(`id="tranche-%d" data-status="withheld"`, p.Tranches[2])) {
		t.Fatalf("the tranche should be withheld:\n%s", r.Body)
	}

	r = maker.request("POST", "/payment-runs", url.Values{"pay_on": {"2024-12-05"}})
	e.mustStatus(r, 422)
	if !strings.Contains(string(r.Body), `id="tranche-ids-error">choose at least one tranche`) {
		t.Fatalf("an empty run should be explained beside the tranches:\n%s", r.Body)
	}
	r = maker.request("POST", "/payment-runs", url.Values{"pay_on": {"2024-12-05"}, "note": {"December"},
		"tranche_ids": {fmt.Sprint(p.Tranches[0]), fmt.Sprint(p.Tranches[1])}})
	e.mustStatus(r, 303)
	run := r.Header.Get("Location")
	id := strings.TrimPrefix(run, "/payment-runs/")

	admin := spendWebSignIn(t, e, models.RoleFinanceManager)
	if r = admin.request("GET", "/approvals?per_page=500", nil); !strings.Contains(string(r.Body), `href="`+run+`"`) {
		t.Fatalf("the run should await the admin:\n%s", r.Body)
	}
	e.mustStatus(admin.request("POST", "/approvals/payment_run/"+id+"/approve", url.Values{}), 303)
	r = maker.request("GET", run, nil)
	if !strings.Contains(string(r.Body), `data-figure="status">Approved`) || !strings.Contains(string(r.Body), run+"/remittance.csv") {
		t.Fatalf("the approved run should offer its remittance:\n%s", r.Body)
	}
	r = maker.request("GET", run+"/remittance.csv", nil)
	e.mustStatus(r, 200)
	if !strings.HasPrefix(string(r.Body), "payment_reference,") || strings.Count(string(r.Body), "\r\n") != 3 {
		t.Fatalf("remittance:\n%s", r.Body)
	}
	board := spendWebSignIn(t, e, models.RoleBoardMember)
	e.mustStatus(board.request("POST", "/payment-runs", url.Values{"pay_on": {"2024-12-05"}}), 403)
}
