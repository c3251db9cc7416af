package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// indicatorRevisionRoutes are the routes for an indicator's definition
// history: every revision, and a correction that adds the next one.
func (s *Server) indicatorRevisionRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/indicators/:id/revisions", Summary: "List every revision of an indicator's definition, first to current", Roles: everyone, Response: list[indicatorRevisionJSON]{}, Handler: s.listIndicatorRevisions},
		{Method: "POST", Path: "/api/v1/indicators/:id/revisions", Summary: "Correct an indicator's definition: a new revision naming the current one, which is kept", Roles: writers, Request: models.IndicatorCorrectionInput{}, Response: indicatorRevisionJSON{}, Status: 201, Handler: s.correctIndicator},
	}
}

type indicatorRevisionJSON struct {
	ID            int64                `json:"id"`
	IndicatorID   int64                `json:"indicator_id"`
	Revision      int                  `json:"revision"`
	SupersedesID  *int64               `json:"supersedes_id" doc:"the revision this replaced; null for the first"`
	Current       bool                 `json:"current" doc:"false once a later revision replaces it"`
	Name          string               `json:"name"`
	Unit          models.IndicatorUnit `json:"unit"`
	Direction     models.Direction     `json:"direction"`
	BaselineValue *string              `json:"baseline_value"`
	BaselineOn    *Date                `json:"baseline_on"`
	BaselineSrc   string               `json:"baseline_source"`
	TargetValue   *string              `json:"target_value"`
	TargetOn      *Date                `json:"target_on"`
	TargetSrc     string               `json:"target_source"`
	Reason        string               `json:"reason" doc:"why the definition changed; empty for the first revision"`
	RecordedBy    *int64               `json:"recorded_by"`
	RecordedAt    time.Time            `json:"recorded_at"`
}

func toIndicatorRevisionJSON(r *models.IndicatorRevision, current bool) indicatorRevisionJSON {
	return indicatorRevisionJSON{ID: r.ID, IndicatorID: r.IndicatorID, Revision: r.Revision, SupersedesID: r.SupersedesID, Current: current,
		Name: r.Name, Unit: r.Unit, Direction: r.Direction, BaselineValue: quantity(r.BaselineValue), BaselineOn: optDate(r.BaselineOn),
		BaselineSrc: r.BaselineSource, TargetValue: quantity(r.TargetValue), TargetOn: optDate(r.TargetOn), TargetSrc: r.TargetSource,
		Reason: r.Reason, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt}
}

func (s *Server) listIndicatorRevisions(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	revs, err := s.store.IndicatorRevisions(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := list[indicatorRevisionJSON]{Items: []indicatorRevisionJSON{}, Page: 1, PerPage: len(revs), Total: len(revs)}
	for i, r := range revs {
		out.Items = append(out.Items, toIndicatorRevisionJSON(r, i == len(revs)-1))
	}
	return c.JSON(out)
}

func (s *Server) correctIndicator(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var in models.IndicatorCorrectionInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	r, err := in.Validate(id)
	if err != nil {
		return err
	}
	if _, err := s.storeOf(c).CorrectIndicator(c.UserContext(), actorOf(c), r); err != nil {
		return err
	}
	return created(c, "/api/v1/indicators/"+strconv.FormatInt(id, 10)+"/revisions", toIndicatorRevisionJSON(r, true))
}
