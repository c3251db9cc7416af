package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// verifyBooks is a funding line with three entries, one pending, and the
// store to change it with; the tests below filter exports to the line.
type verifyBooks struct {
	st      *store.Store
	line    int64
	pending int64
	checker models.Actor
}

func mustVerifyBooks(t *testing.T, tag string) *verifyBooks {
	t.Helper()
	ctx := context.Background()
	if code, _, errOut := granttrack(t, "", "migrate", "up"); code != 0 {
		t.Fatal(errOut)
	}
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	sys := models.SystemActor("test")
	p := &models.Programme{Code: "VP" + tag, Name: "P", Plan: "Plan"}
	must(st.CreateProgramme(ctx, sys, p))
	o := &models.Organisation{Name: "Verify payee " + tag, OrgID: storetest.OrgID(), IsFunder: true, IsRecipient: true}
	must(st.CreateOrganisation(ctx, sys, o))
	fl, err := models.FundingLineInput{Code: "VL-" + tag, Title: "T", Kind: "grant", ProgrammeID: p.ID, FunderID: o.ID, Budget: "5000.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"}.Validate()
	must(err)
	must(st.CreateFundingLine(ctx, sys, fl))
	must(storetest.Activate(ctx, st, fl.ID))
	var people []models.Actor
	for _, who := range []string{"maker", "checker"} {
		u := &models.User{Email: who + tag + "@verify.example", Name: who, Role: models.RoleFinanceOfficer, PasswordHash: "-", Active: true}
		must(st.CreateUser(ctx, sys, u))
		people = append(people, models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role})
	}
	b := &verifyBooks{st: st, line: fl.ID, checker: people[1]}
	for i, amount := range []string{"1200.00", "300.50", "75.25"} {
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: o.ID, Amount: amount, IncurredOn: "2024-07-01", Category: "other",
			Description: "d", Reference: "r", Purpose: "p", VFMReason: "v"}.Validate()
		must(err)
		_, err = st.RecordSpend(ctx, people[0], e, "", nil)
		must(err)
		if i == 2 {
			b.pending = e.ID
			continue
		}
		_, err = st.ApproveSpend(ctx, people[1], e.ID)
		must(err)
	}
	return b
}

// exportTo exports the books' line in format to a file in a temp dir and
// returns its path and manifest.
func (b *verifyBooks) exportTo(t *testing.T, format string) (string, *export.Manifest) {
	t.Helper()
	path := t.TempDir() + "/ledger." + format
	code, _, errOut := granttrack(t, "", "export", "ledger", "--format", format, "--funding-line", fmt.Sprint(b.line), "--out", path)
	if code != 0 {
		t.Fatalf("export: %d %s", code, errOut)
	}
	raw, err := os.ReadFile(path + ".manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m export.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return path, &m
}

func edit(t *testing.T, path string, fn func(string) string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := fn(string(b))
	if edited == string(b) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExportVerifyCommand(t *testing.T) {
	ctx := context.Background()
	b := mustVerifyBooks(t, "1")
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			path, m := b.exportTo(t, format)
			code, out, errOut := granttrack(t, "", "export", "verify", path)
			if code != 0 || !strings.Contains(out, "Export verification: OK") || !strings.Contains(out, "3 rows, total 1575.75") {
				t.Fatalf("clean export: %d %q %q", code, out, errOut)
			}
			evs, _, err := b.st.AuditEvents(ctx, store.AuditFilter{Action: "export.verify"})
			if err != nil || len(evs) == 0 {
				t.Fatalf("verification not audited: %v", err)
			}
			var outcome struct {
				OK     bool   `json:"ok"`
				SHA256 string `json:"sha256"`
			}
			if err := json.Unmarshal(evs[len(evs)-1].After, &outcome); err != nil || !outcome.OK || outcome.SHA256 != m.SHA256 {
				t.Fatalf("the audit event does not record the outcome: %s", evs[len(evs)-1].After)
			}
			dir := t.TempDir()
			for _, tc := range []struct {
				name, want string
				file       func(string) string
				manifest   func(string) string
			}{
				{name: "ChangedAmount", want: "[amount_changed] Row 2 (entry", file: func(s string) string { return strings.Replace(s, "300.50", "3000.50", 1) }},
				{name: "DeletedRow", want: "[row_deleted] Entry", file: func(s string) string { return deleteRow(t, format, s, 1) }},
				{name: "EditedManifestTotal", want: "[manifest] The file's rows add up to 1575.75 for total, but the manifest says 1575.76",
					manifest: func(s string) string { return strings.Replace(s, `"total": "1575.75"`, `"total": "1575.76"`, 1) }},
				{name: "EditedManifestHash", want: "[file_hash]", manifest: func(s string) string { return strings.Replace(s, m.SHA256, strings.Repeat("0", 64), 1) }},
			} {
				t.Run(tc.name, func(t *testing.T) {
					file, manifest := dir+"/"+tc.name+"."+format, dir+"/"+tc.name+".manifest"
					copyFile(t, path, file)
					copyFile(t, path+".manifest.json", manifest)
					if tc.file != nil {
						edit(t, file, tc.file)
					}
					if tc.manifest != nil {
						edit(t, manifest, tc.manifest)
					}
					code, out, errOut := granttrack(t, "", "export", "verify", file, "--manifest", manifest)
					if code != 1 || !strings.Contains(out, "NOT OK") || !strings.Contains(out, tc.want) || !strings.Contains(errOut, "did NOT verify") {
						t.Fatalf("exit %d, want 1 and %q; stdout %q stderr %q", code, tc.want, out, errOut)
					}
				})
			}
		})
	}
	// An approval after the export is a change since, not tampering.
	path, _ := b.exportTo(t, "csv")
	if _, err := b.st.ApproveSpend(ctx, b.checker, b.pending); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := granttrack(t, "", "export", "verify", path)
	if code != 0 || !strings.Contains(out, "Changed since export (not tampering):") ||
		!strings.Contains(out, fmt.Sprintf("[decided_since_export] Row 3 (entry %d) was pending at the export and was approved afterwards", b.pending)) {
		t.Fatalf("approved after export: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := granttrack(t, "", "export", "verify", path+".nothing"); code != 1 || !strings.Contains(errOut, "There is no manifest at") {
		t.Fatalf("missing manifest: %d %q", code, errOut)
	}
	if code, _, errOut := granttrack(t, "", "export", "verify"); code != 2 || !strings.Contains(errOut, "usage: granttrack export verify FILE") {
		t.Fatalf("no file: %d %q", code, errOut)
	}
}

// deleteRow removes the entry at index i (from 0) from an export's text.
func deleteRow(t *testing.T, format, s string, i int) string {
	t.Helper()
	lines := strings.SplitAfter(s, "\n")
	if format == "csv" {
		i++ // the header
	}
	if format == "json" && i == 0 {
		t.Fatal("the first JSON entry shares its line with the opening")
	}
	out := strings.Join(append(lines[:i:i], lines[i+1:]...), "")
	if format == "json" && i == len(lines)-2 {
		t.Fatal("deleting the last JSON entry leaves a dangling comma")
	}
	return out
}

// TestAuditVerifyAnchor runs last in this package: it cuts the audit chain
// short as the schema's owner could, moving the head back so that the chain on its
// own still verifies.
func TestAuditVerifyAnchor(t *testing.T) {
	b := mustVerifyBooks(t, "2")
	_, m := b.exportTo(t, "csv")
	anchor := m.AuditHash + "@" + fmt.Sprint(m.AuditSeq)
	code, out, errOut := granttrack(t, "", "audit", "verify", "--anchor", anchor)
	if code != 0 || !strings.Contains(out, "audit chain OK") || !strings.Contains(out, "anchor "+anchor+": the event is still in the chain") {
		t.Fatalf("intact chain: %d %q %q", code, out, errOut)
	}
	for _, bad := range []string{"nope", m.AuditHash, m.AuditHash + "@x", "abc@3", m.AuditHash + "@-1"} {
		code, _, errOut := granttrack(t, "", "audit", "verify", "--anchor", bad)
		if code != 2 || !strings.Contains(errOut, "must be HASH@SEQ") {
			t.Fatalf("anchor %q: exit %d, stderr %q; want 2 and the anchor's format", bad, code, errOut)
		}
	}
	// Another export's anchor at the same sequence, with a different hash.
	wrong := strings.Repeat("ab", 32) + "@" + fmt.Sprint(m.AuditSeq)
	if code, _, errOut := granttrack(t, "", "audit", "verify", "--anchor", wrong); code != 1 || !strings.Contains(errOut, "was rewritten") {
		t.Fatalf("wrong hash: %d %q", code, errOut)
	}

	// Cut the chain back to before the export.
	cut := m.AuditSeq - 3
	// As the schema's owner: the application role cannot switch the
	// append-only trigger off.
	pgtest.Tamper(t, b.st, []string{"audit_events"}, func(ctx context.Context, tx bun.Tx) error {
		for _, q := range []string{"DELETE FROM audit_events WHERE seq > ?",
			"UPDATE audit_head SET seq = ?0, hash = (SELECT hash FROM audit_events WHERE seq = ?0) WHERE id = 1"} {
			if _, err := tx.NewRaw(q, cut).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	// The cut chain verifies on its own; the ledger does not, since the
	// spend it recorded last no longer has its events.
	if code, out, errOut := granttrack(t, "", "audit", "verify"); code != 1 || !strings.Contains(out, "audit chain OK") ||
		!strings.Contains(errOut, "ledger DIFFERS from the audit trail") || !strings.Contains(errOut, "no event in the audit trail recorded this entry") {
		t.Fatalf("the cut chain should verify on its own and the ledger should not: %d %q %q", code, out, errOut)
	}
	code, _, errOut = granttrack(t, "", "audit", "verify", "--anchor", anchor)
	want := fmt.Sprintf("the chain ends at sequence %d but an anchor was taken at sequence %d", cut+1, m.AuditSeq)
	if code != 1 || !strings.Contains(errOut, "BROKEN") || !strings.Contains(errOut, want) {
		t.Fatalf("truncated chain: exit %d, stderr %q; want %q", code, errOut, want)
	}
	// New events grow the chain past the anchor again, but not with its event.
	for range 3 {
		granttrack(t, "", "audit", "verify")
	}
	if code, _, errOut := granttrack(t, "", "audit", "verify", "--anchor", anchor); code != 1 || !strings.Contains(errOut, "the chain was rewritten") {
		t.Fatalf("rewritten chain: %d %q", code, errOut)
	}
}
