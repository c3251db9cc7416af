package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// FuzzImportSpend imports any file, through the real import into
// PostgreSQL, as a finance officer: it never panics; it either stores the
// import and exactly its rows, or refuses with a problem the officer can
// act on (never an internal error) and stores nothing. The seeds name a
// real active line (FUZZ-1) and payee, so good rows are reachable.
func FuzzImportSpend(f *testing.F) {
	for _, s := range []string{
		importHeader + "FUZZ-1,,Fuzz Payee,10.00,2024-05-01,services,INV-1,Kits,,\n",
		importHeader + "FUZZ-1,,Fuzz Payee,600.00,2024-05-01,services,INV-2,\"Kits, two\",Custody,Framework price\n",
		importHeader + "\"X\"Y,,Fuzz Payee,1.00,2024-05-01,other,,,,\n",
		importHeader + "FUZZ-1,,Fuzz Payee,1.00,0000-01-01,other,\xa3,,,\n",
		"\ufeff" + importHeader + "FUZZ-1,,Fuzz Payee,-0,2024-05-01,other,\u202e,,,\r\n",
		"\xff\xfef\x00",
	} {
		f.Add([]byte(s))
	}
	st := MustStore(f)
	ctx := context.Background()
	var officer models.Actor
	if err := st.DB().NewRaw("SELECT id FROM users WHERE email = 'fuzz-officer@test.example'").Scan(ctx, &officer.UserID); err != nil {
		storetest.ActiveLine(f, st, storetest.LineSpec{Code: "FUZZ", PayeeName: "Fuzz Payee", Budget: "9999999999999.99",
			StartsOn: "2024-04-01", EndsOn: "2025-03-31"})
		officer = storetest.Officers(f, st, "fuzz-officer@test.example")[0]
	}
	officer.Role, officer.Label = models.RoleFinanceOfficer, "fuzz-officer@test.example"
	counts := func(t *testing.T) (entries, imports int) {
		t.Helper()
		if err := st.DB().NewRaw("SELECT (SELECT count(*) FROM spend_entries), (SELECT count(*) FROM spend_imports)").Scan(ctx, &entries, &imports); err != nil {
			t.Fatal(err)
		}
		return entries, imports
	}
	f.Fuzz(func(t *testing.T, file []byte) {
		entries, imports := counts(t)
		res, err := st.ImportSpend(ctx, officer, bytes.NewReader(file), store.ImportOptions{FileName: "fuzz.csv", Force: true})
		afterEntries, afterImports := counts(t)
		var ie *store.ImportError
		switch {
		case err == nil:
			if afterEntries != entries+res.Rows || afterImports != imports+1 {
				t.Fatalf("import of %d rows changed entries %d→%d, imports %d→%d", res.Rows, entries, afterEntries, imports, afterImports)
			}
			return
		case errors.As(err, &ie):
			if len(ie.Rows) == 0 {
				t.Fatalf("an ImportError with no problems: %v", err)
			}
			for _, r := range ie.Rows {
				if r.Line < 1 || r.Message == "" {
					t.Fatalf("a problem without its line or message: %+v", r)
				}
			}
		case models.ErrorCode(err) != models.EINVALID:
			t.Fatalf("%q: %v, want an ImportError or EINVALID", file, err)
		}
		if afterEntries != entries || afterImports != imports {
			t.Fatalf("a refused import changed entries %d→%d, imports %d→%d", entries, afterEntries, imports, afterImports)
		}
	})
}
