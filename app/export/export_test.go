package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

var sys = models.SystemActor("test")

// ledger makes a line with approved, pending, rejected and reversed spend
// whose text fields try formula injection; tag tells one test's line,
// payee and people from another's.
func ledger(t *testing.T, st *store.Store, tag string) *models.FundingLine {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	l := storetest.ActiveLine(t, st, storetest.LineSpec{Code: "EXP" + tag, PayeeName: "=HYPERLINK(\"http://evil" + tag + "\")", Budget: "10000.00",
		StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
	fl, o := l.FundingLine, l.Payee
	people := storetest.Officers(t, st, "maker"+tag+"@test.example", "checker"+tag+"@test.example")
	rec := func(amount, desc string) int64 {
		e, err := models.SpendInput{FundingLineID: fl.ID, PayeeID: o.ID, Amount: amount, IncurredOn: "2024-06-01", Category: "other",
			Description: desc, Reference: "+44 20 7946 0000", Purpose: "@SUM(A1)", VFMReason: "-1+1"}.Validate()
		must(err)
		_, err = st.RecordSpend(ctx, people[0], e, "", nil)
		must(err)
		return e.ID
	}
	var err error
	a := rec("600.00", "=cmd|' /C calc'!A0")
	_, err = st.ApproveSpend(ctx, people[1], a)
	must(err)
	b := rec("250.25", "\tTabbed")
	_, err = st.ApproveSpend(ctx, people[1], b)
	must(err)
	c := rec("99.99", "pending")
	_ = c
	d := rec("10.00", "rejected")
	_, err = st.RejectSpend(ctx, people[1], d, "duplicate")
	must(err)
	rev, err := st.ReverseSpend(ctx, people[0], a, "=wrong line")
	must(err)
	_, err = st.ApproveSpend(ctx, people[1], rev.ID)
	must(err)
	return fl
}

func TestLedgerCSV(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fl := ledger(t, st, "")
	var buf bytes.Buffer
	// Other tests add spend of their own: this one reads its own line.
	m, err := export.Ledger(ctx, st, &buf, export.FormatCSV, export.Filter{FundingLineID: fl.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	if m.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatal("manifest hash does not match the file")
	}
	head, err := st.VerifyAuditChain(ctx)
	if err != nil || m.AuditSeq != head.HeadSeq || m.AuditHash != head.HeadHash {
		t.Fatalf("manifest head %d %s, chain %+v", m.AuditSeq, m.AuditHash, head)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 6 || m.Rows != 5 {
		t.Fatalf("%d records (%d rows in the manifest), want header + 5", len(recs), m.Rows)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	approved := decimal.Zero
	for _, r := range recs[1:] {
		amount, err := decimal.NewFromString(r[col["amount"]])
		if err != nil {
			t.Fatalf("amount %q is not a plain number", r[col["amount"]])
		}
		if r[col["status"]] == "approved" {
			approved = approved.Add(amount)
		}
		for _, c := range []string{"payee", "description", "reference", "reversal_reason"} {
			if v := r[col[c]]; v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
				t.Errorf("%s cell %q would run as a formula", c, v)
			}
		}
	}
	totals, err := st.LineTotals(ctx, fl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !approved.Equal(totals[fl.ID].Spent) || m.Approved != "250.25" {
		t.Fatalf("approved in file %s, manifest %s, ledger %s", approved, m.Approved, totals[fl.ID].Spent)
	}
	if !strings.Contains(buf.String(), ",-600.00,") {
		t.Error("the reversal's amount should read as a negative number")
	}
	// The reversal is dated the day it was recorded, so it falls outside 2024-25.
	var fy bytes.Buffer
	if m, err := export.Ledger(ctx, st, &fy, export.FormatCSV, export.Filter{Year: "2024-25", FundingLineID: fl.ID}, nil); err != nil || m.Rows != 4 || m.Approved != "850.25" {
		t.Fatalf("2024-25 export: %+v %v", m, err)
	}
	var none bytes.Buffer
	if m, err := export.Ledger(ctx, st, &none, export.FormatCSV, export.Filter{Year: "2023-24", FundingLineID: fl.ID}, nil); err != nil || m.Rows != 0 {
		t.Fatalf("2023-24 export: %+v %v", m, err)
	}
	if _, err := export.Ledger(ctx, st, &none, "xml", export.Filter{}, nil); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("unknown format: %v", err)
	}
}

func TestLedgerJSON(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var buf bytes.Buffer
	m, err := export.Ledger(ctx, st, &buf, export.FormatJSON, export.Filter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Entries []struct {
			Amount string `json:"amount"`
			Status string `json:"status"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	total := decimal.Zero
	for _, e := range doc.Entries {
		d, err := models.ParseMoney(e.Amount)
		if err != nil {
			t.Fatalf("amount %q: %v", e.Amount, err)
		}
		total = total.Add(d)
	}
	if len(doc.Entries) != m.Rows || total.StringFixed(2) != m.Total {
		t.Fatalf("%d entries totalling %s; manifest %d, %s", len(doc.Entries), total, m.Rows, m.Total)
	}
}

// TestLedgerFormatsAgree checks what the CSV, JSON and XLSX ledgers share:
// RFC 4180 line endings, a byte order mark only when asked for, who decided
// an entry and why it was rejected, its purpose and value-for-money reason,
// and the same times to the second in every format.
func TestLedgerFormatsAgree(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	fl := ledger(t, st, "2")
	filter := export.Filter{FundingLineID: fl.ID}
	write := func(format string, opts ...export.Option) ([]byte, *export.Manifest) {
		t.Helper()
		var buf bytes.Buffer
		m, err := export.Ledger(ctx, st, &buf, format, filter, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), m
	}
	plain, _ := write(export.FormatCSV)
	if bytes.HasPrefix(plain, []byte("\ufeff")) || bytes.Count(plain, []byte("\n")) != 6 || bytes.Count(plain, []byte("\r\n")) != 6 {
		t.Fatalf("the CSV should have six CRLF-ended lines and no byte order mark:\n%q", plain)
	}
	excel, m := write(export.FormatCSV, export.ExcelBOM(true))
	if !bytes.Equal(excel, append([]byte("\ufeff"), plain...)) || !m.UTF8BOM {
		t.Fatalf("the Excel CSV should be the CSV after a byte order mark (manifest utf8_bom %v)", m.UTF8BOM)
	}
	if err := st.RecordEvent(ctx, sys, store.Change{Action: "export.ledger", Entity: "export", After: m}); err != nil {
		t.Fatal(err)
	}
	if rep, err := export.Verify(ctx, st, bytes.NewReader(excel), m); err != nil || !rep.OK {
		t.Fatalf("the Excel CSV does not verify: %v %+v", err, rep)
	}

	recs, err := csv.NewReader(bytes.NewReader(plain)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, c := range recs[0] {
		col[c] = i
	}
	byStatus := map[string][]string{}
	for _, r := range recs[1:] {
		byStatus[r[col["status"]]] = r
	}
	for status, want := range map[string][4]string{
		"rejected": {"rejected", "checker2@test.example", "duplicate", "'@SUM(A1)"},
		"approved": {"approved", "checker2@test.example", "", "'@SUM(A1)"},
		"pending":  {"", "", "", "'@SUM(A1)"},
	} {
		r := byStatus[status]
		if got := [4]string{r[col["decision"]], r[col["decided_by"]], r[col["rejection_reason"]], r[col["purpose"]]}; got != want || r[col["vfm_reason"]] != "'-1+1" {
			t.Errorf("%s entry: decision, decided_by, rejection_reason, purpose %q, vfm_reason %q; want %q", status, got, r[col["vfm_reason"]], want)
		}
	}

	// Every time, in every format, is the same whole second in UTC.
	times := map[string]string{} // "entry column" -> CSV time
	for _, r := range recs[1:] {
		for _, c := range []string{"recorded_at", "decided_at"} {
			if v := r[col[c]]; v != "" {
				times[r[col["entry_id"]]+" "+c] = v
			}
		}
	}
	js, _ := write(export.FormatJSON)
	var doc struct{ Entries []map[string]any }
	if err := json.Unmarshal(js, &doc); err != nil {
		t.Fatal(err)
	}
	xl, _ := write(export.FormatXLSX)
	x, err := excelize.OpenReader(bytes.NewReader(xl))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	sheet, err := x.GetRows(export.SheetLedger)
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for i, e := range doc.Entries {
		id := fmt.Sprint(e["entry_id"])
		for _, c := range []string{"recorded_at", "decided_at"} {
			want, ok := times[id+" "+c]
			if !ok {
				continue
			}
			seen++
			if got, _ := e[c].(string); got != want {
				t.Errorf("entry %s %s: JSON %q, CSV %q", id, c, got, want)
			}
			shown, err := time.Parse("2006-01-02 15:04:05", sheet[i+1][col[c]])
			if err != nil || shown.Format(time.RFC3339) != want {
				t.Errorf("entry %s %s: XLSX %q, CSV %q", id, c, sheet[i+1][col[c]], want)
			}
		}
	}
	if seen != 9 {
		t.Errorf("compared %d times, want 9 (five recorded, four decided)", seen)
	}
}
