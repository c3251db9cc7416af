package export_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/shopspring/decimal"

	"granttrack/app/demo"
	"granttrack/app/export"
	"granttrack/app/pgtest"
	"granttrack/app/store"
	"granttrack/app/store/storetest"
	"granttrack/models"
)

// schema compiles a vendored package schema with the item schema it refers
// to by a remote URL mapped to the local copy, so nothing is fetched. Format
// assertion is on, as in the standards' own validators: without it a date
// such as 2024-04-12 matches both branches of awardDate's oneOf.
func schema(t *testing.T, assertFormat bool, pkgFile, itemFile string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	if assertFormat {
		c.AssertFormat()
	}
	var pkgURL string
	for _, name := range []string{pkgFile, itemFile} {
		f, err := os.Open(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		// 360Giving names a schema by $id (draft 2020-12), OCDS by id (draft 4).
		obj := doc.(map[string]any)
		url, _ := obj["$id"].(string)
		if url == "" {
			url, _ = obj["id"].(string)
		}
		if !strings.HasPrefix(url, "https://") {
			t.Fatalf("%s has no remote id to map", name)
		}
		if err := c.AddResource(url, doc); err != nil {
			t.Fatal(err)
		}
		if name == pkgFile {
			pkgURL = url
		}
	}
	sch, err := c.Compile(pkgURL)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(sch *jsonschema.Schema, doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// TestOpenStandards exports the demo data set, with payments on three
// awards, from a database of its own, so that other tests' ledgers and these
// packages do not see each other.
func TestOpenStandards(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, pgtest.FreshMigrated(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := payDemoAwards(ctx, st); err != nil {
		t.Fatal(err)
	}
	t.Run("ThreeSixtyGivingValidatesAndCarriesApprovedSpend", func(t *testing.T) { threeSixtyGivingValidates(t, st) })
	t.Run("ThreeSixtyGivingFilters", func(t *testing.T) { threeSixtyGivingFilters(t, st) })
	t.Run("OCDSValidatesWithTheAllyshipContract", func(t *testing.T) { ocdsValidates(t, st) })
	t.Run("ValidatorsCatchInvalidDocuments", func(t *testing.T) { validatorsCatchInvalidDocuments(t, st) })
	t.Run("PlaceholdersAreRefused", func(t *testing.T) { placeholdersAreRefused(t, st) })
	t.Run("OnlyApprovedAwardsArePublished", func(t *testing.T) { onlyApprovedAwardsArePublished(t, st) })
	t.Run("DateModifiedFollowsChanges", func(t *testing.T) { dateModifiedFollowsChanges(t, st) })
	// Last: it adds an incomplete grant and legacy spend to the demo.
	t.Run("TransparencyPack", func(t *testing.T) { transparencyPack(t, st) })
}

// demoPayments are the approved payments made on demo awards; the reversed
// one is undone by an approved reversal.
var demoPayments = []struct{ award, amount, on string }{
	{"MOPAC-HC-2023-001", "37500.00", "2023-07-14"},
	{"MOPAC-HC-2023-001", "12345.67", "2023-10-13"}, // reversed below
	{"MOPAC-VS-2022-001", "25000.01", "2024-06-28"},
	{"MOPAC-T-2024-017-A", "9250.00", "2024-05-31"},
	{"MOPAC-T-2024-017-A", "9250.00", "2024-06-30"},
}

func payDemoAwards(ctx context.Context, st *store.Store) error {
	if _, err := demo.LoadFunding(ctx, st); err != nil {
		return err
	}
	maker, err := st.UserByEmail(ctx, "finance@granttrack.example")
	if err != nil {
		return err
	}
	checker, err := st.UserByEmail(ctx, "finance2@granttrack.example")
	if err != nil {
		return err
	}
	m := models.Actor{UserID: maker.ID, Label: maker.Email, Role: maker.Role}
	c := models.Actor{UserID: checker.ID, Label: checker.Email, Role: checker.Role}
	var ids []int64
	for _, p := range demoPayments {
		var a struct {
			ID, FundingLineID, RecipientID int64
		}
		if err := st.DB().NewRaw("SELECT id, funding_line_id, recipient_id FROM awards WHERE reference = ?", p.award).Scan(ctx, &a.ID, &a.FundingLineID, &a.RecipientID); err != nil {
			return err
		}
		e, err := models.SpendInput{FundingLineID: a.FundingLineID, AwardID: &a.ID, PayeeID: a.RecipientID, Amount: p.amount, IncurredOn: p.on,
			Category: "grant_payment", Reference: "INV-" + p.on, Description: "Payment on " + p.award,
			Purpose: "Payment of the award", VFMReason: "Paid against the agreed schedule"}.Validate()
		if err != nil {
			return err
		}
		if _, err := st.RecordSpend(ctx, m, e, "", nil); err != nil {
			return err
		}
		if _, err := st.ApproveSpend(ctx, c, e.ID); err != nil {
			return err
		}
		ids = append(ids, e.ID)
	}
	rev, err := st.ReverseSpend(ctx, m, ids[1], "paid twice by mistake")
	if err != nil {
		return err
	}
	if _, err = st.ApproveSpend(ctx, c, rev.ID); err != nil {
		return err
	}
	// The facilitator's travel, invoiced separately and booked to the
	// allyship line but not to its award: OCDS still shows it.
	var line, supplier int64
	if err := st.DB().NewRaw("SELECT id, awarded_supplier_id FROM funding_lines WHERE code = 'ALLYSHIP-TRAINING'").Scan(ctx, &line, &supplier); err != nil {
		return err
	}
	e, err := models.SpendInput{FundingLineID: line, PayeeID: supplier, Amount: "1200.00", IncurredOn: "2024-07-19", Category: "services",
		Reference: "ALLY-TRAVEL-1", Description: "Facilitator's travel", Purpose: "Travel to the board session", VFMReason: "Standard class rail fares"}.Validate()
	if err != nil {
		return err
	}
	if _, err := st.RecordSpend(ctx, m, e, "", nil); err != nil {
		return err
	}
	_, err = st.ApproveSpend(ctx, c, e.ID)
	return err
}

// testPublisher is a complete publisher, as GRANTTRACK_PUBLISHER_NAME and
// the other settings give it.
var testPublisher = export.Publisher{Name: "Mayor's Office for Policing and Crime", URI: "https://www.london.gov.uk/mopac",
	OrgID:                  "GB-GOR-PC000001",
	ThreeSixtyGivingPrefix: "360G-mopactest", OCIDPrefix: "ocds-t3stxx",
	Licence: "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"}

func exportPackage(t *testing.T, st *store.Store, format string, f export.Filter) ([]byte, *export.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := export.Ledger(context.Background(), st, &buf, format, f, nil, export.WithPublisher(testPublisher))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

// decodeNumbers decodes JSON keeping numbers as their text.
func decodeNumbers(t *testing.T, b []byte, v any) {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
}

func dec(t *testing.T, n json.Number) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(string(n))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type grantOut struct {
	ID              string                                  `json:"id"`
	AmountAwarded   json.Number                             `json:"amountAwarded"`
	AmountDisbursed json.Number                             `json:"amountDisbursed"`
	AwardDate       string                                  `json:"awardDate"`
	Recipient       []struct{ ID, Name string }             `json:"recipientOrganization"`
	Funder          []struct{ ID string }                   `json:"fundingOrganization"`
	Location        []struct{ GeoCode, GeoCodeType string } `json:"beneficiaryLocation"`
	Disbursements   []struct {
		Value json.Number `json:"value"`
	} `json:"disbursementTransaction"`
}

func threeSixtyGivingValidates(t *testing.T, st *store.Store) {
	sch := schema(t, true, "360-giving-package-schema.json", "360-giving-schema.json")
	out, m := exportPackage(t, st, export.Format360Giving, export.Filter{})
	if err := validate(sch, out); err != nil {
		t.Fatalf("the 360Giving package does not validate: %v", err)
	}
	var pkg struct {
		Grants []grantOut `json:"grants"`
	}
	decodeNumbers(t, out, &pkg)
	byID := map[string]grantOut{}
	total, paid := decimal.Zero, decimal.Zero
	for _, g := range pkg.Grants {
		byID[g.ID] = g
		total, paid = total.Add(dec(t, g.AmountAwarded)), paid.Add(dec(t, g.AmountDisbursed))
		sum := decimal.Zero
		for _, d := range g.Disbursements {
			sum = sum.Add(dec(t, d.Value))
		}
		if !sum.Equal(dec(t, g.AmountDisbursed)) {
			t.Errorf("%s: disbursements add up to %s, amountDisbursed is %s", g.ID, sum, g.AmountDisbursed)
		}
	}
	if m.Rows != len(pkg.Grants) || m.Total != models.FormatMoney(total) || m.Approved != models.FormatMoney(paid) || m.AuditSeq == 0 {
		t.Fatalf("manifest %+v does not describe %d grants totalling %s with %s paid", m, len(pkg.Grants), total, paid)
	}
	// Contracts go to OCDS, not 360Giving; the demo has 8 grant and allocation awards.
	if len(pkg.Grants) != 8 || byID[testPublisher.ThreeSixtyGivingPrefix+"-MOPAC-T-2024-017-A"].ID != "" {
		t.Fatalf("%d grants; want the demo's 8 without the allyship contract", len(pkg.Grants))
	}
	galop := byID[testPublisher.ThreeSixtyGivingPrefix+"-MOPAC-HC-2023-001"]
	if galop.AmountAwarded != "300000.00" || galop.AmountDisbursed != "37500.00" || len(galop.Disbursements) != 3 ||
		galop.Recipient[0].ID != "GB-CHC-1077810" || galop.Funder[0].ID != "GB-GOR-PC390" || galop.AwardDate != "2023-04-03" {
		t.Fatalf("Galop's grant: %+v", galop)
	}
	// Exact digits on the wire: a float64 would write 25000.01 as is, but
	// 300000.00 would lose its pence.
	if !bytes.Contains(out, []byte(`"amountAwarded":300000.00`)) || !bytes.Contains(out, []byte(`"value":-12345.67`)) {
		t.Fatal("amounts should be written with their exact decimal digits")
	}
	lambeth := byID[testPublisher.ThreeSixtyGivingPrefix+"-MOPAC-VS-2022-001"]
	if len(lambeth.Location) != 1 || lambeth.Location[0].GeoCode != "E09000022" || lambeth.Location[0].GeoCodeType != "LONB" ||
		lambeth.AmountDisbursed != "25000.01" {
		t.Fatalf("Lambeth's grant should be located by its GSS code: %+v", lambeth)
	}
	if met := byID[testPublisher.ThreeSixtyGivingPrefix+"-MOPAC-DS-2022-001"]; len(met.Location) != 0 {
		t.Fatalf("the Met is not a borough and has no GSS code: %+v", met.Location)
	}
}

func threeSixtyGivingFilters(t *testing.T, st *store.Store) {
	out, m := exportPackage(t, st, export.Format360Giving, export.Filter{Year: "2023-24"})
	var pkg struct {
		Grants []grantOut `json:"grants"`
	}
	decodeNumbers(t, out, &pkg)
	if len(pkg.Grants) != 5 || m.Rows != 5 {
		t.Fatalf("%d grants awarded in 2023-24, want 5", len(pkg.Grants))
	}
	for _, g := range pkg.Grants {
		if g.AwardDate < "2023-04-01" || g.AwardDate > "2024-03-31" {
			t.Errorf("%s was awarded on %s, outside 2023-24", g.ID, g.AwardDate)
		}
	}
	_, err := export.Ledger(context.Background(), st, &bytes.Buffer{}, export.Format360Giving, export.Filter{Year: "2030-31"}, nil, export.WithPublisher(testPublisher))
	if models.ErrorCode(err) != models.ENOTFOUND || !strings.Contains(models.ErrorMessage(err), "at least one") {
		t.Fatalf("no grants should be a clear error, not an invalid file: %v", err)
	}
	if _, err := export.Ledger(context.Background(), st, &bytes.Buffer{}, export.Format360Giving, export.Filter{From: "2024-13-01"}, nil, export.WithPublisher(testPublisher)); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("a bad date should be refused: %v", err)
	}
}

func ocdsValidates(t *testing.T, st *store.Store) {
	sch := schema(t, true, "release-package-schema.json", "release-schema.json")
	out, m := exportPackage(t, st, export.FormatOCDS, export.Filter{})
	if err := validate(sch, out); err != nil {
		t.Fatalf("the OCDS package does not validate: %v", err)
	}
	// The publisher names itself by its org-id, split as OCDS asks.
	var head struct {
		Publisher struct{ Name, Scheme, UID string } `json:"publisher"`
	}
	if err := json.Unmarshal(out, &head); err != nil || head.Publisher.Scheme != "GB-GOR" || head.Publisher.UID != "PC000001" ||
		head.Publisher.Name != testPublisher.Name {
		t.Fatalf("the OCDS package's publisher is %+v (%v), want scheme GB-GOR and uid PC000001", head.Publisher, err)
	}
	type val struct {
		Amount   json.Number `json:"amount"`
		Currency string      `json:"currency"`
	}
	var pkg struct {
		Releases []struct {
			OCID, ID       string
			Tag            []string `json:"tag"`
			InitiationType string   `json:"initiationType"`
			Parties        []struct {
				ID         string
				Roles      []string `json:"roles"`
				Identifier *struct{ Scheme, ID string }
			} `json:"parties"`
			Buyer  struct{ ID string }
			Tender struct {
				MinValue     val `json:"minValue"`
				Value        val `json:"value"`
				Status       string
				Method       string `json:"procurementMethod"`
				Details      string `json:"procurementMethodDetails"`
				Category     string `json:"mainProcurementCategory"`
				TenderPeriod struct {
					StartDate string `json:"startDate"`
					EndDate   string `json:"endDate"`
				} `json:"tenderPeriod"`
				Documents []struct {
					DocumentType  string `json:"documentType"`
					Title, Format string
					DatePublished string `json:"datePublished"`
				} `json:"documents"`
			} `json:"tender"`
			Awards    []struct{ Value val } `json:"awards"`
			Contracts []struct {
				AwardID        string `json:"awardID"`
				Title          string `json:"title"`
				Period         struct{ StartDate, EndDate string }
				Value          val
				Implementation struct {
					Transactions []struct{ Value val } `json:"transactions"`
				} `json:"implementation"`
			} `json:"contracts"`
		} `json:"releases"`
	}
	decodeNumbers(t, out, &pkg)
	if m.Rows != len(pkg.Releases) || len(pkg.Releases) != 2 {
		t.Fatalf("%d releases (manifest %d), want the demo's 2 contracts", len(pkg.Releases), m.Rows)
	}
	r, research := pkg.Releases[0], pkg.Releases[1]
	if r.OCID != testPublisher.OCIDPrefix+"-granttrack-ALLYSHIP-TRAINING" {
		r, research = pkg.Releases[1], pkg.Releases[0]
	}
	// The procedure, category and periods come from each contract's record
	// (the restricted procedure is OCDS's selective method).
	if r.Tender.Method != "open" || r.Tender.Details != "Open procedure" || r.Tender.Category != "services" ||
		!strings.HasPrefix(r.Tender.TenderPeriod.StartDate, "2024-03-12") || !strings.HasPrefix(r.Tender.TenderPeriod.EndDate, "2024-04-02") {
		t.Fatalf("allyship tender %+v", r.Tender)
	}
	// The invitation to tender is the tender's notice, dated the day it
	// was published.
	if d := r.Tender.Documents; len(d) != 1 || d[0].DocumentType != "tenderNotice" || !strings.HasPrefix(d[0].DatePublished, "2024-03-12") ||
		d[0].Format != "application/pdf" || !strings.Contains(d[0].Title, "MOPAC-T-2024-017") {
		t.Fatalf("the allyship tender's documents: %+v", d)
	}
	if research.Tender.Method != "selective" || research.Tender.Details != "Restricted procedure" {
		t.Fatalf("research tender %+v", research.Tender)
	}
	if len(r.Contracts) == 1 && (r.Contracts[0].Title != "Anti-racism allyship session for the London Policing Board" ||
		!strings.HasPrefix(r.Contracts[0].Period.StartDate, "2024-04-15") || !strings.HasPrefix(r.Contracts[0].Period.EndDate, "2024-09-30")) {
		t.Fatalf("allyship contract %+v", r.Contracts[0])
	}
	if r.OCID != testPublisher.OCIDPrefix+"-granttrack-ALLYSHIP-TRAINING" || r.InitiationType != "tender" {
		t.Fatalf("no release for the allyship contract: %+v", pkg.Releases)
	}
	if !dec(t, r.Tender.MinValue.Amount).Equal(decimal.NewFromInt(10000)) || !dec(t, r.Tender.Value.Amount).Equal(decimal.NewFromInt(25000)) ||
		r.Tender.Value.Currency != "GBP" || r.Tender.Status != "complete" {
		t.Fatalf("tender band %+v, want 10000 to 25000 GBP", r.Tender)
	}
	if len(r.Awards) != 1 || r.Awards[0].Value.Amount != "18500.00" || len(r.Contracts) != 1 || r.Contracts[0].AwardID == "" {
		t.Fatalf("awards %+v contracts %+v", r.Awards, r.Contracts)
	}
	sum := decimal.Zero
	for _, tx := range r.Contracts[0].Implementation.Transactions {
		sum = sum.Add(dec(t, tx.Value.Amount))
	}
	// The two payments on the award and the travel booked to the line only:
	// what the ledger holds for the line.
	var ledger decimal.Decimal
	if err := st.DB().NewRaw(`SELECT sum(e.amount) FROM spend_entries e JOIN funding_lines fl ON fl.id = e.funding_line_id
		WHERE fl.code = 'ALLYSHIP-TRAINING' AND e.status = 'approved'`).Scan(context.Background(), &ledger); err != nil {
		t.Fatal(err)
	}
	if len(r.Contracts[0].Implementation.Transactions) != 3 || !sum.Equal(decimal.RequireFromString("19700.00")) || !sum.Equal(ledger) {
		t.Fatalf("transactions add up to %s, want the ledger's %s (18500.00 on the award and 1200.00 on the line)", sum, ledger)
	}
	if strings.Join(r.Tag, ",") != "tender,award,contract,implementation" {
		t.Fatalf("tags %v", r.Tag)
	}
	roles := map[string]string{}
	for _, p := range r.Parties {
		roles[p.ID] = strings.Join(p.Roles, ",")
		if p.ID == "GB-COH-01234567" && (p.Identifier == nil || p.Identifier.Scheme != "GB-COH" || p.Identifier.ID != "01234567") {
			t.Fatalf("the supplier's identifier %+v", p.Identifier)
		}
	}
	if r.Buyer.ID != "GB-GOR-PC390" || !strings.Contains(roles["GB-GOR-PC390"], "buyer") || !strings.Contains(roles["GB-COH-01234567"], "supplier") {
		t.Fatalf("parties' roles %v", roles)
	}
	if m.Total != "71250.00" || m.Approved != "19700.00" {
		t.Fatalf("manifest total %s approved %s; want the two contracts' 71250.00 and 19700.00 paid", m.Total, m.Approved)
	}
	var p struct {
		Publisher struct{ Name, URI string }
		License   string `json:"license"`
		URI       string `json:"uri"`
	}
	decodeNumbers(t, out, &p)
	if p.Publisher.Name != testPublisher.Name || p.License != testPublisher.Licence || !strings.HasPrefix(p.URI, testPublisher.URI+"/ocds/ocds-t3stxx/") {
		t.Fatalf("the package's publisher, licence and URI: %+v", p)
	}
	if !bytes.Contains(out, []byte(`"minValue":{"amount":10000.00,"currency":"GBP"}`)) {
		t.Fatal("the band should be written with its exact digits")
	}
}

// validatorsCatchInvalidDocuments shows the validation above can fail.
func validatorsCatchInvalidDocuments(t *testing.T, st *store.Store) {
	grants := schema(t, true, "360-giving-package-schema.json", "360-giving-schema.json")
	out, _ := exportPackage(t, st, export.Format360Giving, export.Filter{})
	var pkg map[string]any
	decodeNumbers(t, out, &pkg)
	delete(pkg["grants"].([]any)[0].(map[string]any), "amountAwarded")
	broken, _ := json.Marshal(pkg)
	if err := validate(grants, broken); err == nil || !strings.Contains(err.Error(), "amountAwarded") {
		t.Fatalf("a grant without amountAwarded should fail: %v", err)
	}
	// Without format assertion a date matches both branches of awardDate's
	// oneOf, so even the valid file fails: the reason AssertFormat is on.
	if err := validate(schema(t, false, "360-giving-package-schema.json", "360-giving-schema.json"), out); err == nil {
		t.Fatal("expected the oneOf on awardDate to fail without format assertion")
	}
	releases := schema(t, true, "release-package-schema.json", "release-schema.json")
	out, _ = exportPackage(t, st, export.FormatOCDS, export.Filter{})
	decodeNumbers(t, out, &pkg)
	pkg["releases"].([]any)[0].(map[string]any)["tag"] = []string{"finished"}
	delete(pkg, "publishedDate")
	broken, _ = json.Marshal(pkg)
	err := validate(releases, broken)
	if err == nil || !strings.Contains(err.Error(), "publishedDate") || !strings.Contains(err.Error(), "tag") {
		t.Fatalf("a package without publishedDate and with an unknown tag should fail on both: %v", err)
	}
}

// placeholdersAreRefused: no package is written while a publisher setting
// is unset or still a placeholder, and the refusal names each setting.
func placeholdersAreRefused(t *testing.T, st *store.Store) {
	ctx := context.Background()
	placeholder := testPublisher
	placeholder.ThreeSixtyGivingPrefix, placeholder.OCIDPrefix = export.Placeholder360Prefix, export.PlaceholderOCID
	for _, tc := range []struct {
		name   string
		pub    export.Publisher
		format string
		want   []string
	}{
		{"Unset360Giving", export.Publisher{}, export.Format360Giving, []string{"GRANTTRACK_PUBLISHER_NAME", "GRANTTRACK_PUBLISHER_URI",
			"GRANTTRACK_DATA_LICENCE", "GRANTTRACK_360GIVING_PREFIX"}},
		{"UnsetOCDS", export.Publisher{}, export.FormatOCDS, []string{"GRANTTRACK_OCID_PREFIX"}},
		{"Placeholder360Giving", placeholder, export.Format360Giving, []string{"GRANTTRACK_360GIVING_PREFIX"}},
		{"PlaceholderOCDS", placeholder, export.FormatOCDS, []string{"GRANTTRACK_OCID_PREFIX"}},
		{"MalformedOCID", export.Publisher{Name: "X", URI: "https://x.example", Licence: "https://x.example/l", OCIDPrefix: "ocds-TOOLONG1"},
			export.FormatOCDS, []string{"GRANTTRACK_OCID_PREFIX"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := export.Ledger(ctx, st, &buf, tc.format, export.Filter{}, nil, export.WithPublisher(tc.pub))
			if models.ErrorCode(err) != models.ECONFLICT || buf.Len() != 0 {
				t.Fatalf("want a refusal and nothing written: %v (%d bytes)", err, buf.Len())
			}
			for _, w := range tc.want {
				if !strings.Contains(models.ErrorMessage(err), w) {
					t.Errorf("the refusal should name %s: %s", w, models.ErrorMessage(err))
				}
			}
		})
	}
	// The placeholder files validate against the schemas, which is why the
	// refusal is needed at all; the complete publisher is accepted.
	if msg := placeholder.Check(); len(msg) != 0 {
		t.Fatalf("the placeholders are well-formed, so only Missing catches them: %v", msg)
	}
	if missing := testPublisher.Missing(export.Format360Giving); len(missing) != 0 {
		t.Fatalf("a complete publisher: %v", missing)
	}
	out, _ := exportPackage(t, st, export.Format360Giving, export.Filter{})
	if bytes.Contains(out, []byte("360G-granttrack")) || !bytes.Contains(out, []byte(`"license":"https://www.nationalarchives.gov.uk/`)) {
		t.Fatal("the package should carry the configured prefix and licence only")
	}
}

// onlyApprovedAwardsArePublished: a proposal waiting for its second person
// is not a grant yet.
func onlyApprovedAwardsArePublished(t *testing.T, st *store.Store) {
	ctx := context.Background()
	var lineID, galop int64
	if err := st.DB().NewRaw("SELECT id FROM funding_lines WHERE code = 'HATE-CRIME-SUPPORT'").Scan(ctx, &lineID); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().NewRaw("SELECT id FROM organisations WHERE name = 'Galop'").Scan(ctx, &galop); err != nil {
		t.Fatal(err)
	}
	a, err := models.AwardInput{RecipientID: galop, Reference: "MOPAC-HC-2024-PENDING", Amount: "100.00", AwardedOn: "2024-05-02",
		StartsOn: "2024-05-02", EndsOn: "2024-06-30", Purpose: "Proposed only"}.Validate(lineID)
	if err != nil {
		t.Fatal(err)
	}
	proposer, _, err := storetest.Deciders(ctx, st, "pending-award")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateAward(ctx, proposer, a); err != nil {
		t.Fatal(err)
	}
	out, m := exportPackage(t, st, export.Format360Giving, export.Filter{})
	if bytes.Contains(out, []byte("MOPAC-HC-2024-PENDING")) || m.Rows != 8 {
		t.Fatalf("a pending award was published (%d grants)", m.Rows)
	}
}

// dateModifiedFollowsChanges: a grant's dateModified moves when its award
// gets a new payment or its recipient's details change, and not when
// another grant changes.
func dateModifiedFollowsChanges(t *testing.T, st *store.Store) {
	ctx := context.Background()
	modified := func() map[string]string {
		out, _ := exportPackage(t, st, export.Format360Giving, export.Filter{})
		var pkg struct {
			Grants []struct{ ID, DateModified string } `json:"grants"`
		}
		decodeNumbers(t, out, &pkg)
		got := map[string]string{}
		for _, g := range pkg.Grants {
			got[strings.TrimPrefix(g.ID, testPublisher.ThreeSixtyGivingPrefix+"-")] = g.DateModified
		}
		return got
	}
	later := func(a, b string) bool { // b after a, both RFC 3339
		ta, err1 := time.Parse(time.RFC3339Nano, a)
		tb, err2 := time.Parse(time.RFC3339Nano, b)
		return err1 == nil && err2 == nil && tb.After(ta)
	}
	before := modified()
	// A payment approved on Lambeth's grant.
	var award, line, payee int64
	if err := st.DB().NewRaw("SELECT id, funding_line_id, recipient_id FROM awards WHERE reference = 'MOPAC-VS-2022-001'").Scan(ctx, &award, &line, &payee); err != nil {
		t.Fatal(err)
	}
	maker, checker := demoPeople(t, st)
	e, err := models.SpendInput{FundingLineID: line, AwardID: &award, PayeeID: payee, Amount: "10.00", IncurredOn: "2024-07-01", Category: "grant_payment",
		Reference: "INV-MOD-1", Description: "A later payment", Purpose: "Payment of the award", VFMReason: "On schedule"}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.RecordSpend(ctx, maker, e, "", nil); err != nil {
		t.Fatal(err)
	}
	afterRecord := modified()
	if afterRecord["MOPAC-VS-2022-001"] != before["MOPAC-VS-2022-001"] {
		t.Fatal("a pending payment is not published, so it should not change dateModified")
	}
	if _, err := st.ApproveSpend(ctx, checker, e.ID); err != nil {
		t.Fatal(err)
	}
	afterPayment := modified()
	if !later(before["MOPAC-VS-2022-001"], afterPayment["MOPAC-VS-2022-001"]) {
		t.Fatalf("Lambeth's grant got a payment: dateModified %s then %s", before["MOPAC-VS-2022-001"], afterPayment["MOPAC-VS-2022-001"])
	}
	if afterPayment["MOPAC-HC-2023-001"] != before["MOPAC-HC-2023-001"] {
		t.Fatalf("Galop's grant did not change: dateModified %s then %s", before["MOPAC-HC-2023-001"], afterPayment["MOPAC-HC-2023-001"])
	}
	// Galop's details change: its grants publish its name.
	var galop int64
	if err := st.DB().NewRaw("SELECT id FROM organisations WHERE name = 'Galop'").Scan(ctx, &galop); err != nil {
		t.Fatal(err)
	}
	o, err := st.Organisation(ctx, galop)
	if err != nil {
		t.Fatal(err)
	}
	o.Borough = nil
	if err := st.UpdateOrganisation(ctx, maker, galop, o); err != nil {
		t.Fatal(err)
	}
	afterOrg := modified()
	if !later(afterPayment["MOPAC-HC-2023-001"], afterOrg["MOPAC-HC-2023-001"]) ||
		afterOrg["MOPAC-VS-2022-001"] != afterPayment["MOPAC-VS-2022-001"] {
		t.Fatalf("after Galop's details changed: %v, before %v", afterOrg, afterPayment)
	}
}

func demoPeople(t *testing.T, st *store.Store) (maker, checker models.Actor) {
	t.Helper()
	for _, p := range []struct {
		who   *models.Actor
		email string
	}{{&maker, "finance@granttrack.example"}, {&checker, "finance2@granttrack.example"}} {
		u, err := st.UserByEmail(context.Background(), p.email)
		if err != nil {
			t.Fatal(err)
		}
		*p.who = models.Actor{UserID: u.ID, Label: u.Email, Role: u.Role}
	}
	return maker, checker
}
