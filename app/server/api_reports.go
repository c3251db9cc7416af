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
	TargetValue   *string              `json:"target_value"`
	TargetOn      *Date                `json:"target_on"`
	Frequency     models.Frequency     `json:"frequency"`
}

func toIndicatorJSON(i *models.Indicator) indicatorJSON {
	return indicatorJSON{ID: i.ID, FundingLineID: i.FundingLineID, ProgrammeID: i.ProgrammeID, Name: i.Name, Unit: i.Unit,
		Direction: i.Direction, BaselineValue: quantity(i.BaselineValue), BaselineOn: optDate(i.BaselineOn),
		TargetValue: quantity(i.TargetValue), TargetOn: optDate(i.TargetOn), Frequency: i.Frequency}
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
	Budget      Money      `json:"budget" doc:"the lines' budgets for the period from their budget profiles (a quarter's share by days)"`
	Reserved    Money      `json:"reserved"`
	Committed   Money      `json:"committed"`
	Pending     Money      `json:"pending"`
	Spent       Money      `json:"spent"`
	Remaining   Money      `json:"remaining" doc:"budget less spent"`
	Uncommitted Money      `json:"uncommitted" doc:"budget less reserved and committed"`
	Forecast    Money      `json:"forecast" doc:"spent projected straight-line to the period's end"`
	Variance    Money      `json:"variance" doc:"forecast less budget; positive is an overspend"`
	BurnRate    Money      `json:"burn_rate" doc:"average spend per month so far"`
	RAG         models.RAG `json:"rag" doc:"red, amber, green or not_started"`
}

func toFiguresJSON(f report.Figures) figuresJSON {
	return figuresJSON{Budget: money(f.Budget), Reserved: money(f.Reserved), Committed: money(f.Committed), Pending: money(f.Pending),
		Spent: money(f.Spent), Remaining: money(f.Remaining), Uncommitted: money(f.Uncommitted), Forecast: money(f.Forecast),
		Variance: money(f.Variance), BurnRate: money(f.BurnRate), RAG: f.RAG}
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
	ContractValue *Money `json:"contract_value,omitempty"`
	BandPosition  string `json:"band_position,omitempty" doc:"where the contract's value lies: below band, within band, above band or no contract recorded"`
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
var RAGRule = "Forecast against budget: more than " + models.RedThreshold.Shift(2).String() + "% over or under is red, more than " +
	models.AmberThreshold.Shift(2).String() + "% is amber, otherwise green; not_started when none of the period's days have passed."

func toBudgetReportJSON(b *report.Budget) budgetReportJSON {
	q := b.Query
	out := budgetReportJSON{FY: q.Period.Year.String(), PeriodFrom: date(q.Period.Start), PeriodTo: date(q.Period.End), AsOf: date(q.AsOf),
		GroupBy: q.GroupBy, Groups: []groupJSON{}, Total: toFiguresJSON(b.Total), RAGRule: RAGRule}
	if q.Period.Quarter != 0 {
		s := q.Period.Quarter.String()
		out.Quarter = &s
	}
	for _, g := range b.Groups {
		out.Groups = append(out.Groups, groupJSON{Key: g.Key, Code: g.Code, Name: g.Name, figuresJSON: toFiguresJSON(g.Figures), Kind: g.Kind,
			TenderMin: optMoney(g.TenderMin), TenderMax: optMoney(g.TenderMax), ContractValue: optMoney(g.ContractValue), BandPosition: g.BandPosition})
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
	Spend       Money   `json:"spend" doc:"the numerator: approved spend in the period"`
	Improvement *string `json:"improvement" doc:"the denominator: change from baseline in the better direction, in the indicator's unit"`
	Cost        *Money  `json:"cost_per_unit" doc:"spend per unit of improvement; null when not computable"`
	Reason      string  `json:"reason,omitempty" doc:"why it is not computable"`
}

type outcomeJSON struct {
	Indicator   indicatorJSON     `json:"indicator"`
	Owner       string            `json:"owner"`
	OwnerName   string            `json:"owner_name"`
	Latest      *measurementJSON  `json:"latest"`
	Cost        costJSON          `json:"cost_per_outcome"`
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
			Cost: costJSON{Spend: money(o.Cost.Spend), Improvement: quantity(o.Cost.Improvement), Cost: optMoney(o.Cost.Cost), Reason: o.Cost.Reason}}
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
