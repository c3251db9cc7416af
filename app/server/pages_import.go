package server

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/store"
	"granttrack/models"
)

// MaxImportFile bounds a spend CSV uploaded through the web; larger files go
// through `granttrack import spend`, which streams from disk.
const MaxImportFile = 50 << 20

// The spend import page: the web face of `granttrack import spend`, with the
// same all-or-nothing import and every bad row listed.

func (s *Server) registerImportPages() {
	s.app.Get("/spend/import", s.requireWebRole(writers), s.spendImportPage)
	s.app.Post("/spend/import", s.requireWebRole(writers), s.spendImport)
	s.limitBody("POST", "/spend/import", MaxImportFile, "a spend file")
	s.app.Get("/spend/imports", s.requireWebUser, s.spendImportsPage)
	s.app.Get("/spend/imports/:id", s.requireWebUser, s.spendImportShowPage)
	s.app.Post("/spend/imports/:id/approve", s.requireWebRole(writers), s.spendImportDecide(true))
	s.app.Post("/spend/imports/:id/reject", s.requireWebRole(writers), s.spendImportDecide(false))
}

func (s *Server) spendImportPage(c *fiber.Ctx) error {
	return s.spendImportForm(c, fiber.StatusOK, fiber.Map{})
}

func (s *Server) spendImportForm(c *fiber.Ctx, status int, data fiber.Map) error {
	data["Title"] = "Import spend"
	data["Columns"] = models.SpendImportColumns
	data["Categories"] = models.SpendCategories
	data["MaxSize"] = models.HumanSize(MaxImportFile)
	return s.render(c.Status(status), "spend/import", data)
}

func (s *Server) spendImport(c *fiber.Ctx) error {
	fh, err := c.FormFile("file")
	if err != nil || fh.Filename == "" {
		return s.spendImportForm(c, fiber.StatusUnprocessableEntity, fiber.Map{"Problem": "Choose a CSV file to import."})
	}
	name := models.SanitiseFileName(fh.Filename)
	if fh.Size > MaxImportFile {
		return s.spendImportForm(c, fiber.StatusUnprocessableEntity, fiber.Map{"FileName": name,
			"Problem": "The file is " + models.HumanSize(fh.Size) + "; a spend file may be at most " + models.HumanSize(MaxImportFile) +
				" here. Split it, or import it with granttrack import spend."})
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	force := c.FormValue("force") != ""
	res, err := s.store.ImportSpend(c.UserContext(), actorOf(c), f, store.ImportOptions{FileName: name, Force: force})
	var ie *store.ImportError
	var me *models.Error
	switch {
	case errors.As(err, &ie):
		return s.spendImportForm(c, fiber.StatusUnprocessableEntity, fiber.Map{"FileName": name, "Rows": ie.Rows, "More": ie.More})
	case errors.As(err, &me) && me.Code == models.ECONFLICT && len(me.Fields) == 1 && me.Fields[0].Field == "force":
		return s.spendImportForm(c, fiber.StatusConflict, fiber.Map{"FileName": name, "OfferForce": true,
			"Problem": "Nothing was imported: " + me.Fields[0].Message + ". Importing it again records its spend a second time."})
	case errors.As(err, &me) && me.Code == models.EINVALID:
		return s.spendImportForm(c, fiber.StatusUnprocessableEntity, fiber.Map{"FileName": name, "Problem": "Nothing was imported. " + me.Message})
	case err != nil:
		return err
	}
	return s.spendImportForm(c, fiber.StatusOK, fiber.Map{"FileName": name, "Result": fiber.Map{"ID": res.ID, "Rows": res.Rows,
		"Total": money(res.Total), "Forced": force, "Encoding": res.Encoding, "Converted": res.Encoding != store.EncodingUTF8}})
}

// importEntriesShown bounds the entries listed on an import's page; the
// spend list, filtered by import, pages through the rest.
const importEntriesShown = 200

func (s *Server) spendImportShowPage(c *fiber.Ctx) error {
	return s.spendImportShow(c, fiber.StatusOK, "")
}

// spendImportShow draws an import: its file, where its entries stand, the
// first of its entries, and (to anyone but its importer, while entries
// await a decision) approve-all and reject-all; problem is a refusal.
func (s *Server) spendImportShow(c *fiber.Ctx, status int, problem string) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	imp, err := s.store.SpendImportByID(c.UserContext(), id)
	if err != nil {
		return err
	}
	es, total, err := s.store.SpendEntries(c.UserContext(), store.SpendFilter{ImportID: id, Page: store.Page{Number: 1, PerPage: importEntriesShown}})
	if err != nil {
		return err
	}
	rows, err := s.spendRows(c, es)
	if err != nil {
		return err
	}
	u := currentUser(c)
	return s.render(c.Status(status), "spend/import_show", fiber.Map{"Title": fmt.Sprintf("Import %d", id), "I": imp,
		"Total": money(imp.Total), "PendingTotal": money(imp.PendingTotal), "Rows": rows, "Listed": total,
		"Mine": u != nil && u.ID == imp.ImportedBy, "Problem": problem})
}

// spendImportDecide approves (or rejects) a whole import from its page.
func (s *Server) spendImportDecide(approve bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := pathID(c)
		if err != nil {
			return err
		}
		ctx, a := c.UserContext(), actorOf(c)
		if approve {
			_, err = s.store.ApproveImport(ctx, a, id)
		} else {
			reason, rerr := models.RequireReason(c.FormValue("reason"))
			if rerr != nil {
				return s.spendImportShow(c, fiber.StatusUnprocessableEntity, "Give a reason: it is kept with every entry and in the audit trail.")
			}
			_, err = s.store.RejectImport(ctx, a, id, reason)
		}
		switch models.ErrorCode(err) {
		case "":
			return c.Redirect(fmt.Sprintf("/spend/imports/%d", id), fiber.StatusSeeOther)
		case models.EINVALID, models.ECONFLICT, models.EFORBIDDEN:
			return s.spendImportShow(c, statusOf[models.ErrorCode(err)], models.ErrorMessage(err))
		}
		return err
	}
}
