package server

import (
	"errors"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// awardOption and trancheOption are the record-spend form's choices: the
// chosen line's approved awards and their tranches not yet paid or
// withheld.
type awardOption struct {
	ID, LineID      int64
	Reference, Line string
	Outstanding     Money
}

type trancheOption struct {
	ID, AwardID int64
	Seq         int
	DueOn       Date
	Outstanding Money
	Status      string
}

func (s *Server) spendFormAwards(c *fiber.Ctx, lineID int64) ([]awardOption, []trancheOption, error) {
	as, err := s.store.ApprovedAwards(c.UserContext(), lineID)
	if err != nil {
		return nil, nil, err
	}
	codes := map[int64]string{}
	var awards []awardOption
	var tranches []trancheOption
	for _, a := range as {
		if _, ok := codes[a.FundingLineID]; !ok {
			fl, err := s.store.FundingLine(c.UserContext(), a.FundingLineID)
			if err != nil {
				return nil, nil, err
			}
			codes[a.FundingLineID] = fl.Code
		}
		awards = append(awards, awardOption{ID: a.ID, LineID: a.FundingLineID, Reference: a.Reference, Line: codes[a.FundingLineID],
			Outstanding: money(a.Figures.Outstanding)})
		for _, t := range a.Tranches {
			if t.Status == models.TranchePaid || t.Status == models.TrancheWithheld || !t.Outstanding().IsPositive() {
				continue
			}
			tranches = append(tranches, trancheOption{ID: t.ID, AwardID: a.ID, Seq: t.Seq, DueOn: date(t.DueOn),
				Outstanding: money(t.Outstanding()), Status: string(t.Status)})
		}
	}
	return awards, tranches, nil
}

func derefID(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

func (s *Server) registerPaymentPages() {
	s.app.Post("/tranches/:id/:verb", s.requireWebRole(writers), s.trancheMovePage)
	s.app.Get("/payment-runs", s.requireWebUser, s.paymentRunsPage)
	s.app.Post("/payment-runs", s.requireWebRole(writers), s.paymentRunCreatePage)
	s.app.Post("/payment-runs/confirmations", s.requireWebRole(writers), s.confirmationsPage)
	s.app.Get("/payment-runs/:id", s.requireWebUser, s.paymentRunPage)
	s.app.Get("/payment-runs/:id/remittance.csv", s.requireWebUser, s.paymentRunFile("remittance"))
	s.app.Get("/payment-runs/:id/journal.csv", s.requireWebUser, s.paymentRunFile("journal"))
}

func (s *Server) awardOfTranche(c *fiber.Ctx, trancheID int64) (int64, error) {
	t, err := s.store.Tranche(c.UserContext(), trancheID)
	if err != nil {
		return 0, err
	}
	return t.AwardID, nil
}

var trancheVerbs = map[string]models.TrancheStatus{"claim": models.TrancheClaimed, "withhold": models.TrancheWithheld, "release": models.TrancheDue}

func (s *Server) trancheMovePage(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	to, ok := trancheVerbs[c.Params("verb")]
	if !ok {
		return models.Errorf(models.ENOTFOUND, "A tranche cannot %q.", c.Params("verb"))
	}
	awardID, err := s.awardOfTranche(c, id)
	if err != nil {
		return err
	}
	in := models.TrancheStatusInput{ClaimedOn: c.FormValue("claimed_on"), Reason: c.FormValue("reason")}
	claimedOn, reason, err := in.Validate(to)
	if err == nil {
		_, err = s.store.ChangeTrancheStatus(c.UserContext(), actorOf(c), id, to, claimedOn, reason)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.awardView(c, awardID, variationForm{}, nil, id, errs)
	}
	return c.Redirect("/awards/"+strconv.FormatInt(awardID, 10), fiber.StatusSeeOther)
}

func (s *Server) paymentRunsPage(c *fiber.Ctx) error {
	return s.paymentRunsShow(c, models.PaymentRunInput{}, nil)
}

// paymentRunsShow lists the runs and the tranches a new run may pay, with
// the proposal form (and its problems beside the fields).
func (s *Server) paymentRunsShow(c *fiber.Ctx, in models.PaymentRunInput, errs map[string]string) error {
	var p models.Problems
	pg := pageOf(c, &p)
	if p.Err() != nil {
		pg = store.Page{Number: 1, PerPage: 50}
	}
	runs, total, err := s.store.PaymentRuns(c.UserContext(), pg)
	if err != nil {
		return err
	}
	payable, err := s.store.PayableTranches(c.UserContext(), nil)
	if err != nil {
		return err
	}
	rows := make([]paymentRunJSON, len(runs))
	for i, r := range runs {
		rows[i] = toPaymentRunJSON(r, nil, s.today())
	}
	chosen := map[int64]bool{}
	for _, id := range in.TrancheIDs {
		chosen[id] = true
	}
	var payments []paymentJSON
	for _, p := range payable {
		payments = append(payments, toPaymentJSON(p, s.today()))
	}
	if in.PayOn == "" {
		in.PayOn = string(date(s.today()))
	}
	status := fiber.StatusOK
	if errs != nil {
		status = fiber.StatusUnprocessableEntity
	}
	return s.render(c.Status(status), "payments/runs", fiber.Map{"Title": "Payment runs", "Runs": rows,
		"Pager": numberedPager(c, "payment runs", pg, len(rows), total), "Payable": payments,
		"In": in, "Chosen": chosen, "Errors": errs})
}

func (s *Server) paymentRunCreatePage(c *fiber.Ctx) error {
	in := models.PaymentRunInput{PayOn: c.FormValue("pay_on"), Note: c.FormValue("note")}
	for _, v := range c.Context().PostArgs().PeekMulti("tranche_ids") {
		id, err := models.ParseID(string(v))
		if err != nil {
			id = -1
		}
		in.TrancheIDs = append(in.TrancheIDs, id)
	}
	payOn, note, ids, err := in.Validate()
	var run *models.PaymentRun
	if err == nil {
		run, err = s.store.ProposePaymentRun(c.UserContext(), actorOf(c), payOn, note, ids)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.paymentRunsShow(c, in, errs)
	}
	return c.Redirect("/payment-runs/"+strconv.FormatInt(run.ID, 10), fiber.StatusSeeOther)
}

func (s *Server) paymentRunPage(c *fiber.Ctx) error {
	body, err := s.loadPaymentRun(c)
	if err != nil {
		return err
	}
	return s.render(c, "payments/run", fiber.Map{"Title": "Payment run " + body.Reference, "R": body})
}

// confirmationsPage reads back the finance system's export and lists every
// row's outcome, or every bad row beside the file field.
func (s *Server) confirmationsPage(c *fiber.Ctx) error {
	report, rerr := s.readConfirmations(c)
	if rerr != nil {
		errs, err := formErrors(rerr)
		if err != nil {
			return err
		}
		var lines []string
		var me *models.Error
		if errors.As(rerr, &me) {
			for _, f := range me.Fields {
				lines = append(lines, f.Message)
			}
		}
		return s.render(c.Status(fiber.StatusUnprocessableEntity), "payments/confirmations", fiber.Map{"Title": "Finance system export",
			"Errors": errs, "Problems": lines})
	}
	return s.render(c, "payments/confirmations", fiber.Map{"Title": "Finance system export", "Report": report})
}

func derefText(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
