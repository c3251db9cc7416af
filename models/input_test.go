package models

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func inDate(s string) time.Time {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

// problemsOf returns the field problems of an EINVALID error, failing the
// test if err is anything else.
func problemsOf(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *models.Error", err, err)
	}
	if e.Code != EINVALID {
		t.Fatalf("code = %q, want %q", e.Code, EINVALID)
	}
	if len(e.Fields) == 0 {
		t.Fatalf("EINVALID error %q has no field problems", e.Message)
	}
	out := make(map[string]string, len(e.Fields))
	for _, f := range e.Fields {
		if f.Message == "" {
			t.Errorf("field %s has an empty message", f.Field)
		}
		if _, dup := out[f.Field]; dup {
			t.Errorf("field %s reported twice", f.Field)
		}
		out[f.Field] = f.Message
	}
	return out
}

func fieldNames(p map[string]string) []string {
	names := make([]string, 0, len(p))
	for f := range p {
		names = append(names, f)
	}
	slices.Sort(names)
	return names
}

// expectOnly fails unless err reports exactly the field given, with a message
// containing want.
func expectOnly(t *testing.T, err error, field, want string) {
	t.Helper()
	p := problemsOf(t, err)
	msg, ok := p[field]
	if !ok || len(p) != 1 {
		t.Fatalf("problems on %v, want only %s", fieldNames(p), field)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("%s: message %q does not mention %q", field, msg, want)
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"2024-04-01", true},
		{"2024-02-29", true},
		{"2023-02-29", false},
		{"2024-13-01", false},
		{"2024-4-1", false},
		{"01/04/2024", false},
		{"2024-04-01T00:00:00Z", false},
		{"", false},
		{" 2024-04-01", false},
	}
	for _, tc := range tests {
		got, err := ParseDate(tc.in)
		if tc.ok {
			if err != nil || got.Format(DateLayout) != tc.in || got.Location() != time.UTC {
				t.Errorf("ParseDate(%q) = %s, %v", tc.in, got, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("ParseDate(%q) = %s, want an error", tc.in, got)
			continue
		}
		assertEINVALID(t, err, "YYYY-MM-DD")
	}
}

func validFundingLineInput() FundingLineInput {
	return FundingLineInput{
		Code:        " drug-supply-2024 ",
		Title:       " Drug supply services ",
		Description: "Community treatment",
		Kind:        "grant",
		ProgrammeID: 3,
		FunderID:    4,
		Budget:      "2000000",
		StartsOn:    "2024-04-01",
		EndsOn:      "2025-03-31",
	}
}

func TestFundingLineInputValidExample(t *testing.T) {
	fl, err := validFundingLineInput().Validate()
	if err != nil {
		t.Fatalf("Validate: %v (%s)", err, problemsSummary(err))
	}
	if fl.Status != StatusDraft {
		t.Errorf("status = %q, want draft", fl.Status)
	}
	if fl.Code != "DRUG-SUPPLY-2024" {
		t.Errorf("code = %q, want the canonical upper-case DRUG-SUPPLY-2024", fl.Code)
	}
	if fl.Title != "Drug supply services" {
		t.Errorf("title = %q, want it trimmed", fl.Title)
	}
	if fl.Kind != KindGrant || fl.ProgrammeID != 3 || fl.FunderID != 4 || fl.Currency != "GBP" {
		t.Errorf("got kind %q programme %d funder %d currency %q", fl.Kind, fl.ProgrammeID, fl.FunderID, fl.Currency)
	}
	if FormatMoney(fl.Budget) != "2000000.00" {
		t.Errorf("budget = %s", FormatMoney(fl.Budget))
	}
	if !fl.StartsOn.Equal(inDate("2024-04-01")) || !fl.EndsOn.Equal(inDate("2025-03-31")) {
		t.Errorf("dates = %s..%s", fl.StartsOn, fl.EndsOn)
	}
	if fl.TenderReference != nil || fl.TenderMinValue != nil || fl.TenderMaxValue != nil || fl.TenderClosesOn != nil || fl.AwardedSupplierID != nil {
		t.Error("a line without a tender has tender fields set")
	}
}

func TestFundingLineInputReportsEveryBadFieldAtOnce(t *testing.T) {
	in := FundingLineInput{
		Code:        "drug supply!",
		Title:       "   ",
		Kind:        "loan",
		ProgrammeID: 0,
		FunderID:    -2,
		Budget:      "£2,000",
		Currency:    "EUR",
		StartsOn:    "01/04/2024",
		EndsOn:      "2025-03-31",
	}
	_, err := in.Validate()
	p := problemsOf(t, err)
	want := map[string]string{
		"code":         "letters, digits and hyphens",
		"title":        "is required",
		"kind":         "grant, contract or allocation",
		"programme_id": "is required",
		"funder_id":    "positive whole number",
		"budget":       "currency symbol",
		"starts_on":    "YYYY-MM-DD",
		"currency":     "only GBP",
	}
	for field, frag := range want {
		if msg, ok := p[field]; !ok {
			t.Errorf("no problem reported on %s (got %v)", field, fieldNames(p))
		} else if !strings.Contains(msg, frag) {
			t.Errorf("%s: message %q does not mention %q", field, msg, frag)
		}
	}
	if len(p) != len(want) {
		t.Errorf("problems on %v, want exactly %d fields", fieldNames(p), len(want))
	}
}

func TestFundingLineInputSingleProblems(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*FundingLineInput)
		field  string
		want   string
	}{
		{"code missing", func(in *FundingLineInput) { in.Code = " " }, "code", "is required"},
		{"code leading hyphen", func(in *FundingLineInput) { in.Code = "-ABC" }, "code", "letters, digits and hyphens"},
		{"code inner space", func(in *FundingLineInput) { in.Code = "DRUG SUPPLY" }, "code", "letters, digits and hyphens"},
		{"code underscore", func(in *FundingLineInput) { in.Code = "DRUG_SUPPLY" }, "code", "letters, digits and hyphens"},
		{"code non-ASCII", func(in *FundingLineInput) { in.Code = "CAFÉ" }, "code", "letters, digits and hyphens"},
		{"code too long", func(in *FundingLineInput) { in.Code = strings.Repeat("A", 41) }, "code", "at most 40"},
		{"title too long", func(in *FundingLineInput) { in.Title = strings.Repeat("t", 201) }, "title", "at most 200"},
		{"description too long", func(in *FundingLineInput) { in.Description = strings.Repeat("d", 4001) }, "description", "at most 4000"},
		{"kind missing", func(in *FundingLineInput) { in.Kind = "" }, "kind", "is required"},
		{"kind wrong case", func(in *FundingLineInput) { in.Kind = "Grant" }, "kind", "one of grant, contract or allocation"},
		{"budget missing", func(in *FundingLineInput) { in.Budget = "" }, "budget", "is required"},
		{"budget negative", func(in *FundingLineInput) { in.Budget = "-0.01" }, "budget", "must not be negative"},
		{"budget three places", func(in *FundingLineInput) { in.Budget = "12.345" }, "budget", "two decimal places"},
		{"budget too large", func(in *FundingLineInput) { in.Budget = "10000000000000.00" }, "budget", "too large"},
		{"currency lower case", func(in *FundingLineInput) { in.Currency = "gbp" }, "currency", "only GBP"},
		{"starts_on missing", func(in *FundingLineInput) { in.StartsOn = "" }, "starts_on", "is required"},
		{"ends_on missing", func(in *FundingLineInput) { in.EndsOn = " " }, "ends_on", "is required"},
		{"ends_on impossible date", func(in *FundingLineInput) { in.EndsOn = "2025-02-29" }, "ends_on", "YYYY-MM-DD"},
		{"ends before starts", func(in *FundingLineInput) { in.EndsOn = "2024-03-31" }, "ends_on", "on or after 2024-04-01"},
		{"tender on a grant", func(in *FundingLineInput) { in.Tender = &TenderInput{Reference: ptr("T-1")} }, "tender", "only a contract"},
		{"tender on an allocation", func(in *FundingLineInput) {
			in.Kind = "allocation"
			in.Tender = &TenderInput{MinValue: ptr("1.00"), MaxValue: ptr("2.00")}
		}, "tender", "only a contract"},
		{"tender min above max", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{MinValue: ptr("500.00"), MaxValue: ptr("400.00")}
		}, "tender.max_value", "at least the minimum value £500.00"},
		{"tender min only", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{MinValue: ptr("500.00")}
		}, "tender.max_value", "both"},
		{"tender max only", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{MaxValue: ptr("500.00")}
		}, "tender.max_value", "both"},
		{"tender min negative", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{MinValue: ptr("-1.00"), MaxValue: ptr("5.00")}
		}, "tender.min_value", "must not be negative"},
		{"tender min unparseable", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{MinValue: ptr("1e2"), MaxValue: ptr("500.00")}
		}, "tender.min_value", "exponents"},
		{"tender closes_on bad", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{ClosesOn: ptr("31/01/2024")}
		}, "tender.closes_on", "YYYY-MM-DD"},
		{"tender reference too long", func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{Reference: ptr(strings.Repeat("R", 101))}
		}, "tender.reference", "at most 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := validFundingLineInput()
			tc.modify(&in)
			_, err := in.Validate()
			expectOnly(t, err, tc.field, tc.want)
		})
	}
}

func TestFundingLineInputAcceptsContractTender(t *testing.T) {
	in := validFundingLineInput()
	in.Kind = " contract "
	in.Currency = "GBP"
	in.Tender = &TenderInput{
		Reference:         ptr(" TND-7 "),
		MinValue:          ptr("1000.00"),
		MaxValue:          ptr("1000.00"), // a band of one value is fine
		ClosesOn:          ptr("2024-03-01"),
		AwardedSupplierID: ptr(int64(9)),
	}
	fl, err := in.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if fl.Kind != KindContract {
		t.Errorf("kind = %q", fl.Kind)
	}
	if fl.TenderReference == nil || *fl.TenderReference != "TND-7" {
		t.Errorf("tender reference = %v", fl.TenderReference)
	}
	if fl.TenderMinValue == nil || fl.TenderMaxValue == nil || FormatMoney(*fl.TenderMinValue) != "1000.00" || FormatMoney(*fl.TenderMaxValue) != "1000.00" {
		t.Errorf("tender band = %v..%v", fl.TenderMinValue, fl.TenderMaxValue)
	}
	if fl.TenderClosesOn == nil || !fl.TenderClosesOn.Equal(inDate("2024-03-01")) {
		t.Errorf("tender closes on %v", fl.TenderClosesOn)
	}
	if fl.AwardedSupplierID == nil || *fl.AwardedSupplierID != 9 {
		t.Errorf("awarded supplier = %v", fl.AwardedSupplierID)
	}

	// An empty tender is no tender, whatever the kind.
	for _, kind := range []string{"grant", "contract", "allocation"} {
		in := validFundingLineInput()
		in.Kind = kind
		in.Tender = &TenderInput{}
		if _, err := in.Validate(); err != nil {
			t.Errorf("%s with an empty tender: %v", kind, err)
		}
	}
	// Blank tender values on a contract are treated as absent.
	in = validFundingLineInput()
	in.Kind = "contract"
	in.Tender = &TenderInput{Reference: ptr("  "), MinValue: ptr(""), MaxValue: ptr(""), ClosesOn: ptr(" ")}
	fl, err = in.Validate()
	if err != nil {
		t.Fatalf("blank tender values: %v", err)
	}
	if fl.TenderReference != nil || fl.TenderMinValue != nil || fl.TenderMaxValue != nil || fl.TenderClosesOn != nil {
		t.Error("blank tender values were stored")
	}
}

// BUG (fails at the time of writing): when the tender's max_value cannot be
// parsed, optionalMoney still returns a pointer (to zero), so the band check
// then compares the minimum with that zero and adds a second, misleading
// problem to tender.max_value: "1e6" is reported both for its exponent and as
// "must be at least the minimum value 1.00".
func TestFundingLineInputUnparseableTenderMaxReportedOnce(t *testing.T) {
	in := validFundingLineInput()
	in.Kind = "contract"
	in.Tender = &TenderInput{MinValue: ptr("1.00"), MaxValue: ptr("1e6")}
	_, err := in.Validate()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v, want *Error", err)
	}
	var msgs []string
	for _, f := range e.Fields {
		if f.Field == "tender.max_value" {
			msgs = append(msgs, f.Message)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], "exponents") {
		t.Errorf("tender.max_value problems = %q, want exactly one, about the exponent", msgs)
	}
}

func TestFundingLineInputTenderOnGrantAlsoReportsOtherProblems(t *testing.T) {
	in := validFundingLineInput()
	in.Title = ""
	in.Tender = &TenderInput{MinValue: ptr("9.00"), MaxValue: ptr("1.00")}
	_, err := in.Validate()
	p := problemsOf(t, err)
	for _, f := range []string{"title", "tender", "tender.max_value"} {
		if _, ok := p[f]; !ok {
			t.Errorf("no problem on %s; got %v", f, fieldNames(p))
		}
	}
}

func validAwardInput() AwardInput {
	return AwardInput{
		RecipientID: 7,
		Reference:   " aw-2024-001 ",
		Purpose:     "Outreach",
		Amount:      "100.00",
		AwardedOn:   "2024-04-02",
		StartsOn:    "2024-04-01",
		EndsOn:      "2025-03-31",
	}
}

type wantTranche struct{ due, amount string }

func checkTranches(t *testing.T, a *Award, want []wantTranche) {
	t.Helper()
	if len(a.Tranches) != len(want) {
		t.Fatalf("%d tranches, want %d", len(a.Tranches), len(want))
	}
	for i, tr := range a.Tranches {
		if tr.Seq != i+1 {
			t.Errorf("tranche %d seq = %d", i, tr.Seq)
		}
		if got := tr.DueOn.Format(DateLayout); got != want[i].due {
			t.Errorf("tranche %d due %s, want %s", i+1, got, want[i].due)
		}
		if got := FormatMoney(tr.Amount); got != want[i].amount {
			t.Errorf("tranche %d amount %s, want %s", i+1, got, want[i].amount)
		}
	}
}

func TestAwardInputSplitsIntoQuarterlyTranches(t *testing.T) {
	in := validAwardInput()
	in.TrancheCount = 3
	a, err := in.Validate(42)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if a.FundingLineID != 42 || a.RecipientID != 7 || a.Reference != "AW-2024-001" || FormatMoney(a.Amount) != "100.00" {
		t.Errorf("award = line %d recipient %d ref %q amount %s", a.FundingLineID, a.RecipientID, a.Reference, a.Amount)
	}
	if !a.AwardedOn.Equal(inDate("2024-04-02")) || !a.StartsOn.Equal(inDate("2024-04-01")) || !a.EndsOn.Equal(inDate("2025-03-31")) {
		t.Errorf("dates = %s %s %s", a.AwardedOn, a.StartsOn, a.EndsOn)
	}
	checkTranches(t, a, []wantTranche{
		{"2024-04-01", "33.34"},
		{"2024-07-01", "33.33"},
		{"2024-10-01", "33.33"},
	})
}

func TestAwardInputTrancheCountVariants(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*AwardInput)
		want   []wantTranche
	}{
		{"no count is one tranche", func(in *AwardInput) {}, []wantTranche{{"2024-04-01", "100.00"}}},
		{"count 1", func(in *AwardInput) { in.TrancheCount = 1 }, []wantTranche{{"2024-04-01", "100.00"}}},
		{"count 4 over a year", func(in *AwardInput) { in.TrancheCount = 4; in.Amount = "1000.01" }, []wantTranche{
			{"2024-04-01", "250.01"}, {"2024-07-01", "250.00"}, {"2024-10-01", "250.00"}, {"2025-01-01", "250.00"},
		}},
		{"pennies", func(in *AwardInput) { in.TrancheCount = 2; in.Amount = "0.03" }, []wantTranche{
			{"2024-04-01", "0.02"}, {"2024-07-01", "0.01"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := validAwardInput()
			tc.modify(&in)
			a, err := in.Validate(1)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			checkTranches(t, a, tc.want)
		})
	}
	in := validAwardInput()
	in.TrancheCount = MaxTranches
	a, err := in.Validate(1)
	if err != nil {
		t.Fatalf("%d tranches: %v", MaxTranches, err)
	}
	if len(a.Tranches) != MaxTranches {
		t.Errorf("%d tranches, want %d", len(a.Tranches), MaxTranches)
	}
}

// BUG (fails at the time of writing): the quarterly schedule is built with
// time.AddDate(0, 3*i, 0), which overflows short months, so an award starting
// on the 29th-31st has tranches that slip into the following month (31 Jan +
// 3 months = 1 May, 31 Mar + 3 months = 1 July, crossing into the next
// quarter). Each tranche should fall in the month three months after the
// previous one.
func TestAwardInputQuarterlyTranchesDoNotSlipIntoTheNextMonth(t *testing.T) {
	for _, start := range []string{"2024-01-31", "2024-03-31", "2024-05-31", "2024-08-31", "2024-11-30", "2024-12-31", "2023-11-29"} {
		t.Run(start, func(t *testing.T) {
			in := validAwardInput()
			in.StartsOn = start
			in.EndsOn = "2026-03-31"
			in.TrancheCount = 4
			a, err := in.Validate(1)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			s := inDate(start)
			for i, tr := range a.Tranches {
				wantMonth := time.Date(s.Year(), s.Month()+time.Month(3*i), 1, 0, 0, 0, 0, time.UTC)
				if tr.DueOn.Year() != wantMonth.Year() || tr.DueOn.Month() != wantMonth.Month() {
					t.Errorf("tranche %d from %s is due %s, want a day in %s", i+1, start,
						tr.DueOn.Format(DateLayout), wantMonth.Format("January 2006"))
				}
			}
		})
	}
}

func TestAwardInputExplicitTranches(t *testing.T) {
	in := validAwardInput()
	in.Tranches = []TrancheInput{
		{DueOn: "2024-04-15", Amount: "60.00"},
		{DueOn: "2024-10-15", Amount: "40"},
	}
	a, err := in.Validate(1)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	checkTranches(t, a, []wantTranche{{"2024-04-15", "60.00"}, {"2024-10-15", "40.00"}})

	in.Tranches[1].Amount = "30.00"
	_, err = in.Validate(1)
	expectOnly(t, err, "tranches", "add up to £90.00 but the award is £100.00")

	in.Tranches[1].Amount = "40.01"
	_, err = in.Validate(1)
	expectOnly(t, err, "tranches", "to the penny")
}

func TestAwardInputProblems(t *testing.T) {
	tests := []struct {
		name   string
		modify func(*AwardInput)
		field  string
		want   string
	}{
		{"recipient missing", func(in *AwardInput) { in.RecipientID = 0 }, "recipient_id", "is required"},
		{"reference missing", func(in *AwardInput) { in.Reference = "  " }, "reference", "is required"},
		{"reference too long", func(in *AwardInput) { in.Reference = strings.Repeat("R", 61) }, "reference", "at most 60"},
		{"amount missing", func(in *AwardInput) { in.Amount = "" }, "amount", "is required"},
		{"amount zero", func(in *AwardInput) { in.Amount = "0.00" }, "amount", "greater than zero"},
		{"amount negative", func(in *AwardInput) { in.Amount = "-100.00" }, "amount", "greater than zero"},
		{"amount with pound sign", func(in *AwardInput) { in.Amount = "£100" }, "amount", "currency symbol"},
		{"awarded_on missing", func(in *AwardInput) { in.AwardedOn = "" }, "awarded_on", "is required"},
		{"starts_on bad", func(in *AwardInput) { in.StartsOn = "2024-04-31" }, "starts_on", "YYYY-MM-DD"},
		{"ends before starts", func(in *AwardInput) { in.EndsOn = "2024-03-31" }, "ends_on", "on or after 2024-04-01"},
		{"both tranches and count", func(in *AwardInput) {
			in.TrancheCount = 2
			in.Tranches = []TrancheInput{{DueOn: "2024-04-01", Amount: "100.00"}}
		}, "tranche_count", "not both"},
		{"count negative", func(in *AwardInput) { in.TrancheCount = -1 }, "tranche_count", "positive"},
		{"count too many", func(in *AwardInput) { in.TrancheCount = MaxTranches + 1 }, "tranches", "at most 60"},
		{"too many explicit tranches", func(in *AwardInput) {
			in.Tranches = make([]TrancheInput, MaxTranches+1)
			for i := range in.Tranches {
				in.Tranches[i] = TrancheInput{DueOn: "2024-04-01", Amount: "1.00"}
			}
		}, "tranches", "at most 60"},
		{"tranche amount zero", func(in *AwardInput) {
			in.Tranches = []TrancheInput{{DueOn: "2024-04-01", Amount: "100.00"}, {DueOn: "2024-07-01", Amount: "0"}}
		}, "tranches[1].amount", "greater than zero"},
		{"tranche amount missing", func(in *AwardInput) {
			in.Tranches = []TrancheInput{{DueOn: "2024-04-01", Amount: ""}}
		}, "tranches[0].amount", "is required"},
		{"tranche due date bad", func(in *AwardInput) {
			in.Tranches = []TrancheInput{{DueOn: "1 April 2024", Amount: "100.00"}}
		}, "tranches[0].due_on", "YYYY-MM-DD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := validAwardInput()
			tc.modify(&in)
			a, err := in.Validate(1)
			expectOnly(t, err, tc.field, tc.want)
			if tc.field != "tranches[1].amount" && tc.field != "tranches[0].amount" && tc.field != "tranches[0].due_on" && len(a.Tranches) != 0 {
				t.Errorf("an invalid award came back with %d tranches", len(a.Tranches))
			}
		})
	}
}

// BUG (fails at the time of writing): Validate promises to name every bad
// field at once, but the check that explicit tranches add up to the award is
// skipped whenever any other field has a problem, even one unrelated to money
// such as a missing reference. The user fixes the reference, resubmits, and
// only then learns the tranches are wrong.
func TestAwardInputReportsTrancheMismatchAlongsideUnrelatedProblems(t *testing.T) {
	in := validAwardInput()
	in.Reference = ""
	in.Tranches = []TrancheInput{{DueOn: "2024-04-01", Amount: "60.00"}, {DueOn: "2024-07-01", Amount: "30.00"}}
	_, err := in.Validate(1)
	p := problemsOf(t, err)
	if _, ok := p["reference"]; !ok {
		t.Errorf("no problem on reference; got %v", fieldNames(p))
	}
	if _, ok := p["tranches"]; !ok {
		t.Errorf("tranches adding up to 90.00 on a 100.00 award not reported alongside the missing reference; got only %v", fieldNames(p))
	}
}

func TestAwardInputManyProblemsAtOnce(t *testing.T) {
	in := AwardInput{Amount: "0", AwardedOn: "x", StartsOn: "", EndsOn: "", TrancheCount: -3}
	_, err := in.Validate(1)
	p := problemsOf(t, err)
	for _, f := range []string{"recipient_id", "reference", "amount", "awarded_on", "starts_on", "ends_on", "tranche_count"} {
		if _, ok := p[f]; !ok {
			t.Errorf("no problem on %s; got %v", f, fieldNames(p))
		}
	}
}

func TestUserInput(t *testing.T) {
	u, err := UserInput{Email: " Ana.Smith@Example.ORG ", Name: " Ana Smith ", Role: " finance_officer "}.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if u.Email != "ana.smith@example.org" || u.Name != "Ana Smith" || u.Role != RoleFinanceOfficer || !u.Active || u.PasswordHash != "" {
		t.Errorf("user = %+v", u)
	}
	for _, r := range AllRoles() {
		if _, err := (UserInput{Email: "a@b.org", Name: "A", Role: string(r)}).Validate(); err != nil {
			t.Errorf("role %s refused: %v", r, err)
		}
	}

	tests := []struct {
		name string
		in   UserInput
		want map[string]string
	}{
		{"email missing", UserInput{Email: "", Name: "A", Role: "admin"}, map[string]string{"email": "is required"}},
		{"email no at", UserInput{Email: "ana.example.org", Name: "A", Role: "admin"}, map[string]string{"email": "email address"}},
		{"email nothing before at", UserInput{Email: "@example.org", Name: "A", Role: "admin"}, map[string]string{"email": "email address"}},
		{"email nothing after at", UserInput{Email: "ana@", Name: "A", Role: "admin"}, map[string]string{"email": "email address"}},
		{"email inner space", UserInput{Email: "ana smith@example.org", Name: "A", Role: "admin"}, map[string]string{"email": "email address"}},
		{"email in angle brackets", UserInput{Email: "<ana@example.org>", Name: "A", Role: "admin"}, map[string]string{"email": "email address"}},
		{"email with tab", UserInput{Email: "ana\t@example.org", Name: "A", Role: "admin"}, map[string]string{"email": "single line"}},
		{"email too long", UserInput{Email: strings.Repeat("a", 190) + "@example.org", Name: "A", Role: "admin"}, map[string]string{"email": "at most 200"}},
		{"role missing", UserInput{Email: "a@b.org", Name: "A", Role: ""}, map[string]string{"role": "admin, finance_officer, finance_manager, board_member or auditor"}},
		{"role wrong case", UserInput{Email: "a@b.org", Name: "A", Role: "Admin"}, map[string]string{"role": "one of"}},
		{"role unknown", UserInput{Email: "a@b.org", Name: "A", Role: "root"}, map[string]string{"role": "one of"}},
		{"role with space", UserInput{Email: "a@b.org", Name: "A", Role: "finance officer"}, map[string]string{"role": "one of"}},
		{"everything wrong", UserInput{Email: "nobody", Name: " ", Role: "boss"}, map[string]string{
			"email": "email address", "name": "is required", "role": "one of",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.in.Validate()
			p := problemsOf(t, err)
			if len(p) != len(tc.want) {
				t.Errorf("problems on %v, want %d fields", fieldNames(p), len(tc.want))
			}
			for f, frag := range tc.want {
				if !strings.Contains(p[f], frag) {
					t.Errorf("%s: message %q does not mention %q", f, p[f], frag)
				}
			}
		})
	}
}

func TestOrganisationInput(t *testing.T) {
	o, err := OrganisationInput{
		Name:          " Hackney Recovery Service ",
		OrgID:         ptr(" gb-coh-1234567 "),
		CharityNumber: ptr("  "),
		CompanyNumber: ptr(" 01234567 "),
		IsRecipient:   true,
	}.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if o.Name != "Hackney Recovery Service" || o.OrgID == nil || *o.OrgID != "GB-COH-01234567" {
		t.Errorf("organisation = %q %v", o.Name, o.OrgID)
	}
	if o.CharityNumber != nil {
		t.Errorf("blank charity number stored as %q", *o.CharityNumber)
	}
	if o.CompanyNumber == nil || *o.CompanyNumber != "01234567" {
		t.Errorf("company number = %v", o.CompanyNumber)
	}
	if o2, err := (OrganisationInput{Name: "X", IsFunder: true}).Validate(); err != nil || o2.OrgID != nil {
		t.Errorf("no org-id: %v, %v", o2.OrgID, err)
	}

	_, err = OrganisationInput{Name: "", OrgID: ptr("XX-ABC-1"), Borough: ptr(strings.Repeat("b", 101))}.Validate()
	p := problemsOf(t, err)
	want := map[string]string{
		"name":      "is required",
		"org_id":    "supported register prefix",
		"borough":   "at most 100",
		"is_funder": "funder, recipient or supplier",
	}
	if len(p) != len(want) {
		t.Errorf("problems on %v, want %d fields", fieldNames(p), len(want))
	}
	for f, frag := range want {
		if !strings.Contains(p[f], frag) {
			t.Errorf("%s: message %q does not mention %q", f, p[f], frag)
		}
	}
}

func TestProgrammeInput(t *testing.T) {
	p, err := ProgrammeInput{Code: " prev-1 ", Name: "Prevention", Plan: "Strategy 2024"}.Validate()
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if p.Code != "PREV-1" || p.Name != "Prevention" || p.Plan != "Strategy 2024" {
		t.Errorf("programme = %+v", p)
	}
	_, err = ProgrammeInput{Code: "prev 1"}.Validate()
	probs := problemsOf(t, err)
	for _, f := range []string{"code", "name", "plan"} {
		if _, ok := probs[f]; !ok {
			t.Errorf("no problem on %s; got %v", f, fieldNames(probs))
		}
	}
}

func TestTextLimitsAtTheBoundary(t *testing.T) {
	if _, err := (ProgrammeInput{Code: strings.Repeat("A", 40), Name: strings.Repeat("n", 200), Plan: "p"}).Validate(); err != nil {
		t.Errorf("40-character code and 200-character name refused: %v", err)
	}
	_, err := ProgrammeInput{Code: "A", Name: strings.Repeat("n", 201), Plan: "p"}.Validate()
	expectOnly(t, err, "name", "at most 200 characters")
}

// BUG (fails at the time of writing): the length limits count bytes, not
// characters, while the message says "characters". A 150-character name
// written with accented letters (two bytes each in UTF-8) is refused as
// being over 200 characters; the database column is unbounded text.
func TestTextLimitsCountCharactersNotBytes(t *testing.T) {
	name := strings.Repeat("é", 150) // 150 characters, 300 bytes
	if _, err := (OrganisationInput{Name: name, IsFunder: true}).Validate(); err != nil {
		t.Errorf("a 150-character name was refused: %v", ErrorMessage(err)+" "+problemsSummary(err))
	}
	welsh := strings.Repeat("Ŵ", 60) // 60 characters, 120 bytes
	if _, err := (AwardInput{RecipientID: 1, Reference: welsh, Amount: "1.00", AwardedOn: "2024-04-01", StartsOn: "2024-04-01", EndsOn: "2024-04-01"}).Validate(1); err != nil {
		t.Errorf("a 60-character reference was refused: %s", problemsSummary(err))
	}
}

func problemsSummary(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "<nil>"
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return strings.Join(parts, "; ")
}
