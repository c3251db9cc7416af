package server

import (
	"encoding/json"
	"errors"
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
	Excel         bool   `query:"excel" doc:"csv only: start the file with a UTF-8 byte order mark, so Excel reads non-ASCII names (the exports page's default)"`
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
	size, err := s.writeLedger(c, format, f)
	s.metrics.countExport(format, size, err)
	return err
}

// writeLedger is sendLedger's work; it returns the size of the file sent.
func (s *Server) writeLedger(c *fiber.Ctx, format string, f export.Filter) (int64, error) {
	pub, err := s.publisher(c)
	if err != nil {
		return 0, err
	}
	tmp, err := os.CreateTemp("", "granttrack-export-*")
	if err != nil {
		return 0, err
	}
	os.Remove(tmp.Name()) // the open file lives until it has been sent
	m, err := export.Ledger(c.UserContext(), s.reads(c), tmp, format, f, nil, export.ExcelBOM(c.QueryBool("excel")),
		pub)
	if err != nil {
		tmp.Close()
		return 0, err
	}
	if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "export.ledger", Entity: "export", After: m}); err != nil {
		tmp.Close()
		return 0, err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		tmp.Close()
		return 0, err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		tmp.Close()
		return 0, err
	}
	manifest, _ := json.Marshal(m)
	c.Set(ManifestHeader, string(manifest))
	mediaType, ext, _ := export.ContentType(format)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="ledger.`+ext+`"`)
	c.Set(fiber.HeaderContentType, mediaType)
	return size, c.SendStream(tmp, int(size))
}

// verifyExport checks an uploaded export (multipart: the file as "file",
// its manifest as a "manifest" file or field) against the manifest, the
// live ledger and the audit chain, and answers with the report: 200 even
// when the export does not verify, since the report says why. The
// verification is audited with its outcome.
// MaxVerifyUpload bounds an export uploaded for verification; the whole
// request is held in memory, so larger files go through the CLI.
const MaxVerifyUpload = 64 << 20

func (s *Server) verifyExport(c *fiber.Ctx) error {
	rep, err := s.verifyUpload(c)
	if err != nil {
		return err
	}
	return c.JSON(rep)
}

// verifyUpload verifies the export and manifest uploaded in a multipart
// form and records the verification in the audit trail.
func (s *Server) verifyUpload(c *fiber.Ctx) (*export.VerifyReport, error) {
	var p models.Problems
	var file io.ReadCloser
	if fh, err := c.FormFile("file"); err != nil {
		p.Add("file", "must be the exported file, sent as multipart/form-data")
	} else if file, err = fh.Open(); err != nil {
		return nil, err
	} else {
		defer file.Close()
	}
	m, err := formManifest(c)
	if err != nil {
		p.Add("manifest", "%s", err)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	rep, err := export.Verify(c.UserContext(), s.store, file, m)
	if err != nil {
		return nil, err
	}
	if err := s.store.RecordEvent(c.UserContext(), actorOf(c), store.Change{Action: "export.verify", Entity: "export", After: rep.Summary()}); err != nil {
		return nil, err
	}
	return rep, nil
}

// formManifest reads the manifest part of a multipart form: a file, or a
// field holding the JSON (as the Granttrack-Manifest header gave it).
func formManifest(c *fiber.Ctx) (*export.Manifest, error) {
	raw := []byte(c.FormValue("manifest"))
	if fh, err := c.FormFile("manifest"); err == nil {
		f, err := fh.Open()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		if raw, err = io.ReadAll(io.LimitReader(f, MaxJSONBody)); err != nil {
			return nil, err
		}
	}
	if len(raw) == 0 {
		return nil, errors.New("must be the export's manifest (FILE.manifest.json, or the Granttrack-Manifest header)")
	}
	var m export.Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("is not an export manifest: " + err.Error())
	}
	return &m, nil
}
