package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

// TestVerifyLedgerCatchesTampering builds a small ledger in a database of
// its own (entries recorded, approved, rejected, reversed, imported and
// approved whole), checks that it verifies, then changes it the way only
// someone able to switch the append-only triggers off could, one way at a
// time, and checks that VerifyLedger names the entry and the change.
func TestVerifyLedgerCatchesTampering(t *testing.T) {
	ctx := context.Background()
	st := FreshStore(t)
	fl := line(t, st, "10000.00")
	maker, checker, other := person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceOfficer), person(t, st, models.RoleFinanceManager)
	approved := record(t, st, maker, fl, "100.00")
	if _, err := st.ApproveSpend(ctx, checker, approved.ID); err != nil {
		t.Fatal(err)
	}
	rejected := record(t, st, maker, fl, "20.00")
	if _, err := st.RejectSpend(ctx, checker, rejected.ID, "Duplicate"); err != nil {
		t.Fatal(err)
	}
	pending := record(t, st, maker, fl, "30.00")
	reversal, err := st.ReverseSpend(ctx, maker, approved.ID, "Wrong line")
	if err != nil {
		t.Fatal(err)
	}
	importID := importAmounts(t, st, maker, fl, "10.00", "11.00", "12.00")
	if _, err := st.ApproveImport(ctx, checker, importID); err != nil {
		t.Fatal(err)
	}
	var imported []int64
	if err := st.DB().NewRaw("SELECT id FROM spend_entries WHERE import_id = ? ORDER BY id", importID).Scan(ctx, &imported); err != nil {
		t.Fatal(err)
	}

	clean, err := st.VerifyLedger(ctx)
	if err != nil || !clean.OK || clean.Entries != 7 {
		t.Fatalf("an untouched ledger: %+v %v", clean, err)
	}

	for _, c := range []struct {
		name    string
		tamper  string
		args    []any
		undo    string
		entry   int64
		problem string
	}{
		{"ErrAmountChanged", "UPDATE spend_entries SET amount = 1000.00 WHERE id = ?", []any{approved.ID},
			"UPDATE spend_entries SET amount = 100.00 WHERE id = ?", approved.ID, "amount 1000.00, recorded 100"},
		{"ErrPayeeDescribedAgain", "UPDATE spend_entries SET description = 'Something else' WHERE id = ?", []any{pending.ID},
			"UPDATE spend_entries SET description = '' WHERE id = ?", pending.ID, "category, reference, description"},
		{"ErrRejectedTurnedApproved", "UPDATE spend_entries SET status = 'approved', rejection_reason = NULL WHERE id = ?", []any{rejected.ID},
			"UPDATE spend_entries SET status = 'rejected', rejection_reason = 'Duplicate' WHERE id = ?", rejected.ID, "is approved but no approval"},
		{"ErrApprovedByAnother", fmt.Sprintf("UPDATE spend_entries SET decided_by = %d WHERE id = ?", other.UserID), []any{approved.ID},
			fmt.Sprintf("UPDATE spend_entries SET decided_by = %d WHERE id = ?", checker.UserID), approved.ID, "no approval of it by user"},
		{"ErrImportedAmountChanged", "UPDATE spend_entries SET amount = 99.00 WHERE id = ?", []any{imported[1]},
			"UPDATE spend_entries SET amount = 11.00 WHERE id = ?", imported[0], "with different contents"},
		{"ErrDecidedEntryPending", "UPDATE spend_entries SET status = 'pending', decided_by = NULL, decided_at = NULL WHERE id = ?", []any{approved.ID},
			"", approved.ID, "is pending but the audit trail decided it"},
		{"ErrDeleted", "DELETE FROM spend_entries WHERE id = ?", []any{reversal.ID}, "", reversal.ID, "missing from the ledger"},
		{"ErrImportedDeleted", "DELETE FROM spend_entries WHERE id = ?", []any{imported[2]}, "", imported[0], "2 entries now, 3 imported"},
		{"ErrInsertedBehindTheApp", `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, recorded_by)
			SELECT funding_line_id, payee_id, 5.00, incurred_on, category, recorded_by FROM spend_entries WHERE id = ?`, []any{pending.ID},
			"", 0, "no event in the audit trail recorded this entry"},
	} {
		// Cases with an undo come first and must leave the ledger verifying
		// again; the rest cannot be undone and only add findings.
		t.Run(c.name, func(t *testing.T) {
			tamper(t, st, c.tamper, c.args...)
			got, err := st.VerifyLedger(ctx)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range got.Findings {
				if strings.Contains(f.Problem, c.problem) && (c.entry == 0 || f.EntryID == c.entry) {
					found = true
				}
			}
			if got.OK || !found {
				t.Fatalf("after %s, verify says %+v; want a finding on entry %d containing %q", c.name, got, c.entry, c.problem)
			}
			if c.undo != "" {
				tamper(t, st, c.undo, c.args[0])
				if again, err := st.VerifyLedger(ctx); err != nil || !again.OK {
					t.Fatalf("undoing %s: %+v %v", c.name, again, err)
				}
			}
		})
	}
}

// TestImportDigestIsTheDocumentedOne imports entries whose text needs
// quoting in a row value (quotes, commas, backslashes, line breaks, £) and
// checks that the digest the import's event keeps, computed as a stream, is
// the README's: SHA-256 of the entries' row texts in id order joined by line
// feeds, as earlier releases computed it in one string_agg, so that their
// imports still verify; and that the import verifies.
func TestImportDigestIsTheDocumentedOne(t *testing.T) {
	ctx := context.Background()
	st := FreshStore(t) // the whole ledger must verify
	fl := line(t, st, "10000.00")
	maker := person(t, st, models.RoleFinanceOfficer)
	o, err := st.Organisation(ctx, fl.FunderID)
	if err != nil {
		t.Fatal(err)
	}
	file := importHeader +
		fmt.Sprintf("%s,,\"%s\",10.00,2024-05-01,services,\"A, \"\"quoted\"\" ref\",\"back\\slash (£5)\",\"two\nlines\",\n", fl.Code, o.Name) +
		fmt.Sprintf("%s,,\"%s\",11.50,2024-05-02,staff,,plain,,\n", fl.Code, o.Name) +
		fmt.Sprintf("%s,,\"%s\",0.01,2024-05-03,other,,,,\n", fl.Code, o.Name)
	// Two statements write the entries; the digest runs on across both.
	defer store.SetImportBatch(2)()
	res, err := st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "digest.csv", Force: true})
	if err != nil {
		t.Fatal(err)
	}
	var kept, documented string
	if err := st.DB().NewRaw(`SELECT after->>'entries_sha256' FROM audit_events
		WHERE entity = 'spend_import' AND action = 'spend.import' AND entity_id = ?`, fmt.Sprint(res.ID)).Scan(ctx, &kept); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw(`SELECT encode(sha256(convert_to(coalesce(string_agg(ROW(e.id, e.funding_line_id, e.award_id, e.tranche_id,
			e.payee_id, e.amount, to_char(e.incurred_on, 'YYYY-MM-DD'), e.category, e.reference, e.description, e.purpose, e.vfm_reason,
			e.recorded_by, e.reverses_id)::text, E'\n' ORDER BY e.id), ''), 'UTF8')), 'hex')
		FROM spend_entries e WHERE e.import_id = ?`, res.ID).Scan(ctx, &documented); err != nil {
		t.Fatal(err)
	}
	if kept == "" || kept != documented {
		t.Fatalf("the import's event keeps entries_sha256 %q; the documented digest is %q", kept, documented)
	}
	if got, err := st.VerifyLedger(ctx); err != nil || !got.OK {
		t.Fatalf("verify after the import: %+v %v", got, err)
	}
}
