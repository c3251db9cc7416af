package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

var fixtures atomic.Int64

// verifyBooks is a funding line of its own with two payees, two people and spend
// in each state; exports filtered to it see no other test's rows.
type verifyBooks struct {
	st              *store.Store
	line            *models.FundingLine
	payees          [2]*models.Organisation
	maker, checker  models.Actor
	entries         []int64
	pending, second int64
}

func mustVerifyBooks(t *testing.T) *verifyBooks {
	t.Helper()
	ctx := context.Background()
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
	n := fixtures.Add(1)
	b := &verifyBooks{st: st}
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: fmt.Sprintf("VER%d", n), PayeeName: fmt.Sprintf("Payee %d-0", n), Budget: "10000.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	b.line, b.payees[0] = l.FundingLine, l.Payee
	second := &models.Organisation{Name: fmt.Sprintf("Payee %d-1", n), OrgID: storetest.OrgID(), IsRecipient: true}
	must(st.CreateOrganisation(ctx, sys, second))
	b.payees[1] = second
	people := storetest.Officers(t, st, fmt.Sprintf("maker%d@verify.example", n), fmt.Sprintf("checker%d@verify.example", n))
	b.maker, b.checker = people[0], people[1]
	for i, amount := range []string{"600.00", "250.25", "99.99", "10.00", "42.00"} {
		id := b.record(t, amount, i%2)
		switch i {
		case 0, 1:
			_, err = st.ApproveSpend(ctx, b.checker, id)
		case 3:
			_, err = st.RejectSpend(ctx, b.checker, id, "duplicate")
		}
		must(err)
	}
	b.pending, b.second = b.entries[2], b.entries[4]
	return b
}

// record records pending spend paid to payees[payee].
func (b *verifyBooks) record(t *testing.T, amount string, payee int) int64 {
	t.Helper()
	e, err := models.SpendInput{FundingLineID: b.line.ID, PayeeID: b.payees[payee].ID, Amount: amount, IncurredOn: "2024-06-01",
		Category: "other", Description: "spend " + amount, Reference: "=ref", Purpose: "p", VFMReason: "v"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.RecordSpend(context.Background(), b.maker, e, "", nil); err != nil {
		t.Fatal(err)
	}
	b.entries = append(b.entries, e.ID)
	return e.ID
}

func (b *verifyBooks) export(t *testing.T, format string) ([]byte, *export.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := export.Ledger(context.Background(), b.st, &buf, format, export.Filter{FundingLineID: b.line.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// As the command and the API do, so that verification finds it.
	if err := b.st.RecordEvent(context.Background(), sys, store.Change{Action: "export.ledger", Entity: "export", After: m}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

func (b *verifyBooks) verify(t *testing.T, file []byte, m *export.Manifest) *export.VerifyReport {
	t.Helper()
	rep, err := export.Verify(context.Background(), b.st, bytes.NewReader(file), m)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// rows reads an export's rows as text in export.Columns order.
func rows(t *testing.T, format string, file []byte) [][]string {
	t.Helper()
	switch format {
	case export.FormatCSV:
		recs, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		return recs[1:]
	case export.FormatJSON:
		var doc struct{ Entries []map[string]any }
		dec := json.NewDecoder(bytes.NewReader(file))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for _, e := range doc.Entries {
			var rec []string
			for _, c := range export.Columns {
				switch v := e[c].(type) {
				case nil:
					rec = append(rec, "")
				case json.Number:
					rec = append(rec, v.String())
				default:
					rec = append(rec, fmt.Sprint(v))
				}
			}
			out = append(out, rec)
		}
		return out
	}
	t.Fatalf("format %s", format)
	return nil
}

// write writes rows back in format, as someone editing the file would.
func write(t *testing.T, format string, recs [][]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch format {
	case export.FormatCSV:
		w := csv.NewWriter(&buf)
		w.UseCRLF = true
		_ = w.Write(export.Columns)
		_ = w.WriteAll(recs)
	case export.FormatJSON:
		numbers := map[string]bool{"entry_id": true, "reverses_entry": true}
		nullable := map[string]bool{"award": true, "payee_org_id": true, "decided_by": true, "decided_at": true, "rejection_reason": true,
			"reverses_entry": true, "reversal_reason": true}
		var entries []map[string]any
		for _, r := range recs {
			e := map[string]any{}
			for i, c := range export.Columns {
				switch {
				case r[i] == "" && nullable[c]:
					e[c] = nil
				case numbers[c]:
					e[c] = json.Number(r[i])
				default:
					e[c] = r[i]
				}
			}
			entries = append(entries, e)
		}
		if err := json.NewEncoder(&buf).Encode(map[string]any{"entries": entries}); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func col(name string) int { return slices.Index(export.Columns, name) }

// has reports whether list holds a finding of kind, at row if row > 0, on
// field if field is not empty.
func has(list []export.Finding, kind string, row int, field string) bool {
	return slices.ContainsFunc(list, func(f export.Finding) bool {
		return f.Kind == kind && (row == 0 || f.Row == row) && (field == "" || f.Field == field)
	})
}

func TestVerifyCleanExport(t *testing.T) {
	for _, format := range []string{export.FormatCSV, export.FormatJSON} {
		t.Run(format, func(t *testing.T) {
			b := mustVerifyBooks(t)
			file, m := b.export(t, format)
			rep := b.verify(t, file, m)
			if !rep.OK || len(rep.Findings) != 0 || len(rep.Changes) != 0 {
				t.Fatalf("a clean export should verify: %+v", rep)
			}
			if rep.Rows != 5 || rep.LedgerRows != 5 || rep.Total != m.Total || rep.Approved != "850.25" || rep.SHA256 != m.SHA256 || !rep.Chain.OK {
				t.Fatalf("report %+v, manifest %+v", rep, m)
			}
			// The same rows exported again give the same file: either
			// manifest verifies it.
			again, m2 := b.export(t, format)
			if !bytes.Equal(again, file) || m2.AuditSeq == m.AuditSeq {
				t.Fatal("a second export of the same rows should be the same file under a later audit head")
			}
			for _, mm := range []*export.Manifest{m, m2} {
				if rep := b.verify(t, file, mm); !rep.OK {
					t.Fatalf("manifest at %d: %+v", mm.AuditSeq, rep.Findings)
				}
			}
			// Written back unchanged by a tool, it still matches row by row;
			// only the bytes differ, which is no finding.
			recs := rows(t, format, file)
			rewritten := write(t, format, recs)
			if format == export.FormatJSON {
				rewritten = bytes.ReplaceAll(rewritten, []byte(`"entry_id"`), []byte(` "entry_id"`))
			}
			rep = b.verify(t, rewritten, m)
			if !rep.OK || rep.Resaved == bytes.Equal(rewritten, file) || len(rep.Findings) != 0 {
				t.Fatalf("rewriting the same rows changed something: %+v", rep)
			}
			if format == export.FormatCSV {
				// As a spreadsheet saves UTF-8 CSV: a byte order mark, LF line endings.
				lf := append([]byte("\ufeff"), bytes.ReplaceAll(rewritten, []byte("\r\n"), []byte("\n"))...)
				if rep := b.verify(t, lf, m); !rep.OK || !rep.Resaved {
					t.Fatalf("a CSV saved with a byte order mark: %+v", rep)
				}
			}
		})
	}
}

func TestVerifyDetectsTamperedRows(t *testing.T) {
	type tamper struct {
		name  string
		edit  func(b *verifyBooks, recs [][]string) [][]string
		kind  string
		row   int // 0: for an entry missing from the file
		field string
		entry func(b *verifyBooks) int64
	}
	tampers := []tamper{
		{name: "ChangedAmount", kind: export.KindAmountChanged, row: 2, field: "amount",
			edit: func(b *verifyBooks, recs [][]string) [][]string { recs[1][col("amount")] = "2500.25"; return recs }},
		{name: "DeletedRow", kind: export.KindRowDeleted, entry: func(b *verifyBooks) int64 { return b.entries[2] },
			edit: func(b *verifyBooks, recs [][]string) [][]string { return slices.Delete(recs, 2, 3) }},
		{name: "ReorderedRows", kind: export.KindRowReordered, row: 4,
			edit: func(b *verifyBooks, recs [][]string) [][]string { recs[2], recs[3] = recs[3], recs[2]; return recs }},
		{name: "SwappedPayee", kind: export.KindPayeeChanged, row: 1, field: "payee",
			edit: func(b *verifyBooks, recs [][]string) [][]string {
				recs[0][col("payee")] = b.payees[1].Name
				return recs
			}},
		{name: "AddedRow", kind: export.KindRowAdded, row: 6,
			edit: func(b *verifyBooks, recs [][]string) [][]string {
				extra := slices.Clone(recs[0])
				extra[col("entry_id")] = "99999999"
				return append(recs, extra)
			}},
		{name: "DuplicatedRow", kind: export.KindRowDuplicated, row: 3,
			edit: func(b *verifyBooks, recs [][]string) [][]string { return slices.Insert(recs, 2, slices.Clone(recs[1])) }},
		{name: "EditedStatus", kind: export.KindFieldChanged, row: 3, field: "status",
			edit: func(b *verifyBooks, recs [][]string) [][]string { recs[2][col("status")] = "approved"; return recs }},
	}
	for _, format := range []string{export.FormatCSV, export.FormatJSON} {
		b := mustVerifyBooks(t)
		file, m := b.export(t, format)
		for _, tc := range tampers {
			t.Run(format+"/"+tc.name, func(t *testing.T) {
				recs := tc.edit(b, rows(t, format, file))
				rep := b.verify(t, write(t, format, recs), m)
				if rep.OK {
					t.Fatal("the tampered file verified OK")
				}
				if !has(rep.Findings, tc.kind, tc.row, tc.field) {
					t.Fatalf("no %s finding at row %d (%s); findings %+v", tc.kind, tc.row, tc.field, rep.Findings)
				}
				if tc.entry != nil && !slices.ContainsFunc(rep.Findings, func(f export.Finding) bool { return f.Kind == tc.kind && f.EntryID == tc.entry(b) }) {
					t.Fatalf("the finding does not name entry %d: %+v", tc.entry(b), rep.Findings)
				}
				if !has(rep.Findings, export.KindFileHash, 0, "") {
					t.Fatalf("the file's hash should not match the manifest: %+v", rep.Findings)
				}
				if len(rep.Changes) != 0 {
					t.Fatalf("tampering reported as a change since export: %+v", rep.Changes)
				}
			})
		}
	}
}

func TestVerifyDetectsEditedManifest(t *testing.T) {
	for _, format := range []string{export.FormatCSV, export.FormatJSON} {
		b := mustVerifyBooks(t)
		file, m := b.export(t, format)
		for name, tc := range map[string]struct {
			edit  func(m *export.Manifest)
			kind  string
			field string
		}{
			"Total":     {func(m *export.Manifest) { m.Total = "1003.24" }, export.KindManifest, "total"},
			"Approved":  {func(m *export.Manifest) { m.Approved = "0.00" }, export.KindManifest, "approved_total"},
			"Rows":      {func(m *export.Manifest) { m.Rows = 4 }, export.KindManifest, "rows"},
			"Hash":      {func(m *export.Manifest) { m.SHA256 = strings.Repeat("ab", 32) }, export.KindFileHash, "sha256"},
			"AuditHash": {func(m *export.Manifest) { m.AuditHash = strings.Repeat("cd", 32) }, export.KindAuditChain, ""},
			"AuditSeq":  {func(m *export.Manifest) { m.AuditSeq += 1000 }, export.KindAuditChain, ""},
			// Only the audit trail's record of the export shows these.
			"AuditSeqBack": {func(m *export.Manifest) { m.AuditSeq, m.AuditHash = 1, earlier(t, b.st, 1) }, export.KindManifest, "audit_head_seq"},
			"GeneratedAt":  {func(m *export.Manifest) { m.GeneratedAt = m.GeneratedAt.Add(-time.Hour) }, export.KindManifest, "generated_at"},
		} {
			t.Run(format+"/"+name, func(t *testing.T) {
				edited := *m
				tc.edit(&edited)
				rep := b.verify(t, file, &edited)
				if rep.OK || !has(rep.Findings, tc.kind, 0, tc.field) {
					t.Fatalf("no %s finding on %q: %+v", tc.kind, tc.field, rep)
				}
				// The rows themselves are the ledger's (but a head moved
				// back makes them look recorded after the export).
				for _, f := range rep.Findings {
					if name != "AuditSeqBack" && (f.Row != 0 || f.EntryID != 0) {
						t.Fatalf("an edited manifest blamed a row: %+v", f)
					}
				}
			})
		}
		t.Run(format+"/Filters", func(t *testing.T) {
			edited := *m
			edited.Filters.FundingLineID = 0 // every other test's spend now belongs in the file
			rep := b.verify(t, file, &edited)
			if rep.OK || !has(rep.Findings, export.KindRowDeleted, 0, "") {
				t.Fatalf("widened filters not detected: %+v", rep.Findings)
			}
		})
	}
	b := mustVerifyBooks(t)
	file, m := b.export(t, export.FormatCSV)
	// An export nobody recorded: a manifest made up for a file.
	b.record(t, "1.00", 0)
	var unrecorded bytes.Buffer
	um, err := export.Ledger(context.Background(), b.st, &unrecorded, export.FormatCSV, export.Filter{FundingLineID: b.line.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep := b.verify(t, unrecorded.Bytes(), um); rep.OK || !has(rep.Findings, export.KindManifest, 0, "sha256") || len(rep.Findings) != 1 {
		t.Fatalf("an unrecorded export: %+v", rep.Findings)
	}
	edited := *m
	edited.Format = "xml"
	if _, err := export.Verify(context.Background(), b.st, bytes.NewReader(file), &edited); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("unknown format: %v", err)
	}
	edited.Format = export.FormatJSON // a CSV passed off as JSON cannot be read
	if rep := b.verify(t, file, &edited); rep.OK || !has(rep.Findings, export.KindUnreadable, 0, "") || has(rep.Findings, export.KindRowDeleted, 0, "") {
		t.Fatalf("CSV read as JSON: %+v", rep.Findings)
	}
}

func TestVerifyChangedSinceExport(t *testing.T) {
	ctx := context.Background()
	for _, format := range []string{export.FormatCSV, export.FormatJSON} {
		t.Run(format, func(t *testing.T) {
			b := mustVerifyBooks(t)
			file, m := b.export(t, format)
			pendingRow := slices.Index(b.entries, b.pending) + 1
			// After the export: the pending entry is approved, the last
			// rejected, a payee renamed, an entry reversed and new spend recorded.
			if _, err := b.st.ApproveSpend(ctx, b.checker, b.pending); err != nil {
				t.Fatal(err)
			}
			if _, err := b.st.RejectSpend(ctx, b.checker, b.second, "wrong line"); err != nil {
				t.Fatal(err)
			}
			renamed := *b.payees[1]
			renamed.Name += " Ltd"
			if err := b.st.UpdateOrganisation(ctx, sys, renamed.ID, &renamed); err != nil {
				t.Fatal(err)
			}
			rev, err := b.st.ReverseSpend(ctx, b.maker, b.entries[0], "paid twice")
			if err != nil {
				t.Fatal(err)
			}
			later := b.record(t, "5.00", 0)
			rep := b.verify(t, file, m)
			if !rep.OK {
				t.Fatalf("changes after the export reported as tampering: %+v", rep.Findings)
			}
			if !has(rep.Changes, export.KindDecidedSince, pendingRow, "status") || !has(rep.Changes, export.KindDecidedSince, 5, "status") {
				t.Fatalf("decisions since export not listed: %+v", rep.Changes)
			}
			if !has(rep.Changes, export.KindRenamedSince, 2, "payee") {
				t.Fatalf("rename since export not listed: %+v", rep.Changes)
			}
			for _, id := range []int64{rev.ID, later} {
				if !slices.ContainsFunc(rep.Changes, func(f export.Finding) bool { return f.Kind == export.KindRecordedSince && f.EntryID == id }) {
					t.Fatalf("entry %d recorded since export not listed: %+v", id, rep.Changes)
				}
			}

			// A file that shows the approval, which came after it, is not an export.
			recs := rows(t, format, file)
			recs[pendingRow-1][col("status")] = "approved"
			rep = b.verify(t, write(t, format, recs), m)
			if rep.OK || !has(rep.Findings, export.KindAfterExport, pendingRow, "status") {
				t.Fatalf("a decision taken after the export, shown in the file: %+v", rep.Findings)
			}
			// Nor is one holding spend recorded after it.
			fresh, _ := b.export(t, format)
			recs = rows(t, format, fresh)
			rep = b.verify(t, write(t, format, recs[len(recs)-1:]), m)
			if !slices.ContainsFunc(rep.Findings, func(f export.Finding) bool { return f.Kind == export.KindRowAdded && f.EntryID == later }) {
				t.Fatalf("an entry recorded after the export, in the file: %+v", rep.Findings)
			}
			// A swapped payee is still tampering, even with a rename about.
			recs = rows(t, format, file)
			recs[0][col("payee")] = b.payees[1].Name
			rep = b.verify(t, write(t, format, recs), m)
			if rep.OK || !has(rep.Findings, export.KindPayeeChanged, 1, "payee") {
				t.Fatalf("swapped payee: %+v", rep.Findings)
			}
		})
	}
}

// TestVerifyDetectsTruncatedChain runs last in this package: it cuts the
// audit chain short, as the schema's owner could, moving the head back so that the
// chain on its own still verifies.
func TestVerifyDetectsTruncatedChain(t *testing.T) {
	ctx := context.Background()
	b := mustVerifyBooks(t)
	file, m := b.export(t, export.FormatCSV)
	if rep := b.verify(t, file, m); !rep.OK {
		t.Fatalf("before truncation: %+v", rep.Findings)
	}
	truncate(t, b.st, m.AuditSeq-2)
	if st, err := b.st.VerifyAuditChain(ctx); err != nil || !st.OK {
		t.Fatalf("the truncated chain should verify on its own: %+v %v", st, err)
	}
	rep := b.verify(t, file, m)
	if rep.OK || !has(rep.Findings, export.KindAuditChain, 0, "") || rep.Chain.OK {
		t.Fatalf("truncation not detected: %+v", rep)
	}
	if !strings.Contains(rep.Chain.Reason, "events after "+strconv.FormatInt(m.AuditSeq-2, 10)+" were removed") {
		t.Fatalf("reason %q", rep.Chain.Reason)
	}
}

// truncate deletes the audit events after seq with the append-only trigger
// off and moves the head back to seq, as the schema's owner (the
// application role cannot).
func truncate(t *testing.T, st *store.Store, seq int64) {
	t.Helper()
	pgtest.Tamper(t, st, []string{"audit_events"}, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM audit_events WHERE seq > ?", seq); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE audit_head SET seq = ?, hash = (SELECT hash FROM audit_events WHERE seq = ?) WHERE id = 1", seq, seq)
		return err
	})
}

// earlier returns the hash of the audit event at seq.
func earlier(t *testing.T, st *store.Store, seq int64) string {
	t.Helper()
	evs, _, err := st.AuditEvents(context.Background(), store.AuditFilter{Page: store.Page{Number: int(seq), PerPage: 1}})
	if err != nil || len(evs) != 1 || evs[0].Seq != seq {
		t.Fatalf("event %d: %v", seq, err)
	}
	return fmt.Sprintf("%x", evs[0].Hash)
}
