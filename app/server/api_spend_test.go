package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"granttrack/app/pgtest"
	"granttrack/models"
)

func TestSpendThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	body := map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID, "amount": "600.00",
		"incurred_on": "2024-06-03", "category": "training", "reference": "INV-001", "description": "Two sessions"}

	// Over £500 needs a purpose and a value-for-money reason.
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", body)
	e.mustStatus(r, 422)
	if p := r.problem(t); len(p.Errors) != 2 || p.Errors[0].Field != "purpose" || p.Errors[1].Field != "vfm_reason" {
		t.Fatalf("problem = %+v", p)
	}
	body["purpose"], body["vfm_reason"] = "Training for youth workers", "Lowest of three quotes"
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", body)
	e.mustStatus(r, 201)
	var entry struct {
		ID     int64
		Status string
		Amount string
	}
	r.json(t, &entry)
	if entry.Status != "pending" || entry.Amount != "600.00" {
		t.Fatalf("entry = %+v", entry)
	}
	first := entry.ID
	path := fmt.Sprintf("/api/v1/spend/%d", first)
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", path+"/approve", nil), 403) // the recorder
	e.mustStatus(e.do(models.RoleBoardMember, "POST", path+"/approve", nil), 403)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", path+"/approve", nil), 200)

	var line struct {
		Totals struct{ Spent, Pending, Remaining string }
	}
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil).json(t, &line)
	if line.Totals.Spent != "600.00" || line.Totals.Remaining != "400.00" {
		t.Fatalf("totals = %+v", line.Totals)
	}

	// A second entry that would overspend is refused on approval, naming the shortfall.
	body["amount"], body["reference"] = "400.01", "INV-002"
	r = e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", body)
	e.mustStatus(r, 201)
	r.json(t, &entry)
	r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", entry.ID), nil)
	e.mustStatus(r, 409)
	if p := r.problem(t); !strings.Contains(p.Detail, "£1,000.00") || !strings.Contains(p.Detail, "£600.00") || !strings.Contains(p.Detail, "£0.01 short") {
		t.Fatalf("detail = %q", p.Detail)
	}
	r = e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", entry.ID), map[string]any{"reason": ""})
	e.mustStatus(r, 422)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/reject", entry.ID), map[string]any{"reason": "Over budget"}), 200)

	// Reverse the first entry; a second person approves the reversal.
	r = e.do(models.RoleFinanceOfficer, "POST", path+"/reverse", map[string]any{"reason": "Charged to the wrong line"})
	e.mustStatus(r, 201)
	var rev struct {
		ID         int64
		Amount     string
		ReversesID int64 `json:"reverses_id"`
	}
	r.json(t, &rev)
	if rev.Amount != "-600.00" || rev.ReversesID != first {
		t.Fatalf("reversal = %+v", rev)
	}
	e.mustStatus(e.do(models.RoleFinanceOfficer, "POST", path+"/reverse", map[string]any{"reason": "again"}), 409)
	e.mustStatus(e.do(models.RoleFinanceManager, "POST", fmt.Sprintf("/api/v1/spend/%d/approve", rev.ID), nil), 200)
	e.do(models.RoleBoardMember, "GET", fmt.Sprintf("/api/v1/funding-lines/%d", f.LineID), nil).json(t, &line)
	if line.Totals.Spent != "0.00" {
		t.Fatalf("spent after the reversal = %s", line.Totals.Spent)
	}

	var page struct{ Total int }
	e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/spend?funding_line_id=%d&fy=2024-25&quarter=Q1", f.LineID), nil).json(t, &page)
	if page.Total != 2 { // the two June entries; the reversal is dated today
		t.Fatalf("Q1 2024-25 has %d entries, want 2", page.Total)
	}
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/spend?quarter=Q1", nil), 422)
}

// TestIdempotencyKeyUnderConcurrency sends one request 100 times at once
// with one key: exactly one entry, and every response is the same.
func TestIdempotencyKeyUnderConcurrency(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	body := fmt.Sprintf(`{"funding_line_id": %d, "payee_id": %d, "amount": "12.50", "incurred_on": "2024-06-03", "category": "other"}`, f.LineID, f.RecipientID)
	before := e.count("spend_entries")
	const racers = 100
	results := make([]response, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := httptest.NewRequest("POST", "/api/v1/spend", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
			req.Header.Set("Idempotency-Key", "pay-run-2024-06-03")
			results[i] = e.send(req)
		}()
	}
	wg.Wait()
	var firstID int64
	for i, r := range results {
		if r.Status != 201 {
			t.Fatalf("racer %d: %d %s", i, r.Status, r.Body)
		}
		var got struct{ ID int64 }
		r.json(t, &got)
		if firstID == 0 {
			firstID = got.ID
		}
		if got.ID != firstID {
			t.Fatalf("racer %d got entry %d, another %d", i, got.ID, firstID)
		}
	}
	if n := e.count("spend_entries") - before; n != 1 {
		t.Fatalf("%d entries stored, want 1", n)
	}
	req := httptest.NewRequest("POST", "/api/v1/spend", strings.NewReader(strings.Replace(body, "12.50", "12.51", 1)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens[models.RoleFinanceOfficer])
	req.Header.Set("Idempotency-Key", "pay-run-2024-06-03")
	r := e.send(req)
	e.mustStatus(r, 409)
	r.problem(t)
}

func TestAuditTrailThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("10.00")
	r := e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/audit?entity=funding_line&entity_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	var page struct {
		Items []struct {
			Action        string
			ActorID       int64 `json:"actor_id"`
			Before, After map[string]any
			Hash          string
		}
		Total int
	}
	r.json(t, &page)
	// Created, then proposed, approved and moved twice: approved, active.
	if page.Total != 7 || page.Items[0].Action != "funding_line.create" || page.Items[1].Action != "line_decision.propose" ||
		page.Items[2].Action != "line_decision.approve" || page.Items[6].After["status"] != "active" || len(page.Items[0].Hash) != 64 {
		t.Fatalf("page = %+v", page)
	}
	if page.Items[0].ActorID != e.users[models.RoleFinanceOfficer].ID {
		t.Fatalf("actor %d, want the finance officer", page.Items[0].ActorID)
	}
	r = e.do(models.RoleAuditor, "GET", "/api/v1/audit?action=funding_line.&to=2000-01-01", nil)
	r.json(t, &page)
	if page.Total != 0 {
		t.Fatalf("events before 2000: %d", page.Total)
	}
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/audit?from=yesterday", nil), 422)
	r = e.do(models.RoleAuditor, "GET", "/api/v1/audit/verify", nil)
	e.mustStatus(r, 200)
	var v struct {
		OK      bool
		ChainOK bool `json:"chain_ok"`
		Count   int
		Ledger  struct{ OK bool }
	}
	r.json(t, &v)
	if !v.OK || !v.ChainOK || v.Count < 3 || !v.Ledger.OK {
		t.Fatalf("verify = %+v", v)
	}
}

// TestAuditVerifyChecksTheLedger changes a spend entry's amount as only the
// schema's owner could (triggers off) and back: the chain still verifies, the
// answer does not, and it names the entry.
func TestAuditVerifyChecksTheLedger(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": "40.00", "incurred_on": "2024-06-03", "category": "other"})
	e.mustStatus(r, 201)
	var entry struct{ ID int64 }
	r.json(t, &entry)
	set := func(amount string) {
		t.Helper()
		// As the schema's owner: the application role cannot switch the
		// append-only trigger off.
		pgtest.Tamper(t, e.st, []string{"spend_entries"}, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.NewRaw("UPDATE spend_entries SET amount = ? WHERE id = ?", amount, entry.ID).Exec(ctx)
			return err
		})
	}
	set("4000.00")
	defer set("40.00")
	var v struct {
		OK      bool
		ChainOK bool `json:"chain_ok"`
		Reason  string
		Ledger  struct {
			Findings []struct {
				EntryID int64 `json:"entry_id"`
				Problem string
			}
		}
	}
	e.do(models.RoleAuditor, "GET", "/api/v1/audit/verify", nil).json(t, &v)
	found := false
	for _, f := range v.Ledger.Findings {
		found = found || f.EntryID == entry.ID && strings.Contains(f.Problem, "amount 4000.00, recorded 40")
	}
	if v.OK || !v.ChainOK || !found || !strings.Contains(v.Reason, "ledger DIFFERS") {
		t.Fatalf("verify after changing entry %d's amount: %+v", entry.ID, v)
	}
}

func TestExportLedgerThroughTheAPI(t *testing.T) {
	e := MustEnv(t)
	f := e.mustFixture("1000.00")
	r := e.do(models.RoleFinanceOfficer, "POST", "/api/v1/spend", map[string]any{"funding_line_id": f.LineID, "payee_id": f.RecipientID,
		"amount": "12.00", "incurred_on": "2024-06-03", "category": "other", "description": "=2+2"})
	e.mustStatus(r, 201)
	r = e.do(models.RoleAuditor, "GET", fmt.Sprintf("/api/v1/exports/ledger?format=csv&funding_line_id=%d", f.LineID), nil)
	e.mustStatus(r, 200)
	var m struct {
		Rows   int
		SHA256 string `json:"sha256"`
	}
	if err := json.Unmarshal([]byte(r.Header.Get("Granttrack-Manifest")), &m); err != nil {
		t.Fatalf("manifest header %q: %v", r.Header.Get("Granttrack-Manifest"), err)
	}
	sum := sha256.Sum256(r.Body)
	if m.Rows != 1 || m.SHA256 != hex.EncodeToString(sum[:]) || !strings.Contains(string(r.Body), "'=2+2") {
		t.Fatalf("manifest %+v; body %s", m, r.Body)
	}
	e.mustStatus(e.do(models.RoleAuditor, "GET", "/api/v1/exports/ledger?format=xml", nil), 422)
	e.mustStatus(e.do(models.RoleFinanceOfficer, "GET", "/api/v1/exports/ledger", nil), 403)
}
