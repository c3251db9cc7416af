package models

import (
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"
)

func splitDec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func splitDecs(ss ...string) []decimal.Decimal {
	out := make([]decimal.Decimal, len(ss))
	for i, s := range ss {
		out[i] = splitDec(s)
	}
	return out
}

func formatAllMoney(ds []decimal.Decimal) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = FormatMoney(d)
	}
	return out
}

func TestSplitLargestRemainderGivesOddPenniesToLargestRemainders(t *testing.T) {
	tests := []struct {
		name    string
		total   string
		weights []string
		want    []string
	}{
		{"single part takes all", "100.00", []string{"3"}, []string{"100.00"}},
		{"exact halves", "100.00", []string{"1", "1"}, []string{"50.00", "50.00"}},
		{"thirds: tie goes to earliest", "100.00", []string{"1", "1", "1"}, []string{"33.34", "33.33", "33.33"}},
		{"two pennies over thirds", "0.02", []string{"1", "1", "1"}, []string{"0.01", "0.01", "0.00"}},
		{"one penny over three", "0.01", []string{"1", "1", "1"}, []string{"0.01", "0.00", "0.00"}},
		// 10.00 × 1/6 = 1.666…, × 2/6 = 3.333…, × 3/6 = 5.00: the largest
		// remainder (2/3 of a penny) is the first part's.
		{"largest remainder wins, not earliest", "10.00", []string{"1", "2", "3"}, []string{"1.67", "3.33", "5.00"}},
		// 1.00 × 0.7/1 = 0.70 exactly etc.
		{"decimal weights", "1.00", []string{"0.7", "0.2", "0.1"}, []string{"0.70", "0.20", "0.10"}},
		// 100 × 1/7 = 14.2857…, × 6/7 = 85.7142…: remainders .57 and .42 of a
		// penny; the one spare penny goes to the first.
		{"uneven weights", "100.00", []string{"1", "6"}, []string{"14.29", "85.71"}},
		{"zero weight gets nothing", "10.00", []string{"0", "1", "0", "1"}, []string{"0.00", "5.00", "0.00", "5.00"}},
		{"zero weight gets nothing even with pennies over", "0.03", []string{"1", "0", "1"}, []string{"0.02", "0.00", "0.01"}},
		{"zero total", "0", []string{"1", "2"}, []string{"0.00", "0.00"}},
		{"later larger remainder beats earlier", "1.00", []string{"1", "2"}, []string{"0.33", "0.67"}},
		{"whole-pound total with no pence", "7", []string{"1", "1"}, []string{"3.50", "3.50"}},
		{"large total", "9999999999999.99", []string{"1", "1", "1"}, []string{"3333333333333.33", "3333333333333.33", "3333333333333.33"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := SplitLargestRemainder(splitDec(tc.total), splitDecs(tc.weights...))
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got := formatAllMoney(parts); !slices.Equal(got, tc.want) {
				t.Errorf("SplitLargestRemainder(%s, %v) = %v, want %v", tc.total, tc.weights, got, tc.want)
			}
		})
	}
}

func TestSplitLargestRemainderRejectsBadInput(t *testing.T) {
	tests := []struct {
		name    string
		total   string
		weights []string
		want    string
	}{
		{"no weights", "10.00", nil, "at least one part"},
		{"negative total", "-0.01", []string{"1"}, "not be negative"},
		{"fractional penny", "10.005", []string{"1"}, "more than two decimal places"},
		{"negative weight", "10.00", []string{"1", "-1", "2"}, "must not be negative"},
		{"all zero weights", "10.00", []string{"0", "0"}, "not all be zero"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := SplitLargestRemainder(splitDec(tc.total), splitDecs(tc.weights...))
			if err == nil {
				t.Fatalf("got %v, want an error", formatAllMoney(parts))
			}
			if parts != nil {
				t.Errorf("parts = %v alongside the error, want nil", parts)
			}
			assertEINVALID(t, err, tc.want)
		})
	}
}

func TestSplitLargestRemainderDoesNotChangeWeights(t *testing.T) {
	w := splitDecs("1", "2", "3")
	if _, err := SplitLargestRemainder(splitDec("10.00"), w); err != nil {
		t.Fatal(err)
	}
	if got := formatAllMoney(w); !slices.Equal(got, []string{"1.00", "2.00", "3.00"}) {
		t.Errorf("weights changed to %v", got)
	}
}

func TestSplitEvenSpreadsOddPenniesFromTheFront(t *testing.T) {
	tests := []struct {
		total string
		n     int
		want  []string
	}{
		{"100.00", 1, []string{"100.00"}},
		{"100.00", 3, []string{"33.34", "33.33", "33.33"}},
		{"100.00", 4, []string{"25.00", "25.00", "25.00", "25.00"}},
		{"0.05", 3, []string{"0.02", "0.02", "0.01"}},
		{"0.01", 4, []string{"0.01", "0.00", "0.00", "0.00"}},
		{"1000.00", 6, []string{"166.67", "166.67", "166.67", "166.67", "166.66", "166.66"}},
		{"0", 2, []string{"0.00", "0.00"}},
	}
	for _, tc := range tests {
		parts, err := SplitEven(splitDec(tc.total), tc.n)
		if err != nil {
			t.Fatalf("SplitEven(%s, %d) error: %v", tc.total, tc.n, err)
		}
		if got := formatAllMoney(parts); !slices.Equal(got, tc.want) {
			t.Errorf("SplitEven(%s, %d) = %v, want %v", tc.total, tc.n, got, tc.want)
		}
	}
}

func TestSplitEvenGivesOddPenniesToEarliestPartsEvenWhenMany(t *testing.T) {
	// Past a dozen parts an unstable sort would scatter the tied pennies.
	for _, n := range []int{13, 50, 100, 257} {
		for _, extra := range []int{1, n / 3, n / 2, n - 1} {
			total := decimal.New(int64(5*n+extra), -2) // 5p each, extra pennies over
			parts, err := SplitEven(total, n)
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range parts {
				want := decimal.New(5, -2)
				if i < extra {
					want = decimal.New(6, -2)
				}
				if !p.Equal(want) {
					t.Fatalf("SplitEven(%s, %d) part %d = %s, want %s", total, n, i, p, want)
				}
			}
		}
	}
}

func TestSplitEvenRejectsFewerThanOnePart(t *testing.T) {
	for _, n := range []int{0, -1} {
		parts, err := SplitEven(splitDec("10.00"), n)
		if err == nil {
			t.Fatalf("SplitEven(10.00, %d) = %v, want an error", n, formatAllMoney(parts))
		}
		assertEINVALID(t, err, "at least one part")
	}
	_, err := SplitEven(splitDec("-1.00"), 2)
	assertEINVALID(t, err, "not be negative")
}

// randomPennies returns a random amount in pounds and pence, sometimes tiny,
// sometimes near the numeric(15,2) ceiling.
func randomPennies(r *rand.Rand) decimal.Decimal {
	switch r.IntN(4) {
	case 0:
		return decimal.New(r.Int64N(10), -2)
	case 1:
		return decimal.New(r.Int64N(1_000_000), -2)
	case 2:
		return decimal.New(r.Int64N(1_000_000_000_000_000), -2)
	default:
		return decimal.NewFromInt(r.Int64N(1_000_000)) // whole pounds, exponent 0
	}
}

func randomWeight(r *rand.Rand) decimal.Decimal {
	switch r.IntN(5) {
	case 0:
		return decimal.Zero
	case 1:
		return decimal.New(r.Int64N(1_000_000), -int32(r.IntN(7))) // decimal weights
	default:
		return decimal.NewFromInt(r.Int64N(100) + 1)
	}
}

// checkSplit asserts the invariants every split must keep.
func checkSplit(t *testing.T, total decimal.Decimal, parts []decimal.Decimal, n int) {
	t.Helper()
	if len(parts) != n {
		t.Fatalf("split of %s into %d gave %d parts", total, n, len(parts))
	}
	sum := decimal.Zero
	for i, p := range parts {
		if p.IsNegative() {
			t.Fatalf("split of %s: part %d = %s is negative", total, i, p)
		}
		if !p.Equal(p.Truncate(2)) {
			t.Fatalf("split of %s: part %d = %s has more than two decimal places", total, i, p)
		}
		sum = sum.Add(p)
	}
	if !sum.Equal(total) {
		t.Fatalf("split of %s: parts %v sum to %s", total, formatAllMoney(parts), sum)
	}
}

func TestSplitLargestRemainderPropertiesHoldForRandomInput(t *testing.T) {
	r := rand.New(rand.NewPCG(20240401, 20250331))
	for iter := 0; iter < 20000; iter++ {
		total := randomPennies(r)
		n := r.IntN(12) + 1
		weights := make([]decimal.Decimal, n)
		for i := range weights {
			weights[i] = randomWeight(r)
		}
		if r.IntN(2) == 0 {
			weights[r.IntN(n)] = decimal.NewFromInt(1) // not all zero
		}
		parts, err := SplitLargestRemainder(total, weights)
		allZero := true
		for _, w := range weights {
			allZero = allZero && w.IsZero()
		}
		if allZero {
			if err == nil {
				t.Fatalf("all-zero weights %v accepted", weights)
			}
			continue
		}
		if err != nil {
			t.Fatalf("SplitLargestRemainder(%s, %v): %v", total, weights, err)
		}
		checkSplit(t, total, parts, n)
		sumW := decimal.Zero
		for _, w := range weights {
			sumW = sumW.Add(w)
		}
		for i, w := range weights {
			if w.IsZero() && !parts[i].IsZero() {
				t.Fatalf("split of %s by %v: zero weight %d got %s", total, weights, i, parts[i])
			}
			// Hamilton's quota rule: each part is its exact share rounded
			// down or up to the penny, never further away.
			exact := total.Mul(w).Div(sumW)
			if diff := parts[i].Sub(exact).Abs(); diff.GreaterThanOrEqual(penny) {
				t.Fatalf("split of %s by %v: part %d = %s is a penny or more from its share %s",
					total, weights, i, parts[i], exact)
			}
		}
	}
}

func TestSplitEvenPropertiesHoldForRandomInput(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for iter := 0; iter < 20000; iter++ {
		total := randomPennies(r)
		n := r.IntN(60) + 1
		parts, err := SplitEven(total, n)
		if err != nil {
			t.Fatalf("SplitEven(%s, %d): %v", total, n, err)
		}
		checkSplit(t, total, parts, n)
		for i := 1; i < n; i++ {
			// Earlier parts take the odd pennies, so the parts never grow
			// and the first and last differ by at most a penny.
			if parts[i].GreaterThan(parts[i-1]) {
				t.Fatalf("SplitEven(%s, %d) = %v: part %d exceeds part %d", total, n, formatAllMoney(parts), i, i-1)
			}
		}
		if d := parts[0].Sub(parts[n-1]); d.GreaterThan(penny) {
			t.Fatalf("SplitEven(%s, %d) = %v: parts differ by %s", total, n, formatAllMoney(parts), d)
		}
	}
}

// referenceSplit is Hamilton's method written the slow, obvious way with
// exact rationals: floor each share, then hand out the spare pennies one at a
// time to the largest remaining remainder, the earliest on a tie.
func referenceSplit(total decimal.Decimal, weights []decimal.Decimal) []decimal.Decimal {
	pennies := new(big.Rat).SetFrac(total.Shift(2).BigInt(), big.NewInt(1))
	sum := new(big.Rat)
	ws := make([]*big.Rat, len(weights))
	for i, w := range weights {
		ws[i] = w.Rat()
		sum.Add(sum, ws[i])
	}
	floors := make([]*big.Int, len(weights))
	rems := make([]*big.Rat, len(weights))
	given := new(big.Int)
	for i := range weights {
		share := new(big.Rat).Quo(new(big.Rat).Mul(pennies, ws[i]), sum)
		floors[i] = new(big.Int).Quo(share.Num(), share.Denom()) // shares are >= 0
		rems[i] = new(big.Rat).Sub(share, new(big.Rat).SetInt(floors[i]))
		given.Add(given, floors[i])
	}
	left := new(big.Int).Sub(pennies.Num(), given).Int64()
	taken := make([]bool, len(weights))
	for ; left > 0; left-- {
		best := -1
		for i := range rems {
			if !taken[i] && (best < 0 || rems[i].Cmp(rems[best]) > 0) {
				best = i
			}
		}
		taken[best] = true
		floors[best].Add(floors[best], big.NewInt(1))
	}
	out := make([]decimal.Decimal, len(weights))
	for i, f := range floors {
		out[i] = decimal.NewFromBigInt(f, -2)
	}
	return out
}

func TestSplitLargestRemainderMatchesReferenceWithManyTies(t *testing.T) {
	// Small weights over many parts make many equal remainders, so the
	// earliest-on-a-tie rule is exercised well past insertion-sort sizes.
	r := rand.New(rand.NewPCG(7, 11))
	for iter := 0; iter < 3000; iter++ {
		n := r.IntN(80) + 1
		weights := make([]decimal.Decimal, n)
		for i := range weights {
			weights[i] = decimal.NewFromInt(r.Int64N(4))
		}
		weights[r.IntN(n)] = decimal.NewFromInt(r.Int64N(3) + 1)
		total := decimal.New(r.Int64N(int64(20*n)), -2)
		got, err := SplitLargestRemainder(total, weights)
		if err != nil {
			t.Fatalf("SplitLargestRemainder(%s, %v): %v", total, weights, err)
		}
		want := referenceSplit(total, weights)
		for i := range want {
			if !got[i].Equal(want[i]) {
				t.Fatalf("SplitLargestRemainder(%s, %v)\n got %v\nwant %v", total, weights, formatAllMoney(got), formatAllMoney(want))
			}
		}
	}
}

func TestSplitBriefCases(t *testing.T) {
	even, err := SplitEven(splitDec("100.00"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatAllMoney(even), []string{"33.34", "33.33", "33.33"}; !slices.Equal(got, want) {
		t.Errorf("SplitEven(100.00, 3) = %v, want %v", got, want)
	}
	lr, err := SplitLargestRemainder(splitDec("10.00"), splitDecs("1", "1", "1"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatAllMoney(lr), []string{"3.34", "3.33", "3.33"}; !slices.Equal(got, want) {
		t.Errorf("SplitLargestRemainder(10.00, [1 1 1]) = %v, want %v", got, want)
	}

	errs := []struct {
		name string
		call func() ([]decimal.Decimal, error)
		want string
	}{
		{"SplitEven n=0", func() ([]decimal.Decimal, error) { return SplitEven(splitDec("10.00"), 0) }, "at least one part"},
		{"SplitEven negative total", func() ([]decimal.Decimal, error) { return SplitEven(splitDec("-10.00"), 2) }, "not be negative"},
		{"SplitEven three places", func() ([]decimal.Decimal, error) { return SplitEven(splitDec("10.001"), 2) }, "two decimal places"},
		{"weights empty", func() ([]decimal.Decimal, error) {
			return SplitLargestRemainder(splitDec("10.00"), []decimal.Decimal{})
		}, "at least one part"},
		{"weights all zero", func() ([]decimal.Decimal, error) {
			return SplitLargestRemainder(splitDec("10.00"), splitDecs("0", "0", "0"))
		}, "not all be zero"},
		{"weight negative", func() ([]decimal.Decimal, error) {
			return SplitLargestRemainder(splitDec("10.00"), splitDecs("2", "-1"))
		}, "must not be negative"},
		{"total negative", func() ([]decimal.Decimal, error) {
			return SplitLargestRemainder(splitDec("-0.01"), splitDecs("1"))
		}, "not be negative"},
		{"total three places", func() ([]decimal.Decimal, error) {
			return SplitLargestRemainder(splitDec("0.001"), splitDecs("1"))
		}, "two decimal places"},
	}
	for _, tc := range errs {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := tc.call()
			if err == nil {
				t.Fatalf("got %v, want an error", formatAllMoney(parts))
			}
			if ErrorCode(err) != EINVALID {
				t.Errorf("ErrorCode = %q, want %q", ErrorCode(err), EINVALID)
			}
			assertEINVALID(t, err, tc.want)
		})
	}
}

// TestSplitPropertiesWithManyWeights checks both splitters on random totals
// up to ten billion pounds and up to forty integer weights of 0 to 1000.
func TestSplitPropertiesWithManyWeights(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const iterations = 5000
	for iter := 0; iter < iterations; iter++ {
		total := decimal.New(r.Int64N(1_000_000_000_001), -2) // 0 .. 10^12 pennies
		n := r.IntN(40) + 1
		weights := make([]decimal.Decimal, n)
		allZero := true
		for i := range weights {
			weights[i] = decimal.NewFromInt(r.Int64N(1001))
			allZero = allZero && weights[i].IsZero()
		}
		if allZero {
			weights[r.IntN(n)] = decimal.NewFromInt(r.Int64N(1000) + 1)
		}

		parts, err := SplitLargestRemainder(total, weights)
		if err != nil {
			t.Fatalf("iteration %d: SplitLargestRemainder(%s, %v): %v", iter, total, weights, err)
		}
		checkSplit(t, total, parts, n)
		for i, w := range weights {
			if w.IsZero() && !parts[i].IsZero() {
				t.Fatalf("iteration %d: zero weight %d got %s", iter, i, parts[i])
			}
		}

		even, err := SplitEven(total, n)
		if err != nil {
			t.Fatalf("iteration %d: SplitEven(%s, %d): %v", iter, total, n, err)
		}
		checkSplit(t, total, even, n)
		lo, hi := even[0], even[0]
		for i := 1; i < n; i++ {
			if even[i].GreaterThan(even[i-1]) {
				t.Fatalf("iteration %d: SplitEven(%s, %d) = %v: part %d is larger than part %d",
					iter, total, n, formatAllMoney(even), i, i-1)
			}
			lo, hi = decimal.Min(lo, even[i]), decimal.Max(hi, even[i])
		}
		if hi.Sub(lo).GreaterThan(penny) {
			t.Fatalf("iteration %d: SplitEven(%s, %d) = %v: parts differ by %s",
				iter, total, n, formatAllMoney(even), hi.Sub(lo))
		}
	}
}
