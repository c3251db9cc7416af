package models

import (
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// OfficeHolderExpense is an allowance paid to a relevant office holder (the
// commissioner or a deputy) for expenses incurred in the exercise of the
// body's functions, which the body publishes by name (Elected Local
// Policing Bodies (Specified Information) Order 2011, Schedule paragraph
// 1(d)). Recorded once and never changed.
type OfficeHolderExpense struct {
	bun.BaseModel `bun:"table:office_holder_expenses"`

	ID           int64           `bun:"id,pk,autoincrement" json:"id"`
	OfficeHolder string          `bun:"office_holder" json:"office_holder"`
	Office       string          `bun:"office" json:"office"`
	IncurredOn   time.Time       `bun:"incurred_on,type:date" json:"incurred_on"`
	Category     string          `bun:"category" json:"category"`
	Description  string          `bun:"description" json:"description"`
	Amount       decimal.Decimal `bun:"amount,type:numeric(15,2)" json:"amount"`
	RecordedBy   int64           `bun:"recorded_by" json:"recorded_by"`
	RecordedAt   time.Time       `bun:"recorded_at,nullzero,default:now()" json:"recorded_at"`
	// Status is pending until a second person approves or rejects it
	// (decision kind office_holder_expense); only approved expenses are
	// published.
	Status         DecisionStatus `bun:"status,nullzero,default:'pending'" json:"status"`
	DecidedBy      *int64         `bun:"decided_by" json:"decided_by"`
	DecidedAt      *time.Time     `bun:"decided_at" json:"decided_at"`
	DecisionReason *string        `bun:"decision_reason" json:"decision_reason"`
}

// OfficeHolderExpenseColumns is the column layout of an expenses CSV file.
var OfficeHolderExpenseColumns = []string{"office_holder", "office", "incurred_on", "category", "description", "amount"}

// OfficeHolderExpenseInput is one expense as typed: a row of an expenses CSV
// file, or the JSON API's and the web form's input.
type OfficeHolderExpenseInput struct {
	OfficeHolder string `json:"office_holder" form:"office_holder"`
	Office       string `json:"office" form:"office"`
	IncurredOn   string `json:"incurred_on" form:"incurred_on"`
	Category     string `json:"category" form:"category"`
	Description  string `json:"description" form:"description"`
	Amount       string `json:"amount" form:"amount" openapi:"money-input"`
}

// Validate checks a row and returns it as an expense; EINVALID naming each
// field that breaks a rule.
func (in OfficeHolderExpenseInput) Validate() (*OfficeHolderExpense, error) {
	var c collector
	e := &OfficeHolderExpense{
		OfficeHolder: c.text("office_holder", in.OfficeHolder, true, 200),
		Office:       c.text("office", in.Office, true, 200),
		IncurredOn:   c.date("incurred_on", in.IncurredOn),
		Category:     c.text("category", in.Category, true, 60),
		Description:  c.longText("description", in.Description, false, 2000),
		Amount:       c.money("amount", in.Amount, ParsePositiveMoney),
	}
	return e, c.Err()
}
