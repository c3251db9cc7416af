package models

import (
	"strings"
	"unicode"

	"github.com/shopspring/decimal"
)

// MaxIntegerDigits bounds amounts to what numeric(15,2) holds: just under ten
// trillion pounds.
const MaxIntegerDigits = 13

// ParseMoney parses a GBP amount written as a plain decimal: an optional
// leading minus sign, the digits 0-9, and at most one decimal point followed
// by one or two digits. Anything else is refused with an EINVALID error a
// finance officer can act on; nothing is ever rounded, because a silently
// rounded amount is a wrong amount. Messages name no field: the caller does.
func ParseMoney(s string) (decimal.Decimal, error) {
	bad := func(msg string) (decimal.Decimal, error) {
		return decimal.Zero, &Error{Code: EINVALID, Message: msg}
	}
	if s == "" {
		return bad("must be an amount such as 1250.00")
	}
	// Whole-string checks first, so that "£1,000" is reported for its
	// currency symbol, the most useful thing to fix.
	switch {
	case strings.ContainsFunc(s, unicode.IsSpace):
		return bad("must not contain spaces")
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Sc, r) }):
		return bad("must be a plain number without a currency symbol, such as 1250.00")
	case strings.Contains(s, ","):
		return bad("must be written without thousands separators, such as 1250000.00")
	case strings.ContainsFunc(s, func(r rune) bool { return r > unicode.MaxASCII && unicode.IsDigit(r) }):
		return bad("must be written with the ASCII digits 0-9")
	case strings.HasPrefix(s, "+"):
		return bad("must not start with a plus sign; write 1250.00 or -1250.00")
	}
	body := strings.TrimPrefix(s, "-")
	if body == "" {
		return bad("must be an amount such as 1250.00")
	}
	whole, frac, hasPoint := strings.Cut(body, ".")
	for _, r := range whole + frac {
		switch {
		case r >= '0' && r <= '9':
		case r == '.':
			return bad("must have at most one decimal point")
		case r == '-':
			return bad("may have a minus sign only at the start, such as -1250.00")
		default:
			return bad("must be a plain number such as 1250.00 (no letters, exponents or symbols)")
		}
	}
	switch {
	case whole == "":
		return bad("must have a digit before the decimal point, such as 0.50")
	case hasPoint && frac == "":
		return bad("must have digits after the decimal point, such as 5.00")
	case len(frac) > 2:
		return bad("has more than two decimal places; amounts are pounds and pence and will not be rounded")
	case len(strings.TrimLeft(whole, "0")) > MaxIntegerDigits:
		// Leading zeros are harmless; the bound is on the value.
		return bad("is too large: at most 13 digits before the decimal point")
	}
	d, err := decimal.NewFromString(s)
	if err != nil { // unreachable after the checks above; kept as a guard
		return bad("must be a plain number such as 1250.00")
	}
	return d, nil
}

// ParsePositiveMoney parses an amount that must be greater than zero, such as
// an award or a tranche.
func ParsePositiveMoney(s string) (decimal.Decimal, error) {
	d, err := ParseMoney(s)
	if err != nil {
		return decimal.Zero, err
	}
	if !d.IsPositive() {
		return decimal.Zero, &Error{Code: EINVALID, Message: "must be greater than zero"}
	}
	return d, nil
}

// ParseNonNegativeMoney parses an amount that may be zero but not negative,
// such as a budget.
func ParseNonNegativeMoney(s string) (decimal.Decimal, error) {
	d, err := ParseMoney(s)
	if err != nil {
		return decimal.Zero, err
	}
	// "-0" is zero, but a sign where none makes sense is refused, not dropped.
	if d.IsNegative() || strings.HasPrefix(s, "-") {
		return decimal.Zero, &Error{Code: EINVALID, Message: "must not be negative"}
	}
	return d, nil
}

// FormatMoney writes an amount with exactly two decimals, as the API sends it.
func FormatMoney(d decimal.Decimal) string { return d.StringFixed(2) }

// AddTo adds d to *sum, leaving it untouched when d is zero and taking d
// itself when *sum is: a report adds ten thousand lines' figures, most of
// them zero, and each decimal addition allocates.
func AddTo(sum *decimal.Decimal, d decimal.Decimal) {
	switch {
	case d.IsZero():
	case sum.IsZero():
		*sum = d
	default:
		*sum = sum.Add(d)
	}
}

// Pounds writes an amount for people to read, in pages and in messages:
// £2,000,000.00, and -£600.00 with the sign before the pound sign.
func Pounds(d decimal.Decimal) string { return PoundsText(FormatMoney(d)) }

// PoundsText is Pounds for an amount already written as FormatMoney writes
// it (a JSON money string).
func PoundsText(s string) string {
	s, neg := strings.CutPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	b.WriteString("£")
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("." + frac)
	}
	return b.String()
}
