package models

import (
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

func TestBudgetChangeInputValidate(t *testing.T) {
	mv := func(line int64, fy, delta string) MoveInput {
		return MoveInput{FundingLineID: line, FinancialYear: fy, Delta: delta}
	}
	tests := []struct {
		name  string
		in    BudgetChangeInput
		field string // "" when valid
	}{
		{"OK reprofile", BudgetChangeInput{Kind: "reprofile", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2023-24", "-1.00"), mv(1, "2024-25", "1.00")}}, ""},
		{"OK virement", BudgetChangeInput{Kind: "virement", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2024-25", "-1.00"), mv(2, "2024-25", "1.00")}}, ""},
		{"ErrUnbalanced", BudgetChangeInput{Kind: "reprofile", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2023-24", "-1.00"), mv(1, "2024-25", "0.99")}}, "moves"},
		{"ErrReprofileAcrossLines", BudgetChangeInput{Kind: "reprofile", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2024-25", "-1.00"), mv(2, "2024-25", "1.00")}}, "kind"},
		{"ErrVirementWithinALine", BudgetChangeInput{Kind: "virement", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2023-24", "-1.00"), mv(1, "2024-25", "1.00")}}, "kind"},
		{"ErrFractionOfAPenny", BudgetChangeInput{Kind: "reprofile", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2023-24", "-1.001"), mv(1, "2024-25", "1.001")}}, "moves[0].delta"},
		{"ErrBadYear", BudgetChangeInput{Kind: "reprofile", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2023-25", "-1.00"), mv(1, "2024-25", "1.00")}}, "moves[0].financial_year"},
		{"ErrSameYearTwice", BudgetChangeInput{Kind: "reprofile", Reason: "r", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2024-25", "-1.00"), mv(1, "2024-25", "1.00")}}, "moves[1]"},
		{"ErrNoReason", BudgetChangeInput{Kind: "reprofile", EffectiveOn: "2024-01-01", Moves: []MoveInput{mv(1, "2023-24", "-1.00"), mv(1, "2024-25", "1.00")}}, "reason"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bc, err := tc.in.Validate()
			if tc.field == "" {
				if err != nil || bc.Amount().StringFixed(2) != "1.00" {
					t.Fatalf("%v, amount %s", err, bc.Amount())
				}
				return
			}
			var found bool
			if e, ok := err.(*Error); ok {
				for _, f := range e.Fields {
					found = found || f.Field == tc.field
				}
			}
			if !found {
				t.Fatalf("err = %v, want a problem with %s", err, tc.field)
			}
		})
	}
}

func TestQuartersOfAddUpToTheYear(t *testing.T) {
	day := func(s string) time.Time { d, _ := ParseDate(s); return d }
	// A line from 15 May 2024: Q1 has 47 of its days, the rest are whole.
	qs, err := QuartersOf(decimal.RequireFromString("1000.00"), 2024, day("2024-05-15"), day("2025-12-31"))
	if err != nil {
		t.Fatal(err)
	}
	sum := decimal.Zero
	var parts []string
	for _, q := range qs {
		sum = sum.Add(q)
		parts = append(parts, q.StringFixed(2))
	}
	if !sum.Equal(decimal.RequireFromString("1000.00")) || qs[0].GreaterThanOrEqual(qs[1]) {
		t.Fatalf("quarters %s add up to %s", strings.Join(parts, ", "), sum)
	}
}
