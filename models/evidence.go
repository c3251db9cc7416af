package models

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
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

// File content types, detected from the bytes, never taken from the client.
const (
	EvidencePDF  = "application/pdf"
	EvidencePNG  = "image/png"
	EvidenceJPEG = "image/jpeg"
	EvidenceCSV  = "text/csv; charset=utf-8"
	EvidenceText = "text/plain; charset=utf-8"
	EvidenceXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	FileDOCX     = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	FileODT      = "application/vnd.oasis.opendocument.text"
)

// fileExtensions are the file name endings each type may carry; the first
// is the one added to a name that has none.
var fileExtensions = map[string][]string{
	EvidencePDF:  {".pdf"},
	EvidencePNG:  {".png"},
	EvidenceJPEG: {".jpg", ".jpeg"},
	EvidenceCSV:  {".csv"},
	EvidenceText: {".txt", ".text", ".log", ""},
	EvidenceXLSX: {".xlsx"},
	FileDOCX:     {".docx"},
	FileODT:      {".odt"},
}

// EvidenceKinds names the allowed kinds for people, in messages and forms.
const EvidenceKinds = "PDF, PNG, JPEG, CSV, XLSX or plain text"

// FileRule is what one kind of upload accepts: its content types (detected
// from the bytes), its largest size, and whether a name holding control or
// bidirectional characters is refused rather than cleaned. Evidence and
// contract documents are both checked by one, so both are stored the same
// way.
type FileRule struct {
	Noun        string // "evidence", in messages: "not accepted as evidence"
	Types       []string
	Kinds       string // the types for people: "PDF, DOCX or ODT"
	MaxSize     int64
	StrictNames bool
}

// EvidenceFiles is the rule for a spend entry's evidence.
var EvidenceFiles = FileRule{Noun: "evidence", Types: []string{EvidencePDF, EvidencePNG, EvidenceJPEG, EvidenceCSV, EvidenceText, EvidenceXLSX},
	Kinds: EvidenceKinds, MaxSize: MaxEvidenceSize}

// SpendEvidence is a file kept as evidence for a spend entry: an invoice, a
// receipt, a timesheet. Like the ledger it is never changed or removed.
type SpendEvidence struct {
	bun.BaseModel `bun:"table:spend_evidence"`

	ID           int64 `bun:",pk,autoincrement"`
	SpendEntryID int64 `bun:",notnull"`
	StoredFile
}

// StoredFile is an uploaded file as the database keeps it, beside what it
// belongs to: its sanitised name, the type detected from its bytes (a
// FileRule's), its size and SHA-256 (which the database checks against the
// bytes), and who uploaded it when. Evidence and contract documents share
// it.
type StoredFile struct {
	FileName    string    `bun:",notnull"`
	ContentType string    `bun:",notnull"`
	Size        int64     `bun:",notnull"`
	SHA256      []byte    `bun:"sha256,notnull"`
	Content     []byte    `bun:",notnull"`
	UploadedBy  int64     `bun:",notnull"`
	UploadedAt  time.Time `bun:",nullzero,notnull,default:current_timestamp"`
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

// CheckEvidence checks an uploaded evidence file (EvidenceFiles.Check).
func CheckEvidence(name string, data []byte) (cleanName, contentType string, err error) {
	return EvidenceFiles.Check(name, data)
}

// Check checks an uploaded file and returns its sanitised name and its
// content type, detected from the bytes; an EINVALID error naming the field
// "file" when it is empty, too large, of a type the rule does not take, or
// (with StrictNames) named with control characters. The name's extension
// must agree with the contents (a PNG named .pdf is refused); a name
// without one gets it.
func (r FileRule) Check(name string, data []byte) (cleanName, contentType string, err error) {
	switch {
	case len(data) == 0:
		return "", "", evidenceProblem("the file is empty")
	case int64(len(data)) > r.MaxSize:
		return "", "", evidenceProblem("the file is %s; %s may be at most %s a file", HumanSize(int64(len(data))), r.Noun, HumanSize(r.MaxSize))
	}
	if r.StrictNames {
		if err := CheckText(name, false); err != nil {
			return "", "", evidenceProblem("the file's name %s; rename it", ErrorMessage(err))
		}
	}
	contentType = DetectFileType(data)
	if contentType == EvidenceText && strings.EqualFold(path.Ext(name), ".csv") {
		contentType = EvidenceCSV
	}
	if !slices.Contains(r.Types, contentType) {
		return "", "", evidenceProblem("this kind of file is not accepted as %s: send a %s file", r.Noun, r.Kinds)
	}
	cleanName = SanitiseFileName(name)
	ext := strings.ToLower(path.Ext(cleanName))
	exts := fileExtensions[contentType]
	if contentType == EvidenceCSV {
		return cleanName, EvidenceCSV, nil
	}
	for _, e := range exts {
		if e == ext {
			return cleanName, contentType, nil
		}
	}
	if ext == "" || !r.knownExtension(ext) {
		return strings.TrimSuffix(cleanName, ".") + exts[0], contentType, nil
	}
	return "", "", evidenceProblem("the file is named %s but its contents are %s; rename it or send the right file", ext, kindName(contentType))
}

// knownExtension reports whether ext is the ending of a type the rule
// takes: a name with another ending keeps it and gets the right one added.
func (r FileRule) knownExtension(ext string) bool {
	for _, t := range r.Types {
		for _, e := range fileExtensions[t] {
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
	case FileDOCX:
		return "a Word document"
	case FileODT:
		return "an OpenDocument text"
	}
	return "plain text"
}

// DetectEvidenceType returns the content type of data if it is one evidence
// may have, or "".
func DetectEvidenceType(data []byte) string {
	if ct := DetectFileType(data); slices.Contains(EvidenceFiles.Types, ct) {
		return ct
	}
	return ""
}

// DetectFileType returns the content type of data if it is one that some
// upload may have, or "". Text must be UTF-8 throughout and not HTML or
// XML, which a browser could run; a ZIP must be an Excel workbook, a Word
// document or an OpenDocument text.
func DetectFileType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return EvidencePDF
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return zipType(data)
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

// zipType tells an Excel workbook, a Word document and an OpenDocument text
// apart by the parts inside the ZIP; "" for any other ZIP.
func zipType(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ""
	}
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[f.Name] = f
	}
	switch {
	case parts["[Content_Types].xml"] != nil && parts["xl/workbook.xml"] != nil:
		return EvidenceXLSX
	case parts["[Content_Types].xml"] != nil && parts["word/document.xml"] != nil:
		return FileDOCX
	case parts["content.xml"] != nil && parts["mimetype"] != nil:
		// ODF puts its type, uncompressed, in the first part, "mimetype".
		if zr.File[0].Name == "mimetype" {
			if rc, err := zr.File[0].Open(); err == nil {
				defer rc.Close()
				b := make([]byte, 64)
				n, _ := io.ReadFull(rc, b)
				if string(b[:n]) == FileODT {
					return FileODT
				}
			}
		}
	}
	return ""
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
