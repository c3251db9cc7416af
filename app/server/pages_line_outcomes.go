package server

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"

	"granttrack/app/store"
	"granttrack/models"
)

// registerLineOutcomePages adds the forms on a funding line's page for
// reserving budget and recording measurements.
func (s *Server) registerLineOutcomePages() {
	s.app.Post("/funding-lines/:id/reservations", s.requireWebRole(writers), s.reservationCreate)
	s.app.Post("/funding-lines/:id/reservations/:rid/release", s.requireWebRole(writers), s.reservationRelease)
	s.app.Post("/funding-lines/:id/measurements", s.requireWebRole(writers), s.measurementCreate)
	s.app.Post("/funding-lines/:id/indicators", s.requireWebRole(writers), s.indicatorCreate)
	s.app.Post("/funding-lines/:id/indicators/:iid/revisions", s.requireWebRole(writers), s.indicatorCorrect)
}

// lineView is the state of a refused form on the line page: which form,
// the typed values and the message beside each field.
type lineView struct {
	Problem   string
	Form      string // "reserve", "release", "measure", "indicator", "correct", "profile", "document" or "band"
	Errors    map[string]string
	Reserve   models.ReservationInput
	Measure   models.MeasurementInput
	NewInd    models.IndicatorInput
	Correct   models.IndicatorCorrectionInput // a refused correction of indicator Indicator
	Indicator int64
	Typed     map[string]string // a draft profile's amounts as typed, by year
	Document  models.ContractDocumentInput
	Band      models.BandExceptionInput
}

type indicatorRow struct {
	indicatorJSON
	Latest   *measurementJSON
	Overdue  bool
	Readings []measurementJSON // the current readings, oldest period first: what a correction may name
	// Revisions is the definition's history, first to current; Edit is the
	// correction form, filled with the current definition (or what was typed).
	Revisions []indicatorRevisionJSON
	Edit      models.IndicatorCorrectionInput
}

type lineOutcomes struct {
	reservations []reservationJSON
	indicators   []indicatorRow
}

// lineOutcomes reads a line's reservations and indicators with each one's
// latest reading and definition history; v is a refused form, if any.
func (s *Server) lineOutcomes(c *fiber.Ctx, lineID int64, v lineView) (lineOutcomes, error) {
	var out lineOutcomes
	rs, err := s.store.Reservations(c.UserContext(), lineID)
	if err != nil {
		return out, err
	}
	for _, r := range rs {
		out.reservations = append(out.reservations, toReservationJSON(r))
	}
	inds, err := s.store.Indicators(c.UserContext(), store.IndicatorFilter{FundingLineID: lineID})
	if err != nil {
		return out, err
	}
	ids := make([]int64, len(inds))
	for i, ind := range inds {
		ids[i] = ind.ID
	}
	current, err := s.store.CurrentMeasurements(c.UserContext(), ids...)
	if err != nil {
		return out, err
	}
	histories, err := s.store.IndicatorHistories(c.UserContext(), ids...)
	if err != nil {
		return out, err
	}
	latest := map[int64]*models.Measurement{}
	readings := map[int64][]measurementJSON{}
	for _, m := range current {
		latest[m.IndicatorID] = m // oldest first, so the last one wins
		readings[m.IndicatorID] = append(readings[m.IndicatorID], toMeasurementJSON(m, true))
	}
	now := s.today()
	for _, ind := range inds {
		row := indicatorRow{indicatorJSON: toIndicatorJSON(ind), Readings: readings[ind.ID]}
		if m := latest[ind.ID]; m != nil {
			mj := toMeasurementJSON(m, true)
			row.Latest = &mj
			row.Overdue = now.After(models.MeasurementDue(ind.Frequency, m.PeriodEnd))
		}
		revs := histories[ind.ID]
		for i, r := range revs {
			row.Revisions = append(row.Revisions, toIndicatorRevisionJSON(r, i == len(revs)-1))
		}
		if n := len(revs); n > 0 {
			row.Edit = correctionOf(revs[n-1])
		}
		if v.Form == "correct" && v.Indicator == ind.ID {
			row.Edit = v.Correct
		}
		out.indicators = append(out.indicators, row)
	}
	return out, nil
}

// refused re-draws the line page with the form's errors, or passes on an
// error that is not about the input.
func (s *Server) refused(c *fiber.Ctx, err error, v lineView) error {
	errs, err := formErrors(err)
	if err != nil {
		return err
	}
	v.Errors = errs
	return s.lineShowWith(c, v)
}

func (s *Server) reservationCreate(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	in := models.ReservationInput{Amount: c.FormValue("amount"), Purpose: c.FormValue("purpose"), Reference: c.FormValue("reference"),
		ExpectedOn: c.FormValue("expected_on")}
	v := lineView{Form: "reserve", Reserve: in}
	r, err := in.Validate(id)
	if err == nil {
		err = s.store.CreateReservation(c.UserContext(), actorOf(c), r)
	}
	if err != nil {
		return s.refused(c, err, v)
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#reservations", id), fiber.StatusSeeOther)
}

func (s *Server) reservationRelease(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	rid, err := paramID(c, "rid")
	if err != nil {
		return models.Errorf(models.ENOTFOUND, "There is no reservation %q.", c.Params("rid"))
	}
	r, err := s.store.Reservation(c.UserContext(), rid)
	if err != nil {
		return err
	}
	if r.FundingLineID != id {
		return models.Errorf(models.ENOTFOUND, "Reservation %d is not on this funding line.", rid)
	}
	if _, err := s.store.ReleaseReservation(c.UserContext(), actorOf(c), rid, c.FormValue("reason")); err != nil {
		return s.refused(c, err, lineView{Form: "release"})
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#reservations", id), fiber.StatusSeeOther)
}

func (s *Server) measurementCreate(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	indicatorID := formID(c, "indicator_id")
	in := models.MeasurementInput{PeriodStart: c.FormValue("period_start"), PeriodEnd: c.FormValue("period_end"), Value: c.FormValue("value"),
		Source: c.FormValue("source"), ExtractedOn: c.FormValue("extracted_on"), MethodNote: c.FormValue("method_note"),
		Supersedes: formID(c, "supersedes")}
	v := lineView{Form: "measure", Measure: in, Indicator: indicatorID}
	ind, err := s.store.Indicator(c.UserContext(), indicatorID)
	if err != nil || ind.FundingLineID == nil || *ind.FundingLineID != id {
		return s.refused(c, &models.Error{Code: models.EINVALID, Message: "Choose one of this line's indicators.",
			Fields: []models.FieldError{{Field: "indicator_id", Message: "choose one of this line's indicators"}}}, v)
	}
	m, err := in.Validate(indicatorID)
	if err == nil {
		err = s.store.RecordMeasurement(c.UserContext(), actorOf(c), m)
	}
	if err != nil {
		return s.refused(c, err, v)
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#indicators", id), fiber.StatusSeeOther)
}

// indicatorCreate adds an indicator to the line, with its baseline and
// target each dated and sourced.
func (s *Server) indicatorCreate(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	in := models.IndicatorInput{FundingLineID: id, Name: c.FormValue("name"), Unit: c.FormValue("unit"), Direction: c.FormValue("direction"),
		BaselineValue: c.FormValue("baseline_value"), BaselineOn: c.FormValue("baseline_on"), BaselineSrc: c.FormValue("baseline_source"),
		TargetValue: c.FormValue("target_value"), TargetOn: c.FormValue("target_on"), TargetSrc: c.FormValue("target_source"),
		Frequency: c.FormValue("frequency")}
	v := lineView{Form: "indicator", NewInd: in}
	if _, err := s.store.FundingLine(c.UserContext(), id); err != nil {
		return err
	}
	ind, err := in.Validate()
	if err == nil {
		err = s.store.CreateIndicator(c.UserContext(), actorOf(c), ind)
	}
	if err != nil {
		return s.refused(c, err, v)
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#indicators", id), fiber.StatusSeeOther)
}

// correctionOf is a correction form filled with a revision's definition,
// naming it as the revision replaced.
func correctionOf(r *models.IndicatorRevision) models.IndicatorCorrectionInput {
	text := func(d *decimal.Decimal) string {
		if d == nil {
			return ""
		}
		return d.String()
	}
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(models.DateLayout)
	}
	return models.IndicatorCorrectionInput{Name: r.Name, Unit: string(r.Unit), Direction: string(r.Direction),
		BaselineValue: text(r.BaselineValue), BaselineOn: day(r.BaselineOn), BaselineSrc: r.BaselineSource,
		TargetValue: text(r.TargetValue), TargetOn: day(r.TargetOn), TargetSrc: r.TargetSource, Supersedes: r.ID}
}

// indicatorCorrect records a correction of one of the line's indicators'
// definitions: a new revision naming the current one, which is kept.
func (s *Server) indicatorCorrect(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	indicatorID, err := paramID(c, "iid")
	if err != nil {
		return models.Errorf(models.ENOTFOUND, "There is no indicator %q.", c.Params("iid"))
	}
	ind, err := s.store.Indicator(c.UserContext(), indicatorID)
	if err != nil {
		return err
	}
	if ind.FundingLineID == nil || *ind.FundingLineID != id {
		return models.Errorf(models.ENOTFOUND, "Indicator %d is not on this funding line.", indicatorID)
	}
	in := models.IndicatorCorrectionInput{Name: c.FormValue("name"), Unit: c.FormValue("unit"), Direction: c.FormValue("direction"),
		BaselineValue: c.FormValue("baseline_value"), BaselineOn: c.FormValue("baseline_on"), BaselineSrc: c.FormValue("baseline_source"),
		TargetValue: c.FormValue("target_value"), TargetOn: c.FormValue("target_on"), TargetSrc: c.FormValue("target_source"),
		Supersedes: formID(c, "supersedes"), Reason: c.FormValue("reason")}
	r, err := in.Validate(indicatorID)
	if err == nil {
		_, err = s.store.CorrectIndicator(c.UserContext(), actorOf(c), r)
	}
	if err != nil {
		return s.refused(c, err, lineView{Form: "correct", Correct: in, Indicator: indicatorID})
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#indicator-%d", id, indicatorID), fiber.StatusSeeOther)
}
