package server

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// Office holders' expenses (Schedule paragraph 1(d) of the Specified
// Information Order): recorded one by one or as a CSV, each pending until
// a second person approves it; only approved ones are published.
func (s *Server) expenseRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/office-holder-expenses", Summary: "List office holders' expenses (all, or one financial year's), with totals by financial year", Roles: everyone, Query: expenseQuery{}, Response: expensesJSON{}, Handler: s.listExpenses},
		{Method: "POST", Path: "/api/v1/office-holder-expenses", Summary: "Record an office holder's expense (pending until a second person approves it); send an Idempotency-Key header to make retries safe", Roles: writers, Request: models.OfficeHolderExpenseInput{}, Response: expenseJSON{}, Status: 201, Handler: s.recordExpense},
		{Method: "POST", Path: "/api/v1/office-holder-expenses/import", Summary: "Record a CSV of office holders' expenses (office_holder,office,incurred_on,category,description,amount), all or nothing, each pending; send an Idempotency-Key header to make retries safe", Roles: writers, Upload: "file", FileSize: MaxExpensesUpload, Response: list[expenseJSON]{}, Status: 201, Handler: s.importExpenses},
		{Method: "POST", Path: "/api/v1/office-holder-expenses/:id/approve", Summary: "Approve a pending expense (not your own; within your authority in the scheme of delegation)", Roles: writers, Response: expenseJSON{}, Handler: s.decideExpense(models.DecisionApproved)},
		{Method: "POST", Path: "/api/v1/office-holder-expenses/:id/reject", Summary: "Reject a pending expense with a reason", Roles: writers, Request: reasonInput{}, Response: expenseJSON{}, Handler: s.decideExpense(models.DecisionRejected)},
		{Method: "POST", Path: "/api/v1/office-holder-expenses/:id/withdraw", Summary: "Withdraw an expense you recorded that is still pending", Roles: writers, Request: reasonInput{}, Response: expenseJSON{}, Handler: s.decideExpense(models.DecisionWithdrawn)},
	}
}

// MaxExpensesUpload bounds an expenses CSV.
const MaxExpensesUpload = 5 << 20

type expenseQuery struct {
	FY      string `query:"fy" doc:"financial year, e.g. 2024-25; default: every year"`
	Page    int    `query:"page" doc:"page number from 1; follow next rather than counting"`
	PerPage int    `query:"per_page" doc:"items per page, 1 to 500 (default 50)"`
}

type expenseJSON struct {
	ID             int64      `json:"id"`
	OfficeHolder   string     `json:"office_holder"`
	Office         string     `json:"office"`
	IncurredOn     string     `json:"incurred_on"`
	FY             string     `json:"fy"`
	Category       string     `json:"category"`
	Description    string     `json:"description"`
	Amount         Money      `json:"amount"`
	Status         string     `json:"status"`
	RecordedBy     int64      `json:"recorded_by"`
	RecordedAt     time.Time  `json:"recorded_at"`
	DecidedBy      *int64     `json:"decided_by"`
	DecidedAt      *time.Time `json:"decided_at"`
	DecisionReason *string    `json:"decision_reason"`
}

// expenseYearJSON is one financial year's totals.
type expenseYearJSON struct {
	FY       string `json:"fy"`
	Approved Money  `json:"approved"`
	Pending  Money  `json:"pending"`
	Entries  int    `json:"entries"`
}

// expensesJSON is a page of expenses, paged as the lists are, with every
// year's totals.
type expensesJSON struct {
	Items   []expenseJSON     `json:"items"`
	Page    int               `json:"page"`
	PerPage int               `json:"per_page"`
	Total   int               `json:"total" doc:"how many expenses the year (or every year) has, on every page"`
	Amount  Money             `json:"amount" doc:"what those expenses add up to, whatever their status"`
	Next    string            `json:"next,omitempty" doc:"the next page's path and query; absent on the last page"`
	Totals  []expenseYearJSON `json:"totals"`
}

func toExpenseJSON(e *models.OfficeHolderExpense) expenseJSON {
	return expenseJSON{ID: e.ID, OfficeHolder: e.OfficeHolder, Office: e.Office, IncurredOn: e.IncurredOn.Format(models.DateLayout),
		FY: models.FinancialYearOf(e.IncurredOn).String(), Category: e.Category, Description: e.Description, Amount: money(e.Amount),
		Status: string(e.Status), RecordedBy: e.RecordedBy, RecordedAt: e.RecordedAt, DecidedBy: e.DecidedBy, DecidedAt: e.DecidedAt,
		DecisionReason: e.DecisionReason}
}

// expensesOf reads page pg of the expenses of the financial year fy (""
// for every year) and the totals of every year; EINVALID naming fy.
func (s *Server) expensesOf(c *fiber.Ctx, fy string, pg store.Page) (expensesJSON, error) {
	from, to := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	if strings.TrimSpace(fy) != "" {
		y, err := models.ParseFinancialYear(fy)
		if err != nil {
			return expensesJSON{}, &models.Error{Code: models.EINVALID, Message: "The financial year " + models.ErrorMessage(err) + ".",
				Fields: []models.FieldError{{Field: "fy", Message: models.ErrorMessage(err)}}}
		}
		from, to = y.Start(), y.End()
	}
	l, err := s.store.AllOfficeHolderExpenses(c.UserContext(), from, to, pg)
	if err != nil {
		return expensesJSON{}, err
	}
	es := l.Expenses
	ts, err := s.store.OfficeHolderExpenseTotals(c.UserContext())
	if err != nil {
		return expensesJSON{}, err
	}
	out := expensesJSON{Items: make([]expenseJSON, len(es)), Totals: make([]expenseYearJSON, len(ts)), Page: pg.Number, PerPage: pg.PerPage,
		Total: l.Count, Amount: money(l.Amount), Next: nextLink(c, pg, len(es), l.Count)}
	for i := range es {
		out.Items[i] = toExpenseJSON(&es[i])
	}
	for i, t := range ts {
		out.Totals[i] = expenseYearJSON{FY: t.Year.String(), Approved: money(t.Approved), Pending: money(t.Pending), Entries: t.Entries}
	}
	return out, nil
}

func (s *Server) listExpenses(c *fiber.Ctx) error {
	var p models.Problems
	pg := pageOf(c, &p)
	if err := p.Err(); err != nil {
		return err
	}
	out, err := s.expensesOf(c, c.Query("fy"), pg)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) recordExpense(c *fiber.Ctx) error {
	var in models.OfficeHolderExpenseInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := in.Validate()
	if err != nil {
		return err
	}
	if err := s.storeOf(c).RecordOfficeHolderExpenses(c.UserContext(), actorOf(c), e); err != nil {
		return err
	}
	return created(c, "/api/v1/office-holder-expenses?fy="+models.FinancialYearOf(e.IncurredOn).String(), toExpenseJSON(e))
}

// importExpenses records an uploaded CSV of expenses, all or nothing; a
// file with problems is EINVALID, each problem on the field file by line.
func (s *Server) importExpenses(c *fiber.Ctx) error {
	fh, err := c.FormFile("file")
	if err != nil {
		return &models.Error{Code: models.EINVALID, Message: "Choose a CSV file of expenses to record.",
			Fields: []models.FieldError{{Field: "file", Message: "choose a CSV file with the columns " + strings.Join(models.OfficeHolderExpenseColumns, ",")}}}
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	es, err := s.storeOf(c).ImportOfficeHolderExpenses(c.UserContext(), actorOf(c), f)
	if err != nil {
		return fileProblems(err, "Nothing was recorded: the file has problems, listed by line.")
	}
	out := list[expenseJSON]{Items: make([]expenseJSON, len(es)), Page: 1, PerPage: len(es), Total: len(es)}
	for i, e := range es {
		out.Items[i] = toExpenseJSON(e)
	}
	c.Location("/api/v1/office-holder-expenses")
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) decideExpense(to models.DecisionStatus) fiber.Handler {
	return decideHandler(to, s.store.DecideOfficeHolderExpense, func(e *models.OfficeHolderExpense) any { return toExpenseJSON(e) })
}
