package demo_test

import (
	"context"
	"testing"

	"granttrack/app/demo"
	"granttrack/app/pgtest"
	"granttrack/app/store"
)

func TestMain(m *testing.M) { pgtest.MainMigrated(m) }

func TestLoadOnceWithTheScenario(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	loaded, err := demo.Load(ctx, st)
	if err != nil || !loaded {
		t.Fatalf("first load: %v %v", loaded, err)
	}
	count := func(q string) int {
		var n int
		if err := st.DB().NewRaw(q).Scan(ctx, &n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := count("SELECT count(*) FROM audit_events")
	loaded, err = demo.Load(ctx, st)
	if err != nil || loaded {
		t.Fatalf("second load should keep the data: %v %v", loaded, err)
	}
	if after := count("SELECT count(*) FROM audit_events"); after != before {
		t.Fatalf("second load changed the audit trail: %d → %d", before, after)
	}
	if n := count("SELECT count(*) FROM programmes"); n != 4 {
		t.Fatalf("%d programmes, want the plan's 4", n)
	}
	if n := count("SELECT count(DISTINCT role) FROM users"); n != 4 {
		t.Fatalf("%d roles among demo users, want 4", n)
	}
	if n := count("SELECT count(*) FROM users WHERE role = 'finance_officer'"); n != 2 {
		t.Fatalf("%d finance officers, want 2 for maker-checker", n)
	}
	var budget, band string
	if err := st.DB().NewRaw("SELECT budget::text FROM funding_lines WHERE code = 'DRUG-SUPPLY'").Scan(ctx, &budget); err != nil || budget != "2000000.00" {
		t.Fatalf("DRUG-SUPPLY budget %q %v", budget, err)
	}
	if err := st.DB().NewRaw("SELECT tender_min_value::text || '-' || tender_max_value::text FROM funding_lines WHERE code = 'ALLYSHIP-TRAINING'").Scan(ctx, &band); err != nil || band != "10000.00-25000.00" {
		t.Fatalf("allyship band %q %v", band, err)
	}
	if n := count("SELECT count(*) FROM organisations WHERE gss_code IN ('E09000022', 'E09000028', 'E09000012', 'E09000025')"); n != 4 {
		t.Fatalf("%d boroughs with their GSS codes, want Lambeth, Southwark, Hackney and Newham", n)
	}
	if n := count(`SELECT count(*) FROM awards a JOIN funding_lines fl ON fl.id = a.funding_line_id
		WHERE fl.kind <> 'contract' AND (a.conditions IS NULL OR a.crime_reduction_reason IS NULL OR a.purpose = '')`); n != 0 {
		t.Fatalf("%d demo grants lack what the publishing pack needs", n)
	}
	if status, err := st.VerifyAuditChain(ctx); err != nil || !status.OK {
		t.Fatalf("audit chain after demo: %+v %v", status, err)
	}
}
