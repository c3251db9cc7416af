package models

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// DecisionKind names a kind of money decision in the scheme of delegation.
// The database's delegation_kinds table holds the same names.
type DecisionKind string

// The kinds of decision the scheme of delegation covers.
const (
	DecisionSpend                          DecisionKind = "spend"
	DecisionLineApproval                   DecisionKind = "line_approval"
	DecisionLineActivation                 DecisionKind = "line_activation"
	DecisionAward                          DecisionKind = "award"
	DecisionAwardVariation                 DecisionKind = "award_variation"
	DecisionAwardCancellation              DecisionKind = "award_cancellation"
	DecisionReservationConversion          DecisionKind = "reservation_conversion"
	DecisionBudgetReprofile                DecisionKind = "budget_reprofile"
	DecisionBudgetVirementWithinProgramme  DecisionKind = "budget_virement_within_programme"
	DecisionBudgetVirementAcrossProgrammes DecisionKind = "budget_virement_across_programmes"
	DecisionBudgetIncrease                 DecisionKind = "budget_increase"
	DecisionDelegationChange               DecisionKind = "delegation_change"
	// DecisionAccountGrant gives an account authority over money: a new
	// account, or a role raised to one that approves money. Admins take it.
	DecisionAccountGrant          DecisionKind = "account_grant"
	DecisionContractBandException DecisionKind = "contract_band_exception"
	DecisionPaymentRun            DecisionKind = "payment_run"
	// DecisionOfficeHolderExpense approves an allowance paid to an office
	// holder for expenses before it is published.
	DecisionOfficeHolderExpense DecisionKind = "office_holder_expense"
)

// AllDecisionKinds returns every kind of decision, in the order the scheme
// is shown.
func AllDecisionKinds() []DecisionKind {
	return []DecisionKind{DecisionSpend, DecisionLineApproval, DecisionLineActivation, DecisionAward, DecisionAwardVariation,
		DecisionAwardCancellation, DecisionReservationConversion, DecisionBudgetReprofile, DecisionBudgetVirementWithinProgramme,
		DecisionBudgetVirementAcrossProgrammes, DecisionBudgetIncrease, DecisionDelegationChange, DecisionAccountGrant, DecisionContractBandException,
		DecisionPaymentRun, DecisionOfficeHolderExpense}
}

// Valid reports whether k is a known kind of decision.
func (k DecisionKind) Valid() bool {
	for _, known := range AllDecisionKinds() {
		if k == known {
			return true
		}
	}
	return false
}

// The rules of who may decide, by the name both layers give them: the Go
// check wraps these in an EFORBIDDEN *Error (test with errors.Is), and the
// database's assert_decision_authority raises them as the constraint name
// and the first word of its message (SQLSTATE 42501).
var (
	ErrFourEyes        = errors.New("decision_four_eyes")        // the decider proposed it
	ErrRoleAuthority   = errors.New("decision_role_authority")   // the decider's role may not take this kind of decision
	ErrAmountAuthority = errors.New("decision_amount_authority") // the amount is above the decider's role's limit
	// ErrAuthorityPending: the decider's authority over money awaits a
	// second admin's approval (an account grant).
	ErrAuthorityPending = errors.New("decision_authority_pending")
)

// ErrCitationRequired is the rule that a decision above its kind's threshold
// cites a decision record: an EINVALID *Error on the field
// decision_record_id in Go, the database's assert_decision_citation raising
// decision_citation_required (SQLSTATE 23514).
var ErrCitationRequired = errors.New("decision_citation_required")

// DelegationKind is one kind of decision in the scheme, with the amount
// above which it must cite a decision record (nil: never required).
type DelegationKind struct {
	bun.BaseModel `bun:"table:delegation_kinds"`

	DecisionKind          DecisionKind     `bun:",pk" json:"decision_kind"`
	CitationRequiredAbove *decimal.Decimal `bun:"type:numeric(15,2)" json:"citation_required_above"`
	Description           string           `bun:",notnull" json:"description"`
}

// DelegationRule says that a role may approve a kind of decision up to
// MaxAmount (nil: no limit).
type DelegationRule struct {
	bun.BaseModel `bun:"table:delegation_rules"`

	DecisionKind DecisionKind     `bun:",pk" json:"decision_kind"`
	Role         Role             `bun:",pk" json:"role"`
	MaxAmount    *decimal.Decimal `bun:"type:numeric(15,2)" json:"max_amount"`
	UpdatedAt    time.Time        `bun:",nullzero,notnull,default:current_timestamp" json:"updated_at"`
}

// Allows reports whether the rule covers amount (compared by absolute
// value, as a reversal weighs as much as what it undoes).
func (r DelegationRule) Allows(amount decimal.Decimal) bool {
	return r.MaxAmount == nil || amount.Abs().LessThanOrEqual(*r.MaxAmount)
}

// DecisionRecord is a published, numbered decision (e.g. MOPAC's
// "PCD 1519") that a line, award or budget change cites as its authority.
type DecisionRecord struct {
	bun.BaseModel `bun:"table:decision_records"`

	ID            int64     `bun:",pk,autoincrement" json:"id"`
	Reference     string    `bun:",notnull" json:"reference"`
	Title         string    `bun:",notnull" json:"title"`
	SignedOn      time.Time `bun:"type:date,notnull" json:"signed_on"`
	DecisionMaker string    `bun:",notnull" json:"decision_maker"`
	URL           string    `bun:"url,notnull" json:"url"`
	CreatedBy     int64     `bun:",notnull" json:"created_by"`
	CreatedAt     time.Time `bun:",nullzero,notnull,default:current_timestamp" json:"created_at"`
}

// DecisionRecordInput records a published decision.
type DecisionRecordInput struct {
	Reference     string `json:"reference" form:"reference"`
	Title         string `json:"title" form:"title"`
	SignedOn      string `json:"signed_on" form:"signed_on"`
	DecisionMaker string `json:"decision_maker" form:"decision_maker"`
	URL           string `json:"url" form:"url"`
}

// Validate returns the record, or an EINVALID error naming every bad field.
func (in DecisionRecordInput) Validate() (*DecisionRecord, error) {
	var c collector
	r := &DecisionRecord{
		Reference:     c.text("reference", in.Reference, true, 60),
		Title:         c.text("title", in.Title, true, 300),
		SignedOn:      c.date("signed_on", in.SignedOn),
		DecisionMaker: c.text("decision_maker", in.DecisionMaker, true, 200),
		URL:           c.text("url", in.URL, false, 2000),
	}
	if r.URL != "" && !c.Has("url") && (!strings.HasPrefix(r.URL, "https://") && !strings.HasPrefix(r.URL, "http://") ||
		strings.ContainsAny(r.URL, " \t\r\n")) {
		c.Add("url", "must be a web address starting with https://")
	}
	return r, c.Err()
}

// DecisionStatus is where a proposed decision is: pending until someone
// else approves or rejects it, or its proposer withdraws it.
type DecisionStatus string

// Decision statuses.
const (
	DecisionPending   DecisionStatus = "pending"
	DecisionApproved  DecisionStatus = "approved"
	DecisionRejected  DecisionStatus = "rejected"
	DecisionWithdrawn DecisionStatus = "withdrawn"
	// DecisionCancelled is an approved award ended by an approved
	// cancellation (awards only).
	DecisionCancelled DecisionStatus = "cancelled"
)

// LineDecision proposes moving a funding line to approved (kind
// line_approval) or active (line_activation); another person decides.
type LineDecision struct {
	bun.BaseModel `bun:"table:line_decisions"`

	ID               int64             `bun:",pk,autoincrement" json:"id"`
	FundingLineID    int64             `bun:",notnull" json:"funding_line_id"`
	DecisionKind     DecisionKind      `bun:",notnull" json:"decision_kind"`
	ToStatus         FundingLineStatus `bun:",notnull" json:"to_status"`
	DecisionRecordID *int64            `bun:"" json:"decision_record_id"`
	Reason           string            `bun:",notnull" json:"reason"`
	Status           DecisionStatus    `bun:",notnull" json:"status"`
	ProposedBy       int64             `bun:",notnull" json:"proposed_by"`
	ProposedAt       time.Time         `bun:",nullzero,notnull,default:current_timestamp" json:"proposed_at"`
	DecidedBy        *int64            `bun:"" json:"decided_by"`
	DecidedAt        *time.Time        `bun:"" json:"decided_at"`
	DecisionReason   *string           `bun:"" json:"decision_reason"`
}

// LineDecisionKind is the kind of decision that moves a line to status to:
// line_approval or line_activation; "" for any other status, which one
// person may set (cancelled, closed).
func LineDecisionKind(to FundingLineStatus) DecisionKind {
	switch to {
	case StatusApproved:
		return DecisionLineApproval
	case StatusActive:
		return DecisionLineActivation
	}
	return ""
}

// DelegationChange proposes setting a role's limit for a kind of decision
// (MaxAmount nil: no limit) or removing the role's authority for it; another
// admin decides it.
type DelegationChange struct {
	bun.BaseModel `bun:"table:delegation_changes"`

	ID             int64            `bun:",pk,autoincrement" json:"id"`
	DecisionKind   DecisionKind     `bun:",notnull" json:"decision_kind"`
	Role           Role             `bun:",notnull" json:"role"`
	Remove         bool             `bun:",notnull" json:"remove"`
	MaxAmount      *decimal.Decimal `bun:"type:numeric(15,2)" json:"max_amount" openapi:"money"`
	Reason         string           `bun:",notnull" json:"reason"`
	Status         DecisionStatus   `bun:",notnull" json:"status"`
	ProposedBy     int64            `bun:",notnull" json:"proposed_by"`
	ProposedAt     time.Time        `bun:",nullzero,notnull,default:current_timestamp" json:"proposed_at"`
	DecidedBy      *int64           `bun:"" json:"decided_by"`
	DecidedAt      *time.Time       `bun:"" json:"decided_at"`
	DecisionReason *string          `bun:"" json:"decision_reason"`
}

// MarshalJSON writes the limit as money is written everywhere, with two
// decimals ("100000.00"), or null for no limit.
func (c DelegationChange) MarshalJSON() ([]byte, error) {
	type plain DelegationChange
	out := struct {
		plain
		MaxAmount *string `json:"max_amount"`
	}{plain: plain(c)}
	if c.MaxAmount != nil {
		s := FormatMoney(*c.MaxAmount)
		out.MaxAmount = &s
	}
	return json.Marshal(out)
}

// AccountGrant gives an account a role that approves money (Role), proposed
// by one admin and decided by another. Until it is approved the account
// approves nothing; a rejection or withdrawal puts the account back to
// FromRole, or deactivates it when it was new (FromRole nil).
type AccountGrant struct {
	bun.BaseModel `bun:"table:account_grants"`

	ID             int64          `bun:",pk,autoincrement" json:"id"`
	UserID         int64          `bun:",notnull" json:"user_id"`
	Role           Role           `bun:",notnull" json:"role"`
	FromRole       *Role          `bun:"" json:"from_role"`
	Reason         string         `bun:",notnull" json:"reason"`
	Status         DecisionStatus `bun:",notnull" json:"status"`
	ProposedBy     int64          `bun:",notnull" json:"proposed_by"`
	ProposedAt     time.Time      `bun:",nullzero,notnull,default:current_timestamp" json:"proposed_at"`
	DecidedBy      *int64         `bun:"" json:"decided_by"`
	DecidedAt      *time.Time     `bun:"" json:"decided_at"`
	DecisionReason *string        `bun:"" json:"decision_reason"`
}
