package models

import (
	"time"

	"github.com/shopspring/decimal"
)

// AlertKind names what an alert is about.
type AlertKind string

// The kinds of alert, in the order a list shows them when they are equally
// severe.
const (
	AlertDecisionWaiting AlertKind = "decision_waiting" // a decision someone else proposed that I may take
	AlertBudgetUsed      AlertKind = "budget_used"      // a line has spent most of its profiled budget for the year
	AlertLineEnding      AlertKind = "line_ending"      // a line ends soon with budget neither awarded nor reserved
	AlertTrancheOverdue  AlertKind = "tranche_overdue"  // a tranche's due date has passed and it is neither paid nor withheld
	AlertReadingOverdue  AlertKind = "reading_overdue"  // an indicator's reading is overdue
	AlertSpendAfterEnd   AlertKind = "spend_after_end"  // spend is dated after its line ended
	AlertRedLine         AlertKind = "red_line"         // a line's forecast is rated red for the year
)

// AlertKinds lists every kind, for documentation and tests.
var AlertKinds = []AlertKind{AlertDecisionWaiting, AlertBudgetUsed, AlertLineEnding, AlertTrancheOverdue,
	AlertReadingOverdue, AlertSpendAfterEnd, AlertRedLine}

// Severity says how soon an alert needs attention.
type Severity string

// Severities, most urgent first.
const (
	SeverityHigh   Severity = "high"
	SeverityMedium Severity = "medium"
	SeverityLow    Severity = "low"
)

// Rank orders severities, most urgent first.
func (s Severity) Rank() int {
	switch s {
	case SeverityHigh:
		return 0
	case SeverityMedium:
		return 1
	}
	return 2
}

// Alert is one thing that needs someone's attention: what kind, how urgent,
// a sentence saying it (amounts as £ strings) and the page it is about.
type Alert struct {
	Kind            AlertKind
	Severity        Severity
	Message         string
	Link            string // a path on this site
	Entity          string // what the alert is about: funding_line, tranche, indicator, or a decision's entity
	EntityID        int64
	FundingLineID   *int64
	FundingLineCode string
	Amount          *decimal.Decimal // the alert's main figure, when it has one
	On              *time.Time       // the alert's date, when it has one (due, ends, latest)
}

// AlertSettings are the thresholds the alerts use, one set for everyone,
// changed by admins.
type AlertSettings struct {
	// BudgetUsedPercent: a line whose approved spend in the current
	// financial year reaches this share of the year's profiled budget.
	BudgetUsedPercent int `json:"budget_used_percent" form:"budget_used_percent"`
	// EndingWithinDays: a line ending within this many days with budget
	// neither awarded nor reserved.
	EndingWithinDays int `json:"ending_within_days" form:"ending_within_days"`
	// TrancheGraceDays: a tranche is overdue this many days after its due
	// date if it is not paid in full.
	TrancheGraceDays int `json:"tranche_grace_days" form:"tranche_grace_days"`
}

// DefaultAlertSettings are the thresholds a new database starts with.
var DefaultAlertSettings = AlertSettings{BudgetUsedPercent: 90, EndingWithinDays: 60, TrancheGraceDays: 0}

// Validate names each threshold outside its range: the same ranges as the
// alert_settings table's constraints.
func (s AlertSettings) Validate() error {
	var p Problems
	if s.BudgetUsedPercent < 1 || s.BudgetUsedPercent > 100 {
		p.Add("budget_used_percent", "must be a whole percentage from 1 to 100")
	}
	if s.EndingWithinDays < 1 || s.EndingWithinDays > 366 {
		p.Add("ending_within_days", "must be a whole number of days from 1 to 366")
	}
	if s.TrancheGraceDays < 0 || s.TrancheGraceDays > 90 {
		p.Add("tranche_grace_days", "must be a whole number of days from 0 to 90")
	}
	return p.Err()
}
