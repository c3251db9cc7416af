package models

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// wantInvalid fails unless err is a *Error with code EINVALID, no fields, and
// a message containing every fragment in want (case-insensitive).
func assertEINVALID(t *testing.T, err error, want ...string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error = %v (%T), want *models.Error", err, err)
	}
	if e.Code != EINVALID {
		t.Errorf("code = %q, want %q", e.Code, EINVALID)
	}
	for _, w := range want {
		if !strings.Contains(strings.ToLower(e.Message), strings.ToLower(w)) {
			t.Errorf("message %q does not mention %q", e.Message, w)
		}
	}
}

func TestParseMoneyAcceptsPlainPoundsAndPence(t *testing.T) {
	tests := []struct {
		in, want string // want is FormatMoney of the result
		exp      int32  // the exponent, showing nothing was rescaled
	}{
		{"0", "0.00", 0},
		{"0.00", "0.00", -2},
		{"0.50", "0.50", -2},
		{"0.5", "0.50", -1},
		{"5", "5.00", 0},
		{"1250.00", "1250.00", -2},
		{"1250.1", "1250.10", -1},
		{"-1250.75", "-1250.75", -2},
		{"-0.01", "-0.01", -2},
		{"-0", "0.00", 0},
		{"007.50", "7.50", -2},
		{"9999999999999.99", "9999999999999.99", -2},
		{"-9999999999999.99", "-9999999999999.99", -2},
		{"0000000000000001.00", "1.00", -2},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseMoney(tc.in)
			if err != nil {
				t.Fatalf("ParseMoney(%q) error: %v", tc.in, err)
			}
			if got := FormatMoney(d); got != tc.want {
				t.Errorf("ParseMoney(%q) = %s, want %s", tc.in, got, tc.want)
			}
			if d.Exponent() != tc.exp {
				t.Errorf("ParseMoney(%q) exponent = %d, want %d", tc.in, d.Exponent(), tc.exp)
			}
		})
	}
}

func TestParseMoneyRejectsUnclearAmountsWithActionableMessage(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string // fragments the message must contain
	}{
		{"empty", "", []string{"amount such as"}},
		{"lone minus", "-", []string{"amount such as"}},
		{"leading space", " 1.00", []string{"spaces"}},
		{"trailing space", "1.00 ", []string{"spaces"}},
		{"inner space", "1 000.00", []string{"spaces"}},
		{"tab", "1.00\t", []string{"spaces"}},
		{"newline", "1.00\n", []string{"spaces"}},
		{"no-break space", "1\u00a0000", []string{"spaces"}},
		{"three places", "12.345", []string{"more than two decimal places", "will not be rounded"}},
		{"three places trailing zero", "12.340", []string{"more than two decimal places"}},
		{"many places", "0.000001", []string{"more than two decimal places"}},
		{"exponent", "1e3", []string{"no letters, exponents"}},
		{"capital exponent", "1E3", []string{"no letters, exponents"}},
		{"NaN", "NaN", []string{"plain number"}},
		{"Inf", "Inf", []string{"plain number"}},
		{"minus Inf", "-Inf", []string{"plain number"}},
		{"hex", "0x10", []string{"plain number"}},
		{"underscore", "1_000", []string{"plain number"}},
		{"plus", "+5", []string{"plus sign"}},
		{"thousands", "1,000.00", []string{"thousands separators"}},
		{"decimal comma", "5,50", []string{"thousands separators"}},
		{"pound", "£5", []string{"currency symbol"}},
		{"pound and comma", "£1,000", []string{"currency symbol"}},
		{"trailing pound", "5£", []string{"currency symbol"}},
		{"dollar", "$5", []string{"currency symbol"}},
		{"euro", "€5", []string{"currency symbol"}},
		{"GBP letters", "GBP5", []string{"no letters"}},
		{"full-width digits", "１２", []string{"ASCII digits"}},
		{"Arabic-Indic digits", "٣", []string{"ASCII digits"}},
		{"no digit before point", ".5", []string{"digit before the decimal point"}},
		{"minus no digit before point", "-.50", []string{"digit before the decimal point"}},
		{"no digit after point", "5.", []string{"digits after the decimal point"}},
		{"two points", "1.2.3", []string{"one decimal point"}},
		{"double minus", "--5", []string{"minus sign only at the start"}},
		{"trailing minus", "5-", []string{"minus sign only at the start"}},
		{"unicode minus", "\u22125", []string{"plain number"}},
		{"fourteen digits", "10000000000000", []string{"too large", "13 digits"}},
		{"fourteen digits negative", "-10000000000000.00", []string{"too large"}},
		{"letters", "abc", []string{"plain number"}},
		{"invalid UTF-8", "\xff1", []string{"plain number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseMoney(tc.in)
			if err == nil {
				t.Fatalf("ParseMoney(%q) = %s, want an error", tc.in, d)
			}
			assertEINVALID(t, err, tc.want...)
			if !d.IsZero() {
				t.Errorf("ParseMoney(%q) returned %s alongside the error, want zero", tc.in, d)
			}
		})
	}
}

func TestParseMoneyMessagesNameNoField(t *testing.T) {
	// The caller prefixes the field ("budget must ..."), so messages must
	// read as a predicate, not a sentence about some other field.
	for _, in := range []string{"", "x", "1.234", "£1", "1,0", "１", ".1", "1.", "+1", "1 ", "99999999999999"} {
		_, err := ParseMoney(in)
		msg := ErrorMessage(err)
		if msg == "" || strings.ToUpper(msg[:1]) == msg[:1] {
			t.Errorf("ParseMoney(%q) message %q should start lower-case, as a predicate", in, msg)
		}
		for _, field := range []string{"amount:", "budget", "field"} {
			if strings.Contains(msg, field) {
				t.Errorf("ParseMoney(%q) message %q names a field", in, msg)
			}
		}
	}
}

func TestParsePositiveMoneyRejectsZeroAndNegative(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		wantMsg string
	}{
		{"0.01", true, ""},
		{"1250.00", true, ""},
		{"0", false, "greater than zero"},
		{"0.00", false, "greater than zero"},
		{"-0", false, "greater than zero"},
		{"-0.01", false, "greater than zero"},
		{"12.345", false, "more than two decimal places"}, // the parse error wins
		{"", false, "amount such as"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParsePositiveMoney(tc.in)
			if tc.ok {
				if err != nil || !d.IsPositive() {
					t.Fatalf("ParsePositiveMoney(%q) = %s, %v; want a positive amount", tc.in, d, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParsePositiveMoney(%q) = %s, want an error", tc.in, d)
			}
			assertEINVALID(t, err, tc.wantMsg)
		})
	}
}

func TestParseNonNegativeMoneyAcceptsZeroRejectsNegative(t *testing.T) {
	tests := []struct {
		in      string
		ok      bool
		wantMsg string
	}{
		{"0", true, ""},
		{"0.00", true, ""},
		{"-0.00", false, "must not be negative"}, // a sign where none belongs is refused, not dropped
		{"-0", false, "must not be negative"},
		{"1250.00", true, ""},
		{"-0.01", false, "must not be negative"},
		{"-1250", false, "must not be negative"},
		{"1e3", false, "no letters"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseNonNegativeMoney(tc.in)
			if tc.ok {
				if err != nil || d.IsNegative() {
					t.Fatalf("ParseNonNegativeMoney(%q) = %s, %v; want a non-negative amount", tc.in, d, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseNonNegativeMoney(%q) = %s, want an error", tc.in, d)
			}
			assertEINVALID(t, err, tc.wantMsg)
		})
	}
}

func TestFormatMoneyAlwaysWritesTwoDecimals(t *testing.T) {
	tests := []struct {
		in   decimal.Decimal
		want string
	}{
		{decimal.Zero, "0.00"},
		{decimal.NewFromInt(5), "5.00"},
		{decimal.New(5, 1), "50.00"},
		{decimal.New(15, -1), "1.50"},
		{decimal.New(-125075, -2), "-1250.75"},
		{decimal.RequireFromString("9999999999999.99"), "9999999999999.99"},
	}
	for _, tc := range tests {
		if got := FormatMoney(tc.in); got != tc.want {
			t.Errorf("FormatMoney(%s) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

var maxMoney = decimal.New(1, MaxIntegerDigits) // 10^13, exclusive bound

// checkParsedMoney asserts the invariants every accepted amount must keep.
func checkParsedMoney(t *testing.T, s string, d decimal.Decimal) {
	t.Helper()
	if !d.Equal(d.Truncate(2)) {
		t.Fatalf("ParseMoney(%q) = %s has more than two decimal places", s, d)
	}
	if d.Exponent() < -2 {
		t.Fatalf("ParseMoney(%q) exponent %d < -2", s, d.Exponent())
	}
	if d.Abs().Cmp(maxMoney) >= 0 {
		t.Fatalf("ParseMoney(%q) = %s, not below 10^13", s, d)
	}
	f := FormatMoney(d)
	back, err := ParseMoney(f)
	if err != nil {
		t.Fatalf("FormatMoney(ParseMoney(%q)) = %q does not re-parse: %v", s, f, err)
	}
	if !back.Equal(d) {
		t.Fatalf("round trip of %q: %s -> %q -> %s", s, d, f, back)
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{
		"0", "0.50", "-1250.75", "9999999999999.99", "10000000000000", "12.345", "1e3",
		"NaN", "+5", "1,000.00", "£5", "１２", ".5", "5.", "--5", " 1", "-0", "0000000000000001",
		"0.00", "5.5", "12.34", "-12.34", "", "1.00 ", "1E3", "Inf", "0x10", "1.2.3", "10000000000000.00", "٣",
		"-9999999999999.99", "0.01", "-", "-.5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseMoney(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EINVALID || e.Message == "" {
				t.Fatalf("ParseMoney(%q) error %v is not a coded EINVALID error with a message", s, err)
			}
			if !d.IsZero() {
				t.Fatalf("ParseMoney(%q) returned %s with an error", s, d)
			}
			return
		}
		if !utf8.ValidString(s) || strings.Trim(s, "-0123456789.") != "" {
			t.Fatalf("ParseMoney accepted %q, which has characters other than -, digits and .", s)
		}
		checkParsedMoney(t, s, d)
		// Where a sign makes no sense, even "-0" is refused, never dropped.
		if nn, err := ParseNonNegativeMoney(s); err == nil && (nn.IsNegative() || strings.HasPrefix(s, "-")) {
			t.Fatalf("ParseNonNegativeMoney(%q) = %s accepted a sign", s, nn)
		}
		if p, err := ParsePositiveMoney(s); err == nil && !p.IsPositive() {
			t.Fatalf("ParsePositiveMoney(%q) = %s, not positive", s, p)
		}
	})
}

// TestParseMoneyBriefTable pins the accepted and refused inputs of the money
// rule in one table, checking the code through ErrorCode as callers do.
func TestParseMoneyBriefTable(t *testing.T) {
	tests := []struct {
		in      string
		want    string // FormatMoney of the result when ok
		wantMsg string // fragment of the message when refused
	}{
		{in: "0.00", want: "0.00"},
		{in: "0", want: "0.00"},
		{in: "5", want: "5.00"},
		{in: "5.5", want: "5.50"},
		{in: "12.34", want: "12.34"},
		{in: "-12.34", want: "-12.34"},
		{in: "9999999999999.99", want: "9999999999999.99"},
		{in: "", wantMsg: "amount such as"},
		{in: " 1.00", wantMsg: "spaces"},
		{in: "1.00 ", wantMsg: "spaces"},
		{in: "12.345", wantMsg: "two decimal places"},
		{in: "1e3", wantMsg: "exponents"},
		{in: "1E3", wantMsg: "exponents"},
		{in: "NaN", wantMsg: "plain number"},
		{in: "Inf", wantMsg: "plain number"},
		{in: "+5", wantMsg: "plus sign"},
		{in: "1,000.00", wantMsg: "thousands separators"},
		{in: "£5", wantMsg: "currency symbol"},
		{in: "１２", wantMsg: "ASCII digits"},
		{in: "0x10", wantMsg: "plain number"},
		{in: "1.2.3", wantMsg: "one decimal point"},
		{in: ".5", wantMsg: "digit before the decimal point"},
		{in: "5.", wantMsg: "digits after the decimal point"},
		{in: "--5", wantMsg: "minus sign only at the start"},
		{in: "10000000000000.00", wantMsg: "too large"},
		{in: "٣", wantMsg: "ASCII digits"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			d, err := ParseMoney(tc.in)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("ParseMoney(%q) error: %v", tc.in, err)
				}
				if got := FormatMoney(d); got != tc.want {
					t.Errorf("ParseMoney(%q) = %s, want %s", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseMoney(%q) = %s, want an error", tc.in, d)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("ParseMoney(%q) error %T is not *Error", tc.in, err)
			}
			if code := ErrorCode(err); code != EINVALID {
				t.Errorf("ErrorCode = %q, want %q", code, EINVALID)
			}
			if !strings.Contains(ErrorMessage(err), tc.wantMsg) {
				t.Errorf("ParseMoney(%q) message %q does not mention %q", tc.in, ErrorMessage(err), tc.wantMsg)
			}
		})
	}
}

func TestParseMoneyVariantsBriefCases(t *testing.T) {
	tests := []struct {
		name    string
		parse   func(string) (decimal.Decimal, error)
		in      string
		ok      bool
		wantMsg string
	}{
		{"positive 5", ParsePositiveMoney, "5", true, ""},
		{"positive 0", ParsePositiveMoney, "0", false, "greater than zero"},
		{"positive -5", ParsePositiveMoney, "-5", false, "greater than zero"},
		{"non-negative 0", ParseNonNegativeMoney, "0", true, ""},
		{"non-negative 5.5", ParseNonNegativeMoney, "5.5", true, ""},
		{"non-negative -0.01", ParseNonNegativeMoney, "-0.01", false, "must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := tc.parse(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("%s(%q) error: %v", tc.name, tc.in, err)
				}
				return
			}
			if ErrorCode(err) != EINVALID {
				t.Fatalf("%s(%q) = %s, %v; want EINVALID", tc.name, tc.in, d, err)
			}
			if !d.IsZero() {
				t.Errorf("%s(%q) returned %s alongside the error", tc.name, tc.in, d)
			}
			if !strings.Contains(ErrorMessage(err), tc.wantMsg) {
				t.Errorf("message %q does not mention %q", ErrorMessage(err), tc.wantMsg)
			}
		})
	}
}

func TestFormatMoneyPadsWholePounds(t *testing.T) {
	for in, want := range map[string]string{
		"2000000": "2000000.00",
		"0.1":     "0.10",
		"-3":      "-3.00",
		"12.34":   "12.34",
	} {
		if got := FormatMoney(decimal.RequireFromString(in)); got != want {
			t.Errorf("FormatMoney(%s) = %q, want %q", in, got, want)
		}
	}
}

// TestAddToSumsExactly: AddTo leaves a sum alone for a zero, takes a first
// figure as it is, and adds the rest exactly.
func TestAddToSumsExactly(t *testing.T) {
	var sum decimal.Decimal
	for _, d := range []string{"0", "0.00", "1234.56", "0", "-34.56", "0.01"} {
		AddTo(&sum, decimal.RequireFromString(d))
	}
	if sum.StringFixed(2) != "1200.01" {
		t.Fatalf("sum %s, want 1200.01", sum.StringFixed(2))
	}
	var none decimal.Decimal
	AddTo(&none, decimal.Zero)
	if !none.IsZero() {
		t.Fatalf("zero plus zero is %s", none)
	}
}
