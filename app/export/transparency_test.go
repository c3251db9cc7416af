package export_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

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

	p, err := export.Transparency(ctx, st, "2024-06", export.WithPublisher(testPublisher))
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
	if len(rows) != 2 || rows[0][0] != "grant_id" || rows[1][0] != "360G-mopactest-MOPAC-HC-2024-003" || rows[0][1] != "award_reference" ||
		rows[1][8] != "5000.00" || rows[1][9] != `'=HYPERLINK("http://evil")` {
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

	april, err := export.Transparency(ctx, st, "2024-04", export.WithPublisher(testPublisher))
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
	t.Run("CSVsUseCRLF", func(t *testing.T) {
		for _, name := range export.PackFiles {
			var b bytes.Buffer
			must(p.WriteCSV(name, &b))
			if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) || bytes.Count(b.Bytes(), []byte("\n")) != bytes.Count(b.Bytes(), []byte("\r\n")) {
				t.Errorf("%s should end every line with CRLF: %q", name, b.String())
			}
		}
	})
	packParagraphs(t, st, lineID, maker, checker)
}

// packParagraphs checks each list of the Elected Local Policing Bodies
// (Specified Information) Order 2011 the pack writes, one test per
// paragraph of its Schedule, and the redaction of personal data.
func packParagraphs(t *testing.T, st *store.Store, lineID, maker, checker int64) {
	ctx := context.Background()
	officer := models.Actor{UserID: maker, Label: "finance@granttrack.example", Role: models.RoleFinanceOfficer}
	table := func(t *testing.T, p *export.Pack, file string) export.Table {
		t.Helper()
		for _, tb := range p.Tables() {
			if tb.File == file {
				return tb
			}
		}
		t.Fatalf("the pack has no %s", file)
		return export.Table{}
	}
	cell := func(tb export.Table, row int, col string) string {
		for i, c := range tb.Columns {
			if c.Name == col {
				return tb.Rows[row][i]
			}
		}
		return "no column " + col
	}
	// Expenses claimed by the office holders, one in July.
	es, err := st.ImportOfficeHolderExpenses(ctx, officer, strings.NewReader("office_holder,office,incurred_on,category,description,amount\r\n"+
		"Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-06-04,travel,Rail fare to the APCC conference,86.40\r\n"+
		"Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-06-18,subsistence,\"Dinner, booked via pa.office@example.org\",31.75\r\n"+
		"Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-06-25,travel,Claimed twice,86.40\r\n"+
		"Alex Morgan (fictional),Deputy Mayor for Policing and Crime,2024-07-02,travel,Taxi,12.00\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	// A second officer approves them, but the one claimed twice, which is
	// rejected and so not published.
	second := models.Actor{UserID: checker, Label: "finance2@granttrack.example", Role: models.RoleFinanceOfficer}
	for _, e := range es {
		to, reason := models.DecisionApproved, ""
		if e.Description == "Claimed twice" {
			to, reason = models.DecisionRejected, "Claimed twice"
		}
		if _, err := st.DecideOfficeHolderExpense(ctx, second, e.ID, to, reason); err != nil {
			t.Fatal(err)
		}
	}
	// A sole trader paid over £500, with contact and bank details typed
	// into the description.
	sole := &models.Organisation{Name: "Jane Smith (sole trader)", IsSupplier: true}
	if err := st.CreateOrganisation(ctx, officer, sole); err != nil {
		t.Fatal(err)
	}
	e, err := models.SpendInput{FundingLineID: lineID, PayeeID: sole.ID, Amount: "640.00", IncurredOn: "2024-06-21", Category: "services",
		Reference: "JS-0007", Description: "Workshop; call 020 7946 0018 or jane.smith@example.com; sort code 12-34-56, account 12345678",
		Purpose: "Facilitation of a victims' workshop", VFMReason: "Day rate below the framework"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, officer, e, "", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ApproveSpend(ctx, models.Actor{UserID: checker, Label: "finance2@granttrack.example", Role: models.RoleFinanceOfficer}, e.ID); err != nil {
		t.Fatal(err)
	}
	p, err := export.Transparency(ctx, st, "2024-06", export.WithPublisher(testPublisher))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("Paragraph1dOfficeHolderExpenses", func(t *testing.T) {
		tb := table(t, p, export.FileExpenses)
		if tb.Paragraph != "1(d)" || len(tb.Rows) != 2 || cell(tb, 0, "office_holder") != "Alex Morgan (fictional)" || cell(tb, 0, "amount") != "86.40" ||
			cell(tb, 1, "description") != "Dinner, booked via [redacted e-mail address]" {
			t.Fatalf("June's expenses, named, with the e-mail cut out: %+v", tb)
		}
		if strings.Contains(fmt.Sprint(tb.Rows), "Claimed twice") {
			t.Fatalf("a rejected expense is not published: %+v", tb.Rows)
		}
	})
	t.Run("Paragraph3fGrants", func(t *testing.T) {
		tb := table(t, p, export.FileGrants)
		if tb.Paragraph != "3(f)" || len(tb.Rows) != 1 || cell(tb, 0, "recipient") != "Galop" || cell(tb, 0, "recipient_org_id") != "GB-CHC-1077810" {
			t.Fatalf("grants with recipient, purpose, conditions and reason: %+v", tb)
		}
		for _, c := range []string{"purpose", "conditions", "crime_reduction_reason"} {
			if cell(tb, 0, c) == "no column "+c {
				t.Errorf("paragraph 3(f) asks for %s", c)
			}
		}
		// The decision record that authorised the award is carried with it.
		var cited string
		if err := st.DB().NewRaw(`SELECT r.reference FROM awards a JOIN decision_records r ON r.id = a.decision_record_id
			WHERE a.reference = ?`, cell(tb, 0, "award_reference")).Scan(ctx, &cited); err != nil {
			t.Fatal(err)
		}
		if got := cell(tb, 0, "decision_record"); got != cited || cited == "" {
			t.Errorf("the grant's decision_record is %q, want the record it cites, %q", got, cited)
		}
	})
	t.Run("Paragraph3gSpendOver500", func(t *testing.T) {
		tb := table(t, p, export.FileSpend)
		var row = -1
		for i := range tb.Rows {
			if cell(tb, i, "reference") == "JS-0007" {
				row = i
			}
		}
		if tb.Paragraph != "3(g)" || len(tb.Rows) != 4 || row < 0 {
			t.Fatalf("spend over £500 with recipient, purpose and value for money: %+v", tb)
		}
		desc := cell(tb, row, "description")
		if cell(tb, row, "payee") != export.WithheldName || strings.Contains(desc, "7946") || strings.Contains(desc, "@") ||
			strings.Contains(desc, "12-34-56") || strings.Contains(desc, "12345678") || cell(tb, row, "purpose") != "Facilitation of a victims' workshop" {
			t.Fatalf("the sole trader's name and details should be withheld: payee %q, description %q", cell(tb, row, "payee"), desc)
		}
	})
	t.Run("Paragraph3gSaysWhatEachPaymentIs", func(t *testing.T) {
		tb := table(t, p, export.FileSpend)
		kinds := map[string]int{}
		var grantIDs []string
		for i := range tb.Rows {
			kind, id, award := cell(tb, i, "payment_kind"), cell(tb, i, "grant_id"), cell(tb, i, "award")
			kinds[kind]++
			if (kind == export.PaymentGrant) != (id != "") || (id != "" && id != testPublisher.GrantID(award)) {
				t.Errorf("row %d: a grant payment, and only one, names its grant: kind %q grant_id %q award %q", i+1, kind, id, award)
			}
			if kind == export.PaymentGrant {
				grantIDs = append(grantIDs, id)
			}
		}
		// June 2024: the demo's contract payment (25,000.01) and grant
		// payment (9,250.00); the legacy 750.00 and the sole trader's
		// 640.00 are on a grant line against no award.
		if kinds[export.PaymentGrant] != 1 || kinds[export.PaymentContract] != 1 || kinds[export.PaymentOther] != 2 {
			t.Fatalf("payment kinds %v in %+v", kinds, tb.Rows)
		}
		// The grant's identifier is the one grants.csv (of the month it was
		// awarded) and the 360Giving package give it.
		pkg, _ := exportPackage(t, st, export.Format360Giving, export.Filter{})
		for _, id := range grantIDs {
			var awardedOn time.Time
			if err := st.DB().NewRaw("SELECT awarded_on FROM awards WHERE reference = ?", strings.TrimPrefix(id, testPublisher.ThreeSixtyGivingPrefix+"-")).
				Scan(ctx, &awardedOn); err != nil {
				t.Fatal(err)
			}
			then, err := export.Transparency(ctx, st, awardedOn.Format("2006-01"), export.WithPublisher(testPublisher))
			if err != nil {
				t.Fatal(err)
			}
			grants, found := table(t, then, export.FileGrants), false
			for i := range grants.Rows {
				found = found || cell(grants, i, "grant_id") == id
			}
			if !found || !bytes.Contains(pkg, []byte(`"id":"`+id+`"`)) && !bytes.Contains(pkg, []byte(`"id": "`+id+`"`)) {
				t.Errorf("%s: in grants.csv of %s %v; in the 360Giving package %v", id, then.Month, found, bytes.Contains(pkg, []byte(id)))
			}
		}
		// Without the publisher's 360Giving prefix the identifiers are
		// blank, and the pack says they are missing.
		bare, err := export.Transparency(ctx, st, "2024-06")
		if err != nil {
			t.Fatal(err)
		}
		if got := cell(table(t, bare, export.FileGrants), 0, "grant_id"); got != "" ||
			!slices.ContainsFunc(bare.Missing, func(m export.Missing) bool { return m.Field == "grant_id" }) {
			t.Fatalf("no prefix: grant_id %q, missing %v", got, bare.Missing)
		}
	})
	t.Run("Paragraph4bContractsOver10000", func(t *testing.T) {
		april, err := export.Transparency(ctx, st, "2024-04")
		if err != nil {
			t.Fatal(err)
		}
		tb := table(t, april, export.FileContracts)
		if tb.Paragraph != "4(b)" || len(tb.Rows) != 1 || cell(tb, 0, "supplier") != "Allyship Learning Ltd (fictional)" || cell(tb, 0, "value") != "18500.00" {
			t.Fatalf("contracts over £10,000: %+v", tb)
		}
	})
	// Paragraph 4(b) asks for copies of invitations to tender and of
	// contracts: the month's pack carries each invitation to tender
	// published in it (the demo's allyship tender, March 2024) and the
	// contract document of each contract awarded in it, as uploaded, listed
	// with its SHA-256, and named by the contracts list.
	t.Run("Paragraph4bInvitationsToTender", func(t *testing.T) {
		march, err := export.Transparency(ctx, st, "2024-03")
		if err != nil {
			t.Fatal(err)
		}
		tb := table(t, march, export.FileDocuments)
		if tb.Paragraph != "4(b)" || len(tb.Rows) != 1 || cell(tb, 0, "kind") != "invitation_to_tender" || cell(tb, 0, "dated") != "2024-03-12" ||
			cell(tb, 0, "funding_line") != "ALLYSHIP-TRAINING" || cell(tb, 0, "published") != "yes" {
			t.Fatalf("March 2024's invitations to tender: %+v", tb)
		}
		var pdf bytes.Buffer
		if err := march.WriteDocument(cell(tb, 0, "file"), &pdf); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(pdf.Bytes())
		if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-1.4")) || cell(tb, 0, "sha256") != hex.EncodeToString(sum[:]) ||
			!strings.HasPrefix(cell(tb, 0, "file"), "documents/") {
			t.Fatalf("the invitation is published as uploaded, with its SHA-256: %s %q", cell(tb, 0, "sha256"), pdf.String()[:20])
		}
		if len(table(t, march, export.FileContracts).Rows) != 0 {
			t.Fatal("no contract was awarded in March 2024")
		}
	})
	t.Run("Paragraph4bContractDocuments", func(t *testing.T) {
		var line int64
		if err := st.DB().NewRaw("SELECT id FROM funding_lines WHERE code = 'ALLYSHIP-TRAINING'").Scan(ctx, &line); err != nil {
			t.Fatal(err)
		}
		add := func(title, personal string) {
			t.Helper()
			in := models.ContractDocumentInput{Kind: "contract", Title: title, SignedOn: "2024-04-12", PersonalData: personal}
			d, err := in.Validate(line, "contract.pdf", []byte("%PDF-1.7\n"+title))
			if err == nil {
				err = st.AddContractDocument(ctx, officer, d)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		add("Signed contract, questions to jane.doe@example.org", "")
		add("Signed contract with the facilitator's home address", "true")
		april, err := export.Transparency(ctx, st, "2024-04")
		if err != nil {
			t.Fatal(err)
		}
		docs := table(t, april, export.FileDocuments)
		contracts := table(t, april, export.FileContracts)
		if len(docs.Rows) != 2 || cell(docs, 0, "published") != "yes" || cell(docs, 1, "published") != "withheld: holds personal data" || cell(docs, 1, "file") != "" {
			t.Fatalf("April 2024's contract documents, one withheld: %+v", docs)
		}
		if cell(contracts, 0, "contract_documents") != cell(docs, 0, "file") {
			t.Fatalf("the contracts list names the published contract document: %q, want %q", cell(contracts, 0, "contract_documents"), cell(docs, 0, "file"))
		}
		if strings.Contains(cell(docs, 0, "title"), "jane.doe@") {
			t.Fatalf("the documents list is redacted like every other: %q", cell(docs, 0, "title"))
		}
		if err := april.WriteDocument(cell(docs, 1, "file"), &bytes.Buffer{}); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("a withheld document is not written: %v", err)
		}
	})
	t.Run("RedactionsAreListed", func(t *testing.T) {
		var got []string
		for _, r := range p.Redactions {
			got = append(got, r.String())
		}
		list := strings.Join(got, "\n")
		for _, want := range []string{"office-holder-expenses.csv row 2, description: e-mail address withheld",
			"payee: name of an individual (no org-id) withheld", "description: telephone number withheld", "description: bank details withheld",
			"description: e-mail address withheld"} {
			if !strings.Contains(list, want) {
				t.Errorf("the redactions should list %q:\n%s", want, list)
			}
		}
		var csvOut, index bytes.Buffer
		if err := p.WriteCSV(export.FileSpend, &csvOut); err != nil {
			t.Fatal(err)
		}
		if err := p.WriteIndex(&index); err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{"Jane Smith", "jane.smith@", "020 7946", "12345678", "pa.office@"} {
			if strings.Contains(csvOut.String(), leak) || strings.Contains(index.String(), leak) {
				t.Errorf("%q was published", leak)
			}
		}
		if !strings.Contains(index.String(), "redaction(s) of personal data") || !strings.Contains(index.String(), "Schedule paragraph 3(g)") {
			t.Fatalf("index.html should list the redactions and cite each paragraph:\n%s", index.String())
		}
	})
	t.Run("ExpensesAreAllOrNothingAndAppendOnly", func(t *testing.T) {
		_, err := st.ImportOfficeHolderExpenses(ctx, officer, strings.NewReader("office_holder,office,incurred_on,category,description,amount\n"+
			"Alex Morgan (fictional),Deputy Mayor,2024-06-30,travel,Fine,10.00\n"+
			",Deputy Mayor,2024-13-01,travel,Bad,10.001\n"))
		var ie *store.ImportError
		if !errors.As(err, &ie) || !strings.Contains(ie.Error(), "line 3") || !strings.Contains(ie.Error(), "office_holder") ||
			!strings.Contains(ie.Error(), "incurred_on") || !strings.Contains(ie.Error(), "amount") {
			t.Fatalf("a bad row should refuse the file, naming line and fields: %v", err)
		}
		var n int
		if err := st.DB().NewRaw("SELECT count(*) FROM office_holder_expenses WHERE incurred_on = '2024-06-30'").Scan(ctx, &n); err != nil || n != 0 {
			t.Fatalf("nothing of a refused file is stored: %d %v", n, err)
		}
		// The application role may not change or delete an expense.
		for _, q := range []string{"UPDATE office_holder_expenses SET amount = 1", "DELETE FROM office_holder_expenses"} {
			var pgErr *pgconn.PgError
			if _, err := st.DB().ExecContext(ctx, q); !errors.As(err, &pgErr) || pgErr.Code != "42501" {
				t.Fatalf("%s: %v, want permission denied", q, err)
			}
		}
	})
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
