package server

import (
	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// Office holders' expenses on the web: the list with each financial year's
// totals, and the form that records one for a second person to approve
// (on /approvals).
func (s *Server) registerExpensePages() {
	s.app.Get("/expenses", s.requireWebUser, s.expensesPage)
	s.app.Get("/expenses/new", s.requireWebRole(writers), s.expenseFormPage)
	s.app.Post("/expenses/new", s.requireWebRole(writers), s.expenseSave)
}

func (s *Server) expensesPage(c *fiber.Ctx) error {
	fy := c.Query("fy")
	pg, errs := webPageOf(c)
	var out expensesJSON
	var err error
	if errs == nil {
		out, err = s.expensesOf(c, fy, pg)
		if errs, err = formErrors(err); err != nil {
			return err
		}
	}
	if errs != nil { // a bad year or page: every year's first page, with the message beside the field
		c.Status(fiber.StatusUnprocessableEntity)
		pg = store.Page{Number: 1, PerPage: 50}
		if out, err = s.expensesOf(c, "", pg); err != nil {
			return err
		}
	}
	pager := numberedPager(c, "expenses", pg, len(out.Items), out.Total)
	pager.Amount = &out.Amount
	return s.render(c, "expenses/list", fiber.Map{"Title": "Office holders' expenses", "FY": fy, "Expenses": out.Items,
		"Totals": out.Totals, "Errors": errs, "Pager": pager})
}

func (s *Server) expenseFormPage(c *fiber.Ctx) error {
	return s.renderForm(c, "expenses/form", nil, fiber.Map{"Title": "Record an office holder's expense", "In": models.OfficeHolderExpenseInput{}})
}

func (s *Server) expenseSave(c *fiber.Ctx) error {
	in := models.OfficeHolderExpenseInput{OfficeHolder: c.FormValue("office_holder"), Office: c.FormValue("office"),
		IncurredOn: c.FormValue("incurred_on"), Category: c.FormValue("category"), Description: c.FormValue("description"),
		Amount: c.FormValue("amount")}
	e, err := in.Validate()
	if err == nil {
		err = s.store.RecordOfficeHolderExpenses(c.UserContext(), actorOf(c), e)
	}
	if err != nil {
		errs, err := formErrors(err)
		if err != nil {
			return err
		}
		return s.renderForm(c, "expenses/form", errs, fiber.Map{"Title": "Record an office holder's expense", "In": in})
	}
	return c.Redirect("/expenses?fy="+models.FinancialYearOf(e.IncurredOn).String(), fiber.StatusSeeOther)
}
