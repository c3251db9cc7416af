package server

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

// paymentRoutes are the tranche, payment run and finance-system routes.
func (s *Server) paymentRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/tranches/:id/claim", Summary: "Record that a due tranche has been claimed (claimed_on)", Roles: writers, Request: models.TrancheStatusInput{}, Response: trancheJSON{}, Handler: s.moveTranche(models.TrancheClaimed)},
		{Method: "POST", Path: "/api/v1/tranches/:id/withhold", Summary: "Withhold a due or claimed tranche, with a reason", Roles: writers, Request: models.TrancheStatusInput{}, Response: trancheJSON{}, Handler: s.moveTranche(models.TrancheWithheld)},
		{Method: "POST", Path: "/api/v1/tranches/:id/release", Summary: "Release a withheld tranche back to due, with a reason", Roles: writers, Request: models.TrancheStatusInput{}, Response: trancheJSON{}, Handler: s.moveTranche(models.TrancheDue)},
		{Method: "GET", Path: "/api/v1/payable-tranches", Summary: "Tranches a payment run may pay (due or claimed, outstanding, on approved awards of active lines, in no other run), soonest first", Roles: everyone, Query: payableQuery{}, Response: list[paymentJSON]{}, Handler: s.listPayableTranches},
		{Method: "GET", Path: "/api/v1/payment-runs", Summary: "List payment runs, newest first", Roles: everyone, Query: pageQuery{}, Response: list[paymentRunJSON]{}, Handler: s.listPaymentRuns},
		{Method: "POST", Path: "/api/v1/payment-runs", Summary: "Propose a payment run paying the tranches' outstanding amounts on pay_on (a second person approves it)", Roles: writers, Request: models.PaymentRunInput{}, Response: paymentRunJSON{}, Status: 201, Handler: s.proposePaymentRun},
		{Method: "GET", Path: "/api/v1/payment-runs/:id", Summary: "Get a payment run with its payments", Roles: everyone, Response: paymentRunJSON{}, Handler: s.getPaymentRun},
		{Method: "POST", Path: "/api/v1/payment-runs/:id/approve", Summary: "Approve a payment run (not your own; within your authority for its total): records an approved spend entry per payment, all or nothing", Roles: writers, Response: paymentRunJSON{}, Handler: s.decidePaymentRun(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/payment-runs/:id/reject", Summary: "Reject a proposed payment run with a reason", Roles: writers, Request: reasonInput{}, Response: paymentRunJSON{}, Handler: s.decidePaymentRun(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/payment-runs/:id/withdraw", Summary: "Withdraw your own proposed payment run", Roles: writers, Request: reasonInput{}, Response: paymentRunJSON{}, Handler: s.decidePaymentRun(models.DecisionWithdrawn)},
		{Method: "GET", Path: "/api/v1/payment-runs/:id/remittance", Summary: "Download an approved run's remittance (CSV, RFC 4180, columns in the README)", Roles: everyone, Files: []string{"text/csv"}, Conflict: true, Handler: s.paymentRunFile("remittance")},
		{Method: "POST", Path: "/api/v1/payment-confirmations", Summary: "Read back the finance system's export of paid items (multipart field file: CSV reference,date,amount): each row matched by reference to a run's payment or a spend entry, every unmatched or mismatched row listed", Roles: writers, Upload: "file", FileSize: MaxConfirmationUpload, Response: store.ConfirmationReport{}, Handler: s.confirmPayments},
		{Method: "GET", Path: "/api/v1/payment-runs/:id/journal", Summary: "Download an approved run's journal for the finance system (CSV: date, cost_centre, gl_code, supplier, amount, reference)", Roles: everyone, Files: []string{"text/csv"}, Conflict: true, Handler: s.paymentRunFile("journal")},
	}
}

type payableQuery struct {
	DueBy string `query:"due_by" doc:"only tranches due on or before this date (YYYY-MM-DD)"`
}

// paymentJSON is a tranche as a payment: proposed (payable) or in a run.
type paymentJSON struct {
	Reference       string  `json:"reference"`
	TrancheID       int64   `json:"tranche_id"`
	Seq             int     `json:"seq"`
	DueOn           Date    `json:"due_on"`
	Status          string  `json:"status"`
	Overdue         bool    `json:"overdue"`
	AwardID         int64   `json:"award_id"`
	AwardReference  string  `json:"award_reference"`
	FundingLineID   int64   `json:"funding_line_id"`
	FundingLine     string  `json:"funding_line"`
	PayeeID         int64   `json:"payee_id"`
	Payee           string  `json:"payee"`
	PayeeOrgID      *string `json:"payee_org_id"`
	Amount          Money   `json:"amount"`
	SpendEntryID    *int64  `json:"spend_entry_id"`
	ConfirmedOn     *Date   `json:"confirmed_on"`
	ConfirmedAmount *Money  `json:"confirmed_amount"`
}

func toPaymentJSON(p store.Payment, today time.Time) paymentJSON {
	return paymentJSON{Reference: p.Reference, TrancheID: p.TrancheID, Seq: p.Seq, DueOn: date(p.DueOn), Status: string(p.Status),
		Overdue: p.DueOn.Before(today) && (p.Status == models.TrancheDue || p.Status == models.TrancheClaimed),
		AwardID: p.AwardID, AwardReference: p.AwardReference, FundingLineID: p.FundingLineID, FundingLine: p.FundingLine,
		PayeeID: p.PayeeID, Payee: p.Payee, PayeeOrgID: p.PayeeOrgID, Amount: money(p.Amount), SpendEntryID: p.SpendEntryID,
		ConfirmedOn: optDate(p.ConfirmedOn), ConfirmedAmount: optMoney(p.ConfirmedAmount)}
}

type paymentRunJSON struct {
	ID             int64         `json:"id"`
	Reference      string        `json:"reference"`
	PayOn          Date          `json:"pay_on"`
	Note           string        `json:"note"`
	Status         string        `json:"status"`
	Total          Money         `json:"total"`
	ProposedBy     int64         `json:"proposed_by"`
	ProposedAt     time.Time     `json:"proposed_at"`
	DecidedBy      *int64        `json:"decided_by"`
	DecidedAt      *time.Time    `json:"decided_at"`
	DecisionReason *string       `json:"decision_reason"`
	Payments       []paymentJSON `json:"payments"`
}

func toPaymentRunJSON(r *models.PaymentRun, payments []store.Payment, today time.Time) paymentRunJSON {
	out := paymentRunJSON{ID: r.ID, Reference: r.Reference, PayOn: date(r.PayOn), Note: r.Note, Status: string(r.Status),
		Total: money(r.Total()), ProposedBy: r.ProposedBy, ProposedAt: r.ProposedAt, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt,
		DecisionReason: r.DecisionReason, Payments: []paymentJSON{}}
	for _, p := range payments {
		out.Payments = append(out.Payments, toPaymentJSON(p, today))
	}
	return out
}

func (s *Server) moveTranche(to models.TrancheStatus) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		var in models.TrancheStatusInput
		if len(c.Body()) > 0 {
			if err := decodeJSON(c, &in); err != nil {
				return err
			}
		}
		claimedOn, reason, err := in.Validate(to)
		if err != nil {
			return err
		}
		t, err := s.store.ChangeTrancheStatus(c.UserContext(), actorOf(c), id, to, claimedOn, reason)
		if err != nil {
			return err
		}
		t, err = s.store.Tranche(c.UserContext(), t.ID)
		if err != nil {
			return err
		}
		t.IsOverdue = t.Overdue(s.today())
		return c.JSON(toTrancheJSON(t))
	}
}

func (s *Server) listPayableTranches(c *fiber.Ctx) error {
	var dueBy *time.Time
	if v := c.Query("due_by"); v != "" {
		d, err := models.ParseDate(v)
		if err != nil {
			return &models.Error{Code: models.EINVALID, Message: "The input has problems; see fields.",
				Fields: []models.FieldError{{Field: "due_by", Message: "must be a date, YYYY-MM-DD"}}}
		}
		dueBy = &d
	}
	ps, err := s.store.PayableTranches(c.UserContext(), dueBy)
	if err != nil {
		return err
	}
	out := list[paymentJSON]{Items: []paymentJSON{}, Page: 1, PerPage: len(ps), Total: len(ps)}
	for _, p := range ps {
		out.Items = append(out.Items, toPaymentJSON(p, s.today()))
	}
	return c.JSON(out)
}

func (s *Server) listPaymentRuns(c *fiber.Ctx) error {
	var p models.Problems
	pg := pageOf(c, &p)
	if err := p.Err(); err != nil {
		return err
	}
	runs, total, err := s.store.PaymentRuns(c.UserContext(), pg)
	if err != nil {
		return err
	}
	out := list[paymentRunJSON]{Items: []paymentRunJSON{}, Page: pg.Number, PerPage: pg.PerPage, Total: total,
		Next: nextLink(c, pg, len(runs), total)}
	for _, r := range runs {
		out.Items = append(out.Items, toPaymentRunJSON(r, nil, s.today()))
	}
	return c.JSON(out)
}

func (s *Server) proposePaymentRun(c *fiber.Ctx) error {
	var in models.PaymentRunInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	payOn, note, ids, err := in.Validate()
	if err != nil {
		return err
	}
	run, err := s.storeOf(c).ProposePaymentRun(c.UserContext(), actorOf(c), payOn, note, ids)
	if err != nil {
		return err
	}
	body, err := s.paymentRunBody(c, run)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/payment-runs/"+strconv.FormatInt(run.ID, 10), body)
}

// paymentRunBody is the run with its payments as the API shows it.
func (s *Server) paymentRunBody(c *fiber.Ctx, run *models.PaymentRun) (paymentRunJSON, error) {
	ps, err := s.store.PaymentRunPayments(c.UserContext(), run.ID)
	return toPaymentRunJSON(run, ps, s.today()), err
}

func (s *Server) getPaymentRun(c *fiber.Ctx) error {
	body, err := s.loadPaymentRun(c)
	if err != nil {
		return err
	}
	return c.JSON(body)
}

// loadPaymentRun reads the run the path names, with its payments.
func (s *Server) loadPaymentRun(c *fiber.Ctx) (paymentRunJSON, error) {
	id, err := pathID(c)
	if err != nil {
		return paymentRunJSON{}, err
	}
	run, err := s.store.PaymentRun(c.UserContext(), id)
	if err != nil {
		return paymentRunJSON{}, err
	}
	return s.paymentRunBody(c, run)
}

func (s *Server) decidePaymentRun(to models.DecisionStatus) fiber.Handler {
	decide := func(ctx context.Context, a models.Actor, id int64, to models.DecisionStatus, reason string) (paymentRunJSON, error) {
		run, err := s.store.DecidePaymentRun(ctx, a, id, to, reason)
		if err != nil {
			return paymentRunJSON{}, err
		}
		ps, err := s.store.PaymentRunPayments(ctx, run.ID)
		return toPaymentRunJSON(run, ps, s.today()), err
	}
	return decideHandler(to, decide, func(r paymentRunJSON) any { return r })
}

// paymentRunFile sends an approved run's remittance or journal as CSV, on
// the API and the web alike; ECONFLICT while the run is not approved.
func (s *Server) paymentRunFile(kind string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		run, err := s.store.PaymentRun(c.UserContext(), id)
		if err != nil {
			return err
		}
		if run.Status != models.DecisionApproved {
			return models.Errorf(models.ECONFLICT, "Payment run %s is %s: only an approved run has a %s.", run.Reference, run.Status, kind)
		}
		ps, err := s.store.PaymentRunPayments(c.UserContext(), id)
		if err != nil {
			return err
		}
		var b strings.Builder
		write := export.Remittance
		if kind == "journal" {
			write = export.Journal
		}
		if err := write(&b, run, ps); err != nil {
			return err
		}
		if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "payment_run." + kind, Entity: "payment_run",
			EntityID: run.ID, After: map[string]any{"reference": run.Reference, "payments": len(ps)}}); err != nil {
			return err
		}
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+run.Reference+"-"+kind+`.csv"`)
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		return c.SendString(b.String())
	}
}

// MaxConfirmationUpload bounds the finance system's export read back.
const MaxConfirmationUpload = 10 << 20

// readConfirmations reads the uploaded finance-system export: the report,
// or EINVALID naming each bad row on the field file.
func (s *Server) readConfirmations(c *fiber.Ctx) (*store.ConfirmationReport, error) {
	fh, err := c.FormFile("file")
	if err != nil {
		return nil, &models.Error{Code: models.EINVALID, Message: "Choose the finance system's export (CSV) to read back.",
			Fields: []models.FieldError{{Field: "file", Message: "choose a CSV file with the columns reference,date,amount"}}}
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	report, err := s.store.ConfirmPayments(c.UserContext(), actorOf(c), f)
	if err != nil {
		return nil, fileProblems(err, "Nothing was read back: the file has problems, listed by line.")
	}
	return report, nil
}

// fileProblems turns an *store.ImportError into EINVALID with each problem,
// by line, on the field file; other errors pass through.
func fileProblems(err error, message string) error {
	var ie *store.ImportError
	if !errors.As(err, &ie) {
		return err
	}
	me := &models.Error{Code: models.EINVALID, Message: message}
	for _, r := range ie.Rows {
		me.Fields = append(me.Fields, models.FieldError{Field: "file", Message: r.Where() + ": " + strings.TrimSpace(r.Field+" "+r.Message)})
	}
	return me
}

func (s *Server) confirmPayments(c *fiber.Ctx) error {
	report, err := s.readConfirmations(c)
	if err != nil {
		return err
	}
	return c.JSON(report)
}
