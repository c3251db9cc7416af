package models

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
	"github.com/uptrace/bun"
)

// ReservationStatus is where an earmark of budget is: held until it is
// released or converted into an award.
type ReservationStatus string

// Reservation statuses.
const (
	ReservationHeld      ReservationStatus = "held"
	ReservationReleased  ReservationStatus = "released"
	ReservationConverted ReservationStatus = "converted"
)

// Reservation earmarks part of a funding line's budget before any award, for
// example a tender in progress reserved at the top of its value band. While
// held it counts against what can still be awarded or reserved.
type Reservation struct {
	bun.BaseModel `bun:"table:reservations"`

	ID            int64             `bun:",pk,autoincrement" json:"id"`
	FundingLineID int64             `bun:",notnull" json:"funding_line_id"`
	Amount        decimal.Decimal   `bun:"type:numeric(15,2),notnull" json:"amount"`
	Purpose       string            `bun:",notnull" json:"purpose"`
	Reference     string            `bun:",notnull" json:"reference"`
	ExpectedOn    time.Time         `bun:"type:date,notnull" json:"expected_on"`
	Status        ReservationStatus `bun:",notnull,default:'held'" json:"status"`
	ReleaseReason *string           `json:"release_reason"`
	CreatedBy     int64             `bun:",notnull" json:"created_by"`
	CreatedAt     time.Time         `bun:",nullzero,notnull,default:current_timestamp" json:"created_at"`
	ClosedBy      *int64            `json:"closed_by"`
	ClosedAt      *time.Time        `json:"closed_at"`
}

// ReservationInput earmarks budget on a funding line.
type ReservationInput struct {
	Amount     string `json:"amount" form:"amount" openapi:"money-input"`
	Purpose    string `json:"purpose" form:"purpose"`
	Reference  string `json:"reference" form:"reference"`
	ExpectedOn string `json:"expected_on" form:"expected_on" doc:"when the award is expected; places the reservation in a period"`
}

// Validate returns the reservation the input describes, or an EINVALID error
// naming every bad field.
func (in ReservationInput) Validate(fundingLineID int64) (*Reservation, error) {
	var c collector
	r := &Reservation{
		FundingLineID: fundingLineID,
		Amount:        c.money("amount", in.Amount, ParsePositiveMoney),
		Purpose:       c.longText("purpose", in.Purpose, true, 4000),
		Reference:     strings.ToUpper(c.text("reference", in.Reference, false, 60)),
		ExpectedOn:    c.date("expected_on", in.ExpectedOn),
		Status:        ReservationHeld,
	}
	return r, c.Err()
}

// IndicatorUnit is what an indicator counts.
type IndicatorUnit string

// Indicator units.
const (
	UnitCount       IndicatorUnit = "count"
	UnitPercent     IndicatorUnit = "percent"
	UnitGBP         IndicatorUnit = "gbp"
	UnitRatePer1000 IndicatorUnit = "rate_per_1000"
)

// IndicatorUnits lists the units, in the order forms show them.
var IndicatorUnits = []IndicatorUnit{UnitCount, UnitPercent, UnitGBP, UnitRatePer1000}

// Direction says which way an indicator should move.
type Direction string

// Directions.
const (
	HigherIsBetter Direction = "higher_is_better"
	LowerIsBetter  Direction = "lower_is_better"
)

// Frequency is how often an indicator is measured.
type Frequency string

// Frequencies.
const (
	Monthly   Frequency = "monthly"
	Quarterly Frequency = "quarterly"
	Annual    Frequency = "annual"
)

// Months is the length of a reporting period.
func (f Frequency) Months() int {
	switch f {
	case Monthly:
		return 1
	case Quarterly:
		return 3
	default:
		return 12
	}
}

// Indicator is an outcome or output measured for a funding line or a
// programme (exactly one of the two), against a baseline and a target.
type Indicator struct {
	bun.BaseModel `bun:"table:indicators"`

	ID             int64            `bun:",pk,autoincrement" json:"id"`
	FundingLineID  *int64           `json:"funding_line_id"`
	ProgrammeID    *int64           `json:"programme_id"`
	Name           string           `bun:",notnull" json:"name"`
	Unit           IndicatorUnit    `bun:",notnull" json:"unit"`
	Direction      Direction        `bun:",notnull" json:"direction"`
	BaselineValue  *decimal.Decimal `bun:"type:numeric(20,4)" json:"baseline_value"`
	BaselineOn     *time.Time       `bun:"type:date" json:"baseline_on"`
	BaselineSource string           `bun:",notnull" json:"baseline_source"`
	TargetValue    *decimal.Decimal `bun:"type:numeric(20,4)" json:"target_value"`
	TargetOn       *time.Time       `bun:"type:date" json:"target_on"`
	TargetSource   string           `bun:",notnull" json:"target_source"`
	Frequency      Frequency        `bun:",notnull" json:"frequency"`
	CreatedAt      time.Time        `bun:",nullzero,notnull,default:current_timestamp" json:"created_at"`
}

// Measurement is one reading of an indicator for a period. A correction is a
// new revision that supersedes the old one, which stays visible.
type Measurement struct {
	bun.BaseModel `bun:"table:measurements"`

	ID           int64           `bun:",pk,autoincrement" json:"id"`
	IndicatorID  int64           `bun:",notnull" json:"indicator_id"`
	PeriodStart  time.Time       `bun:"type:date,notnull" json:"period_start"`
	PeriodEnd    time.Time       `bun:"type:date,notnull" json:"period_end"`
	Value        decimal.Decimal `bun:"type:numeric(20,4),notnull" json:"value"`
	Source       string          `bun:",notnull" json:"source"`
	ExtractedOn  *time.Time      `bun:"type:date" json:"extracted_on"`
	MethodNote   string          `bun:",notnull" json:"method_note"`
	Revision     int             `bun:",notnull,default:1" json:"revision"`
	SupersedesID *int64          `json:"supersedes_id"`
	RecordedBy   *int64          `json:"recorded_by"`
	RecordedAt   time.Time       `bun:",nullzero,notnull,default:current_timestamp" json:"recorded_at"`
}

// IndicatorInput creates an indicator.
type IndicatorInput struct {
	FundingLineID int64  `json:"funding_line_id" form:"funding_line_id" doc:"give this or programme_id"`
	ProgrammeID   int64  `json:"programme_id" form:"programme_id"`
	Name          string `json:"name" form:"name"`
	Unit          string `json:"unit" form:"unit" doc:"count, percent, gbp or rate_per_1000"`
	Direction     string `json:"direction" form:"direction" doc:"higher_is_better or lower_is_better"`
	BaselineValue string `json:"baseline_value" form:"baseline_value"`
	BaselineOn    string `json:"baseline_on" form:"baseline_on"`
	BaselineSrc   string `json:"baseline_source" form:"baseline_source" doc:"where the baseline comes from; required with a baseline"`
	TargetValue   string `json:"target_value" form:"target_value"`
	TargetOn      string `json:"target_on" form:"target_on"`
	TargetSrc     string `json:"target_source" form:"target_source" doc:"where the target comes from; required with a target"`
	Frequency     string `json:"frequency" form:"frequency" doc:"monthly, quarterly or annual"`
}

// MaxIndicatorValue bounds indicator values to what numeric(20,4) holds.
var MaxIndicatorValue = decimal.New(1, 16)

// Validate returns the indicator the input describes, or an EINVALID error
// naming every bad field.
func (in IndicatorInput) Validate() (*Indicator, error) {
	var c collector
	ind := IndicatorCorrectionInput{Name: in.Name, Unit: in.Unit, Direction: in.Direction,
		BaselineValue: in.BaselineValue, BaselineOn: in.BaselineOn, BaselineSrc: in.BaselineSrc,
		TargetValue: in.TargetValue, TargetOn: in.TargetOn, TargetSrc: in.TargetSrc}.definition(&c)
	ind.Frequency = Frequency(c.oneOf("frequency", in.Frequency, string(Monthly), string(Quarterly), string(Annual)))
	switch {
	case in.FundingLineID < 0 || in.ProgrammeID < 0:
		if in.FundingLineID < 0 {
			c.id("funding_line_id", in.FundingLineID)
		}
		if in.ProgrammeID < 0 {
			c.id("programme_id", in.ProgrammeID)
		}
	case (in.FundingLineID > 0) == (in.ProgrammeID > 0):
		c.Add("funding_line_id", "give either a funding line or a programme, not both")
	case in.FundingLineID > 0:
		ind.FundingLineID = &in.FundingLineID
	default:
		ind.ProgrammeID = &in.ProgrammeID
	}
	return ind, c.Err()
}

// IndicatorRevision is one version of an indicator's definition. The first
// is written with the indicator; each correction is a new revision naming
// the one it replaces, which is kept. The indicator itself always holds its
// newest revision.
type IndicatorRevision struct {
	bun.BaseModel `bun:"table:indicator_revisions"`

	ID             int64            `bun:",pk,autoincrement" json:"id"`
	IndicatorID    int64            `bun:",notnull" json:"indicator_id"`
	Revision       int              `bun:",notnull" json:"revision"`
	SupersedesID   *int64           `json:"supersedes_id"`
	Name           string           `bun:",notnull" json:"name"`
	Unit           IndicatorUnit    `bun:",notnull" json:"unit"`
	Direction      Direction        `bun:",notnull" json:"direction"`
	BaselineValue  *decimal.Decimal `bun:"type:numeric(20,4)" json:"baseline_value"`
	BaselineOn     *time.Time       `bun:"type:date" json:"baseline_on"`
	BaselineSource string           `bun:",notnull" json:"baseline_source"`
	TargetValue    *decimal.Decimal `bun:"type:numeric(20,4)" json:"target_value"`
	TargetOn       *time.Time       `bun:"type:date" json:"target_on"`
	TargetSource   string           `bun:",notnull" json:"target_source"`
	Reason         string           `bun:",notnull" json:"reason"`
	RecordedBy     *int64           `json:"recorded_by"`
	RecordedAt     time.Time        `bun:",nullzero,notnull,default:current_timestamp" json:"recorded_at"`
}

// FirstRevision is the indicator's definition as its revision 1.
func (ind *Indicator) FirstRevision() *IndicatorRevision {
	return &IndicatorRevision{IndicatorID: ind.ID, Revision: 1, Name: ind.Name, Unit: ind.Unit, Direction: ind.Direction,
		BaselineValue: ind.BaselineValue, BaselineOn: ind.BaselineOn, BaselineSource: ind.BaselineSource,
		TargetValue: ind.TargetValue, TargetOn: ind.TargetOn, TargetSource: ind.TargetSource}
}

// IndicatorCorrectionInput corrects an indicator's definition: the whole
// definition as it should now read, the revision it replaces and why.
type IndicatorCorrectionInput struct {
	Name          string `json:"name" form:"name"`
	Unit          string `json:"unit" form:"unit" doc:"count, percent, gbp or rate_per_1000"`
	Direction     string `json:"direction" form:"direction" doc:"higher_is_better or lower_is_better"`
	BaselineValue string `json:"baseline_value" form:"baseline_value"`
	BaselineOn    string `json:"baseline_on" form:"baseline_on"`
	BaselineSrc   string `json:"baseline_source" form:"baseline_source" doc:"where the baseline comes from; required with a baseline"`
	TargetValue   string `json:"target_value" form:"target_value"`
	TargetOn      string `json:"target_on" form:"target_on"`
	TargetSrc     string `json:"target_source" form:"target_source" doc:"where the target comes from; required with a target"`
	Supersedes    int64  `json:"supersedes" form:"supersedes" doc:"id of the indicator's current revision, which this replaces"`
	Reason        string `json:"reason" form:"reason" doc:"why the definition changes"`
}

// Validate returns the revision the input describes for the indicator, or
// an EINVALID error naming every bad field.
func (in IndicatorCorrectionInput) Validate(indicatorID int64) (*IndicatorRevision, error) {
	var c collector
	def := in.definition(&c)
	r := def.FirstRevision()
	r.IndicatorID, r.Revision = indicatorID, 0
	r.Reason = c.longText("reason", in.Reason, true, 2000)
	if in.Supersedes <= 0 {
		c.Add("supersedes", "give the id of the revision this replaces")
	} else {
		r.SupersedesID = &in.Supersedes
	}
	return r, c.Err()
}

// definition reads the fields of an indicator that a correction may
// change: each of baseline and target has a value, a date and a source, or
// none of them.
func (in IndicatorCorrectionInput) definition(c *collector) *Indicator {
	ind := &Indicator{
		Name:      c.text("name", in.Name, true, 300),
		Unit:      IndicatorUnit(c.oneOf("unit", in.Unit, "count", "percent", "gbp", "rate_per_1000")),
		Direction: Direction(c.oneOf("direction", in.Direction, string(HigherIsBetter), string(LowerIsBetter))),
	}
	ind.BaselineValue = c.optionalQuantity("baseline_value", in.BaselineValue)
	ind.BaselineOn = c.optionalDate("baseline_on", &in.BaselineOn)
	ind.TargetValue = c.optionalQuantity("target_value", in.TargetValue)
	ind.TargetOn = c.optionalDate("target_on", &in.TargetOn)
	if (ind.BaselineValue == nil) != (ind.BaselineOn == nil) && !c.Has("baseline_value") && !c.Has("baseline_on") {
		c.Add("baseline_on", "a baseline needs both a value and a date")
	}
	if (ind.TargetValue == nil) != (ind.TargetOn == nil) && !c.Has("target_value") && !c.Has("target_on") {
		c.Add("target_on", "a target needs both a value and a date")
	}
	ind.BaselineSource = c.text("baseline_source", in.BaselineSrc, false, 300)
	ind.TargetSource = c.text("target_source", in.TargetSrc, false, 300)
	if ind.BaselineValue != nil && ind.BaselineSource == "" && !c.Has("baseline_source") {
		c.Add("baseline_source", "say where the baseline comes from")
	}
	if ind.TargetValue != nil && ind.TargetSource == "" && !c.Has("target_source") {
		c.Add("target_source", "say where the target comes from")
	}
	if ind.BaselineOn != nil && ind.TargetOn != nil {
		c.dateOrder("baseline_on", *ind.BaselineOn, "target_on", *ind.TargetOn)
	}
	return ind
}

// MeasurementInput records a reading of an indicator, or corrects one when
// Supersedes names the reading it replaces.
type MeasurementInput struct {
	PeriodStart string `json:"period_start" form:"period_start"`
	PeriodEnd   string `json:"period_end" form:"period_end"`
	Value       string `json:"value" form:"value" doc:"a decimal string, e.g. \"13.5\""`
	Source      string `json:"source" form:"source" doc:"e.g. MPS recorded crime"`
	ExtractedOn string `json:"extracted_on" form:"extracted_on"`
	MethodNote  string `json:"method_note" form:"method_note" doc:"e.g. rolling 12 months"`
	Supersedes  int64  `json:"supersedes" form:"supersedes" doc:"id of the measurement this corrects"`
}

// Validate returns the measurement the input describes, or an EINVALID error
// naming every bad field.
func (in MeasurementInput) Validate(indicatorID int64) (*Measurement, error) {
	var c collector
	m := &Measurement{
		IndicatorID: indicatorID,
		PeriodStart: c.date("period_start", in.PeriodStart),
		PeriodEnd:   c.date("period_end", in.PeriodEnd),
		Source:      c.text("source", in.Source, true, 300),
		MethodNote:  c.longText("method_note", in.MethodNote, false, 2000),
		ExtractedOn: c.optionalDate("extracted_on", &in.ExtractedOn),
		Revision:    1,
	}
	c.dateOrder("period_start", m.PeriodStart, "period_end", m.PeriodEnd)
	if v := c.optionalQuantity("value", in.Value); v != nil {
		m.Value = *v
	} else if !c.Has("value") {
		c.Add("value", "is required")
	}
	if in.Supersedes < 0 {
		c.Add("supersedes", "must be the id of a measurement")
	} else if in.Supersedes > 0 {
		m.SupersedesID = &in.Supersedes
	}
	return m, c.Err()
}

// oneOf checks v is one of the allowed values.
func (c *collector) oneOf(field, v string, allowed ...string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		c.Add(field, "is required")
		return v
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	c.Add(field, "must be one of %s", strings.Join(allowed, ", "))
	return v
}

// optionalQuantity reads an indicator value: a plain decimal with at most
// four decimal places (what the column holds), never rounded.
func (c *collector) optionalQuantity(field, v string) *decimal.Decimal {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	d, err := ParseQuantity(v)
	if err != nil {
		c.Add(field, "%s", ErrorMessage(err))
		return nil
	}
	return &d
}

// ParseQuantity reads an indicator value such as "13", "-4.5" or "52.25":
// digits with an optional sign and at most four decimal places. Exponents,
// thousands separators and more places are refused, not rounded.
func ParseQuantity(s string) (decimal.Decimal, error) {
	digits := strings.TrimPrefix(s, "-")
	whole, frac, hasPoint := strings.Cut(digits, ".")
	if whole == "" || !asciiDigits(whole) || hasPoint && (frac == "" || !asciiDigits(frac)) {
		return decimal.Zero, Errorf(EINVALID, "must be a number such as 42 or 13.5")
	}
	if len(frac) > 4 {
		return decimal.Zero, Errorf(EINVALID, "must have at most 4 decimal places")
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Zero, Errorf(EINVALID, "must be a number such as 42 or 13.5")
	}
	if d.Abs().GreaterThanOrEqual(MaxIndicatorValue) {
		return decimal.Zero, Errorf(EINVALID, "is too large")
	}
	return d, nil
}
