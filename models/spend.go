package models

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// SpendStatus is where a spend entry is in maker-checker.
type SpendStatus string

// Spend statuses: an entry is recorded pending, and a second person approves
// or rejects it. Only approved spend counts as spent.
const (
	SpendPending  SpendStatus = "pending"
	SpendApproved SpendStatus = "approved"
	SpendRejected SpendStatus = "rejected"
)

// Valid reports whether s is a known spend status.
func (s SpendStatus) Valid() bool {
	return s == SpendPending || s == SpendApproved || s == SpendRejected
}

// SpendCategories are what money is spent on; the database holds the same list.
var SpendCategories = []string{"staff", "services", "equipment", "training", "research", "grant_payment", "other"}

// PublishThreshold is the amount above which policing bodies must publish
// each item of spend with its purpose and why it is value for money.
var PublishThreshold = decimal.NewFromInt(500)

// DefaultApprovalLimit is the amount above which only an admin may approve
// (the UK grants standard asks for senior approval above £100,000).
var DefaultApprovalLimit = decimal.NewFromInt(100_000)

// SpendEntry is one line of the ledger. Once decided it never changes; a
// mistake is corrected by a reversal, a linked entry of the opposite sign.
type SpendEntry struct {
	bun.BaseModel `bun:"table:spend_entries"`

	ID              int64           `bun:",pk,autoincrement"`
	FundingLineID   int64           `bun:",notnull"`
	AwardID         *int64          `bun:""`
	TrancheID       *int64          `bun:""`
	PayeeID         int64           `bun:",notnull"`
	Amount          decimal.Decimal `bun:"type:numeric(15,2),notnull"`
	IncurredOn      time.Time       `bun:"type:date,notnull"`
	Category        string          `bun:",notnull"`
	Reference       string          `bun:",notnull"`
	Description     string          `bun:",notnull"`
	Purpose         string          `bun:",notnull"`
	VFMReason       string          `bun:"vfm_reason,notnull"`
	Status          SpendStatus     `bun:",notnull"`
	RecordedBy      int64           `bun:",notnull"`
	RecordedAt      time.Time       `bun:",nullzero,notnull,default:current_timestamp"`
	DecidedBy       *int64          `bun:""`
	DecidedAt       *time.Time      `bun:""`
	RejectionReason *string         `bun:""`
	ReversesID      *int64          `bun:""`
	ReversalReason  *string         `bun:""`
	IdempotencyKey  *string         `bun:""`
	ImportID        *int64          `bun:""`
	RequestHash     []byte          `bun:""`
}

// SpendInput records spend.
type SpendInput struct {
	FundingLineID int64  `json:"funding_line_id" form:"funding_line_id"`
	AwardID       *int64 `json:"award_id" form:"award_id"`
	TrancheID     *int64 `json:"tranche_id" form:"tranche_id"`
	PayeeID       int64  `json:"payee_id" form:"payee_id"`
	Amount        string `json:"amount" form:"amount" openapi:"money-input"`
	IncurredOn    string `json:"incurred_on" form:"incurred_on"`
	Category      string `json:"category" form:"category"`
	Reference     string `json:"reference" form:"reference"`
	Description   string `json:"description" form:"description"`
	Purpose       string `json:"purpose" form:"purpose"`
	VFMReason     string `json:"vfm_reason" form:"vfm_reason"`
}

// Validate returns the pending entry the input describes, or an EINVALID
// error naming every bad field. Entries over £500 need a purpose and a
// value-for-money reason, which must be published.
func (in SpendInput) Validate() (*SpendEntry, error) {
	var c collector
	e := spendDetails(&c, in.Amount, in.IncurredOn, in.Category, in.Reference, in.Description, in.Purpose, in.VFMReason)
	e.FundingLineID = c.id("funding_line_id", in.FundingLineID)
	e.PayeeID = c.id("payee_id", in.PayeeID)
	e.AwardID, e.TrancheID = c.optionalID("award_id", in.AwardID), c.optionalID("tranche_id", in.TrancheID)
	if e.TrancheID != nil && in.AwardID == nil {
		c.Add("tranche_id", "a tranche needs its award_id too")
	}
	return e, c.Err()
}

// SpendImportRow is one row of a spend CSV file, as text; the funding line,
// award and payee are named by code, reference and org-id or name.
type SpendImportRow struct {
	FundingLine, Award, Payee                                                string
	Amount, IncurredOn, Category, Reference, Description, Purpose, VFMReason string
}

// SpendImportColumns is the documented column layout of a spend CSV file.
var SpendImportColumns = []string{"funding_line", "award", "payee", "amount", "incurred_on", "category",
	"reference", "description", "purpose", "vfm_reason"}

// Validate checks what can be checked without the database, with the same
// rules as SpendInput, and returns the row's details as an entry (amount,
// date, category and texts, trimmed as the API trims them); the names are
// resolved by the import itself.
func (in SpendImportRow) Validate() (*SpendEntry, error) {
	var c collector
	e := spendDetails(&c, in.Amount, in.IncurredOn, in.Category, in.Reference, in.Description, in.Purpose, in.VFMReason)
	c.text("funding_line", in.FundingLine, true, 40)
	c.text("award", in.Award, false, 60)
	c.text("payee", in.Payee, true, 200)
	return e, c.Err()
}

// spendDetails checks the fields every way of recording spend shares.
func spendDetails(c *collector, amount, incurredOn, category, reference, description, purpose, vfm string) *SpendEntry {
	e := &SpendEntry{
		Amount:      c.money("amount", amount, ParsePositiveMoney),
		IncurredOn:  c.date("incurred_on", incurredOn),
		Category:    strings.TrimSpace(c.text("category", category, false, 40)),
		Reference:   c.text("reference", reference, false, 100),
		Description: c.longText("description", description, false, 4000),
		Purpose:     c.longText("purpose", purpose, false, 4000),
		VFMReason:   c.longText("vfm_reason", vfm, false, 4000),
		Status:      SpendPending,
	}
	valid := false
	for _, k := range SpendCategories {
		valid = valid || k == e.Category
	}
	if !valid {
		c.Add("category", "must be one of %s", strings.Join(SpendCategories, ", "))
	}
	if !c.Has("amount") && e.Amount.GreaterThan(PublishThreshold) {
		if e.Purpose == "" && !c.Has("purpose") {
			c.Add("purpose", "is required for spend over £500, which must be published")
		}
		if e.VFMReason == "" && !c.Has("vfm_reason") {
			c.Add("vfm_reason", "is required for spend over £500: say why it is value for money")
		}
	}
	return e
}

// RequireReason checks a reason for a rejection or reversal.
func RequireReason(reason string) (string, error) {
	var c collector
	r := c.longText("reason", reason, true, 2000)
	return r, c.Err()
}
