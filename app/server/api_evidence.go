package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

type evidenceJSON struct {
	ID           int64     `json:"id"`
	SpendEntryID int64     `json:"spend_entry_id"`
	FileName     string    `json:"file_name"`
	ContentType  string    `json:"content_type"`
	Size         int64     `json:"size"`
	SHA256       string    `json:"sha256"`
	UploadedBy   int64     `json:"uploaded_by"`
	UploadedAt   time.Time `json:"uploaded_at"`
}

func toEvidenceJSON(ev *models.SpendEvidence) evidenceJSON {
	return evidenceJSON{ID: ev.ID, SpendEntryID: ev.SpendEntryID, FileName: ev.FileName, ContentType: ev.ContentType,
		Size: ev.Size, SHA256: hex.EncodeToString(ev.SHA256), UploadedBy: ev.UploadedBy, UploadedAt: ev.UploadedAt}
}

// formFile reads the file in a multipart form's field, refusing one over
// limit bytes before reading it.
func formFile(c *fiber.Ctx, field string, limit int64) (name string, data []byte, err error) {
	fh, err := c.FormFile(field)
	if err != nil {
		return "", nil, &models.Error{Code: models.EINVALID, Message: "Choose a file to upload.",
			Fields: []models.FieldError{{Field: field, Message: "choose a file (sent as multipart/form-data in the field " + field + ")"}}}
	}
	if fh.Size > limit {
		msg := fmt.Sprintf("is %s; it may be at most %s", models.HumanSize(fh.Size), models.HumanSize(limit))
		return "", nil, &models.Error{Code: models.EINVALID, Message: "The file " + msg + ".", Fields: []models.FieldError{{Field: field, Message: "the file " + msg}}}
	}
	f, err := fh.Open()
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	return fh.Filename, data, err
}

// evidenceID reads the :evidence_id parameter.
func evidenceID(c *fiber.Ctx) (int64, error) {
	id, err := paramID(c, "evidence_id")
	if err != nil {
		return 0, models.Errorf(models.ENOTFOUND, "There is no evidence file with the id %q.", c.Params("evidence_id"))
	}
	return id, nil
}

// storeEvidence adds the uploaded file to the entry in the path.
func (s *Server) storeEvidence(c *fiber.Ctx) (*models.SpendEvidence, error) {
	id, err := pathID(c)
	if err != nil {
		return nil, err
	}
	name, data, err := formFile(c, "file", models.MaxEvidenceSize)
	if err != nil {
		return nil, err
	}
	return s.storeOf(c).AddEvidence(c.UserContext(), actorOf(c), id, name, data)
}

func (s *Server) addEvidence(c *fiber.Ctx) error {
	ev, err := s.storeEvidence(c)
	if err != nil {
		return err
	}
	return created(c, fmt.Sprintf("/api/v1/spend/%d/evidence/%d", ev.SpendEntryID, ev.ID), toEvidenceJSON(ev))
}

func (s *Server) listEvidence(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	evs, err := s.store.EvidenceFor(c.UserContext(), id)
	if err != nil {
		return err
	}
	out := list[evidenceJSON]{Items: []evidenceJSON{}, Page: 1, PerPage: models.MaxEvidencePerEntry, Total: len(evs)}
	for _, ev := range evs {
		out.Items = append(out.Items, toEvidenceJSON(ev))
	}
	return c.JSON(out)
}

// downloadEvidence sends a file as it was stored, as a download of the type
// detected when it was uploaded; the browser must not guess another type or
// show it inside the site. The API and the web app share it.
func (s *Server) downloadEvidence(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	evID, err := evidenceID(c)
	if err != nil {
		return err
	}
	ev, err := s.store.Evidence(c.UserContext(), id, evID)
	if err != nil {
		return err
	}
	return sendFile(c, ev.FileName, ev.ContentType, ev.Content)
}

// sendFile sends a stored file as it was stored, as a download of the type
// detected when it was uploaded, with its SHA-256; the browser must not
// guess another type or show it inside the site. Evidence and contract
// documents share it.
func sendFile(c *fiber.Ctx, name, contentType string, content []byte) error {
	sum := sha256.Sum256(content)
	c.Set(fiber.HeaderContentType, contentType)
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":")
	return c.Send(content)
}
