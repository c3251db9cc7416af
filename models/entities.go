package models

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// Date layout used for every calendar date in the API, forms and exports.
const DateLayout = "2006-01-02"

// User is a person who signs in. Role decides what they may do.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID           int64     `bun:",pk,autoincrement"`
	Email        string    `bun:",notnull"`
	Name         string    `bun:",notnull"`
	Role         Role      `bun:",notnull"`
	PasswordHash string    `bun:",notnull"`
	Active       bool      `bun:",notnull"`
	CreatedAt    time.Time `bun:",nullzero,notnull,default:current_timestamp"`
	// OIDCIssuer and OIDCSubject name the identity provider's account the
	// user signs in with (single sign-on); both nil when none is linked.
	OIDCIssuer  *string `bun:"oidc_issuer"`
	OIDCSubject *string `bun:"oidc_subject"`
}

// APIToken is a bearer token for the JSON API; only its SHA-256 is stored.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         int64      `bun:",pk,autoincrement"`
	UserID     int64      `bun:",notnull"`
	Name       string     `bun:",notnull"`
	TokenHash  []byte     `bun:",notnull"`
	CreatedAt  time.Time  `bun:",nullzero,notnull,default:current_timestamp"`
	LastUsedAt *time.Time `bun:""`
	RevokedAt  *time.Time `bun:""`
	// ExpiresAt ends the token by itself (nil: it lasts until revoked).
	ExpiresAt *time.Time `bun:""`
}

// Organisation is a funder, recipient or supplier.
type Organisation struct {
	bun.BaseModel `bun:"table:organisations"`

	ID            int64     `bun:",pk,autoincrement"`
	Name          string    `bun:",notnull"`
	OrgID         *string   `bun:"org_id"`
	CharityNumber *string   `bun:""`
	CompanyNumber *string   `bun:""`
	Borough       *string   `bun:""`
	GSSCode       *string   `bun:"gss_code"` // ONS code of the place an organisation is, e.g. a borough
	IsFunder      bool      `bun:",notnull"`
	IsRecipient   bool      `bun:",notnull"`
	IsSupplier    bool      `bun:",notnull"`
	CreatedAt     time.Time `bun:",nullzero,notnull,default:current_timestamp"`
	UpdatedAt     time.Time `bun:",nullzero,notnull,default:current_timestamp"`
}

// Programme groups funding lines under a plan's priority.
type Programme struct {
	bun.BaseModel `bun:"table:programmes"`

	ID          int64     `bun:",pk,autoincrement"`
	Code        string    `bun:",notnull"`
	Name        string    `bun:",notnull"`
	Description string    `bun:",notnull"`
	Plan        string    `bun:",notnull"`
	CreatedAt   time.Time `bun:",nullzero,notnull,default:current_timestamp"`
	UpdatedAt   time.Time `bun:",nullzero,notnull,default:current_timestamp"`
}

// FundingLine is an allocation, grant or contract with a budget.
type FundingLine struct {
	bun.BaseModel `bun:"table:funding_lines"`

	ID                int64             `bun:",pk,autoincrement"`
	Code              string            `bun:",notnull"`
	Title             string            `bun:",notnull"`
	Description       string            `bun:",notnull"`
	Kind              FundingLineKind   `bun:",notnull"`
	ProgrammeID       int64             `bun:",notnull"`
	FunderID          int64             `bun:",notnull"`
	Budget            decimal.Decimal   `bun:"type:numeric(15,2),notnull"`
	Currency          string            `bun:",notnull"`
	StartsOn          time.Time         `bun:"type:date,notnull"`
	EndsOn            time.Time         `bun:"type:date,notnull"`
	Status            FundingLineStatus `bun:",notnull"`
	TenderReference   *string           `bun:""`
	TenderMinValue    *decimal.Decimal  `bun:"type:numeric(15,2)"`
	TenderMaxValue    *decimal.Decimal  `bun:"type:numeric(15,2)"`
	TenderClosesOn    *time.Time        `bun:"type:date"`
	AwardedSupplierID *int64            `bun:""`
	// The contract's procurement (contract lines only; see contract.go).
	ProcurementMethod *ProcurementMethod `bun:""`
	DirectAwardReason *string            `bun:""`
	FrameworkName     *string            `bun:""`
	ContractTitle     *string            `bun:""`
	TenderPublishedOn *time.Time         `bun:"type:date"`
	ContractValue     *decimal.Decimal   `bun:"type:numeric(15,2)"`
	ContractStartsOn  *time.Time         `bun:"type:date"`
	ContractEndsOn    *time.Time         `bun:"type:date"`
	MainCategory      *string            `bun:"main_procurement_category"`
	// The finance system's cost centre and general-ledger account code for
	// the line's payments (see FinanceCodes); nil until entered.
	CostCentre *string   `bun:""`
	GLAccount  *string   `bun:"gl_account"`
	CreatedAt  time.Time `bun:",nullzero,notnull,default:current_timestamp"`
	UpdatedAt  time.Time `bun:",nullzero,notnull,default:current_timestamp"`
}

// Award commits part of a funding line's budget to a recipient.
type Award struct {
	bun.BaseModel `bun:"table:awards"`

	ID            int64  `bun:",pk,autoincrement"`
	FundingLineID int64  `bun:",notnull"`
	RecipientID   int64  `bun:",notnull"`
	Reference     string `bun:",notnull"`
	Purpose       string `bun:",notnull"`
	// Conditions attached to the grant and why it should reduce crime and
	// disorder: a policing body publishes both for each such grant.
	Conditions           *string         `bun:""`
	CrimeReductionReason *string         `bun:""`
	Amount               decimal.Decimal `bun:"type:numeric(15,2),notnull"`
	AwardedOn            time.Time       `bun:"type:date,notnull"`
	StartsOn             time.Time       `bun:"type:date,notnull"`
	EndsOn               time.Time       `bun:"type:date,notnull"`
	ReservationID        *int64          // the reservation this award was converted from
	CreatedAt            time.Time       `bun:",nullzero,notnull,default:current_timestamp"`
	// An award is proposed pending and counts for spend once someone other
	// than its proposer approves it (nil proposer: made before two-person
	// decisions). DecisionRecordID cites the published decision behind it.
	Status           DecisionStatus `bun:",notnull"`
	ProposedBy       *int64         `bun:""`
	DecidedBy        *int64         `bun:""`
	DecidedAt        *time.Time     `bun:""`
	DecisionReason   *string        `bun:""`
	DecisionRecordID *int64         `bun:""`

	Tranches []*Tranche `bun:"rel:has-many,join:id=award_id"`
	// Paid is the approved spend naming the award, and Figures its payment
	// figures on the store's today, filled in by the store when it reads
	// the award (see Award.Payments).
	Paid    decimal.Decimal `bun:"-"`
	Figures AwardPayments   `bun:"-"`
}

// Tranche is one scheduled payment of an award.
type Tranche struct {
	bun.BaseModel `bun:"table:tranches"`

	ID      int64           `bun:",pk,autoincrement"`
	AwardID int64           `bun:",notnull"`
	Seq     int             `bun:",notnull"`
	DueOn   time.Time       `bun:"type:date,notnull"`
	Amount  decimal.Decimal `bun:"type:numeric(15,2),notnull"`
	// Payment state (see TrancheStatus); paid is the ledger's word, set by
	// the database when approved spend naming the tranche reaches Amount.
	Status          TrancheStatus `bun:",nullzero,notnull,default:'due'"`
	ClaimedOn       *time.Time    `bun:"type:date"`
	WithheldReason  *string       `bun:""`
	PaidOn          *time.Time    `bun:"type:date"`
	StatusChangedAt *time.Time    `bun:""`
	// Paid is the approved spend naming the tranche (reversals included),
	// and IsOverdue whether it is overdue on the store's today, filled in by
	// the store when it reads an award.
	Paid      decimal.Decimal `bun:"-"`
	IsOverdue bool            `bun:"-"`
}

// LineTotals are a funding line's money figures at one moment.
type LineTotals struct {
	Budget    decimal.Decimal
	Committed decimal.Decimal // awards
	Reserved  decimal.Decimal // held reservations
	Pending   decimal.Decimal // spend awaiting approval, reversals left out
	// PendingReversals is what reversals awaiting approval would take off
	// the spend, as a positive amount: never netted against Pending.
	PendingReversals decimal.Decimal
	Spent            decimal.Decimal // approved spend, reversals included
}

// Remaining is the budget not yet spent.
func (t LineTotals) Remaining() decimal.Decimal { return t.Budget.Sub(t.Spent) }

// Uncommitted is the budget neither awarded nor held in reservations: what
// can still be awarded or reserved.
func (t LineTotals) Uncommitted() decimal.Decimal { return t.Budget.Sub(t.Committed).Sub(t.Reserved) }
