package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"granttrack/app/store"
	"granttrack/models"
)

// TestImportOfHostileFiles sends files that once crashed the server or
// stored the wrong thing: each is refused with its line (and column, where
// the problem is in the file's structure or encoding), and stores nothing.
func TestImportOfHostileFiles(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl, payee := importRows(st, t)
	maker := person(t, st, models.RoleFinanceOfficer)
	good := fmt.Sprintf("%s,,%s,10.00,2024-05-01,services,OK,,,\n", fl.Code, payee)
	tests := []struct {
		name, file string
		line, col  int
		field      string
		want       string
	}{
		{"ErrStrayQuoteInFirstField", importHeader + good + "\"X\"Y,,p,1.00,2024-05-01,other,,,,\n", 3, 3, "", "quoted value"},
		{"ErrBareQuote", importHeader + good + fmt.Sprintf("%s,,%s,1.00,2024-05-01,other,IN\"V,,,\n", fl.Code, payee), 3, 0, "", "not in quotes"},
		{"ErrUnclosedQuote", importHeader + good + "\"never closed,,p\n", 3, 0, "", "quoted value"},
		{"ErrYearZero", importHeader + fmt.Sprintf("%s,,%s,1.00,0000-01-01,other,,,,\n", fl.Code, payee), 2, 0, "incurred_on", "1900-01-01"},
		{"ErrNULByte", importHeader + good + fmt.Sprintf("%s,,%s,1.00,2024-05-01,other,A\x00B,,,\n", fl.Code, payee), 3, 0, "", "NUL byte"},
		{"ErrUTF16", "\xff\xfef\x00u\x00n\x00", 1, 1, "", "UTF-16"},
		{"ErrUTF8ThenNot", importHeader + fmt.Sprintf("%s,,%s,1.00,2024-05-01,other,Café,,,\n", fl.Code, payee) +
			fmt.Sprintf("%s,,%s,1.00,2024-05-01,other,\xa3,,,\n", fl.Code, payee), 3, 0, "", "not UTF-8"},
		{"ErrUndefinedInWindows1252", importHeader + fmt.Sprintf("%s,,%s,1.00,2024-05-01,other,\xa3\x81,,,\n", fl.Code, payee), 2, 0, "", "neither UTF-8 nor Windows-1252"},
		{"ErrBidiOverride", importHeader + fmt.Sprintf("%s,,%s,1.00,2024-05-01,other,\u202Egnp.exe,,,\n", fl.Code, payee), 2, 0, "reference", "bidirectional"},
		{"ErrControlInPayee", importHeader + fmt.Sprintf("%s,,%s\x1b[31m,1.00,2024-05-01,other,,,,\n", fl.Code, payee), 2, 0, "payee", "control"},
		{"ErrNegativeZero", importHeader + fmt.Sprintf("%s,,%s,-0,2024-05-01,other,,,,\n", fl.Code, payee), 2, 0, "amount", "greater than zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := count(t, st, "SELECT count(*) FROM spend_entries") + count(t, st, "SELECT count(*) FROM spend_imports")
			_, err := st.ImportSpend(ctx, maker, strings.NewReader(tt.file), store.ImportOptions{FileName: tt.name + ".csv"})
			var ie *store.ImportError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an ImportError", err)
			}
			found := false
			for _, r := range ie.Rows {
				if r.Line == tt.line && r.Field == tt.field && strings.Contains(r.Message, tt.want) && (tt.col == 0 || r.Column == tt.col) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no problem on line %d, field %q, column %d mentioning %q:\n%v", tt.line, tt.field, tt.col, tt.want, err)
			}
			if tt.field == "" && ie.Rows[len(ie.Rows)-1].Column == 0 && !strings.Contains(tt.want, "columns") {
				t.Errorf("a problem in the file's structure should give its column: %+v", ie.Rows)
			}
			after := count(t, st, "SELECT count(*) FROM spend_entries") + count(t, st, "SELECT count(*) FROM spend_imports")
			if after != before {
				t.Fatal("a refused import stored rows")
			}
		})
	}
}

// TestImportOfWindows1252 imports a file as Excel in the UK saves "CSV":
// Windows-1252, where £ is the byte 0xA3 and é is 0xE9. It is converted,
// says so, and stores the text as written.
func TestImportOfWindows1252(t *testing.T) {
	st := MustStore(t)
	ctx := context.Background()
	fl, payee := importRows(st, t)
	maker := person(t, st, models.RoleFinanceOfficer)
	file := importHeader + fmt.Sprintf("%s,,%s,10.00,2024-05-01,services,INV-\xa31,Caf\xe9 \x93hire\x94,,\r\n", fl.Code, payee)
	res, err := st.ImportSpend(ctx, maker, strings.NewReader(file), store.ImportOptions{FileName: "excel.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != store.EncodingWindows1252 {
		t.Fatalf("encoding = %q, want %q", res.Encoding, store.EncodingWindows1252)
	}
	var ref, desc string
	if err := st.DB().NewRaw("SELECT reference, description FROM spend_entries WHERE import_id = ?", res.ID).Scan(ctx, &ref, &desc); err != nil {
		t.Fatal(err)
	}
	if ref != "INV-£1" || desc != "Café “hire”" {
		t.Fatalf("stored %q, %q; want the text as written", ref, desc)
	}
	// A UTF-8 file, with Excel's byte order mark, is read as it is.
	utf8File := "\ufeff" + importHeader + fmt.Sprintf("%s,,%s,10.00,2024-05-02,services,INV-£2,Café,,\n", fl.Code, payee)
	res, err = st.ImportSpend(ctx, maker, strings.NewReader(utf8File), store.ImportOptions{FileName: "utf8.csv"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Encoding != store.EncodingUTF8 {
		t.Fatalf("encoding = %q, want UTF-8", res.Encoding)
	}
	if err := st.DB().NewRaw("SELECT reference FROM spend_entries WHERE import_id = ?", res.ID).Scan(ctx, &ref); err != nil || ref != "INV-£2" {
		t.Fatalf("stored %q (%v), want INV-£2", ref, err)
	}
}

// TestImportListsAtMostSoManyProblems: a file of nothing but bad rows is
// refused with the first problems listed and the rest counted, not held.
func TestImportListsAtMostSoManyProblems(t *testing.T) {
	st := MustStore(t)
	maker := person(t, st, models.RoleFinanceOfficer)
	file := importHeader + strings.Repeat("x\n", 1500)
	_, err := st.ImportSpend(context.Background(), maker, strings.NewReader(file), store.ImportOptions{FileName: "many.csv"})
	var ie *store.ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1000 || ie.More != 500 {
		t.Fatalf("err = %T with %d rows listed and %d more; want 1000 and 500", err, len(ie.Rows), ie.More)
	}
}
