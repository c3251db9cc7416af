package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"granttrack/models"
)

// TestIdempotencyKeyOnEveryCreatingRoute sends the same creating request
// 20 times at once with one key, on routes other than spend (which has its
// own test): one record, the same answer each time, and the key with
// another body refused.
func TestIdempotencyKeyOnEveryCreatingRoute(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	tests := []struct {
		name, path, table, body, other string
	}{
		{"Programme", "/api/v1/programmes", "programmes", fmt.Sprintf(`{"code": %q, "name": "P", "plan": "Plan"}`, unique("IDEM")), `{"code": "OTHER", "name": "P", "plan": "Plan"}`},
		{"Award", fmt.Sprintf("/api/v1/funding-lines/%d/awards", f.LineID), "awards",
			fmt.Sprintf(`{"recipient_id": %d, "reference": %q, "amount": "10.00", "awarded_on": "2024-04-02", "starts_on": "2024-04-02", "ends_on": "2024-06-30"}`, f.RecipientID, unique("IDEM-")),
			fmt.Sprintf(`{"recipient_id": %d, "reference": "IDEM-OTHER", "amount": "11.00", "awarded_on": "2024-04-02", "starts_on": "2024-04-02", "ends_on": "2024-06-30"}`, f.RecipientID)},
		{"Reservation", fmt.Sprintf("/api/v1/funding-lines/%d/reservations", f.LineID), "reservations",
			`{"amount": "5.00", "purpose": "Tender", "expected_on": "2024-07-01"}`, `{"amount": "6.00", "purpose": "Tender", "expected_on": "2024-07-01"}`},
		{"OfficeHolderExpense", "/api/v1/office-holder-expenses", "office_holder_expenses",
			fmt.Sprintf(`{"office_holder": "Alex Morgan (fictional)", "office": "Deputy Mayor", "incurred_on": "2024-06-04", "category": "travel", "description": %q, "amount": "86.40"}`, unique("Rail ")),
			`{"office_holder": "Alex Morgan (fictional)", "office": "Deputy Mayor", "incurred_on": "2024-06-04", "category": "travel", "amount": "99.00"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := unique("key-")
			send := func(body string) response {
				req := httptest.NewRequest("POST", tc.path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
				req.Header.Set("Idempotency-Key", key)
				return e.send(req)
			}
			before := e.count(tc.table)
			const racers = 20
			results := make([]response, racers)
			var wg sync.WaitGroup
			for i := range racers {
				wg.Go(func() { results[i] = send(tc.body) })
			}
			wg.Wait()
			replays := 0
			for i, r := range results {
				if r.Status != 201 || string(r.Body) != string(results[0].Body) {
					t.Fatalf("racer %d: %d %s, first %s", i, r.Status, r.Body, results[0].Body)
				}
				if r.Header.Get("Idempotent-Replayed") == "true" {
					replays++
				}
			}
			if n := e.count(tc.table) - before; n != 1 || replays != racers-1 {
				t.Fatalf("%d stored and %d replays, want 1 and %d", n, replays, racers-1)
			}
			r := send(tc.other)
			e.mustStatus(r, 409)
			r.problem(t)
			if n := e.count(tc.table) - before; n != 1 {
				t.Fatalf("%d stored after the conflicting request", n)
			}
		})
	}
}

// TestCreatingRoutesWriteInTheKeysTransaction: what a creating request with
// an Idempotency-Key stores is written in the same transaction as the key,
// so that neither can be kept without the other (a retry after a failure
// between two transactions would otherwise store it twice). Both rows take
// now() by default, which is the time their transaction began.
func TestCreatingRoutesWriteInTheKeysTransaction(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("100000.00")
	sameTransaction := func(table, column string, id int64, key string) {
		t.Helper()
		var row, kept time.Time
		if err := e.st.DB().NewRaw("SELECT "+column+" FROM "+table+" WHERE id = ?", id).Scan(context.Background(), &row); err != nil {
			t.Fatal(err)
		}
		if err := e.st.DB().NewRaw("SELECT created_at FROM idempotency_keys WHERE key = ?", key).Scan(context.Background(), &kept); err != nil {
			t.Fatal(err)
		}
		if !row.Equal(kept) {
			t.Fatalf("%s %d was written in a transaction begun at %s, its key %s in one begun at %s", table, id, row, key, kept)
		}
	}
	withKey := func(req *http.Request) (response, string) {
		key := unique("key-")
		req.Header.Set("Idempotency-Key", key)
		return e.send(req), key
	}

	body, ct := multipartBody(t, "file", "receipt.pdf", "application/pdf", testPDF, nil)
	r, key := withKey(e.multipartRequest(models.RoleFinanceOfficer, fmt.Sprintf("/api/v1/spend/%d/evidence", e.mustSpend(f, "10.00")), body, ct))
	e.mustStatus(r, 201)
	var created struct{ ID int64 }
	r.json(t, &created)
	sameTransaction("spend_evidence", "uploaded_at", created.ID, key)

	p := e.mustTrancheAward(f)
	req := httptest.NewRequest("POST", "/api/v1/payment-runs",
		strings.NewReader(fmt.Sprintf(`{"pay_on": "2024-12-05", "tranche_ids": [%d]}`, p.Tranches[0])))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
	r, key = withKey(req)
	e.mustStatus(r, 201)
	r.json(t, &created)
	sameTransaction("payment_runs", "proposed_at", created.ID, key)
}
