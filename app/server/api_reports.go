package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"granttrack/app/report"
	"granttrack/app/store"
	"granttrack/models"
)

// boardRoutes are the routes for reservations, outcomes and the board's
// reports.
func (s *Server) boardRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/funding-lines/:id/reservations", Summary: "List a funding line's reservations", Roles: everyone, Response: list[reservationJSON]{}, Handler: s.listReservations},
		{Method: "POST", Path: "/api/v1/funding-lines/:id/reservations", Summary: "Reserve part of a funding line's budget before an award", Roles: writers, Request: models.ReservationInput{}, Response: reservationJSON{}, Status: 201, Handler: s.createReservation},
		{Method: "GET", Path: "/api/v1/reservations/:id", Summary: "Get a reservation", Roles: everyone, Response: reservationJSON{}, Handler: s.getReservation},
		{Method: "POST", Path: "/api/v1/reservations/:id/release", Summary: "Release a held reservation, with a reason", Roles: writers, Request: reasonInput{}, Response: reservationJSON{}, Handler: s.releaseReservation},
		{Method: "POST", Path: "/api/v1/reservations/:id/convert", Summary: "Convert a held reservation into an award on its line", Roles: writers, Request: models.AwardInput{}, Response: awardJSON{}, Status: 201, Handler: s.convertReservation},

		{Method: "GET", Path: "/api/v1/indicators", Summary: "List outcome indicators", Roles: everyone, Query: indicatorQuery{}, Response: list[indicatorJSON]{}, Handler: s.listIndicators},
		{Method: "POST", Path: "/api/v1/indicators", Summary: "Create an indicator for a funding line or a programme", Roles: writers, Request: models.IndicatorInput{}, Response: indicatorJSON{}, Status: 201, Handler: s.createIndicator},
		{Method: "GET", Path: "/api/v1/indicators/:id", Summary: "Get an indicator", Roles: everyone, Response: indicatorJSON{}, Handler: s.getIndicator},
		{Method: "GET", Path: "/api/v1/indicators/:id/measurements", Summary: "List every revision of an indicator's measurements", Roles: everyone, Response: list[measurementJSON]{}, Handler: s.listMeasurements},
		{Method: "POST", Path: "/api/v1/indicators/:id/measurements", Summary: "Record a measurement, or a correction naming the one it supersedes", Roles: writers, Request: models.MeasurementInput{}, Response: measurementJSON{}, Status: 201, Handler: s.recordMeasurement},

		{Method: "GET", Path: "/api/v1/reports/budget", Summary: "Budget, reserved, committed, pending, spent, remaining, forecast, variance and RAG for a financial year or quarter", Roles: everyone, Query: reportQuery{}, Response: budgetReportJSON{}, Handler: s.budgetReport},
		{Method: "GET", Path: "/api/v1/reports/value-for-money", Summary: "Cost per outcome, progress to target and contracts against their tender bands", Roles: everyone, Query: reportQuery{}, Response: vfmReportJSON{}, Handler: s.valueForMoneyReport},
	}
}

type reservationJSON struct {
	ID            int64                    `json:"id"`
	FundingLineID int64                    `json:"funding_line_id"`
	Amount        Money                    `json:"amount"`
	Purpose       string                   `json:"purpose"`
	Reference     string                   `json:"reference"`
	ExpectedOn    Date                     `json:"expected_on"`
	Status        models.ReservationStatus `json:"status"`
	ReleaseReason *string                  `json:"release_reason"`
	CreatedBy     int64                    `json:"created_by"`
	CreatedAt     time.Time                `json:"created_at"`
	ClosedBy      *int64                   `json:"closed_by"`
	ClosedAt      *time.Time               `json:"closed_at"`
}

func toReservationJSON(r *models.Reservation) reservationJSON {
	return reservationJSON{ID: r.ID, FundingLineID: r.FundingLineID, Amount: money(r.Amount), Purpose: r.Purpose, Reference: r.Reference,
		ExpectedOn: date(r.ExpectedOn), Status: r.Status, ReleaseReason: r.ReleaseReason, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt,
		ClosedBy: r.ClosedBy, ClosedAt: r.ClosedAt}
}

func (s *Server) listReservations(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.store.FundingLine(c.UserContext(), id); err != nil {
		return err
	}
	rs, err := s.store.Reservations(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := list[reservationJSON]{Items: []reservationJSON{}, Page: 1, PerPage: len(rs), Total: len(rs)}
	for _, r := range rs {
		out.Items = append(out.Items, toReservationJSON(r))
	}
	return c.JSON(out)
}

func (s *Server) createReservation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.ReservationInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := in.Validate(id)
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateReservation(c.UserContext(), actorOf(c), r); err != nil {
		return err
	}
	return created(c, "/api/v1/reservations/"+strconv.FormatInt(r.ID, 10), toReservationJSON(r))
}

func (s *Server) getReservation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	r, err := s.store.Reservation(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toReservationJSON(r))
}

func (s *Server) releaseReservation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in reasonInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.store.ReleaseReservation(c.UserContext(), actorOf(c), id, in.Reason)
	if err != nil {
		return err
	}
	return c.JSON(toReservationJSON(r))
}

func (s *Server) convertReservation(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.AwardInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := s.storeOf(c).Reservation(c.UserContext(), id)
	if err != nil {
		return err
	}
	a, err := in.Validate(r.FundingLineID)
	if err != nil {
		return err
	}
	if err := s.storeOf(c).ConvertReservation(c.UserContext(), actorOf(c), id, a); err != nil {
		return err
	}
	return created(c, "/api/v1/awards/"+strconv.FormatInt(a.ID, 10), toAwardJSON(a))
}

// quantity is an indicator value in JSON: a decimal string, exact.
func quantity(d *decimal.Decimal) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

type indicatorJSON struct {
	ID            int64                `json:"id"`
	FundingLineID *int64               `json:"funding_line_id"`
	ProgrammeID   *int64               `json:"programme_id"`
	Name          string               `json:"name"`
	Unit          models.IndicatorUnit `json:"unit"`
	Direction     models.Direction     `json:"direction"`
	BaselineValue *string              `json:"baseline_value"`
	BaselineOn    *Date                `json:"baseline_on"`
	BaselineSrc   string               `json:"baseline_source" doc:"where the baseline comes from, as a reading's source"`
	TargetValue   *string              `json:"target_value"`
	TargetOn      *Date                `json:"target_on"`
	TargetSrc     string               `json:"target_source" doc:"where the target comes from (e.g. the plan that set it)"`
	Frequency     models.Frequency     `json:"frequency"`
}

func toIndicatorJSON(i *models.Indicator) indicatorJSON {
	return indicatorJSON{ID: i.ID, FundingLineID: i.FundingLineID, ProgrammeID: i.ProgrammeID, Name: i.Name, Unit: i.Unit,
		Direction: i.Direction, BaselineValue: quantity(i.BaselineValue), BaselineOn: optDate(i.BaselineOn), BaselineSrc: i.BaselineSource,
		TargetValue: quantity(i.TargetValue), TargetOn: optDate(i.TargetOn), TargetSrc: i.TargetSource, Frequency: i.Frequency}
}

type measurementJSON struct {
	ID           int64     `json:"id"`
	IndicatorID  int64     `json:"indicator_id"`
	PeriodStart  Date      `json:"period_start"`
	PeriodEnd    Date      `json:"period_end"`
	Value        string    `json:"value"`
	Source       string    `json:"source"`
	ExtractedOn  *Date     `json:"extracted_on"`
	MethodNote   string    `json:"method_note"`
	Revision     int       `json:"revision"`
	SupersedesID *int64    `json:"supersedes_id"`
	Current      bool      `json:"current" doc:"false once a later revision corrects it"`
	RecordedBy   *int64    `json:"recorded_by"`
	RecordedAt   time.Time `json:"recorded_at"`
}

func toMeasurementJSON(m *models.Measurement, current bool) measurementJSON {
	return measurementJSON{ID: m.ID, IndicatorID: m.IndicatorID, PeriodStart: date(m.PeriodStart), PeriodEnd: date(m.PeriodEnd),
		Value: m.Value.String(), Source: m.Source, ExtractedOn: optDate(m.ExtractedOn), MethodNote: m.MethodNote, Revision: m.Revision,
		SupersedesID: m.SupersedesID, Current: current, RecordedBy: m.RecordedBy, RecordedAt: m.RecordedAt}
}

type indicatorQuery struct {
	FundingLineID int64 `query:"funding_line_id"`
	ProgrammeID   int64 `query:"programme_id" doc:"the programme's own indicators and its lines'"`
}

func (s *Server) listIndicators(c *fiber.Ctx) error {
	var p models.Problems
	f := store.IndicatorFilter{FundingLineID: queryID(c, "funding_line_id", &p), ProgrammeID: queryID(c, "programme_id", &p)}
	if err := p.Err(); err != nil {
		return err
	}
	inds, err := s.store.Indicators(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := list[indicatorJSON]{Items: []indicatorJSON{}, Page: 1, PerPage: len(inds), Total: len(inds)}
	for _, i := range inds {
		out.Items = append(out.Items, toIndicatorJSON(i))
	}
	return c.JSON(out)
}

func (s *Server) createIndicator(c *fiber.Ctx) error {
	var in models.IndicatorInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ind, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).CreateIndicator(c.UserContext(), actorOf(c), ind); err != nil {
		return err
	}
	return created(c, "/api/v1/indicators/"+strconv.FormatInt(ind.ID, 10), toIndicatorJSON(ind))
}

func (s *Server) getIndicator(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	ind, err := s.store.Indicator(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toIndicatorJSON(ind))
}

func (s *Server) listMeasurements(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.store.Indicator(c.UserContext(), id); err != nil {
		return err
	}
	all, err := s.store.Measurements(c.UserContext(), id)
	if err != nil {
		return err
	}
	superseded := map[int64]bool{}
	for _, m := range all {
		if m.SupersedesID != nil {
			superseded[*m.SupersedesID] = true
		}
	}
	out := list[measurementJSON]{Items: []measurementJSON{}, Page: 1, PerPage: len(all), Total: len(all)}
	for _, m := range all {
		out.Items = append(out.Items, toMeasurementJSON(m, !superseded[m.ID]))
	}
	return c.JSON(out)
}

func (s *Server) recordMeasurement(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.MeasurementInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	m, err := in.Validate(id)
	if err != nil {
		return err
	}
	if err := s.storeOf(c).RecordMeasurement(c.UserContext(), actorOf(c), m); err != nil {
		return err
	}
	return created(c, "/api/v1/indicators/"+strconv.FormatInt(id, 10)+"/measurements", toMeasurementJSON(m, true))
}

type reportQuery struct {
	FY            string `query:"fy" doc:"financial year, e.g. 2024-25; default: the current one"`
	Quarter       string `query:"quarter" doc:"Q1 (April-June) to Q4 (January-March); default: the whole year"`
	GroupBy       string `query:"group_by" doc:"programme (default), funding_line or recipient"`
	AsOf          string `query:"as_of" doc:"the day the forecast projects from; default: today"`
	ProgrammeID   int64  `query:"programme_id"`
	FundingLineID int64  `query:"funding_line_id"`
}

// reportQueryOf reads a report's query string.
func (s *Server) reportQueryOf(c *fiber.Ctx) (report.Query, error) {
	var p models.Problems
	scope := store.ReportScope{ProgrammeID: queryID(c, "programme_id", &p), FundingLineID: queryID(c, "funding_line_id", &p)}
	q, err := report.ParseQuery(c.Query("fy"), c.Query("quarter"), c.Query("group_by"), c.Query("as_of"), s.today())
	if err != nil {
		if e, ok := err.(*models.Error); ok {
			p = append(p, e.Fields...)
		}
	}
	if err := p.Err(); err != nil {
		return q, err
	}
	q.Scope = scope
	return q, nil
}

// today is the business date in London by the store's clock.
func (s *Server) today() time.Time { return s.store.Clock().Today() }

type figuresJSON struct {
	Budget           Money       `json:"budget" doc:"the lines' budgets for the period from their budget profiles (a quarter's share by days)"`
	Reserved         Money       `json:"reserved"`
	Committed        Money       `json:"committed"`
	Pending          Money       `json:"pending" doc:"spend awaiting approval incurred in the period; reversals awaiting approval are apart, in pending_reversals, so this is never negative"`
	PendingReversals Money       `json:"pending_reversals" doc:"what reversals awaiting approval, recorded in the period, would take off the spend, as a positive amount"`
	Spent            Money       `json:"spent" doc:"approved spend incurred in the period, net of approved reversals (which count on the day they are recorded)"`
	Remaining        Money       `json:"remaining" doc:"budget less spent"`
	Uncommitted      Money       `json:"uncommitted" doc:"budget less reserved and committed"`
	Forecast         Money       `json:"forecast" doc:"spent projected straight-line to the period's end"`
	Variance         Money       `json:"variance" doc:"forecast less budget; positive is an overspend"`
	BurnRate         Money       `json:"burn_rate" doc:"average spend per month so far"`
	RAG              models.RAG  `json:"rag" doc:"red, amber, green, not_started (none of the line's days in the period has passed) or not_rated (the line has no days in the period); for a group, the worst of its parts' ratings (rag_rollup), never the rating of the netted total"`
	RollUp           *rollUpJSON `json:"rag_rollup" doc:"how a group's rating rolled up from its parts; null for a funding line's own rating"`
}

type rollUpJSON struct {
	Rule     string `json:"rule" doc:"e.g. worst of 3 programmes: 2 red, 0 amber, 1 green"`
	Of       string `json:"of" doc:"what the parts are: funding lines, programmes or recipients"`
	Red      int    `json:"red"`
	Amber    int    `json:"amber"`
	Green    int    `json:"green"`
	NotRated int    `json:"not_rated" doc:"parts not started yet or with no days in the period"`
}

func toFiguresJSON(f report.Figures) figuresJSON {
	out := figuresJSON{Budget: money(f.Budget), Reserved: money(f.Reserved), Committed: money(f.Committed), Pending: money(f.Pending),
		PendingReversals: money(f.PendingReversals), Spent: money(f.Spent), Remaining: money(f.Remaining), Uncommitted: money(f.Uncommitted),
		Forecast: money(f.Forecast), Variance: money(f.Variance), BurnRate: money(f.BurnRate), RAG: f.RAG}
	if u := f.RollUp; u != nil {
		out.RollUp = &rollUpJSON{Rule: u.String(), Of: u.Of, Red: u.Red, Amber: u.Amber, Green: u.Green, NotRated: u.NotRated}
	}
	return out
}

type groupJSON struct {
	Key  string `json:"key"`
	Code string `json:"code"`
	Name string `json:"name"`
	figuresJSON
	Kind      models.FundingLineKind `json:"kind,omitempty"`
	TenderMin *Money                 `json:"tender_min_value,omitempty"`
	TenderMax *Money                 `json:"tender_max_value,omitempty"`
	// ContractValue is the contract's value, which band_position places in
	// the tender's band (not the spend).
	ContractValue *Money           `json:"contract_value,omitempty"`
	BandPosition  string           `json:"band_position,omitempty" doc:"where the contract's value lies: below band, within band, above band or no contract recorded"`
	State         models.LineState `json:"state,omitempty" doc:"a funding line's state on the earlier of as_of and the period's last day: not_started, running, ended, closed or cancelled"`
	AfterEnd      *Money           `json:"spent_after_end,omitempty" doc:"an exception: pending and approved spend incurred in the period after the line's last day"`
	AfterEndN     int              `json:"entries_after_end,omitempty" doc:"how many entries spent_after_end sums"`
}

type budgetReportJSON struct {
	FY         string      `json:"fy"`
	Quarter    *string     `json:"quarter"`
	PeriodFrom Date        `json:"period_start"`
	PeriodTo   Date        `json:"period_end"`
	AsOf       Date        `json:"as_of"`
	GroupBy    string      `json:"group_by"`
	Groups     []groupJSON `json:"groups"`
	Total      figuresJSON `json:"total"`
	RAGRule    string      `json:"rag_rule"`
}

// RAGRule explains the ratings beside every report.
var RAGRule = "A funding line is rated on its forecast against its budget: more than " + models.RedThreshold.Shift(2).String() +
	"% over or under is red, more than " + models.AmberThreshold.Shift(2).String() + "% is amber, otherwise green; not_started when none " +
	"of its days in the period have passed, not_rated when it has none in the period. A programme, a recipient and the total are rated the " +
	"worst of their parts, never on the netted sum, so an overspend and an underspend never cancel out."

func toBudgetReportJSON(b *report.Budget) budgetReportJSON {
	q := b.Query
	out := budgetReportJSON{FY: q.Period.Year.String(), PeriodFrom: date(q.Period.Start), PeriodTo: date(q.Period.End), AsOf: date(q.AsOf),
		GroupBy: q.GroupBy, Groups: []groupJSON{}, Total: toFiguresJSON(b.Total), RAGRule: RAGRule}
	if q.Period.Quarter != 0 {
		s := q.Period.Quarter.String()
		out.Quarter = &s
	}
	for _, g := range b.Groups {
		gj := groupJSON{Key: g.Key, Code: g.Code, Name: g.Name, figuresJSON: toFiguresJSON(g.Figures), Kind: g.Kind,
			TenderMin: optMoney(g.TenderMin), TenderMax: optMoney(g.TenderMax), ContractValue: optMoney(g.ContractValue), BandPosition: g.BandPosition,
			State: g.State}
		if g.AfterEndCount > 0 {
			gj.AfterEnd, gj.AfterEndN = optMoney(&g.AfterEnd), g.AfterEndCount
		}
		out.Groups = append(out.Groups, gj)
	}
	return out
}

func (s *Server) budgetReport(c *fiber.Ctx) error {
	q, err := s.reportQueryOf(c)
	if err != nil {
		return err
	}
	b, err := report.BudgetReport(c.UserContext(), s.reads(c), q)
	if err != nil {
		return err
	}
	return c.JSON(toBudgetReportJSON(b))
}

type costJSON struct {
	Method      string     `json:"method" doc:"period: spend and improvement over the report's period (financial year or quarter); life_to_date: since the indicator's baseline, to the period's last day"`
	WindowStart *Date      `json:"window_start" doc:"period: the period's first day; life_to_date: the baseline's date (null without a baseline)"`
	WindowEnd   Date       `json:"window_end" doc:"the period's last day"`
	Opening     *pointJSON `json:"opening" doc:"period: the latest reading dated (by its period's last day) on or before the period's first day, else the baseline if dated on or before that day; life_to_date: the baseline. Null when there is none"`
	Closing     *pointJSON `json:"closing" doc:"period: the latest reading dated after the period's first day and on or before its last; life_to_date: the latest reading dated after the baseline and on or before the period's last day. Null when there is none"`
	Spend       Money      `json:"spend" doc:"the numerator: approved spend, net of approved reversals, incurred in the window (period: the period's days; life_to_date: from the baseline's date to the period's last day, both included) on the line, or on the programme's lines"`
	Improvement *string    `json:"improvement" doc:"the denominator: closing less opening in the better direction, in the indicator's unit"`
	Cost        *Money     `json:"cost_per_unit" doc:"spend ÷ improvement, rounded to the penny; null when not computable"`
	Reason      string     `json:"reason,omitempty" doc:"why it is not computable: no reading inside the window, nothing to open it, no baseline, no change, a change the wrong way, or no approved spend"`
}

type pointJSON struct {
	Value         string `json:"value"`
	On            Date   `json:"on" doc:"a reading's period's last day, or the baseline's date"`
	Baseline      bool   `json:"baseline" doc:"true for the indicator's baseline, false for a reading"`
	MeasurementID *int64 `json:"measurement_id" doc:"the reading's id; null for the baseline"`
	Source        string `json:"source"`
}

func toCostJSON(c models.CostPerOutcome) costJSON {
	out := costJSON{Method: c.Method, WindowEnd: date(c.To), Opening: toPointJSON(c.Opening), Closing: toPointJSON(c.Closing),
		Spend: money(c.Spend), Improvement: quantity(c.Improvement), Cost: optMoney(c.Cost), Reason: c.Reason}
	if !c.From.IsZero() {
		out.WindowStart = optDate(&c.From)
	}
	return out
}

func toPointJSON(p *models.OutcomePoint) *pointJSON {
	if p == nil {
		return nil
	}
	out := &pointJSON{Value: p.Value.String(), On: date(p.On), Baseline: p.Baseline, Source: p.Source}
	if !p.Baseline {
		out.MeasurementID = &p.MeasurementID
	}
	return out
}

type outcomeJSON struct {
	Indicator   indicatorJSON     `json:"indicator"`
	Owner       string            `json:"owner"`
	OwnerName   string            `json:"owner_name"`
	Latest      *measurementJSON  `json:"latest"`
	Cost        costJSON          `json:"cost_per_outcome" doc:"over the report's period"`
	ToDate      costJSON          `json:"cost_per_outcome_to_date" doc:"life to date: since the baseline"`
	Progress    *string           `json:"progress_to_target_percent"`
	Overdue     bool              `json:"overdue"`
	NextDueOn   *Date             `json:"next_due_on"`
	Series      []measurementJSON `json:"series"`
	Attribution string            `json:"attribution"`
}

type contractJSON struct {
	FundingLineID int64  `json:"funding_line_id"`
	Code          string `json:"code"`
	Title         string `json:"title"`
	TenderMin     *Money `json:"tender_min_value"`
	TenderMax     *Money `json:"tender_max_value"`
	ContractValue *Money `json:"contract_value"`
	Committed     Money  `json:"committed"`
	Spent         Money  `json:"spent"`
	BandPosition  string `json:"band_position" doc:"where the contract's value lies: below band, within band, above band or no contract recorded"`
	SpendText     string `json:"spend_against_contract" doc:"e.g. £19,700.00 spent of £18,500.00 contracted"`
	Overspend     Money  `json:"overspend" doc:"spend beyond the contract's value; 0.00 when within it"`
}

type vfmReportJSON struct {
	FY        string         `json:"fy"`
	Quarter   *string        `json:"quarter"`
	AsOf      Date           `json:"as_of"`
	Outcomes  []outcomeJSON  `json:"outcomes"`
	Contracts []contractJSON `json:"contracts"`
}

func toVFMReportJSON(v *report.ValueForMoney) vfmReportJSON {
	q := v.Query
	out := vfmReportJSON{FY: q.Period.Year.String(), AsOf: date(q.AsOf), Outcomes: []outcomeJSON{}, Contracts: []contractJSON{}}
	if q.Period.Quarter != 0 {
		s := q.Period.Quarter.String()
		out.Quarter = &s
	}
	for _, o := range v.Outcomes {
		oj := outcomeJSON{Indicator: toIndicatorJSON(o.Indicator), Owner: o.OwnerCode, OwnerName: o.OwnerName, Overdue: o.Overdue,
			NextDueOn: optDate(o.DueOn), Series: []measurementJSON{}, Attribution: report.Attribution,
			Cost: toCostJSON(o.Cost), ToDate: toCostJSON(o.ToDate)}
		if o.Latest != nil {
			m := toMeasurementJSON(o.Latest, true)
			oj.Latest = &m
		}
		if o.Progress != nil {
			p := o.Progress.String()
			oj.Progress = &p
		}
		for _, m := range o.Series {
			oj.Series = append(oj.Series, toMeasurementJSON(m, true))
		}
		out.Outcomes = append(out.Outcomes, oj)
	}
	for _, ct := range v.Contracts {
		out.Contracts = append(out.Contracts, contractJSON{FundingLineID: ct.LineID, Code: ct.Code, Title: ct.Title, TenderMin: optMoney(ct.TenderMin),
			TenderMax: optMoney(ct.TenderMax), ContractValue: optMoney(ct.ContractValue), Committed: money(ct.Committed), Spent: money(ct.Spent),
			BandPosition: ct.BandPosition, SpendText: ct.SpendText, Overspend: money(ct.Overspend)})
	}
	return out
}

func (s *Server) valueForMoneyReport(c *fiber.Ctx) error {
	q, err := s.reportQueryOf(c)
	if err != nil {
		return err
	}
	v, err := report.ValueForMoneyReport(c.UserContext(), s.reads(c), q)
	if err != nil {
		return err
	}
	return c.JSON(toVFMReportJSON(v))
}
