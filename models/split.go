package models

import (
	"cmp"
	"math"
	"slices"

	"github.com/shopspring/decimal"
)

var penny = decimal.New(1, -2)

// SplitLargestRemainder splits total into parts proportional to weights, to
// the penny, so that the parts add up to total exactly (Hamilton's method).
// Each part is first rounded down to a penny; the pennies left over go one
// each to the parts with the largest remainders, ties to the earlier part, so
// the result is deterministic. A zero weight always gets a zero part.
func SplitLargestRemainder(total decimal.Decimal, weights []decimal.Decimal) ([]decimal.Decimal, error) {
	if len(weights) == 0 {
		return nil, Errorf(EINVALID, "there must be at least one part")
	}
	if total.IsNegative() {
		return nil, Errorf(EINVALID, "the amount to split must not be negative")
	}
	if !total.Equal(total.Truncate(2)) {
		return nil, Errorf(EINVALID, "the amount to split has more than two decimal places; it must be pounds and pence")
	}
	sum := decimal.Zero
	for _, w := range weights {
		if w.IsNegative() {
			return nil, Errorf(EINVALID, "the shares must not be negative")
		}
		sum = sum.Add(w)
	}
	if sum.IsZero() {
		return nil, Errorf(EINVALID, "the shares must not all be zero")
	}
	// Work in whole pennies. pennies×w÷sum is split exactly into an integer
	// quotient and a remainder; all remainders share the divisor sum, so they
	// compare directly and nothing is ever rounded.
	pennies := total.Shift(2)
	parts := make([]decimal.Decimal, len(weights))
	rem := make([]decimal.Decimal, len(weights))
	given := decimal.Zero
	for i, w := range weights {
		parts[i], rem[i] = pennies.Mul(w).QuoRem(sum, 0)
		given = given.Add(parts[i])
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rem[b].Cmp(rem[a]) })
	// Fewer pennies are left than there are parts with a remainder, since
	// each remainder is below one penny.
	left := int(pennies.Sub(given).IntPart())
	for _, i := range order[:left] {
		parts[i] = parts[i].Add(decimal.NewFromInt(1)) // one penny
	}
	for i := range parts {
		parts[i] = parts[i].Mul(penny)
	}
	return parts, nil
}

// SplitByWholeWeights is SplitLargestRemainder for whole-number weights
// (days, say), worked in int64 pennies when that cannot overflow, which is
// many times faster for the board's reports; the result is the same.
func SplitByWholeWeights(total decimal.Decimal, weights []int64) ([]decimal.Decimal, error) {
	var sum int64
	for _, w := range weights {
		if w < 0 || sum > math.MaxInt32 {
			sum = -1
			break
		}
		sum += w
	}
	pennies := total.Shift(2)
	fits := sum > 0 && pennies.IsInteger() && !pennies.IsNegative() && pennies.LessThan(decimal.New(1, 15)) && sum < math.MaxInt32
	if !fits {
		ds := make([]decimal.Decimal, len(weights))
		for i, w := range weights {
			ds[i] = decimal.NewFromInt(w)
		}
		return SplitLargestRemainder(total, ds)
	}
	// pennies < 10^15 and each weight < 2^31, so pennies×weight < 2^63.
	p := pennies.IntPart()
	parts := make([]int64, len(weights))
	rem := make([]int64, len(weights))
	var given int64
	for i, w := range weights {
		parts[i], rem[i] = p*w/sum, p*w%sum
		given += parts[i]
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(rem[b], rem[a]) })
	for _, i := range order[:p-given] {
		parts[i]++
	}
	out := make([]decimal.Decimal, len(parts))
	for i, v := range parts {
		out[i] = decimal.New(v, -2)
	}
	return out, nil
}

// SplitEven splits total into n parts that differ by at most a penny and add
// up to total exactly; the earlier parts take the odd pennies.
func SplitEven(total decimal.Decimal, n int) ([]decimal.Decimal, error) {
	if n < 1 {
		return nil, Errorf(EINVALID, "there must be at least one part")
	}
	weights := make([]decimal.Decimal, n)
	for i := range weights {
		weights[i] = decimal.NewFromInt(1)
	}
	return SplitLargestRemainder(total, weights)
}
