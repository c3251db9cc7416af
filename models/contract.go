package models

import (
	"errors"
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// ProcurementMethod is how a contract's supplier was chosen, in the words
// of the Procurement Act 2023 (the database's
// funding_lines_procurement_method_check holds the same list).
type ProcurementMethod string

// Procurement methods.
const (
	MethodOpen                       ProcurementMethod = "open"
	MethodRestricted                 ProcurementMethod = "restricted"
	MethodCompetitiveWithNegotiation ProcurementMethod = "competitive_with_negotiation"
	MethodDirectAward                ProcurementMethod = "direct_award"
	MethodFrameworkCallOff           ProcurementMethod = "framework_call_off"
)

// ProcurementMethods lists every method, in the order forms show them.
func ProcurementMethods() []ProcurementMethod {
	return []ProcurementMethod{MethodOpen, MethodRestricted, MethodCompetitiveWithNegotiation, MethodDirectAward, MethodFrameworkCallOff}
}

// Label is the method as people say it.
func (m ProcurementMethod) Label() string {
	switch m {
	case MethodOpen:
		return "Open procedure"
	case MethodRestricted:
		return "Restricted procedure"
	case MethodCompetitiveWithNegotiation:
		return "Competitive procedure with negotiation"
	case MethodDirectAward:
		return "Direct award"
	case MethodFrameworkCallOff:
		return "Call-off from a framework"
	}
	return string(m)
}

// ProcurementCategories are OCDS's main procurement categories (the
// database's funding_lines_main_procurement_category_check).
var ProcurementCategories = []string{"goods", "services", "works"}

// Procedure describes a contract line's procedure in one phrase, naming the
// framework of a call-off and the reason for a direct award; "" when none is
// recorded.
func (fl *FundingLine) Procedure() string {
	return Procedure(fl.ProcurementMethod, fl.FrameworkName, fl.DirectAwardReason)
}

// Procedure describes a procedure in one phrase, naming a call-off's
// framework and a direct award's reason; "" when no method is recorded.
func Procedure(method *ProcurementMethod, framework, reason *string) string {
	if method == nil {
		return ""
	}
	m := *method
	switch {
	case m == MethodFrameworkCallOff && framework != nil:
		return m.Label() + ": " + *framework
	case m == MethodDirectAward && reason != nil:
		return m.Label() + " (" + *reason + ")"
	}
	return m.Label()
}

// checkProcurement validates a contract line's procurement fields into fl,
// naming each bad field under tender.
func (c *collector) checkProcurement(fl *FundingLine, t *TenderInput) {
	if t.ProcurementMethod != nil && strings.TrimSpace(*t.ProcurementMethod) != "" {
		m := ProcurementMethod(strings.TrimSpace(*t.ProcurementMethod))
		known := false
		for _, k := range ProcurementMethods() {
			known = known || k == m
		}
		if known {
			fl.ProcurementMethod = &m
		} else {
			c.Add("tender.procurement_method", "must be one of open, restricted, competitive_with_negotiation, direct_award or framework_call_off")
		}
	}
	fl.DirectAwardReason = c.optionalLongText("tender.direct_award_reason", t.DirectAwardReason, 2000)
	fl.FrameworkName = c.optionalText("tender.framework_name", t.FrameworkName, 200)
	method := ProcurementMethod("")
	if fl.ProcurementMethod != nil {
		method = *fl.ProcurementMethod
	}
	switch {
	case method == MethodDirectAward && fl.DirectAwardReason == nil && !c.Has("tender.direct_award_reason"):
		c.Add("tender.direct_award_reason", "a direct award must say why the contract was not competed")
	case method != MethodDirectAward && fl.DirectAwardReason != nil:
		c.Add("tender.direct_award_reason", "only a direct award has a direct award reason")
	}
	switch {
	case method == MethodFrameworkCallOff && fl.FrameworkName == nil && !c.Has("tender.framework_name"):
		c.Add("tender.framework_name", "a call-off must name the framework it is called off")
	case method != MethodFrameworkCallOff && fl.FrameworkName != nil:
		c.Add("tender.framework_name", "only a call-off from a framework names a framework")
	}
	if t.MainCategory != nil && strings.TrimSpace(*t.MainCategory) != "" {
		cat := strings.TrimSpace(*t.MainCategory)
		if cat == "goods" || cat == "services" || cat == "works" {
			fl.MainCategory = &cat
		} else {
			c.Add("tender.main_procurement_category", "must be one of goods, services or works")
		}
	}
	fl.ContractTitle = c.optionalText("tender.contract_title", t.ContractTitle, 200)
	fl.TenderPublishedOn = c.optionalDate("tender.published_on", t.PublishedOn)
	if v := t.ContractValue; v != nil && *v != "" {
		d := c.money("tender.contract_value", *v, ParsePositiveMoney)
		fl.ContractValue = &d
	}
	fl.ContractStartsOn = c.optionalDate("tender.contract_starts_on", t.ContractStartsOn)
	fl.ContractEndsOn = c.optionalDate("tender.contract_ends_on", t.ContractEndsOn)
	if p, cl := fl.TenderPublishedOn, fl.TenderClosesOn; p != nil && cl != nil && !c.Has("tender.published_on") && !c.Has("tender.closes_on") && cl.Before(*p) {
		c.Add("tender.closes_on", "must be on or after %s, when the tender was published", p.Format(DateLayout))
	}
	if s, e := fl.ContractStartsOn, fl.ContractEndsOn; s != nil && e != nil {
		c.dateOrder("tender.contract_starts_on", *s, "tender.contract_ends_on", *e)
	}
	if s := fl.ContractStartsOn; s != nil && !c.Has("tender.contract_starts_on") && !c.Has("starts_on") && s.Before(fl.StartsOn) {
		c.Add("tender.contract_starts_on", "must be on or after %s, when the funding line starts", fl.StartsOn.Format(DateLayout))
	}
	if e := fl.ContractEndsOn; e != nil && !c.Has("tender.contract_ends_on") && !c.Has("ends_on") && e.After(fl.EndsOn) {
		c.Add("tender.contract_ends_on", "must be on or before %s, when the funding line ends", fl.EndsOn.Format(DateLayout))
	}
	if fl.ContractValue != nil && !c.Has("tender.contract_value") {
		// A contract is recorded whole: its value with what makes it one.
		missing := func(field string, absent bool, what string) {
			if absent && !c.Has(field) {
				c.Add(field, "is required with the contract's value: %s", what)
			}
		}
		missing("tender.awarded_supplier_id", fl.AwardedSupplierID == nil, "the winning supplier")
		missing("tender.contract_title", fl.ContractTitle == nil, "the contract's title")
		missing("tender.contract_starts_on", fl.ContractStartsOn == nil, "when the contract starts")
		missing("tender.contract_ends_on", fl.ContractEndsOn == nil, "when the contract ends")
		missing("tender.procurement_method", fl.ProcurementMethod == nil, "how the supplier was chosen")
		missing("tender.main_procurement_category", fl.MainCategory == nil, "goods, services or works")
	}
}

// InBand reports whether value lies inside the band [min, max]; a band not
// given (either end nil) holds every value.
func InBand(value decimal.Decimal, min, max *decimal.Decimal) bool {
	return min == nil || max == nil || (!value.LessThan(*min) && !value.GreaterThan(*max))
}

// Where a contract's value lies against its tender's band.
const (
	BandBelow      = "below band"
	BandWithin     = "within band"
	BandAbove      = "above band"
	BandNoContract = "no contract recorded"
)

// ContractBand places a contract's value (not its spend) against its
// tender's band: "" when the tender has no band, BandNoContract before the
// contract's value is recorded. Every report, page and export asks this one
// function, so two tables never disagree about one contract.
func ContractBand(value, min, max *decimal.Decimal) string {
	switch {
	case min == nil || max == nil:
		return ""
	case value == nil:
		return BandNoContract
	case value.LessThan(*min):
		return BandBelow
	case value.GreaterThan(*max):
		return BandAbove
	}
	return BandWithin
}

// ContractSpend sets spend beside a contract's value: "£19,700.00 spent of
// £18,500.00 contracted", and how far the spend is over the contract (zero
// when it is not, or no value is recorded: then the text says so).
func ContractSpend(spent decimal.Decimal, value *decimal.Decimal) (text string, over decimal.Decimal) {
	if value == nil {
		return Pounds(spent) + " spent; no contract value recorded", decimal.Zero
	}
	text = Pounds(spent) + " spent of " + Pounds(*value) + " contracted"
	if over = spent.Sub(*value); over.IsPositive() {
		return text + ": " + Pounds(over) + " over the contract", over
	}
	return text, decimal.Zero
}

// The rules of an award on a contract line, by the name both layers give
// them (the database raises them as constraints of these names).
var (
	ErrContractOutsideBand = errors.New("contract_within_band")      // the value lies outside the band, with no approved exception
	ErrAwardNotToWinner    = errors.New("award_to_winning_supplier") // the recipient is not the tender's winner
	ErrAwardBeyondContract = errors.New("award_within_contract")     // the awards would exceed the contract's value
)

// ContractBandException lets one contract's value lie outside its tender's
// band: proposed with a reason by one person, approved by another with
// authority for the value in the scheme of delegation
// (DecisionContractBandException).
type ContractBandException struct {
	bun.BaseModel `bun:"table:contract_band_exceptions"`

	ID               int64           `bun:",pk,autoincrement"`
	FundingLineID    int64           `bun:",notnull"`
	ContractValue    decimal.Decimal `bun:"type:numeric(15,2),notnull"`
	Reason           string          `bun:",notnull"`
	DecisionRecordID *int64          `bun:""`
	Status           DecisionStatus  `bun:",notnull"`
	ProposedBy       int64           `bun:",notnull"`
	ProposedAt       time.Time       `bun:",nullzero,notnull,default:current_timestamp"`
	DecidedBy        *int64          `bun:""`
	DecidedAt        *time.Time      `bun:""`
	DecisionReason   *string         `bun:""`
}

// BandExceptionInput proposes a band exception for a contract line.
type BandExceptionInput struct {
	ContractValue    string `json:"contract_value" form:"contract_value" openapi:"money-input"`
	Reason           string `json:"reason" form:"reason" doc:"why the contract may lie outside its tender's band"`
	DecisionRecordID *int64 `json:"decision_record_id" form:"decision_record_id"`
}

// Validate returns the pending exception the input describes for the line,
// or an EINVALID error naming every bad field.
func (in BandExceptionInput) Validate(lineID int64) (*ContractBandException, error) {
	var c collector
	x := &ContractBandException{FundingLineID: lineID, Status: DecisionPending,
		ContractValue:    c.money("contract_value", in.ContractValue, ParsePositiveMoney),
		Reason:           c.longText("reason", in.Reason, true, 2000),
		DecisionRecordID: c.optionalID("decision_record_id", in.DecisionRecordID)}
	return x, c.Err()
}
