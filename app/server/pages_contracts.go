package server

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// registerContractPages adds the forms on a contract line's page: its
// documents, and proposing a band exception (decided on /approvals).
func (s *Server) registerContractPages() {
	s.app.Post("/funding-lines/:id/documents", s.requireWebRole(writers), s.contractDocumentUpload)
	s.app.Get("/funding-lines/:id/documents/:document_id", s.requireWebUser, s.downloadContractDocument)
	s.limitBody("POST", "/funding-lines/:id/documents", models.MaxContractDocumentSize, "a contract document")
	s.app.Post("/funding-lines/:id/band-exceptions", s.requireWebRole(writers), s.bandExceptionPropose)
}

// contractDocumentUpload adds a document to the line; a refusal is shown
// beside its field on the line's page, and nothing is stored.
func (s *Server) contractDocumentUpload(c *fiber.Ctx) error {
	d, in, err := s.storeContractDocument(c)
	if err != nil {
		return s.refused(c, err, lineView{Form: "document", Document: in})
	}
	return c.Redirect(fmt.Sprintf("/funding-lines/%d#documents", d.FundingLineID), fiber.StatusSeeOther)
}

// bandExceptionPropose proposes a band exception for a second person to
// decide on /approvals.
func (s *Server) bandExceptionPropose(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	in := models.BandExceptionInput{ContractValue: c.FormValue("contract_value"), Reason: c.FormValue("reason")}
	if v := c.FormValue("decision_record_id"); v != "" {
		rid := formID(c, "decision_record_id")
		in.DecisionRecordID = &rid
	}
	x, err := in.Validate(id)
	if err == nil {
		err = s.store.ProposeBandException(c.UserContext(), actorOf(c), x)
	}
	if err != nil {
		return s.refused(c, err, lineView{Form: "band", Band: in})
	}
	return c.Redirect("/funding-lines/"+strconv.FormatInt(id, 10)+"#band-exceptions", fiber.StatusSeeOther)
}
