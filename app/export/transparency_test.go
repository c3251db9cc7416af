package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// transparencyPack runs on the demo data with payments (see TestOpenStandards).
func transparencyPack(t *testing.T, st *store.Store) {
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var lineID, galop, maker, checker int64
	must(st.DB().NewRaw("SELECT id FROM funding_lines WHERE code = 'HATE-CRIME-SUPPORT'").Scan(ctx, &lineID))
	must(st.DB().NewRaw("SELECT id FROM organisations WHERE name = 'Galop'").Scan(ctx, &galop))
	must(st.DB().NewRaw("SELECT id FROM users WHERE email = 'finance@granttrack.example'").Scan(ctx, &maker))
	must(st.DB().NewRaw("SELECT id FROM users WHERE email = 'finance2@granttrack.example'").Scan(ctx, &checker))
	// A grant made without its conditions or why it should reduce crime.
	a, err := models.AwardInput{RecipientID: galop, Reference: "MOPAC-HC-2024-003", Amount: "5000.00", AwardedOn: "2024-06-20",
		StartsOn: "2024-07-01", EndsOn: "2025-03-31", Purpose: "=HYPERLINK(\"http://evil\")"}.Validate(lineID)
	must(err)
	must(storetest.Award(ctx, st, a))
	// Spend from before the rules for over £500 were enforced, written as a
	// legacy import would have: no purpose and no reason it is value for money.
	_, err = st.DB().ExecContext(ctx, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, status,
		recorded_by, decided_by, decided_at) VALUES (?, ?, 750.00, '2024-06-15', 'other', 'approved', ?, ?, now())`, lineID, galop, maker, checker)
	must(err)
	// Spend of £500 or less is not published.
	_, err = st.DB().ExecContext(ctx, `INSERT INTO spend_entries (funding_line_id, payee_id, amount, incurred_on, category, status,
		recorded_by, decided_by, decided_at) VALUES (?, ?, 500.00, '2024-06-16', 'other', 'approved', ?, ?, now())`, lineID, galop, maker, checker)
	must(err)

	p, err := export.Transparency(ctx, st, "2024-06")
	must(err)
	if len(p.Grants) != 1 || p.Grants[0].Reference != "MOPAC-HC-2024-003" || len(p.Contracts) != 0 || p.AuditSeq == 0 {
		t.Fatalf("June 2024: grants %+v contracts %+v", p.Grants, p.Contracts)
	}
	spend := map[string]bool{}
	for _, e := range p.Spend {
		spend[models.FormatMoney(e.Amount)] = true
	}
	if len(p.Spend) != 3 || !spend["25000.01"] || !spend["9250.00"] || !spend["750.00"] {
		t.Fatalf("spend over £500 in June: %+v", p.Spend)
	}
	var missing []string
	for _, m := range p.Missing {
		missing = append(missing, m.File+" "+m.Field)
	}
	if strings.Join(missing, "; ") != "grants.csv conditions; grants.csv crime_reduction_reason; spend-over-500.csv purpose; spend-over-500.csv vfm_reason" {
		t.Fatalf("missing: %v", missing)
	}

	var grants bytes.Buffer
	must(p.WriteCSV(export.FileGrants, &grants))
	rows, err := csv.NewReader(&grants).ReadAll()
	must(err)
	if len(rows) != 2 || rows[0][0] != "award_reference" || rows[1][7] != "5000.00" || rows[1][8] != `'=HYPERLINK("http://evil")` {
		t.Fatalf("grants.csv: %q", rows)
	}
	if err := p.WriteCSV("ledger.csv", &bytes.Buffer{}); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("an unknown file: %v", err)
	}
	var index bytes.Buffer
	must(p.WriteIndex(&index))
	html := index.String()
	if !strings.Contains(html, "4 item(s) to fix before publication") || !strings.Contains(html, `href="spend-over-500.csv"`) ||
		strings.Contains(html, `=HYPERLINK("http`) || !strings.Contains(html, "MOPAC-HC-2024-003 to Galop has no conditions") {
		t.Fatalf("index.html:\n%s", html)
	}

	april, err := export.Transparency(ctx, st, "2024-04")
	must(err)
	var contracts bytes.Buffer
	must(april.WriteCSV(export.FileContracts, &contracts))
	if !strings.Contains(contracts.String(), "MOPAC-T-2024-017-A,2024-04-12,ALLYSHIP-TRAINING,MOPAC-T-2024-017,Allyship Learning Ltd (fictional),GB-COH-01234567,18500.00,10000.00,25000.00,") ||
		len(april.Grants) != 1 || len(april.Missing) != 0 {
		t.Fatalf("April 2024: contracts %s grants %d missing %v", contracts.String(), len(april.Grants), april.Missing)
	}
	transparencyContractsNameTheirProcedure(t, april)
	if _, err := export.Transparency(ctx, st, "June 2024"); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("a bad month: %v", err)
	}
}

// transparencyContractsNameTheirProcedure: the Elected Local Policing Bodies
// (Specified Information) Order 2011, Schedule paragraph 4(b) as substituted
// by the 2012 amending Order, asks for each contract over £10,000; the
// month's contracts list carries each one's title and the procedure that
// chose its supplier, from the contract's record.
func transparencyContractsNameTheirProcedure(t *testing.T, april *export.Pack) {
	t.Helper()
	var b bytes.Buffer
	if err := april.WriteCSV(export.FileContracts, &b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("contracts of April 2024: %q", rows)
	}
	col := map[string]int{}
	for i, c := range rows[0] {
		col[c] = i
	}
	if rows[1][col["contract_title"]] != "Anti-racism allyship session for the London Policing Board" || rows[1][col["procedure"]] != "Open procedure" {
		t.Fatalf("the allyship contract's title and procedure: %q", rows[1])
	}
}
