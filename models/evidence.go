package models

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Evidence limits: a few files per spend entry, each small enough to keep in
// the database beside the ledger.
const (
	MaxEvidenceSize     = 5 << 20
	MaxEvidencePerEntry = 5
	maxFileNameBytes    = 120
)

// Evidence content types, detected from the bytes, never taken from the client.
const (
	EvidencePDF  = "application/pdf"
	EvidencePNG  = "image/png"
	EvidenceJPEG = "image/jpeg"
	EvidenceCSV  = "text/csv; charset=utf-8"
	EvidenceText = "text/plain; charset=utf-8"
	EvidenceXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// evidenceExtensions are the file name endings each type may carry; the
// first is the one added to a name that has none.
var evidenceExtensions = map[string][]string{
	EvidencePDF:  {".pdf"},
	EvidencePNG:  {".png"},
	EvidenceJPEG: {".jpg", ".jpeg"},
	EvidenceCSV:  {".csv"},
	EvidenceText: {".txt", ".text", ".log", ""},
	EvidenceXLSX: {".xlsx"},
}

// EvidenceKinds names the allowed kinds for people, in messages and forms.
const EvidenceKinds = "PDF, PNG, JPEG, CSV, XLSX or plain text"

// SpendEvidence is a file kept as evidence for a spend entry: an invoice, a
// receipt, a timesheet. Like the ledger it is never changed or removed.
type SpendEvidence struct {
	bun.BaseModel `bun:"table:spend_evidence"`

	ID           int64     `bun:",pk,autoincrement"`
	SpendEntryID int64     `bun:",notnull"`
	FileName     string    `bun:",notnull"`
	ContentType  string    `bun:",notnull"`
	Size         int64     `bun:",notnull"`
	SHA256       []byte    `bun:"sha256,notnull"`
	Content      []byte    `bun:",notnull"`
	UploadedBy   int64     `bun:",notnull"`
	UploadedAt   time.Time `bun:",nullzero,notnull,default:current_timestamp"`
}

func evidenceProblem(format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: EINVALID, Message: upperFirst(msg) + ".", Fields: []FieldError{{Field: "file", Message: msg}}}
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// CheckEvidence checks an uploaded file and returns its sanitised name and
// its content type, detected from the bytes. The name's extension must agree
// with the contents (a PNG named .pdf is refused); a name without one gets it.
func CheckEvidence(name string, data []byte) (cleanName, contentType string, err error) {
	switch {
	case len(data) == 0:
		return "", "", evidenceProblem("the file is empty")
	case len(data) > MaxEvidenceSize:
		return "", "", evidenceProblem("the file is %s; an evidence file may be at most %s", HumanSize(int64(len(data))), HumanSize(MaxEvidenceSize))
	}
	contentType = DetectEvidenceType(data)
	if contentType == "" {
		return "", "", evidenceProblem("this kind of file is not accepted as evidence: send a %s file", EvidenceKinds)
	}
	cleanName = SanitiseFileName(name)
	ext := strings.ToLower(path.Ext(cleanName))
	exts := evidenceExtensions[contentType]
	if contentType == EvidenceText && ext == ".csv" {
		return cleanName, EvidenceCSV, nil
	}
	for _, e := range exts {
		if e == ext {
			return cleanName, contentType, nil
		}
	}
	if ext == "" || !knownExtension(ext) {
		return strings.TrimSuffix(cleanName, ".") + exts[0], contentType, nil
	}
	return "", "", evidenceProblem("the file is named %s but its contents are %s; rename it or send the right file", ext, kindName(contentType))
}

func knownExtension(ext string) bool {
	for _, exts := range evidenceExtensions {
		for _, e := range exts {
			if e != "" && e == ext {
				return true
			}
		}
	}
	return false
}

func kindName(contentType string) string {
	switch contentType {
	case EvidencePDF:
		return "a PDF"
	case EvidencePNG:
		return "a PNG image"
	case EvidenceJPEG:
		return "a JPEG image"
	case EvidenceXLSX:
		return "an Excel workbook"
	}
	return "plain text"
}

// DetectEvidenceType returns the content type of data if it is one evidence
// may have, or "". Text must be UTF-8 throughout and not HTML or XML, which
// a browser could run; a ZIP must be an Excel workbook.
func DetectEvidenceType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return EvidencePDF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		if isXLSX(data) {
			return EvidenceXLSX
		}
		return ""
	}
	switch http.DetectContentType(data) {
	case "image/png":
		return EvidencePNG
	case "image/jpeg":
		return EvidenceJPEG
	case "text/plain; charset=utf-8":
		if utf8.Valid(data) && !bytes.ContainsRune(data, 0) {
			return EvidenceText
		}
	}
	return ""
}

// isXLSX reports whether data is a ZIP holding an Excel workbook.
func isXLSX(data []byte) bool {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return false
	}
	var types, workbook bool
	for _, f := range zr.File {
		switch f.Name {
		case "[Content_Types].xml":
			types = true
		case "xl/workbook.xml":
			workbook = true
		}
	}
	return types && workbook
}

// SanitiseFileName keeps the last element of a client's file name, with
// letters, digits and a few safe marks only, short enough for a header; a
// name left empty becomes "evidence".
func SanitiseFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	for _, r := range name {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)), strings.ContainsRune("._-()", r):
			b.WriteRune(r)
		case unicode.IsSpace(r):
			b.WriteByte(' ')
		default:
			b.WriteByte('_')
		}
	}
	out := strings.Join(strings.Fields(b.String()), " ")
	out = strings.TrimLeft(out, ". ")
	if len(out) > maxFileNameBytes {
		ext := path.Ext(out)
		if len(ext) > 10 {
			ext = ""
		}
		out = strings.TrimSpace(out[:maxFileNameBytes-len(ext)]) + ext
	}
	if strings.TrimLeft(out, "_") == "" || strings.HasPrefix(out, ".") {
		return "evidence"
	}
	return out
}

// HumanSize writes a byte count as people read it: 5 MiB, 12.3 KiB, 800 bytes.
func HumanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<20))) + " MiB"
	case n >= 1<<10:
		return trimZero(fmt.Sprintf("%.1f", float64(n)/(1<<10))) + " KiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

func trimZero(s string) string { return strings.TrimSuffix(s, ".0") }
