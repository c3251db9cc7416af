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
// minus sign, ASCII digits, and at most two decimal places. Anything else is
// refused with an EINVALID error a finance officer can act on; nothing is
// ever rounded.
func ParseMoney(s string) (decimal.Decimal, error) {
	bad := func(msg string) (decimal.Decimal, error) {
		return decimal.Zero, &Error{Code: EINVALID, Message: msg}
	}
	if s == "" {
		return bad("must be an amount such as 1250.00")
	}
	if strings.TrimSpace(s) != s || strings.ContainsFunc(s, unicode.IsSpace) {
		return bad("must not contain spaces")
	}
	body := strings.TrimPrefix(s, "-")
	switch {
	case strings.ContainsAny(body, "£$€"):
		return bad("must be a plain number without a currency symbol, such as 1250.00")
	case strings.Contains(body, ","):
		return bad("must be written without thousands separators, such as 1250000.00")
	case strings.HasPrefix(body, "+"), strings.HasPrefix(body, "-"):
		return bad("must be a plain number such as 1250.00")
	}
	whole, frac, hasPoint := strings.Cut(body, ".")
	for _, r := range whole + frac {
		if r >= '0' && r <= '9' {
			continue
		}
		if unicode.IsDigit(r) {
			return bad("must be written with the digits 0-9")
		}
		if r == '.' {
			return bad("must have at most one decimal point")
		}
		return bad("must be a plain number such as 1250.00 (no letters, exponents or symbols)")
	}
	switch {
	case whole == "":
		return bad("must have a digit before the decimal point, such as 0.50")
	case hasPoint && frac == "":
		return bad("must have digits after the decimal point, such as 5.00")
	case len(frac) > 2:
		return bad("has more than two decimal places; amounts are in pounds and pence and are never rounded")
	case len(strings.TrimLeft(whole, "0")) > MaxIntegerDigits:
		return bad("is too large: at most 13 digits before the decimal point")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return bad("must be a plain number such as 1250.00")
	}
	return d, nil
}

// ParsePositiveMoney parses an amount that must be greater than zero.
func ParsePositiveMoney(s string) (decimal.Decimal, error) {
	d, err := ParseMoney(s)
	if err == nil && !d.IsPositive() {
		return decimal.Zero, &Error{Code: EINVALID, Message: "must be greater than zero"}
	}
	return d, err
}

// ParseNonNegativeMoney parses an amount that must not be negative.
func ParseNonNegativeMoney(s string) (decimal.Decimal, error) {
	d, err := ParseMoney(s)
	if err == nil && d.IsNegative() {
		return decimal.Zero, &Error{Code: EINVALID, Message: "must not be negative"}
	}
	return d, err
}

// FormatMoney writes an amount with exactly two decimals, as the API sends it.
func FormatMoney(d decimal.Decimal) string { return d.StringFixed(2) }
