package models

import (
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// TrancheStatus is where a tranche is in being paid. The database holds the
// same statuses and moves (tranches_status_guard).
type TrancheStatus string

// Tranche statuses: a tranche is due from the day it is made; the recipient
// may claim it; it is paid once approved spend naming it reaches its
// amount (never by hand); or it is withheld with a reason until released
// back to due.
const (
	TrancheDue      TrancheStatus = "due"
	TrancheClaimed  TrancheStatus = "claimed"
	TranchePaid     TrancheStatus = "paid"
	TrancheWithheld TrancheStatus = "withheld"
)

// trancheMoves are the moves people make; due/claimed to paid and paid back
// to due are the ledger's (tranches_paid_by_spend).
var trancheMoves = map[TrancheStatus][]TrancheStatus{
	TrancheDue:      {TrancheClaimed, TrancheWithheld},
	TrancheClaimed:  {TrancheWithheld},
	TrancheWithheld: {TrancheDue},
}

// CheckTrancheMove returns nil when a person may move a tranche from one
// status to another, or an EINVALID error on the status field (the rule
// tranche_status_transition) saying what from may become instead.
func CheckTrancheMove(from, to TrancheStatus) error {
	for _, ok := range trancheMoves[from] {
		if ok == to {
			return nil
		}
	}
	msg := "cannot go from " + string(from) + " to " + string(to)
	switch {
	case to == TranchePaid:
		msg += ": a tranche is paid when approved spend naming it reaches its amount (record it, or put it in a payment run)"
	case len(trancheMoves[from]) == 0:
		msg += ": a " + string(from) + " tranche changes only through the ledger"
	default:
		var next []string
		for _, n := range trancheMoves[from] {
			next = append(next, string(n))
		}
		msg += "; from " + string(from) + " it can only become " + strings.Join(next, " or ")
	}
	return &Error{Code: EINVALID, Message: "A tranche " + msg + ".", Fields: []FieldError{{Field: "status", Message: msg}}}
}

// Outstanding is what is still to be paid on the tranche.
func (t *Tranche) Outstanding() decimal.Decimal { return t.Amount.Sub(t.Paid) }

// Overdue reports whether the tranche's date has passed (before today) and
// it is neither paid nor withheld.
func (t *Tranche) Overdue(today time.Time) bool {
	return t.DueOn.Before(today) && (t.Status == TrancheDue || t.Status == TrancheClaimed)
}

// Payable reports whether a payment run may pay the tranche: due or claimed
// with something outstanding.
func (t *Tranche) Payable() bool {
	return (t.Status == TrancheDue || t.Status == TrancheClaimed) && t.Outstanding().IsPositive()
}

// AwardPayments are an award's payment figures on a day.
type AwardPayments struct {
	Paid        decimal.Decimal // approved spend naming the award
	Outstanding decimal.Decimal // the award less what is paid
	Overdue     decimal.Decimal // outstanding on tranches due before the day, neither paid nor withheld
}

// Payments returns the award's paid, outstanding and overdue amounts on
// today (the store fills in Paid on the award and its tranches).
func (a *Award) Payments(today time.Time) AwardPayments {
	p := AwardPayments{Paid: a.Paid, Outstanding: a.Amount.Sub(a.Paid), Overdue: decimal.Zero}
	for _, t := range a.Tranches {
		if t.Overdue(today) {
			p.Overdue = p.Overdue.Add(t.Outstanding())
		}
	}
	return p
}

// TrancheStatusInput moves a tranche: claim (with the date the claim came
// in), withhold (with a reason) or release (back to due, with a reason).
type TrancheStatusInput struct {
	ClaimedOn string `json:"claimed_on" form:"claimed_on"`
	Reason    string `json:"reason" form:"reason"`
}

// PaymentRun pays a set of due tranches on one day, once a second person
// approves it.
type PaymentRun struct {
	bun.BaseModel `bun:"table:payment_runs"`

	ID             int64          `bun:",pk,autoincrement" json:"id"`
	Reference      string         `bun:",scanonly" json:"reference"`
	PayOn          time.Time      `bun:"type:date,notnull" json:"pay_on"`
	Note           string         `bun:",notnull" json:"note"`
	Status         DecisionStatus `bun:",notnull" json:"status"`
	ProposedBy     int64          `bun:",notnull" json:"proposed_by"`
	ProposedAt     time.Time      `bun:",nullzero,notnull,default:current_timestamp" json:"proposed_at"`
	DecidedBy      *int64         `bun:"" json:"decided_by"`
	DecidedAt      *time.Time     `bun:"" json:"decided_at"`
	DecisionReason *string        `bun:"" json:"decision_reason"`

	Items []*PaymentRunItem `bun:"rel:has-many,join:id=payment_run_id" json:"items"`
}

// Total is what the run pays.
func (r *PaymentRun) Total() decimal.Decimal {
	total := decimal.Zero
	for _, it := range r.Items {
		total = total.Add(it.Amount)
	}
	return total
}

// PaymentRunItem is one payment of a run: a tranche's outstanding amount.
type PaymentRunItem struct {
	bun.BaseModel `bun:"table:payment_run_items"`

	ID              int64            `bun:",pk,autoincrement" json:"id"`
	PaymentRunID    int64            `bun:",notnull" json:"payment_run_id"`
	TrancheID       int64            `bun:",notnull" json:"tranche_id"`
	Amount          decimal.Decimal  `bun:"type:numeric(15,2),notnull" json:"amount"`
	Reference       string           `bun:",scanonly" json:"reference"`
	SpendEntryID    *int64           `bun:"" json:"spend_entry_id"`
	ConfirmedOn     *time.Time       `bun:"type:date" json:"confirmed_on"`
	ConfirmedAmount *decimal.Decimal `bun:"type:numeric(15,2)" json:"confirmed_amount"`
}

// PaymentRunInput proposes paying the tranches on a day.
type PaymentRunInput struct {
	PayOn      string  `json:"pay_on" form:"pay_on"`
	Note       string  `json:"note" form:"note"`
	TrancheIDs []int64 `json:"tranche_ids" form:"tranche_ids"`
}

// MaxRunPayments bounds a payment run.
const MaxRunPayments = 500

// Validate returns the day and the distinct tranches, or an EINVALID error
// naming every bad field.
func (in PaymentRunInput) Validate() (time.Time, string, []int64, error) {
	var c collector
	payOn := c.date("pay_on", in.PayOn)
	note := c.longText("note", in.Note, false, 2000)
	var ids []int64
	seen := map[int64]bool{}
	for _, id := range in.TrancheIDs {
		if id <= 0 {
			c.Add("tranche_ids", "must be tranche ids")
			break
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	switch {
	case len(ids) == 0 && !c.Has("tranche_ids"):
		c.Add("tranche_ids", "choose at least one tranche to pay")
	case len(ids) > MaxRunPayments:
		c.Add("tranche_ids", "a payment run pays at most %d tranches", MaxRunPayments)
	}
	return payOn, note, ids, c.Err()
}

// The finance system's code formats; the database's
// funding_lines_cost_centre_format and funding_lines_gl_account_format
// CHECK constraints hold the same.
var (
	costCentreFormat = regexp.MustCompile(`^[A-Z0-9]{2,10}$`)
	glAccountFormat  = regexp.MustCompile(`^[0-9]{4,8}$`)
)

// financeCode reads an optional finance-system code: blank is none; letters
// are taken in capitals; anything else must match format.
func financeCode(c *collector, field, v string, format *regexp.Regexp, want string) *string {
	v = strings.ToUpper(strings.TrimSpace(v))
	if v == "" {
		return nil
	}
	if !format.MatchString(v) {
		c.Add(field, "must be %s", want)
		return nil
	}
	return &v
}

// Validate returns the claim's date (claiming) and the reason (required to
// withhold or release), or an EINVALID error naming the field.
func (in TrancheStatusInput) Validate(to TrancheStatus) (*time.Time, string, error) {
	var c collector
	var claimedOn *time.Time
	reason := c.longText("reason", in.Reason, to == TrancheWithheld || to == TrancheDue, 2000)
	if to == TrancheClaimed {
		d := c.date("claimed_on", in.ClaimedOn)
		claimedOn = &d
	}
	return claimedOn, reason, c.Err()
}
