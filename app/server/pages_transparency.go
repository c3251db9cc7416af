package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

func (s *Server) registerTransparencyPages() {
	s.app.Get("/transparency", s.requireWebRole(auditors), s.transparencyPage)
	s.app.Get("/transparency/:file", s.requireWebRole(auditors), s.transparencyFile)
}

type transparencyQuery struct {
	Month string `query:"month" doc:"calendar month, e.g. 2024-06 (default: last month)"`
}

// packMonth is the month asked for, or else last month in London: the one
// usually being published.
func (s *Server) packMonth(c *fiber.Ctx) string {
	if m := c.Query("month"); m != "" {
		return m
	}
	return models.LastMonth(s.today()).Format("2006-01")
}

func (s *Server) transparencyPage(c *fiber.Ctx) error {
	month := s.packMonth(c)
	pub, err := s.publisher(c)
	if err != nil {
		return err
	}
	p, err := export.Transparency(c.UserContext(), s.reads(c), month, pub)
	if errs, ferr := formErrors(err); ferr != nil {
		return ferr
	} else if errs != nil {
		return s.render(c.Status(fiber.StatusUnprocessableEntity), "transparency/show", fiber.Map{"Title": "Publishing pack", "Month": month, "Errors": errs})
	}
	return s.render(c, "transparency/show", fiber.Map{"Title": "Publishing pack " + p.Month, "Month": p.Month, "Pack": p, "Tables": p.Tables()})
}

// transparencyFile sends one CSV of the pack; the download is audited.
func (s *Server) transparencyFile(c *fiber.Ctx) error {
	file := c.Params("file")
	if !strings.HasSuffix(file, ".csv") {
		return models.Errorf(models.ENOTFOUND, "The publishing pack has no file %q; it has %s.", file, strings.Join(export.PackFiles, ", "))
	}
	pub, err := s.publisher(c)
	if err != nil {
		return err
	}
	p, err := export.Transparency(c.UserContext(), s.reads(c), s.packMonth(c), pub)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := p.WriteCSV(file, &b); err != nil {
		return err
	}
	if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "export.transparency", Entity: "export",
		After: map[string]any{"month": p.Month, "file": file, "audit_head_seq": p.AuditSeq}}); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+p.Month+"-"+file+`"`)
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	return c.SendString(b.String())
}
