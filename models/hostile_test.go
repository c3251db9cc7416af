package models

import (
	"strings"
	"testing"
)

func TestParseDateRange(t *testing.T) {
	tests := []struct {
		name, in, want string // want: "" for a good date, else part of the message
	}{
		{"OK", "2024-04-01", ""},
		{"OKEarliest", "1900-01-01", ""},
		{"OKLatest", "2200-12-31", ""},
		{"ErrYearZero", "0000-01-01", "on or after 1900-01-01"},
		{"ErrBeforeEarliest", "1899-12-31", "on or after 1900-01-01"},
		{"ErrAfterLatest", "2201-01-01", "on or before 2200-12-31"},
		{"ErrNotADate", "2024-02-30", "YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseDate(tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ParseDate(%q) = %v, want a date", tt.in, err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.want) {
				t.Fatalf("ParseDate(%q) = %v, want EINVALID mentioning %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	for _, in := range []string{"", "0", "-1", "01", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "9223372036854775808", "١"} {
		if id, err := ParseID(in); err == nil {
			t.Errorf("ParseID(%q) = %d, want an error", in, id)
		}
	}
	for in, want := range map[string]int64{"1": 1, "42": 42, "9223372036854775807": 9223372036854775807} {
		if id, err := ParseID(in); err != nil || id != want {
			t.Errorf("ParseID(%q) = %d, %v; want %d", in, id, err, want)
		}
	}
}

func TestCheckText(t *testing.T) {
	tests := []struct {
		name, in  string
		multiline bool
		want      string // "" when the text is good
	}{
		{"OK", "Test kits £12", false, ""},
		{"OKNewlinesInMultiline", "line one\r\nline two\n\tindented", true, ""},
		{"ErrNUL", "a\x00b", true, "NUL"},
		{"ErrInvalidUTF8", "caf\xe9", true, "UTF-8"},
		{"ErrNewlineInSingleLine", "a\nb", false, "single line"},
		{"ErrTabInSingleLine", "a\tb", false, "single line"},
		{"ErrLoneCR", "a\rb", true, "control characters"},
		{"ErrEscape", "a\x1b[31m", true, "control characters"},
		{"ErrC1Control", "a\u0085b", true, "control characters"},
		{"ErrLineSeparator", "a\u2028b", true, "control characters"},
		{"ErrRightToLeftOverride", "invoice\u202Egnp.exe", false, "bidirectional"},
		{"ErrIsolate", "a\u2066b\u2069", true, "bidirectional"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckText(tt.in, tt.multiline)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("CheckText(%q) = %v, want nil", tt.in, err)
				}
				return
			}
			if ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.want) {
				t.Fatalf("CheckText(%q) = %v, want EINVALID mentioning %q", tt.in, err, tt.want)
			}
		})
	}
}

// Every input type refuses hostile text, ids and dates on the field they
// arrive in, rather than storing them or dropping them.
func TestInputsRefuseHostileValues(t *testing.T) {
	spend := func(mod func(*SpendInput)) error {
		in := SpendInput{FundingLineID: 1, PayeeID: 2, Amount: "10.00", IncurredOn: "2024-06-03", Category: "other"}
		mod(&in)
		_, err := in.Validate()
		return err
	}
	line := func(mod func(*FundingLineInput)) error {
		in := FundingLineInput{Code: "L", Title: "Line", Kind: "grant", ProgrammeID: 1, FunderID: 2, Budget: "10.00",
			StartsOn: "2024-04-01", EndsOn: "2025-03-31"}
		mod(&in)
		_, err := in.Validate()
		return err
	}
	tests := []struct {
		name, field, want string
		err               error
	}{
		{"ErrNegativeAwardID", "award_id", "positive", spend(func(in *SpendInput) { in.AwardID = ptr(int64(-1)) })},
		{"ErrZeroAwardID", "award_id", "positive", spend(func(in *SpendInput) { in.AwardID = ptr(int64(0)) })},
		{"ErrNegativeTrancheID", "tranche_id", "positive", spend(func(in *SpendInput) { in.AwardID, in.TrancheID = ptr(int64(1)), ptr(int64(-5)) })},
		{"ErrNegativeFundingLineID", "funding_line_id", "positive", spend(func(in *SpendInput) { in.FundingLineID = -1 })},
		{"ErrNULInReference", "reference", "NUL", spend(func(in *SpendInput) { in.Reference = "INV\x00" })},
		{"ErrBidiInDescription", "description", "bidirectional", spend(func(in *SpendInput) { in.Description = "\u202Eevil" })},
		{"ErrYearZero", "incurred_on", "1900-01-01", spend(func(in *SpendInput) { in.IncurredOn = "0000-01-01" })},
		{"ErrNULInDate", "incurred_on", "NUL", spend(func(in *SpendInput) { in.IncurredOn = "2024-06-03\x00" })},
		{"ErrNegativeZeroBudget", "budget", "negative", line(func(in *FundingLineInput) { in.Budget = "-0" })},
		{"ErrNegativeZeroPenceBudget", "budget", "negative", line(func(in *FundingLineInput) { in.Budget = "-0.00" })},
		{"ErrNewlineInTitle", "title", "single line", line(func(in *FundingLineInput) { in.Title = "a\nb" })},
		{"ErrNegativeSupplier", "tender.awarded_supplier_id", "positive", line(func(in *FundingLineInput) {
			in.Kind = "contract"
			in.Tender = &TenderInput{AwardedSupplierID: ptr(int64(-3))}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { expectOnly(t, tt.err, tt.field, tt.want) })
	}
	if _, err := (IndicatorInput{FundingLineID: -1, Name: "n", Unit: "count", Direction: "higher_is_better", Frequency: "annual"}).Validate(); err == nil {
		t.Error("an indicator on funding line -1 was accepted")
	}
	if _, err := RequireReason("line one\r\nline two"); err != nil {
		t.Errorf("a reason may run over lines: %v", err)
	}
}
