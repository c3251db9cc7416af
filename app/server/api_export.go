package server

import (
	"encoding/json"
	"io"
	"os"

	"github.com/gofiber/fiber/v2"

	"granttrack/app/export"
	"granttrack/app/store"
	"granttrack/models"
)

type exportQuery struct {
	Format        string `query:"format" doc:"csv (default), json, xlsx, hledger, beancount (approved spend only), 360giving (grants) or ocds (contracts)"`
	FY            string `query:"fy" doc:"financial year, e.g. 2024-25"`
	From          string `query:"from" doc:"first day incurred (for 360giving and ocds: awarded), e.g. 2024-04-01"`
	To            string `query:"to" doc:"last day incurred"`
	ProgrammeID   int64  `query:"programme_id"`
	FundingLineID int64  `query:"funding_line_id"`
	RecipientID   int64  `query:"recipient_id"`
}

// ManifestHeader carries an export's manifest (compact JSON) with the file.
const ManifestHeader = "Granttrack-Manifest"

// exportRequest reads an export's format and filters from the query, for
// the API and the exports page alike.
func exportRequest(c *fiber.Ctx) (string, export.Filter, error) {
	var p models.Problems
	format := c.Query("format", export.FormatCSV)
	f := export.Filter{Year: c.Query("fy"), From: c.Query("from"), To: c.Query("to"), ProgrammeID: queryID(c, "programme_id", &p),
		FundingLineID: queryID(c, "funding_line_id", &p), RecipientID: queryID(c, "recipient_id", &p)}
	return format, f, p.Err()
}

func (s *Server) exportLedger(c *fiber.Ctx) error {
	format, f, err := exportRequest(c)
	if err != nil {
		return err
	}
	return s.sendLedger(c, format, f)
}

// sendLedger streams the ledger into a temporary file (never into memory),
// then sends it with its manifest; the export is audited. Nothing is sent
// before the export has succeeded, so an error can still become a page.
func (s *Server) sendLedger(c *fiber.Ctx, format string, f export.Filter) error {
	tmp, err := os.CreateTemp("", "granttrack-export-*")
	if err != nil {
		return err
	}
	os.Remove(tmp.Name()) // the open file lives until it has been sent
	m, err := export.Ledger(c.UserContext(), s.store, tmp, format, f, nil)
	if err != nil {
		tmp.Close()
		return err
	}
	if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "export.ledger", Entity: "export", After: m}); err != nil {
		tmp.Close()
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return err
	}
	manifest, _ := json.Marshal(m)
	c.Set(ManifestHeader, string(manifest))
	mediaType, ext, _ := export.ContentType(format)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="ledger.`+ext+`"`)
	c.Set(fiber.HeaderContentType, mediaType)
	return c.SendStream(tmp, int(size))
}
