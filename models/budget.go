package models

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// YearAmount is a funding line's budget for one financial year: one row of
// its budget profile.
type YearAmount struct {
	bun.BaseModel `bun:"table:budget_profiles"`

	FundingLineID int64           `bun:",pk" json:"-"`
	Year          FinancialYear   `bun:"financial_year,pk" json:"financial_year"`
	Amount        decimal.Decimal `bun:"type:numeric(15,2),notnull" json:"amount"`
}

// MarshalJSON writes the year as "2024-25" and the amount with two
// decimals, as the API and the audit trail show them.
func (y YearAmount) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Year   string `json:"financial_year"`
		Amount string `json:"amount"`
	}{y.Year.String(), FormatMoney(y.Amount)})
}

// YearsOf lists the financial years a line running from starts to ends
// touches, in order.
func YearsOf(starts, ends time.Time) []FinancialYear {
	var out []FinancialYear
	for fy := FinancialYearOf(starts); fy <= FinancialYearOf(ends); fy++ {
		out = append(out, fy)
	}
	return out
}

// SumYears adds up a profile.
func SumYears(p []YearAmount) decimal.Decimal {
	sum := decimal.Zero
	for _, y := range p {
		sum = sum.Add(y.Amount)
	}
	return sum
}

// YearBudget is a profile's amount for one year; zero if it has none.
func YearBudget(p []YearAmount, fy FinancialYear) decimal.Decimal {
	for _, y := range p {
		if y.Year == fy {
			return y.Amount
		}
	}
	return decimal.Zero
}

// CheckProfile checks a profile for a line with this budget and dates: each
// year within the line's dates, once, and the amounts adding up to the
// budget to the penny (the rule budget_profile_sums_to_budget). It names the
// bad year's field as years[i].
func CheckProfile(p []YearAmount, budget decimal.Decimal, starts, ends time.Time) error {
	var c collector
	seen := map[FinancialYear]bool{}
	first, last := FinancialYearOf(starts), FinancialYearOf(ends)
	for i, y := range p {
		field := "years[" + strconv.Itoa(i) + "]"
		switch {
		case seen[y.Year]:
			c.Add(field+".financial_year", "%s is given twice", y.Year)
		case y.Year < first || y.Year > last:
			c.Add(field+".financial_year", "%s is outside the line's dates (%s to %s)", y.Year, first, last)
		case y.Amount.IsNegative():
			c.Add(field+".amount", "must not be negative")
		}
		seen[y.Year] = true
	}
	if len(c.Problems) == 0 {
		if sum := SumYears(p); !sum.Equal(budget) {
			c.Add("years", "the years add up to %s but the line's budget is %s; they must match to the penny",
				Pounds(sum), Pounds(budget))
		}
	}
	return c.Err()
}

// ProfileInput is a budget profile as typed: an amount for each financial
// year. On an approved line it proposes a re-profiling, which needs a reason
// and an effective date.
type ProfileInput struct {
	Years       []YearInput `json:"years"`
	Reason      string      `json:"reason" doc:"why; required once the line is approved (the change is proposed as a re-profiling)"`
	EffectiveOn string      `json:"effective_on" doc:"YYYY-MM-DD; required once the line is approved"`
}

// YearInput is one year of a profile as typed.
type YearInput struct {
	FinancialYear string `json:"financial_year" doc:"e.g. 2024-25"`
	Amount        string `json:"amount" openapi:"money-input"`
}

// Validate returns the profile the input describes, or EINVALID naming each
// bad year.
func (in ProfileInput) Validate() ([]YearAmount, error) {
	var c collector
	out := make([]YearAmount, 0, len(in.Years))
	if len(in.Years) == 0 {
		c.Add("years", "give an amount for each financial year of the line")
	}
	for i, y := range in.Years {
		field := "years[" + strconv.Itoa(i) + "]"
		out = append(out, YearAmount{Year: c.financialYear(field+".financial_year", y.FinancialYear),
			Amount: c.money(field+".amount", y.Amount, ParseNonNegativeMoney)})
	}
	return out, c.Err()
}

func (c *collector) financialYear(field, v string) FinancialYear {
	fy, err := ParseFinancialYear(v)
	if err != nil {
		c.Add(field, "%s", ErrorMessage(err))
	}
	return fy
}

// BudgetChangeKind says what a budget change moves.
type BudgetChangeKind string

// Budget change kinds: a re-profiling moves budget between the years of one
// line; a virement moves it between lines.
const (
	Reprofile BudgetChangeKind = "reprofile"
	Virement  BudgetChangeKind = "virement"
	// Increase adds money to the years of one approved line, raising its
	// budget by the sum of its moves.
	Increase BudgetChangeKind = "increase"
)

// BudgetChangeStatus is where a budget change stands.
type BudgetChangeStatus string

// Budget change statuses.
const (
	ChangePending   BudgetChangeStatus = "pending"
	ChangeApproved  BudgetChangeStatus = "approved"
	ChangeRejected  BudgetChangeStatus = "rejected"
	ChangeWithdrawn BudgetChangeStatus = "withdrawn"
)

// Valid reports whether s is a known status.
func (s BudgetChangeStatus) Valid() bool {
	switch s {
	case ChangePending, ChangeApproved, ChangeRejected, ChangeWithdrawn:
		return true
	}
	return false
}

// BudgetChange is a proposed, approved, rejected or withdrawn move of budget.
type BudgetChange struct {
	bun.BaseModel `bun:"table:budget_changes"`

	ID               int64              `bun:",pk,autoincrement" json:"id"`
	Kind             BudgetChangeKind   `bun:",notnull" json:"kind"`
	Reason           string             `bun:",notnull" json:"reason"`
	EffectiveOn      time.Time          `bun:"type:date,notnull" json:"effective_on"`
	Status           BudgetChangeStatus `bun:",notnull" json:"status"`
	ProposedBy       int64              `bun:",notnull" json:"proposed_by"`
	ProposedAt       time.Time          `bun:",nullzero,notnull,default:current_timestamp" json:"proposed_at"`
	DecidedBy        *int64             `json:"decided_by"`
	DecidedAt        *time.Time         `json:"decided_at"`
	RejectionReason  *string            `json:"rejection_reason"`
	DecisionRecordID *int64             `json:"decision_record_id"`
	IdempotencyKey   *string            `json:"-"`
	RequestHash      []byte             `json:"-"`

	Moves []*BudgetMove `bun:"rel:has-many,join:id=budget_change_id" json:"moves"`
}

// BudgetMove is one line-year's part of a budget change: money in (positive)
// or out (negative). A change's moves add up to zero.
type BudgetMove struct {
	bun.BaseModel `bun:"table:budget_change_moves"`

	BudgetChangeID int64           `bun:",pk" json:"-"`
	FundingLineID  int64           `bun:",pk" json:"funding_line_id"`
	Year           FinancialYear   `bun:"financial_year,pk" json:"financial_year"`
	Delta          decimal.Decimal `bun:"type:numeric(15,2),notnull" json:"delta"`
}

// MarshalJSON writes the move as the API and the audit trail show it.
func (m BudgetMove) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		FundingLineID int64  `json:"funding_line_id"`
		Year          string `json:"financial_year"`
		Delta         string `json:"delta"`
	}{m.FundingLineID, m.Year.String(), FormatMoney(m.Delta)})
}

// Amount is how much the change moves: the sum of its positive moves.
func (c *BudgetChange) Amount() decimal.Decimal {
	sum := decimal.Zero
	for _, m := range c.Moves {
		if m.Delta.IsPositive() {
			sum = sum.Add(m.Delta)
		}
	}
	return sum
}

// BudgetChangeInput proposes a budget change. Moves name each line and year
// and the money in (positive) or out (negative); they must add up to zero.
type BudgetChangeInput struct {
	Kind             string      `json:"kind" doc:"reprofile, virement or increase"`
	Reason           string      `json:"reason"`
	EffectiveOn      string      `json:"effective_on" doc:"YYYY-MM-DD"`
	DecisionRecordID *int64      `json:"decision_record_id" doc:"the decision record the change carries out, if any"`
	Moves            []MoveInput `json:"moves"`
}

// MoveInput is one move as typed.
type MoveInput struct {
	FundingLineID int64  `json:"funding_line_id"`
	FinancialYear string `json:"financial_year" doc:"e.g. 2024-25"`
	Delta         string `json:"delta" doc:"money into the year (positive) or out of it (negative)"`
}

// Validate returns the change the input describes, pending, or EINVALID
// naming every bad field: moves that do not add up to zero, a line-year
// given twice, a re-profiling over several lines or a virement within one.
func (in BudgetChangeInput) Validate() (*BudgetChange, error) {
	var c collector
	bc := &BudgetChange{
		Kind:             BudgetChangeKind(in.Kind),
		Reason:           c.text("reason", in.Reason, true, 2000),
		EffectiveOn:      c.date("effective_on", in.EffectiveOn),
		Status:           ChangePending,
		DecisionRecordID: c.optionalID("decision_record_id", in.DecisionRecordID),
	}
	if bc.Kind != Reprofile && bc.Kind != Virement && bc.Kind != Increase {
		c.Add("kind", "must be reprofile (between the years of one line), virement (between lines) or increase (more budget for one line)")
	}
	type key struct {
		line int64
		fy   FinancialYear
	}
	seen := map[key]bool{}
	lines := map[int64]bool{}
	sum := decimal.Zero
	for i, m := range in.Moves {
		field := "moves[" + strconv.Itoa(i) + "]"
		mv := &BudgetMove{FundingLineID: c.id(field+".funding_line_id", m.FundingLineID),
			Year:  c.financialYear(field+".financial_year", m.FinancialYear),
			Delta: c.money(field+".delta", m.Delta, ParseMoney)}
		if !c.Has(field+".delta") && mv.Delta.IsZero() {
			c.Add(field+".delta", "must not be zero")
		}
		k := key{mv.FundingLineID, mv.Year}
		if seen[k] {
			c.Add(field, "line %d, %s is given twice; give each line's year once", mv.FundingLineID, mv.Year)
		}
		seen[k], lines[mv.FundingLineID] = true, true
		sum = sum.Add(mv.Delta)
		bc.Moves = append(bc.Moves, mv)
	}
	switch {
	case bc.Kind == Increase && len(in.Moves) == 0:
		c.Add("moves", "an increase adds money to at least one year")
	case bc.Kind != Increase && len(in.Moves) < 2:
		c.Add("moves", "a budget change moves money out of at least one year and into another")
	}
	if len(c.Problems) == 0 && bc.Kind == Increase {
		for i, m := range bc.Moves {
			if m.Delta.IsNegative() {
				c.Add("moves["+strconv.Itoa(i)+"].delta", "an increase only adds money; move it between years with a re-profiling")
			}
		}
		if len(lines) != 1 {
			c.Add("kind", "an increase raises the budget of one line; propose one for each line")
		}
	} else if len(c.Problems) == 0 {
		switch {
		case !sum.IsZero():
			c.Add("moves", "the moves add up to %s; money out must equal money in to the penny", Pounds(sum))
		case bc.Kind == Reprofile && len(lines) != 1:
			c.Add("kind", "a re-profiling moves budget between the years of one line; between lines it is a virement")
		case bc.Kind == Virement && len(lines) < 2:
			c.Add("kind", "a virement moves budget between lines; within one line it is a re-profiling")
		}
	}
	return bc, c.Err()
}

// ReprofileInput is the re-profiling that turns a line's profile from into
// to, with its reason and effective date; EINVALID naming the field when
// either is missing or nothing changes.
func ReprofileInput(lineID int64, from, to []YearAmount, reason, effectiveOn string) (*BudgetChange, error) {
	var c collector
	bc := &BudgetChange{Kind: Reprofile, Status: ChangePending, Reason: c.text("reason", reason, true, 2000),
		EffectiveOn: c.date("effective_on", effectiveOn), Moves: ProfileDeltas(lineID, from, to)}
	if len(bc.Moves) == 0 {
		c.Add("years", "the profile is unchanged")
	}
	return bc, c.Err()
}

// ProfileDeltas are the moves that turn profile from into profile to, by
// year (unchanged years are left out).
func ProfileDeltas(lineID int64, from, to []YearAmount) []*BudgetMove {
	var out []*BudgetMove
	years := map[FinancialYear]bool{}
	for _, y := range append(append([]YearAmount{}, from...), to...) {
		years[y.Year] = true
	}
	for fy := range years {
		if d := YearBudget(to, fy).Sub(YearBudget(from, fy)); !d.IsZero() {
			out = append(out, &BudgetMove{FundingLineID: lineID, Year: fy, Delta: d})
		}
	}
	sortMoves(out)
	return out
}

func sortMoves(ms []*BudgetMove) {
	slices.SortFunc(ms, func(a, b *BudgetMove) int {
		return cmp.Or(cmp.Compare(a.FundingLineID, b.FundingLineID), cmp.Compare(a.Year, b.Year))
	})
}

// QuartersOf splits a year's profiled amount over the year's four quarters
// by the days the line runs in each, to the penny, so that quarters add up
// to the year.
func QuartersOf(amount decimal.Decimal, fy FinancialYear, starts, ends time.Time) ([]decimal.Decimal, error) {
	weights := make([]int64, 4)
	var total int64
	for q := Quarter(1); q <= 4; q++ {
		qs, qe := fy.QuarterRange(q)
		weights[q-1] = int64(daysBetween(laterOf(qs, starts), earlierOf(qe, ends)))
		total += weights[q-1]
	}
	if total == 0 {
		// The line does not run in the year (its profile then holds nothing
		// there): spread by the year's own days.
		for q := Quarter(1); q <= 4; q++ {
			qs, qe := fy.QuarterRange(q)
			weights[q-1] = int64(daysBetween(qs, qe))
		}
	}
	return SplitByWholeWeights(amount, weights)
}
