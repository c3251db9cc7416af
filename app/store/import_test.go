package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

const importHeader = "funding_line,award,payee,amount,incurred_on,category,reference,description,purpose,vfm_reason\n"

func importRows(st *store.Store, t *testing.T) (fl *models.FundingLine, payee string) {
	t.Helper()
	fl = line(t, st, "100000.00")
	o, err := st.Organisation(context.Background(), fl.FunderID)
	if err != nil {
		t.Fatal(err)
	}
	return fl, o.Name
}

func count(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := st.DB().NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportSpend(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl, payee := importRows(st, t)
	maker := person(t, st, models.RoleFinanceOfficer)
	file := importHeader +
		fmt.Sprintf("%s,,%s,120.00,2024-05-01,services,INV-1,Venue hire,,\n", strings.ToLower(fl.Code), payee) +
		fmt.Sprintf("%s,,\"%s\",950.50,2024-05-02,training,INV-2,\"Training, two days\",Youth workers,Lowest quote\n", fl.Code, payee) +
		fmt.Sprintf("%s,,%s,0.01,2024-05-03,other,INV-3,\"=HYPERLINK(\"\"x\"\")\",,\n", fl.Code, payee)
	res, err := st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "may.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 3 || res.Total.StringFixed(2) != "1070.51" {
		t.Fatalf("result = %+v", res)
	}
	if n := count(t, st, "SELECT count(*) FROM spend_entries WHERE import_id = ? AND status = 'pending' AND recorded_by = ?", res.ID, maker.UserID); n != 3 {
		t.Fatalf("%d pending imported entries, want 3", n)
	}
	if n := count(t, st, "SELECT count(*) FROM audit_events WHERE action = 'spend.import' AND entity_id = ?", fmt.Sprint(res.ID)); n != 1 {
		t.Fatal("the import was not audited")
	}
	_, err = st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "may-again.csv"})
	if models.ErrorCode(err) != models.ECONFLICT || !strings.Contains(models.ErrorMessage(err), "already imported") {
		t.Fatalf("re-import: %v", err)
	}
	if _, err := st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "may.csv", Force: true}); err != nil {
		t.Fatalf("forced re-import: %v", err)
	}
	if n := count(t, st, "SELECT count(*) FROM spend_entries WHERE funding_line_id = ?", fl.ID); n != 6 {
		t.Fatalf("%d entries after a forced re-import, want 6", n)
	}
	// Imported spend goes through maker-checker like any other.
	var id int64
	if err := st.DB().NewRaw("SELECT id FROM spend_entries WHERE import_id = ? LIMIT 1", res.ID).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApproveSpend(ctx, maker, id); models.ErrorCode(err) != models.EFORBIDDEN {
		t.Fatalf("the importer approved their own import: %v", err)
	}
}

func TestImportReportsEveryBadRowAndStoresNothing(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl, payee := importRows(st, t)
	maker := person(t, st, models.RoleFinanceOfficer)
	file := importHeader +
		fmt.Sprintf("%s,,%s,10.00,2024-05-01,services,OK,,,\n", fl.Code, payee) + // line 2: good
		fmt.Sprintf("%s,,%s,12.345,2024-05-01,services,,,,\n", fl.Code, payee) + // line 3: three decimals
		fmt.Sprintf("NO-SUCH-LINE,,%s,10.00,2024-05-01,services,,,,\n", payee) + // line 4
		fmt.Sprintf("%s,,Nobody Ltd,10.00,2024-05-01,services,,,,\n", fl.Code) + // line 5
		fmt.Sprintf("%s,,%s,501.00,2024-05-01,services,,,,\n", fl.Code, payee) + // line 6: no purpose or reason
		fmt.Sprintf("%s,,%s,10.00\n", fl.Code, payee) + // line 7: too few fields
		fmt.Sprintf("%s,,%s,10.00,31/05/2024,food,,,,\n", fl.Code, payee) + // line 8: date and category
		fmt.Sprintf("%s,NO-SUCH-AWARD,%s,10.00,2024-05-01,services,,,,\n", fl.Code, payee) // line 9
	before := count(t, st, "SELECT count(*) FROM spend_entries")
	_, err := st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "bad.csv"})
	var ie *store.ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want an ImportError", err)
	}
	got := map[int][]string{}
	for _, r := range ie.Rows {
		got[r.Line] = append(got[r.Line], r.Field)
	}
	want := map[int][]string{3: {"amount"}, 4: {"funding_line"}, 5: {"payee"}, 6: {"purpose", "vfm_reason"}, 7: {""},
		8: {"incurred_on", "category"}, 9: {"award"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("bad rows reported %v, want %v\n%v", got, want, err)
	}
	if after := count(t, st, "SELECT count(*) FROM spend_entries"); after != before {
		t.Fatal("a refused import stored entries")
	}
	if n := count(t, st, "SELECT count(*) FROM spend_imports WHERE file_name = 'bad.csv'"); n != 0 {
		t.Fatal("a refused import was recorded")
	}
}

// cancellingReader cancels the import's context once it has handed over
// limit bytes, as a kill midway would end the session.
type cancellingReader struct {
	r      io.Reader
	limit  int
	read   int
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	if c.read >= c.limit {
		c.cancel()
	}
	n, err := c.r.Read(p[:min(len(p), 512)])
	c.read += n
	return n, err
}

func TestInterruptedImportStoresNothing(t *testing.T) {
	st := MustStore(t)
	fl, payee := importRows(st, t)
	maker := person(t, st, models.RoleFinanceOfficer)
	var b strings.Builder
	b.WriteString(importHeader)
	for i := range 20000 {
		fmt.Fprintf(&b, "%s,,%s,1.00,2024-05-01,other,INV-%d,,,\n", fl.Code, payee, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := count(t, st, "SELECT count(*) FROM spend_entries")
	_, err := st.ImportSpend(ctx, maker, &cancellingReader{r: strings.NewReader(b.String()), limit: b.Len() / 2, cancel: cancel},
		store.ImportOptions{FileName: "big.csv"})
	nothingImported(t, st, err, before, "big.csv")
}

// nothingImported checks that an import that was stopped failed and left no
// entries (of the before there were) and no record of itself.
func nothingImported(t *testing.T, st *store.Store, err error, before int, fileName string) {
	t.Helper()
	if err == nil {
		t.Fatalf("the stopped import of %s succeeded", fileName)
	}
	if after := count(t, st, "SELECT count(*) FROM spend_entries"); after != before {
		t.Fatalf("a stopped import left %d entries", after-before)
	}
	if n := count(t, st, "SELECT count(*) FROM spend_imports WHERE file_name = ?", fileName); n != 0 {
		t.Fatalf("the stopped import of %s was recorded", fileName)
	}
}

// TestImportRecordsInBatchesAllOrNothing imports a file in several batches:
// progress is reported batch by batch, the entries keep the file's order,
// and an import stopped between two batches stores nothing.
func TestImportRecordsInBatchesAllOrNothing(t *testing.T) {
	defer store.SetImportBatch(1000)()
	st := MustStore(t)
	fl, payee := importRows(st, t)
	maker := person(t, st, models.RoleFinanceOfficer)
	var b strings.Builder
	b.WriteString(importHeader)
	for i := range 2500 {
		fmt.Fprintf(&b, "%s,,%s,1.%02d,2024-05-01,other,INV-%d,,,\n", fl.Code, payee, i%100, i)
	}
	file := b.String()

	var reported [][2]int
	res, err := st.ImportSpend(context.Background(), maker, strings.NewReader(file), store.ImportOptions{FileName: "batches.csv",
		Progress: func(stage store.ImportStage, done, total int) {
			if stage == store.ImportRecording {
				reported = append(reported, [2]int{done, total})
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][2]int{{0, 2500}, {1000, 2500}, {2000, 2500}, {2500, 2500}}; fmt.Sprint(reported) != fmt.Sprint(want) {
		t.Fatalf("recording progress %v, want %v", reported, want)
	}
	var refs []string
	if err := st.DB().NewRaw("SELECT reference FROM spend_entries WHERE import_id = ? ORDER BY id", res.ID).Scan(context.Background(), &refs); err != nil {
		t.Fatal(err)
	}
	if len(refs) != 2500 {
		t.Fatalf("%d entries imported, want 2500", len(refs))
	}
	for i, ref := range refs {
		if ref != fmt.Sprintf("INV-%d", i) {
			t.Fatalf("entry %d is %s: the ledger lost the file's order", i, ref)
		}
	}

	// Stopped after the first batch is written: nothing is kept.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := count(t, st, "SELECT count(*) FROM spend_entries")
	_, err = st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "stopped.csv", Force: true,
		Progress: func(stage store.ImportStage, done, total int) {
			if stage == store.ImportRecording && done == 1000 {
				cancel()
			}
		}})
	nothingImported(t, st, err, before, "stopped.csv")
}
