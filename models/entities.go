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
	CreatedAt         time.Time         `bun:",nullzero,notnull,default:current_timestamp"`
	UpdatedAt         time.Time         `bun:",nullzero,notnull,default:current_timestamp"`
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
}

// Tranche is one scheduled payment of an award.
type Tranche struct {
	bun.BaseModel `bun:"table:tranches"`

	ID      int64           `bun:",pk,autoincrement"`
	AwardID int64           `bun:",notnull"`
	Seq     int             `bun:",notnull"`
	DueOn   time.Time       `bun:"type:date,notnull"`
	Amount  decimal.Decimal `bun:"type:numeric(15,2),notnull"`
}

// LineTotals are a funding line's money figures at one moment.
type LineTotals struct {
	Budget    decimal.Decimal
	Committed decimal.Decimal // awards
	Reserved  decimal.Decimal // held reservations
	Pending   decimal.Decimal // spend awaiting approval
	Spent     decimal.Decimal // approved spend, reversals included
}

// Remaining is the budget not yet spent.
func (t LineTotals) Remaining() decimal.Decimal { return t.Budget.Sub(t.Spent) }

// Uncommitted is the budget neither awarded nor held in reservations: what
// can still be awarded or reserved.
func (t LineTotals) Uncommitted() decimal.Decimal { return t.Budget.Sub(t.Committed).Sub(t.Reserved) }
