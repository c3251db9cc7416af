package report

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"granttrack/app/store"
)

// TestByVarianceIsTheStableSortsHead: the dashboard's first n lines by
// variance are exactly the first n of a stable sort of them all, ties (of
// which there are many) in their given order.
func TestByVarianceIsTheStableSortsHead(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		ls := make([]line, rng.IntN(300))
		for i := range ls {
			ls[i].LineFigures = &store.LineFigures{ReportedLine: &store.ReportedLine{LineID: int64(i)}}
			ls[i].fig.Variance = decimal.New(int64(rng.IntN(7)-3), -2)
		}
		all := byVariance(ls, -1)
		if len(all) != len(ls) {
			t.Fatalf("round %d: %d lines sorted, want %d", round, len(all), len(ls))
		}
		for _, n := range []int{0, 1, 5, 25, 150, len(ls), len(ls) + 3} { // 150: a head too long to keep by insertion
			top := byVariance(ls, n)
			want := all[:min(n, len(all))]
			if !slices.EqualFunc(top, want, func(a, b line) bool { return a.LineID == b.LineID }) {
				t.Fatalf("round %d, n %d: %v, want %v", round, n, ids(top), ids(want))
			}
		}
		for i := 1; i < len(all); i++ {
			if c := all[i-1].fig.Variance.Cmp(all[i].fig.Variance); c < 0 || (c == 0 && all[i-1].LineID > all[i].LineID) {
				t.Fatalf("round %d: not a stable sort by variance, largest first: %v", round, ids(all))
			}
		}
	}
}

func ids(ls []line) []int64 {
	out := make([]int64, len(ls))
	for i, l := range ls {
		out[i] = l.LineID
	}
	return out
}
