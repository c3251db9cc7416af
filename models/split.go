package models

import (
	"sort"

	"github.com/shopspring/decimal"
)

var penny = decimal.New(1, -2)

// SplitLargestRemainder splits total into parts proportional to weights, to
// the penny, so that the parts add up to total exactly. Each part is first
// rounded down to a penny; the pennies left over go one each to the parts
// with the largest remainders (ties to the earlier part).
func SplitLargestRemainder(total decimal.Decimal, weights []decimal.Decimal) ([]decimal.Decimal, error) {
	if len(weights) == 0 {
		return nil, Errorf(EINVALID, "there must be at least one part")
	}
	if total.IsNegative() || !total.Equal(total.Truncate(2)) {
		return nil, Errorf(EINVALID, "the amount to split must be pounds and pence and not negative")
	}
	sum := decimal.Zero
	for _, w := range weights {
		if w.IsNegative() {
			return nil, Errorf(EINVALID, "weights must not be negative")
		}
		sum = sum.Add(w)
	}
	if sum.IsZero() {
		return nil, Errorf(EINVALID, "weights must not all be zero")
	}
	pennies := total.Shift(2) // whole pennies
	parts := make([]decimal.Decimal, len(weights))
	rem := make([]decimal.Decimal, len(weights))
	given := decimal.Zero
	for i, w := range weights {
		// Exact: pennies × w ÷ sum as quotient and remainder, no rounding.
		q, r := pennies.Mul(w).QuoRem(sum, 0)
		parts[i], rem[i] = q, r
		given = given.Add(q)
	}
	order := make([]int, len(weights))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]].GreaterThan(rem[order[b]]) })
	left := pennies.Sub(given).IntPart()
	for k := int64(0); k < left; k++ {
		i := order[k%int64(len(order))]
		parts[i] = parts[i].Add(decimal.NewFromInt(1))
	}
	for i := range parts {
		parts[i] = parts[i].Mul(penny)
	}
	return parts, nil
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
