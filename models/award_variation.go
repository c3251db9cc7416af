package models

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// AwardVariationKind says what a proposed change to an approved award does.
type AwardVariationKind string

// A variation changes an award's amount, dates or tranche schedule; a
// cancellation ends it, giving its budget back to the line.
const (
	VariationChange       AwardVariationKind = "variation"
	VariationCancellation AwardVariationKind = "cancellation"
)

// AwardVariation is a proposed change to an approved award, decided by a
// second person like the award itself. The Before fields are the award as
// it stood when proposed (the database records them); Amount, StartsOn,
// EndsOn and Tranches are the award as varied (none for a cancellation).
type AwardVariation struct {
	bun.BaseModel `bun:"table:award_variations"`

	ID               int64                    `bun:",pk,autoincrement" json:"id"`
	AwardID          int64                    `bun:",notnull" json:"award_id"`
	Kind             AwardVariationKind       `bun:",notnull" json:"kind"`
	AmountBefore     decimal.Decimal          `bun:"type:numeric(15,2),notnull" json:"amount_before"`
	StartsOnBefore   time.Time                `bun:"type:date,notnull" json:"starts_on_before"`
	EndsOnBefore     time.Time                `bun:"type:date,notnull" json:"ends_on_before"`
	Amount           *decimal.Decimal         `bun:"type:numeric(15,2)" json:"amount"`
	StartsOn         *time.Time               `bun:"type:date" json:"starts_on"`
	EndsOn           *time.Time               `bun:"type:date" json:"ends_on"`
	Reason           string                   `bun:",notnull" json:"reason"`
	DecisionRecordID *int64                   `bun:"" json:"decision_record_id"`
	Status           DecisionStatus           `bun:",notnull" json:"status"`
	ProposedBy       int64                    `bun:",notnull" json:"proposed_by"`
	ProposedAt       time.Time                `bun:",nullzero,notnull,default:current_timestamp" json:"proposed_at"`
	DecidedBy        *int64                   `bun:"" json:"decided_by"`
	DecidedAt        *time.Time               `bun:"" json:"decided_at"`
	DecisionReason   *string                  `bun:"" json:"decision_reason"`
	Tranches         []*AwardVariationTranche `bun:"rel:has-many,join:id=award_variation_id" json:"tranches"`
}

// AwardVariationTranche is one tranche of a variation's whole schedule.
type AwardVariationTranche struct {
	bun.BaseModel `bun:"table:award_variation_tranches"`

	AwardVariationID int64           `bun:",pk" json:"-"`
	Seq              int             `bun:",pk" json:"seq"`
	DueOn            time.Time       `bun:"type:date,notnull" json:"due_on"`
	Amount           decimal.Decimal `bun:"type:numeric(15,2),notnull" json:"amount"`
}

// DecisionKind is the kind of decision approving the variation is.
func (v *AwardVariation) DecisionKind() DecisionKind {
	if v.Kind == VariationCancellation {
		return DecisionAwardCancellation
	}
	return DecisionAwardVariation
}

// AuthorityAmount is what approving the variation is weighed by under the
// scheme of delegation: a variation's increase (nothing for a decrease), a
// cancellation's award. The database's award_variation_decision says the
// same.
func (v *AwardVariation) AuthorityAmount() decimal.Decimal {
	if v.Kind == VariationCancellation {
		return v.AmountBefore
	}
	return decimal.Max(v.Amount.Sub(v.AmountBefore), decimal.Zero)
}

// AwardVariationInput proposes varying or cancelling an approved award.
// For a variation, a field left out keeps the award's: amount, starts_on,
// ends_on, and tranches (the whole new schedule, which must add up to the
// amount to the penny).
type AwardVariationInput struct {
	Kind             string         `json:"kind" form:"kind"` // variation (the default) or cancellation
	Amount           string         `json:"amount" form:"amount" openapi:"money-input"`
	StartsOn         string         `json:"starts_on" form:"starts_on"`
	EndsOn           string         `json:"ends_on" form:"ends_on"`
	Tranches         []TrancheInput `json:"tranches" form:"-"`
	Reason           string         `json:"reason" form:"reason"`
	DecisionRecordID *int64         `json:"decision_record_id" form:"decision_record_id"`
}

// Validate returns the variation the input describes for award a, or an
// EINVALID error naming every bad field. A variation that changes nothing
// is refused.
func (in AwardVariationInput) Validate(a *Award) (*AwardVariation, error) {
	var c collector
	v := &AwardVariation{AwardID: a.ID, Kind: AwardVariationKind(strings.TrimSpace(in.Kind)), Reason: c.longText("reason", in.Reason, true, 2000),
		AmountBefore: a.Amount, StartsOnBefore: a.StartsOn, EndsOnBefore: a.EndsOn, DecisionRecordID: in.DecisionRecordID}
	if v.DecisionRecordID != nil && *v.DecisionRecordID <= 0 {
		v.DecisionRecordID = nil
	}
	switch v.Kind {
	case "", VariationChange:
		v.Kind = VariationChange
	case VariationCancellation:
		if in.Amount != "" || in.StartsOn != "" || in.EndsOn != "" || len(in.Tranches) > 0 {
			c.Add("kind", "a cancellation ends the award; give no amount, dates or tranches")
		}
		return v, c.Err()
	default:
		c.Add("kind", "must be variation or cancellation")
		return v, c.Err()
	}
	amount, starts, ends := a.Amount, a.StartsOn, a.EndsOn
	if in.Amount != "" {
		amount = c.money("amount", in.Amount, ParsePositiveMoney)
	}
	if in.StartsOn != "" {
		starts = c.date("starts_on", in.StartsOn)
	}
	if in.EndsOn != "" {
		ends = c.date("ends_on", in.EndsOn)
	}
	c.dateOrder("starts_on", starts, "ends_on", ends)
	tranches := in.Tranches
	if len(tranches) == 0 {
		for _, t := range a.Tranches {
			tranches = append(tranches, TrancheInput{DueOn: t.DueOn.Format(DateLayout), Amount: FormatMoney(t.Amount)})
		}
	}
	if len(tranches) > MaxTranches {
		c.Add("tranches", "an award may have at most %d tranches", MaxTranches)
	}
	same := amount.Equal(a.Amount) && starts.Equal(a.StartsOn) && ends.Equal(a.EndsOn) && len(tranches) == len(a.Tranches)
	for i, t := range c.tranches(tranches, amount) {
		v.Tranches = append(v.Tranches, &AwardVariationTranche{Seq: t.Seq, DueOn: t.DueOn, Amount: t.Amount})
		same = same && t.DueOn.Equal(a.Tranches[i].DueOn) && t.Amount.Equal(a.Tranches[i].Amount)
	}
	if same && len(c.Problems) == 0 {
		c.Add("amount", "the variation changes nothing: give a new amount, dates or tranches")
	}
	v.Amount, v.StartsOn, v.EndsOn = &amount, &starts, &ends
	return v, c.Err()
}
