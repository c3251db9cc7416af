package models

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Inputs are what a person or a client sends: text as typed, checked by
// Validate into a model. The JSON API and the web forms share them, so a rule
// is written once and every bad field is reported together.

// Dates outside these bounds are refused: no grant, spend or reading is
// dated before 1900 or after 2200, and year 0 (which PostgreSQL stores as
// 1 BC) is a typing slip, not a date.
var (
	MinDate = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxDate = time.Date(2200, 12, 31, 0, 0, 0, 0, time.UTC)
)

// ParseDate parses a calendar date in the form 2024-04-01, between MinDate
// and MaxDate. It returns an EINVALID error saying which rule was broken.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, Errorf(EINVALID, "must be a date written as YYYY-MM-DD, for example 2024-04-01")
	}
	return t, CheckDate(t)
}

// CheckDate returns an EINVALID error naming the bound when the day of t is
// before MinDate or after MaxDate, and nil otherwise.
func CheckDate(t time.Time) error {
	switch day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC); {
	case day.Before(MinDate):
		return Errorf(EINVALID, "must be on or after %s, the earliest date accepted", MinDate.Format(DateLayout))
	case day.After(MaxDate):
		return Errorf(EINVALID, "must be on or before %s, the latest date accepted", MaxDate.Format(DateLayout))
	}
	return nil
}

// ParseID reads an id as it is written in a path, a query or a form: a
// positive whole number in canonical form (digits only, no sign, no leading
// zero, no spaces), so that one id has exactly one spelling. It returns an
// EINVALID error otherwise.
func ParseID(s string) (int64, error) {
	bad := Errorf(EINVALID, "must be a positive whole number such as 42")
	if s == "" || s[0] == '0' || !asciiDigits(s) {
		return 0, bad
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, bad
	}
	return id, nil
}

// CheckText returns an EINVALID error when s is not text a person could
// have typed into the field: invalid UTF-8, control characters (a NUL
// included) or the bidirectional controls that make text display in an
// order other than the one it is stored in. A multi-line field may hold
// tabs and line breaks (LF, or CR LF as browsers send them).
func CheckText(s string, multiline bool) error {
	if !utf8.ValidString(s) {
		return Errorf(EINVALID, "must be valid UTF-8 text")
	}
	for i, r := range s {
		switch {
		case multiline && (r == '\t' || r == '\n' || r == '\r' && strings.HasPrefix(s[i:], "\r\n")):
		case r == 0:
			return Errorf(EINVALID, "must not contain a NUL character")
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			if !multiline && (r == '\t' || r == '\n' || r == '\r') {
				return Errorf(EINVALID, "must be a single line, without tabs or line breaks")
			}
			return Errorf(EINVALID, "must not contain control characters (found U+%04X)", r)
		case isBidiControl(r):
			return Errorf(EINVALID, "must not contain bidirectional override characters (found U+%04X), which make text display differently from what is stored", r)
		}
	}
	return nil
}

// isBidiControl reports whether r is one of the Unicode bidirectional
// embedding, override or isolate controls.
func isBidiControl(r rune) bool {
	return r >= '\u202A' && r <= '\u202E' || r >= '\u2066' && r <= '\u2069'
}

// collector gathers field problems while turning input text into values.
type collector struct{ Problems }

// text checks a single-line text field.
func (c *collector) text(field, v string, required bool, max int) string {
	return c.anyText(field, v, required, max, false)
}

// longText checks a multi-line text field (descriptions, reasons, notes).
func (c *collector) longText(field, v string, required bool, max int) string {
	return c.anyText(field, v, required, max, true)
}

func (c *collector) anyText(field, v string, required bool, max int, multiline bool) string {
	if err := CheckText(v, multiline); err != nil {
		c.Add(field, "%s", ErrorMessage(err))
		return ""
	}
	v = strings.TrimSpace(v)
	switch {
	case required && v == "":
		c.Add(field, "is required")
	case utf8.RuneCountInString(v) > max:
		c.Add(field, "must be at most %d characters", max)
	}
	return v
}

// optionalText checks a single-line text field that may be left out; blank
// is nil.
func (c *collector) optionalText(field string, v *string, max int) *string {
	return c.optionalAnyText(field, v, max, false)
}

// optionalLongText is optionalText for a multi-line field.
func (c *collector) optionalLongText(field string, v *string, max int) *string {
	return c.optionalAnyText(field, v, max, true)
}

func (c *collector) optionalAnyText(field string, v *string, max int, multiline bool) *string {
	if v == nil {
		return nil
	}
	s := c.anyText(field, *v, false, max, multiline)
	if s == "" {
		return nil
	}
	return &s
}

func (c *collector) code(field, v string) string {
	v = strings.ToUpper(c.text(field, v, true, 40))
	if v == "" || c.Has(field) {
		return v
	}
	for i, r := range v {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' && i > 0) {
			c.Add(field, "may hold only letters, digits and hyphens, for example DRUG-SUPPLY")
			break
		}
	}
	return v
}

func (c *collector) date(field, v string) time.Time {
	if err := CheckText(v, false); err != nil {
		c.Add(field, "%s", ErrorMessage(err))
		return time.Time{}
	}
	if strings.TrimSpace(v) == "" {
		c.Add(field, "is required")
		return time.Time{}
	}
	t, err := ParseDate(strings.TrimSpace(v))
	if err != nil {
		c.Add(field, "%s", ErrorMessage(err))
	}
	return t
}

func (c *collector) optionalDate(field string, v *string) *time.Time {
	if v == nil || strings.TrimSpace(*v) == "" {
		return nil
	}
	t := c.date(field, *v)
	return &t
}

func (c *collector) money(field, v string, parse func(string) (decimal.Decimal, error)) decimal.Decimal {
	if v == "" {
		c.Add(field, "is required")
		return decimal.Zero
	}
	d, err := parse(v)
	if err != nil {
		c.Add(field, "%s", ErrorMessage(err))
	}
	return d
}

func (c *collector) optionalMoney(field string, v *string) *decimal.Decimal {
	if v == nil || *v == "" {
		return nil
	}
	d := c.money(field, *v, ParseNonNegativeMoney)
	return &d
}

// id checks a required id: 0 is a missing one, and a negative one (from
// JSON, or a form value ParseID refused) is never silently dropped.
func (c *collector) id(field string, v int64) int64 {
	switch {
	case v == 0:
		c.Add(field, "is required")
	case v < 0:
		c.Add(field, "must be a positive whole number such as 42")
	}
	return v
}

// optionalID checks an id that may be left out; one that is given must be
// positive, so that a bad id is refused rather than read as no id.
func (c *collector) optionalID(field string, v *int64) *int64 {
	if v != nil && *v <= 0 {
		c.Add(field, "must be a positive whole number such as 42")
		return nil
	}
	return v
}

func (c *collector) dateOrder(startField string, start time.Time, endField string, end time.Time) {
	if !c.Has(startField) && !c.Has(endField) && end.Before(start) {
		c.Add(endField, "must be on or after %s", start.Format(DateLayout))
	}
}

// OrganisationInput creates or replaces an organisation.
type OrganisationInput struct {
	Name          string  `json:"name" form:"name"`
	OrgID         *string `json:"org_id" form:"org_id"`
	CharityNumber *string `json:"charity_number" form:"charity_number"`
	CompanyNumber *string `json:"company_number" form:"company_number"`
	Borough       *string `json:"borough" form:"borough"`
	GSSCode       *string `json:"gss_code" form:"gss_code"`
	IsFunder      bool    `json:"is_funder" form:"is_funder"`
	IsRecipient   bool    `json:"is_recipient" form:"is_recipient"`
	IsSupplier    bool    `json:"is_supplier" form:"is_supplier"`
}

// Validate returns the organisation the input describes, or an EINVALID error
// naming every bad field. The org-id is stored in its canonical form.
func (in OrganisationInput) Validate() (*Organisation, error) {
	var c collector
	o := &Organisation{
		Name:          c.text("name", in.Name, true, 200),
		CharityNumber: c.optionalText("charity_number", in.CharityNumber, 20),
		CompanyNumber: c.optionalText("company_number", in.CompanyNumber, 20),
		Borough:       c.optionalText("borough", in.Borough, 100),
		IsFunder:      in.IsFunder,
		IsRecipient:   in.IsRecipient,
		IsSupplier:    in.IsSupplier,
	}
	if raw := c.optionalText("org_id", in.OrgID, 100); raw != nil {
		id, err := NormaliseOrgID(*raw)
		if err != nil {
			c.Add("org_id", "%s", ErrorMessage(err))
		} else {
			o.OrgID = &id
		}
	}
	if code := c.optionalText("gss_code", in.GSSCode, 9); code != nil && !c.Has("gss_code") {
		if up := strings.ToUpper(*code); isGSSCode(up) {
			o.GSSCode = &up
		} else {
			c.Add("gss_code", "must be an ONS GSS code: a letter and 8 digits, for example E09000022 for Lambeth")
		}
	}
	if !o.IsFunder && !o.IsRecipient && !o.IsSupplier {
		c.Add("is_funder", "choose at least one of funder, recipient or supplier")
	}
	return o, c.Err()
}

// isGSSCode reports whether s looks like an ONS GSS code (E09000022): a
// letter for the country and eight digits.
func isGSSCode(s string) bool {
	if len(s) != 9 || !strings.ContainsRune("EKNSW", rune(s[0])) {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ProgrammeInput creates or replaces a programme.
type ProgrammeInput struct {
	Code        string `json:"code" form:"code"`
	Name        string `json:"name" form:"name"`
	Description string `json:"description" form:"description"`
	Plan        string `json:"plan" form:"plan"`
}

// Validate returns the programme the input describes, or an EINVALID error.
func (in ProgrammeInput) Validate() (*Programme, error) {
	var c collector
	p := &Programme{
		Code:        c.code("code", in.Code),
		Name:        c.text("name", in.Name, true, 200),
		Description: c.longText("description", in.Description, false, 4000),
		Plan:        c.text("plan", in.Plan, true, 200),
	}
	return p, c.Err()
}

// TenderInput is the tender of a contract-kind funding line.
type TenderInput struct {
	Reference         *string `json:"reference" form:"tender_reference"`
	MinValue          *string `json:"min_value" form:"tender_min_value" openapi:"money-input"`
	MaxValue          *string `json:"max_value" form:"tender_max_value" openapi:"money-input"`
	ClosesOn          *string `json:"closes_on" form:"tender_closes_on"`
	AwardedSupplierID *int64  `json:"awarded_supplier_id" form:"awarded_supplier_id"`
	// The procurement: how the winner was chosen, and the contract made.
	ProcurementMethod *string `json:"procurement_method" form:"procurement_method" doc:"open, restricted, competitive_with_negotiation, direct_award or framework_call_off"`
	DirectAwardReason *string `json:"direct_award_reason" form:"direct_award_reason" doc:"why a direct award was not competed (direct awards only)"`
	FrameworkName     *string `json:"framework_name" form:"framework_name" doc:"the framework a call-off is called off (call-offs only)"`
	ContractTitle     *string `json:"contract_title" form:"contract_title"`
	PublishedOn       *string `json:"published_on" form:"tender_published_on"`
	ContractValue     *string `json:"contract_value" form:"contract_value" openapi:"money-input"`
	ContractStartsOn  *string `json:"contract_starts_on" form:"contract_starts_on"`
	ContractEndsOn    *string `json:"contract_ends_on" form:"contract_ends_on"`
	MainCategory      *string `json:"main_procurement_category" form:"main_procurement_category" doc:"goods, services or works"`
}

func (t *TenderInput) empty() bool {
	return t == nil || (t.Reference == nil && t.MinValue == nil && t.MaxValue == nil && t.ClosesOn == nil && t.AwardedSupplierID == nil &&
		t.ProcurementMethod == nil && t.DirectAwardReason == nil && t.FrameworkName == nil && t.ContractTitle == nil &&
		t.PublishedOn == nil && t.ContractValue == nil && t.ContractStartsOn == nil && t.ContractEndsOn == nil && t.MainCategory == nil)
}

// FundingLineInput creates or replaces a funding line. Status is changed
// separately, through its transitions.
type FundingLineInput struct {
	Code        string       `json:"code" form:"code"`
	Title       string       `json:"title" form:"title"`
	Description string       `json:"description" form:"description"`
	Kind        string       `json:"kind" form:"kind"`
	ProgrammeID int64        `json:"programme_id" form:"programme_id"`
	FunderID    int64        `json:"funder_id" form:"funder_id"`
	Budget      string       `json:"budget" form:"budget" openapi:"money-input"`
	Currency    string       `json:"currency" form:"currency"`
	StartsOn    string       `json:"starts_on" form:"starts_on"`
	EndsOn      string       `json:"ends_on" form:"ends_on"`
	Tender      *TenderInput `json:"tender" form:"-"`
	// CostCentre and GLAccount are the finance system's codes for the
	// line's payments: see FinanceCodes.
	CostCentre string `json:"cost_centre" form:"cost_centre"`
	GLAccount  string `json:"gl_account" form:"gl_account"`
}

// Validate returns the funding line the input describes (in draft), or an
// EINVALID error naming every bad field.
func (in FundingLineInput) Validate() (*FundingLine, error) {
	var c collector
	fl := &FundingLine{
		Code:        c.code("code", in.Code),
		Title:       c.text("title", in.Title, true, 200),
		Description: c.longText("description", in.Description, false, 4000),
		Kind:        FundingLineKind(strings.TrimSpace(in.Kind)),
		ProgrammeID: c.id("programme_id", in.ProgrammeID),
		FunderID:    c.id("funder_id", in.FunderID),
		Budget:      c.money("budget", in.Budget, ParseNonNegativeMoney),
		Currency:    "GBP",
		StartsOn:    c.date("starts_on", in.StartsOn),
		EndsOn:      c.date("ends_on", in.EndsOn),
		Status:      StatusDraft,
	}
	if in.Currency != "" && in.Currency != "GBP" {
		c.Add("currency", "only GBP is supported")
	}
	if fl.Kind == "" {
		c.Add("kind", "is required: one of grant, contract or allocation")
	} else if !fl.Kind.Valid() {
		c.Add("kind", "must be one of grant, contract or allocation")
	}
	c.dateOrder("starts_on", fl.StartsOn, "ends_on", fl.EndsOn)
	fl.CostCentre, fl.GLAccount = financeCode(&c, "cost_centre", in.CostCentre, costCentreFormat, "2 to 10 capital letters or digits, e.g. VRU410"),
		financeCode(&c, "gl_account", in.GLAccount, glAccountFormat, "4 to 8 digits, e.g. 54100")
	if t := in.Tender; !t.empty() {
		if fl.Kind != KindContract {
			c.Add("tender", "only a contract has a tender")
		}
		fl.TenderReference = c.optionalText("tender.reference", t.Reference, 100)
		fl.TenderMinValue = c.optionalMoney("tender.min_value", t.MinValue)
		fl.TenderMaxValue = c.optionalMoney("tender.max_value", t.MaxValue)
		fl.TenderClosesOn = c.optionalDate("tender.closes_on", t.ClosesOn)
		fl.AwardedSupplierID = c.optionalID("tender.awarded_supplier_id", t.AwardedSupplierID)
		if (fl.TenderMinValue == nil) != (fl.TenderMaxValue == nil) && !c.Has("tender.min_value") && !c.Has("tender.max_value") {
			c.Add("tender.max_value", "give both the lowest and the highest value of the tender's band")
		}
		if fl.TenderMinValue != nil && fl.TenderMaxValue != nil && !c.Has("tender.min_value") && !c.Has("tender.max_value") &&
			fl.TenderMinValue.GreaterThan(*fl.TenderMaxValue) {
			c.Add("tender.max_value", "must be at least the minimum value %s", Pounds(*fl.TenderMinValue))
		}
		c.checkProcurement(fl, t)
	}
	return fl, c.Err()
}

// TrancheInput is one scheduled payment of an award.
type TrancheInput struct {
	DueOn  string `json:"due_on"`
	Amount string `json:"amount" openapi:"money-input"`
}

// AddMonthsClamped adds n months to a date, keeping to the last day of a
// shorter month (31 January + 1 month is 28 or 29 February, not 2 March).
func AddMonthsClamped(t time.Time, n int) time.Time {
	first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, n, 0)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(t.Day(), last), 0, 0, 0, 0, time.UTC)
}

// AwardInput commits part of a funding line to a recipient. Either Tranches
// lists the payments, which must add up to Amount, or TrancheCount splits the
// amount into that many quarterly payments from StartsOn (one when neither is
// given).
type AwardInput struct {
	RecipientID int64  `json:"recipient_id" form:"recipient_id"`
	Reference   string `json:"reference" form:"reference"`
	Purpose     string `json:"purpose" form:"purpose"`
	// Conditions and CrimeReductionReason are optional when awarding, but
	// the publishing pack lists a grant without them as incomplete.
	Conditions           string         `json:"conditions" form:"conditions"`
	CrimeReductionReason string         `json:"crime_reduction_reason" form:"crime_reduction_reason"`
	Amount               string         `json:"amount" form:"amount" openapi:"money-input"`
	AwardedOn            string         `json:"awarded_on" form:"awarded_on"`
	StartsOn             string         `json:"starts_on" form:"starts_on"`
	EndsOn               string         `json:"ends_on" form:"ends_on"`
	TrancheCount         int            `json:"tranche_count" form:"tranche_count"`
	Tranches             []TrancheInput `json:"tranches" form:"-"`
	// DecisionRecordID cites the published decision that authorised the
	// award; the scheme of delegation requires one above a threshold.
	DecisionRecordID *int64 `json:"decision_record_id" form:"decision_record_id"`
}

// MaxTranches bounds how finely an award can be split.
const MaxTranches = 60

// Validate returns the award the input describes for the funding line, with
// its tranches, or an EINVALID error naming every bad field.
func (in AwardInput) Validate(fundingLineID int64) (*Award, error) {
	var c collector
	a := &Award{
		FundingLineID:        fundingLineID,
		RecipientID:          c.id("recipient_id", in.RecipientID),
		Reference:            strings.ToUpper(c.text("reference", in.Reference, true, 60)),
		Purpose:              c.longText("purpose", in.Purpose, false, 4000),
		Conditions:           c.optionalLongText("conditions", &in.Conditions, 4000),
		CrimeReductionReason: c.optionalLongText("crime_reduction_reason", &in.CrimeReductionReason, 4000),
		Amount:               c.money("amount", in.Amount, ParsePositiveMoney),
		AwardedOn:            c.date("awarded_on", in.AwardedOn),
		StartsOn:             c.date("starts_on", in.StartsOn),
		EndsOn:               c.date("ends_on", in.EndsOn),
		DecisionRecordID:     in.DecisionRecordID,
	}
	if a.DecisionRecordID != nil && *a.DecisionRecordID <= 0 {
		a.DecisionRecordID = nil
	}
	c.dateOrder("starts_on", a.StartsOn, "ends_on", a.EndsOn)
	switch {
	case len(in.Tranches) > 0 && in.TrancheCount > 0:
		c.Add("tranche_count", "give either tranches or tranche_count, not both")
	case len(in.Tranches) > MaxTranches || in.TrancheCount > MaxTranches:
		c.Add("tranches", "an award may have at most %d tranches", MaxTranches)
	case in.TrancheCount < 0:
		c.Add("tranche_count", "must be a positive number")
	case len(in.Tranches) > 0:
		a.Tranches = c.tranches(in.Tranches, a.Amount)
	default:
		n := max(in.TrancheCount, 1)
		if len(c.Problems) == 0 {
			parts, err := SplitEven(a.Amount, n)
			if err != nil {
				c.Add("amount", "%s", ErrorMessage(err))
			}
			for i, p := range parts {
				a.Tranches = append(a.Tranches, &Tranche{Seq: i + 1, DueOn: AddMonthsClamped(a.StartsOn, 3*i), Amount: p})
			}
		}
	}
	return a, c.Err()
}

// tranches reads a tranche schedule, numbered from 1, that must add up to
// amount to the penny (the rule tranches_sum_to_award).
func (c *collector) tranches(in []TrancheInput, amount decimal.Decimal) []*Tranche {
	var out []*Tranche
	total := decimal.Zero
	before := len(c.Problems)
	for i, t := range in {
		field := "tranches[" + strconv.Itoa(i) + "]"
		tr := &Tranche{
			Seq:    i + 1,
			DueOn:  c.date(field+".due_on", t.DueOn),
			Amount: c.money(field+".amount", t.Amount, ParsePositiveMoney),
		}
		total = total.Add(tr.Amount)
		out = append(out, tr)
	}
	// Other fields' problems do not hide a mismatch; only unreadable amounts do.
	if !c.Has("amount") && len(c.Problems) == before && !total.Equal(amount) {
		c.Add("tranches", "the tranches add up to %s but the award is %s; they must match to the penny",
			Pounds(total), Pounds(amount))
	}
	return out
}

// UserInput creates a user.
type UserInput struct {
	Email string `json:"email" form:"email"`
	Name  string `json:"name" form:"name"`
	Role  string `json:"role" form:"role"`
}

// Validate returns the user the input describes (without a password), or an
// EINVALID error naming every bad field.
func (in UserInput) Validate() (*User, error) {
	var c collector
	u := &User{
		Email:  strings.ToLower(c.text("email", in.Email, true, 200)),
		Name:   c.text("name", in.Name, true, 200),
		Role:   Role(strings.TrimSpace(in.Role)),
		Active: true,
	}
	if !c.Has("email") {
		at := strings.Index(u.Email, "@")
		if at < 1 || at == len(u.Email)-1 || strings.ContainsAny(u.Email, " \t<>") {
			c.Add("email", "must be an email address such as name@example.org")
		}
	}
	if !u.Role.Valid() {
		c.Add("role", "must be one of %s", RolesInWords())
	}
	return u, c.Err()
}
