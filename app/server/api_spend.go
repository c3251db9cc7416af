package server

import (
	"context"
	"crypto/sha256"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

type spendJSON struct {
	ID              int64              `json:"id"`
	FundingLineID   int64              `json:"funding_line_id"`
	AwardID         *int64             `json:"award_id"`
	TrancheID       *int64             `json:"tranche_id"`
	PayeeID         int64              `json:"payee_id"`
	Amount          Money              `json:"amount"`
	IncurredOn      Date               `json:"incurred_on"`
	Category        string             `json:"category"`
	Reference       string             `json:"reference"`
	Description     string             `json:"description"`
	Purpose         string             `json:"purpose"`
	VFMReason       string             `json:"vfm_reason"`
	Status          models.SpendStatus `json:"status"`
	RecordedBy      int64              `json:"recorded_by"`
	RecordedAt      time.Time          `json:"recorded_at"`
	DecidedBy       *int64             `json:"decided_by"`
	DecidedAt       *time.Time         `json:"decided_at"`
	RejectionReason *string            `json:"rejection_reason"`
	ReversesID      *int64             `json:"reverses_id"`
	ReversalReason  *string            `json:"reversal_reason"`
	ImportID        *int64             `json:"import_id"`
}

func toSpendJSON(e *models.SpendEntry) spendJSON {
	return spendJSON{ID: e.ID, FundingLineID: e.FundingLineID, AwardID: e.AwardID, TrancheID: e.TrancheID, PayeeID: e.PayeeID,
		Amount: money(e.Amount), IncurredOn: date(e.IncurredOn), Category: e.Category, Reference: e.Reference,
		Description: e.Description, Purpose: e.Purpose, VFMReason: e.VFMReason, Status: e.Status, RecordedBy: e.RecordedBy,
		RecordedAt: e.RecordedAt, DecidedBy: e.DecidedBy, DecidedAt: e.DecidedAt, RejectionReason: e.RejectionReason,
		ReversesID: e.ReversesID, ReversalReason: e.ReversalReason, ImportID: e.ImportID}
}

type reasonInput struct {
	Reason string `json:"reason"`
}

type spendQuery struct {
	FundingLineID int64  `query:"funding_line_id"`
	AwardID       int64  `query:"award_id"`
	PayeeID       int64  `query:"payee_id"`
	ImportID      int64  `query:"import_id" doc:"entries of one CSV import"`
	Status        string `query:"status"`
	From          string `query:"from" doc:"first date incurred, YYYY-MM-DD"`
	To            string `query:"to" doc:"last date incurred, YYYY-MM-DD"`
	FY            string `query:"fy" doc:"financial year, e.g. 2024-25"`
	Quarter       string `query:"quarter" doc:"Q1 to Q4 of the financial year"`
	Q             string `query:"q" doc:"search the description, reference, payee's name and line's code or title (at most 100 characters; % and _ match themselves)"`
	After         string `query:"after" doc:"cursor: the entries after this one in the list's order (newest first); the next link carries it"`
	Before        string `query:"before" doc:"cursor: the entries before this one; give after or before, not both"`
	Page          int    `query:"page" doc:"page number from 1, used alone (offset) or with a cursor (numbering only); follow next rather than counting"`
	PerPage       int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

// maxIdempotencyKey bounds the header so it cannot bloat the index.
const maxIdempotencyKey = 200

// idempotency reads a creating POST's Idempotency-Key header (empty when
// none is sent) and the SHA-256 of its body, which a retry must repeat.
func idempotency(c *fiber.Ctx) (key string, requestHash []byte, err error) {
	key = strings.TrimSpace(c.Get("Idempotency-Key"))
	if len(key) > maxIdempotencyKey {
		return "", nil, models.Errorf(models.EBADREQUEST, "The Idempotency-Key header is over %d characters.", maxIdempotencyKey)
	}
	sum := sha256.Sum256(c.Body())
	return key, sum[:], nil
}

func (s *Server) recordSpend(c *fiber.Ctx) error {
	key, hash, err := idempotency(c)
	if err != nil {
		return err
	}
	if err := models.CheckText(key, false); err != nil {
		return models.Errorf(models.EBADREQUEST, "The Idempotency-Key header %s.", models.ErrorMessage(err))
	}
	var in models.SpendInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := in.Validate()
	if err != nil {
		return err
	}
	replayed, err := s.store.RecordSpend(c.UserContext(), actorOf(c), e, key, hash)
	if err != nil {
		return err
	}
	if replayed {
		c.Set("Idempotent-Replayed", "true")
	}
	return created(c, "/api/v1/spend/"+strconv.FormatInt(e.ID, 10), toSpendJSON(e))
}

// spendFilter reads the spend list filters; a financial year, with an
// optional quarter, narrows the dates.
func spendFilter(c *fiber.Ctx) (store.SpendFilter, error) {
	var p models.Problems
	f := store.SpendFilter{
		FundingLineID: queryID(c, "funding_line_id", &p),
		AwardID:       queryID(c, "award_id", &p),
		PayeeID:       queryID(c, "payee_id", &p),
		ImportID:      queryID(c, "import_id", &p),
		Status:        models.SpendStatus(c.Query("status")),
		Search:        querySearch(c, "q", &p),
		Page:          pageOf(c, &p),
	}
	for _, k := range []struct {
		name string
		dst  **store.SpendCursor
	}{{"after", &f.After}, {"before", &f.Before}} {
		if v := c.Query(k.name); v != "" {
			cur, ok := store.ParseSpendCursor(v)
			if !ok {
				p.Add(k.name, "is not a position in the ledger; follow the list's own links")
			}
			*k.dst = cur
		}
	}
	if f.After != nil && f.Before != nil {
		p.Add("before", "give after or before, not both")
	}
	if f.Status != "" && !f.Status.Valid() {
		p.Add("status", "must be pending, approved or rejected")
	}
	for _, d := range []struct {
		name string
		dst  **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(d.name); v != "" {
			t, err := models.ParseDate(v)
			if err != nil {
				p.Add(d.name, "%s", models.ErrorMessage(err))
			}
			*d.dst = &t
		}
	}
	if v := c.Query("fy"); v != "" {
		fy, err := models.ParseFinancialYear(v)
		if err != nil {
			p.Add("fy", "%s", models.ErrorMessage(err))
		}
		start, end := fy.Start(), fy.End()
		if q := c.Query("quarter"); q != "" {
			qq, err := models.ParseQuarter(q)
			if err != nil {
				p.Add("quarter", "%s", models.ErrorMessage(err))
			} else {
				start, end = fy.QuarterRange(qq)
			}
		}
		if f.From == nil || f.From.Before(start) {
			f.From = &start
		}
		if f.To == nil || f.To.After(end) {
			f.To = &end
		}
	} else if c.Query("quarter") != "" {
		p.Add("quarter", "give the financial year (fy) too")
	}
	return f, p.Err()
}

func (s *Server) listSpend(c *fiber.Ctx) error {
	f, err := spendFilter(c)
	if err != nil {
		return err
	}
	l, err := s.store.SpendPage(c.UserContext(), f)
	if err != nil {
		return err
	}
	out := list[spendJSON]{Items: []spendJSON{}, Page: f.Page.Number, PerPage: f.Page.PerPage, Total: l.Count,
		Next: ledgerPager(c, f.Page, l).Next}
	for _, e := range l.Entries {
		out.Items = append(out.Items, toSpendJSON(e))
	}
	return c.JSON(out)
}

func (s *Server) getSpend(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := s.store.SpendEntry(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toSpendJSON(e))
}

func (s *Server) approveSpend(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	e, err := s.store.ApproveSpend(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toSpendJSON(e))
}

// withReason reads the entry id and a required {"reason": …} body, and
// passes them to act, the store's rejection or reversal.
func withReason[T any](c *fiber.Ctx, act func(ctx context.Context, a models.Actor, id int64, reason string) (T, error)) (T, error) {
	var zero T
	id, err := pathID(c)
	if err != nil {
		return zero, err
	}
	var in reasonInput
	if err := decodeJSON(c, &in); err != nil {
		return zero, err
	}
	r, err := models.RequireReason(in.Reason)
	if err != nil {
		return zero, err
	}
	return act(c.UserContext(), actorOf(c), id, r)
}

func (s *Server) rejectSpend(c *fiber.Ctx) error {
	e, err := withReason(c, s.store.RejectSpend)
	if err != nil {
		return err
	}
	return c.JSON(toSpendJSON(e))
}

func (s *Server) reverseSpend(c *fiber.Ctx) error {
	e, err := withReason(c, s.storeOf(c).ReverseSpend)
	if err != nil {
		return err
	}
	return created(c, "/api/v1/spend/"+strconv.FormatInt(e.ID, 10), toSpendJSON(e))
}

// spendImportJSON is an import and where its entries stand.
type spendImportJSON struct {
	ID           int64     `json:"id"`
	FileName     string    `json:"file_name"`
	Rows         int       `json:"rows"`
	Total        Money     `json:"total"`
	Forced       bool      `json:"forced"`
	ImportedBy   int64     `json:"imported_by"`
	ImportedAt   time.Time `json:"imported_at"`
	Pending      int       `json:"pending"`
	PendingTotal Money     `json:"pending_total"`
	Approved     int       `json:"approved"`
	Rejected     int       `json:"rejected"`
}

func toSpendImportJSON(i *store.SpendImport) spendImportJSON {
	return spendImportJSON{ID: i.ID, FileName: i.FileName, Rows: i.Rows, Total: money(i.Total), Forced: i.Forced,
		ImportedBy: i.ImportedBy, ImportedAt: i.ImportedAt, Pending: i.Pending, PendingTotal: money(i.PendingTotal),
		Approved: i.Approved, Rejected: i.Rejected}
}

// importDecisionJSON is what deciding a whole import did.
type importDecisionJSON struct {
	ImportID  int64              `json:"import_id"`
	Status    models.SpendStatus `json:"status"`
	Entries   int                `json:"entries"`
	Total     Money              `json:"total"`
	DecidedAt time.Time          `json:"decided_at"`
}

func (s *Server) getSpendImport(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	imp, err := s.store.SpendImportByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(toSpendImportJSON(imp))
}

func (s *Server) approveSpendImport(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	d, err := s.store.ApproveImport(c.UserContext(), actorOf(c), id)
	if err != nil {
		return err
	}
	return c.JSON(toImportDecisionJSON(d))
}

func (s *Server) rejectSpendImport(c *fiber.Ctx) error {
	d, err := withReason(c, s.store.RejectImport)
	if err != nil {
		return err
	}
	return c.JSON(toImportDecisionJSON(d))
}

func toImportDecisionJSON(d *store.ImportDecision) importDecisionJSON {
	return importDecisionJSON{ImportID: d.ImportID, Status: d.Status, Entries: d.Entries, Total: money(d.Total), DecidedAt: d.DecidedAt}
}
