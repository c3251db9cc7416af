package server

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// Contract documents: a contract line's invitation to tender, contract and
// other tender documents, uploaded by writers and read by everyone.

func (s *Server) contractDocumentRoutes() []Route {
	return []Route{
		{Method: "POST", Path: "/api/v1/funding-lines/:id/documents", Summary: "Add a document to a contract line (multipart/form-data: file, kind, title, published_on or signed_on, optional supersedes_id and personal_data); PDF, DOCX or ODT, at most 10 MiB; nothing is replaced or deleted", Roles: writers, Request: models.ContractDocumentInput{}, Upload: "file", FileSize: models.MaxContractDocumentSize, Response: contractDocumentJSON{}, Status: 201, Handler: s.addContractDocument},
		{Method: "GET", Path: "/api/v1/funding-lines/:id/documents", Summary: "List a contract line's documents (invitation to tender, contract, other tender documents), superseded ones included", Roles: everyone, Response: list[contractDocumentJSON]{}, Handler: s.listContractDocuments},
		{Method: "GET", Path: "/api/v1/funding-lines/:id/documents/:document_id", Summary: "Download a contract line's document, as stored", Roles: everyone, Files: mediaTypes(models.ContractDocumentFiles.Types...), Handler: s.downloadContractDocument},
	}
}

type contractDocumentJSON struct {
	ID            int64     `json:"id"`
	FundingLineID int64     `json:"funding_line_id"`
	Kind          string    `json:"kind"`
	Title         string    `json:"title"`
	PublishedOn   *string   `json:"published_on" doc:"an invitation to tender's or other tender document's publication date"`
	SignedOn      *string   `json:"signed_on" doc:"a contract document's date of signature"`
	SupersedesID  *int64    `json:"supersedes_id"`
	SupersededBy  *int64    `json:"superseded_by" doc:"the document that replaced this one, if any"`
	PersonalData  bool      `json:"personal_data" doc:"withheld from the publishing pack"`
	FileName      string    `json:"file_name"`
	ContentType   string    `json:"content_type"`
	Size          int64     `json:"size"`
	SHA256        string    `json:"sha256"`
	UploadedBy    int64     `json:"uploaded_by"`
	UploadedAt    time.Time `json:"uploaded_at"`
	URL           string    `json:"url"`
}

func toContractDocumentJSON(d *models.ContractDocument, supersededBy *int64) contractDocumentJSON {
	date := d.DocumentDate.Format(models.DateLayout)
	out := contractDocumentJSON{ID: d.ID, FundingLineID: d.FundingLineID, Kind: string(d.Kind), Title: d.Title, SupersedesID: d.SupersedesID,
		SupersededBy: supersededBy, PersonalData: d.PersonalData, FileName: d.FileName, ContentType: d.ContentType, Size: d.Size,
		SHA256: hex.EncodeToString(d.SHA256), UploadedBy: d.UploadedBy, UploadedAt: d.UploadedAt,
		URL: fmt.Sprintf("/api/v1/funding-lines/%d/documents/%d", d.FundingLineID, d.ID)}
	if d.Kind == models.DocContract {
		out.SignedOn = &date
	} else {
		out.PublishedOn = &date
	}
	return out
}

// contractDocumentsJSON lists documents with, for each, the one that
// replaced it.
func contractDocumentsJSON(docs []*models.ContractDocument) []contractDocumentJSON {
	by := map[int64]*int64{}
	for _, d := range docs {
		if d.SupersedesID != nil {
			by[*d.SupersedesID] = &d.ID
		}
	}
	out := []contractDocumentJSON{}
	for _, d := range docs {
		out = append(out, toContractDocumentJSON(d, by[d.ID]))
	}
	return out
}

// storeContractDocument adds the uploaded file and its form fields to the
// line in the path; every bad field, the file's included, in one error.
func (s *Server) storeContractDocument(c *fiber.Ctx) (*models.ContractDocument, models.ContractDocumentInput, error) {
	in := models.ContractDocumentInput{Kind: c.FormValue("kind"), Title: c.FormValue("title"), PublishedOn: c.FormValue("published_on"),
		SignedOn: c.FormValue("signed_on"), SupersedesID: c.FormValue("supersedes_id"), PersonalData: c.FormValue("personal_data")}
	id, err := pathID(c)
	if err != nil {
		return nil, in, err
	}
	name, data, fileErr := formFile(c, "file", models.MaxContractDocumentSize)
	if fileErr != nil && models.ErrorCode(fileErr) != models.EINVALID {
		return nil, in, fileErr
	}
	d, err := in.Validate(id, name, data)
	if fileErr != nil {
		// No file (or one too large): say so, not that an empty file was sent.
		var me *models.Error
		if errors.As(err, &me) {
			kept := models.Problems{}
			for _, f := range me.Fields {
				if f.Field != "file" {
					kept = append(kept, f)
				}
			}
			err = joinProblems(fileErr, kept.Err())
		} else {
			err = fileErr
		}
	}
	if err != nil {
		return nil, in, err
	}
	return d, in, s.storeOf(c).AddContractDocument(c.UserContext(), actorOf(c), d)
}

func (s *Server) addContractDocument(c *fiber.Ctx) error {
	d, _, err := s.storeContractDocument(c)
	if err != nil {
		return err
	}
	return created(c, fmt.Sprintf("/api/v1/funding-lines/%d/documents/%d", d.FundingLineID, d.ID), toContractDocumentJSON(d, nil))
}

func (s *Server) listContractDocuments(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	docs, err := s.store.ContractDocuments(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(list[contractDocumentJSON]{Items: contractDocumentsJSON(docs), Page: 1, PerPage: len(docs), Total: len(docs)})
}

// downloadContractDocument sends a line's document as stored; the API and
// the web app share it.
func (s *Server) downloadContractDocument(c *fiber.Ctx) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	docID, err := paramID(c, "document_id")
	if err != nil {
		return models.Errorf(models.ENOTFOUND, "There is no contract document with the id %q.", c.Params("document_id"))
	}
	d, err := s.store.ContractDocument(c.UserContext(), id, docID)
	if err != nil {
		return err
	}
	return sendFile(c, d.FileName, d.ContentType, d.Content)
}
