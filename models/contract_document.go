package models

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ContractDocumentKind is what a contract line's document is.
type ContractDocumentKind string

// Contract document kinds (the database's contract_documents_kind_check).
const (
	DocInvitationToTender ContractDocumentKind = "invitation_to_tender" // dated the day it was published
	DocContract           ContractDocumentKind = "contract"             // dated the day it was signed
	DocTenderDocument     ContractDocumentKind = "tender_document"      // any other tender document, dated when published
)

// ContractDocumentKinds lists the kinds in the order forms show them.
func ContractDocumentKinds() []ContractDocumentKind {
	return []ContractDocumentKind{DocInvitationToTender, DocContract, DocTenderDocument}
}

// Label is the kind as people say it.
func (k ContractDocumentKind) Label() string {
	switch k {
	case DocInvitationToTender:
		return "Invitation to tender"
	case DocContract:
		return "Contract document"
	case DocTenderDocument:
		return "Other tender document"
	}
	return string(k)
}

// DateField is the input field that dates a document of this kind: a
// contract is dated the day it was signed, the others the day they were
// published.
func (k ContractDocumentKind) DateField() string {
	if k == DocContract {
		return "signed_on"
	}
	return "published_on"
}

// MaxContractDocumentSize bounds one contract document: a tender pack's
// PDF is larger than a receipt.
const MaxContractDocumentSize = 10 << 20

// ContractDocumentFiles is the rule for a contract line's documents:
// documents to publish, so PDF, Word (DOCX) or OpenDocument text only (a
// scan is sent as a PDF), and a name that is plain text.
var ContractDocumentFiles = FileRule{Noun: "a contract document", Types: []string{EvidencePDF, FileDOCX, FileODT},
	Kinds: "PDF, DOCX or ODT", MaxSize: MaxContractDocumentSize, StrictNames: true}

// ContractDocument is a document of a contract line: its invitation to
// tender, its contract or another tender document. Like evidence it is never
// changed or removed: a replacement is a new document that supersedes it.
type ContractDocument struct {
	bun.BaseModel `bun:"table:contract_documents"`

	ID            int64                `bun:",pk,autoincrement"`
	FundingLineID int64                `bun:",notnull"`
	Kind          ContractDocumentKind `bun:",notnull"`
	Title         string               `bun:",notnull"`
	DocumentDate  time.Time            `bun:"type:date,notnull"`
	SupersedesID  *int64               `bun:""`
	// PersonalData marks a document holding personal data (a signatory's
	// home address, say): it is kept, but withheld from the publishing pack.
	PersonalData bool `bun:",notnull"`
	StoredFile
}

// ContractDocumentInput describes an uploaded contract document; the file
// itself comes beside it (multipart field "file").
type ContractDocumentInput struct {
	Kind         string `json:"kind" form:"kind" enum:"invitation_to_tender,contract,tender_document"`
	Title        string `json:"title" form:"title" doc:"what the document is, e.g. Invitation to tender MOPAC-T-2024-017"`
	PublishedOn  string `json:"published_on" form:"published_on" doc:"the day an invitation to tender or other tender document was published (YYYY-MM-DD)"`
	SignedOn     string `json:"signed_on" form:"signed_on" doc:"the day a contract document was signed (YYYY-MM-DD)"`
	SupersedesID string `json:"supersedes_id" form:"supersedes_id" doc:"the id of the document of the same kind this one replaces"`
	PersonalData string `json:"personal_data" form:"personal_data" doc:"true when the document holds personal data: it is then withheld from the publishing pack"`
}

// Validate returns the document the input and the file describe for the
// line, with the file's sanitised name and detected type, or an EINVALID
// error naming every bad field (the file's problems under "file").
func (in ContractDocumentInput) Validate(lineID int64, fileName string, data []byte) (*ContractDocument, error) {
	var c collector
	d := &ContractDocument{FundingLineID: lineID, Kind: ContractDocumentKind(strings.TrimSpace(in.Kind))}
	known := false
	for _, k := range ContractDocumentKinds() {
		known = known || k == d.Kind
	}
	if !known {
		c.Add("kind", "must be invitation_to_tender, contract or tender_document")
	}
	d.Title = c.text("title", in.Title, true, 200)
	dateField, other, otherValue := "published_on", "signed_on", in.SignedOn
	dateValue := in.PublishedOn
	if d.Kind == DocContract {
		dateField, other, otherValue, dateValue = "signed_on", "published_on", in.PublishedOn, in.SignedOn
	}
	if known {
		d.DocumentDate = c.date(dateField, dateValue)
		if strings.TrimSpace(otherValue) != "" {
			c.Add(other, "leave it empty: a %s is dated by %s", strings.ToLower(d.Kind.Label()), strings.ReplaceAll(dateField, "_", " "))
		}
	}
	if s := strings.TrimSpace(in.SupersedesID); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			c.Add("supersedes_id", "must be the id of the document this one replaces, such as 42")
		} else {
			d.SupersedesID = &id
		}
	}
	switch strings.ToLower(strings.TrimSpace(in.PersonalData)) {
	case "", "false", "no", "off":
	case "true", "yes", "on":
		d.PersonalData = true
	default:
		c.Add("personal_data", "must be true or false")
	}
	name, contentType, err := ContractDocumentFiles.Check(fileName, data)
	if err != nil {
		c.Add("file", "%s", fieldMessage(err, "file"))
	}
	d.FileName, d.ContentType, d.Size, d.Content = name, contentType, int64(len(data)), data
	return d, c.Err()
}

// fieldMessage is the message err gives field, or its whole message.
func fieldMessage(err error, field string) string {
	if e, ok := err.(*Error); ok {
		for _, f := range e.Fields {
			if f.Field == field {
				return f.Message
			}
		}
	}
	return ErrorMessage(err)
}

// The rules of a contract document, by the name both layers give them.
var (
	ErrDocumentNotOnContract       = errors.New("contract_document_on_contract_line")     // the line is not a contract line
	ErrDocumentSupersedesOtherKind = errors.New("contract_document_supersedes_same_kind") // a replacement names another line's or kind's document
)
