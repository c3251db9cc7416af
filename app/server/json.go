package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	json "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// decodeJSON reads the request body into v strictly: Content-Type exactly
// application/json (a charset, if given, must be utf-8), one JSON object
// and nothing after it, member names exactly as documented (never matched
// case-insensitively), no name twice, valid UTF-8 only, no unknown members,
// at most MaxJSONBody bytes. A body that cannot be read is EBADREQUEST; a
// member that is unknown, repeated, not UTF-8 or of the wrong type is
// EINVALID naming the field. Every handler decodes through it.
func decodeJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(body) > MaxJSONBody {
		return models.Errorf(models.ETOOLARGE, "The request body is over %d bytes.", MaxJSONBody)
	}
	if !isJSONMediaType(c.Get(fiber.HeaderContentType)) {
		return &models.Error{Code: models.EBADREQUEST, Message: "Send the body as JSON with 'Content-Type: application/json'.",
			Fields: []models.FieldError{{Field: "Content-Type", Message: "must be application/json (optionally with charset=utf-8)"}}}
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return models.Errorf(models.EBADREQUEST, "The body must be a JSON object.")
	}
	if err := jsonError(json.Unmarshal(body, v, json.RejectUnknownMembers(true))); err != nil {
		return err
	}
	// Every string, whatever field it fills, is first held to the widest
	// text rule (a multi-line field's): a reason or any field a Validate
	// does not check can never carry a NUL, a control character or a bidi
	// override into the database. Single-line fields are narrower still.
	var raw any
	if err := json.Unmarshal(body, &raw); err != nil {
		return jsonError(err)
	}
	return checkStrings(raw, "")
}

// checkStrings refuses the first string in v, in field order, that no text
// field accepts, naming it by the path Validate uses (tranches[0].reason).
func checkStrings(v any, path string) error {
	switch t := v.(type) {
	case string:
		if err := models.CheckText(t, true); err != nil {
			if path == "" {
				return models.Errorf(models.EBADREQUEST, "The body %s.", models.ErrorMessage(err))
			}
			return &models.Error{Code: models.EINVALID, Message: "The input has problems; see fields.",
				Fields: []models.FieldError{{Field: path, Message: models.ErrorMessage(err)}}}
		}
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := checkStrings(t[k], p); err != nil {
				return err
			}
		}
	case []any:
		for i, x := range t {
			if err := checkStrings(x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// isJSONMediaType reports whether a Content-Type header is application/json,
// with no parameter but a UTF-8 charset; application/jsonx or text/json is
// not JSON to us.
func isJSONMediaType(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != fiber.MIMEApplicationJSON {
		return false
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return false
		}
	}
	return true
}

// jsonError turns a decoding error into a coded one, naming the field by
// the path Validate uses (tranches[0].amount). It returns nil for nil.
func jsonError(err error) error {
	if err == nil {
		return nil
	}
	invalid := func(ptr jsontext.Pointer, msg string) error {
		field := fieldOf(ptr)
		if field == "" {
			return models.Errorf(models.EBADREQUEST, "The body %s.", msg)
		}
		return &models.Error{Code: models.EINVALID, Message: "The input has problems; see fields.",
			Fields: []models.FieldError{{Field: field, Message: msg}}}
	}
	var sem *json.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.Is(err, json.ErrUnknownName):
		errors.As(err, &sem)
		return invalid(sem.JSONPointer, "is not a recognised field (names are exact and lower-case, as documented)")
	case errors.As(err, &sem):
		if sem.GoType == nil || sem.JSONPointer == "" {
			return models.Errorf(models.EBADREQUEST, "The body must be a JSON object.")
		}
		return invalid(sem.JSONPointer, typeMessage(sem.GoType))
	case errors.Is(err, jsontext.ErrDuplicateName):
		errors.As(err, &syn)
		return invalid(syn.JSONPointer, "is given more than once")
	case errors.As(err, &syn) && strings.Contains(syn.Err.Error(), "UTF-8"):
		return invalid(syn.JSONPointer, "is not valid UTF-8 text")
	case errors.As(err, &syn):
		return models.Errorf(models.EBADREQUEST, "The body is not valid JSON (at byte %d).", syn.ByteOffset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return models.Errorf(models.EBADREQUEST, "The body is empty or cut short.")
	}
	return &models.Error{Code: models.EBADREQUEST, Message: "The body could not be read as JSON.", Err: err}
}

// fieldOf writes a JSON pointer (/tranches/0/amount) as the field names
// Validate reports (tranches[0].amount).
func fieldOf(ptr jsontext.Pointer) string {
	var b strings.Builder
	for tok := range ptr.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func typeMessage(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return `must be a string; money is sent as text such as "2000000.00" so that no penny is lost`
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "must be a whole number written in digits, such as 42"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Slice:
		return "must be a list"
	case reflect.Struct, reflect.Map:
		return "must be an object"
	}
	return "has the wrong type"
}

// pathID reads the :id parameter: a positive whole number in canonical form
// (models.ParseID), else ENOTFOUND.
func pathID(c *fiber.Ctx) (int64, error) {
	return paramID(c, "id")
}

// paramID reads a path parameter holding an id, as pathID does.
func paramID(c *fiber.Ctx, name string) (int64, error) {
	id, err := models.ParseID(c.Params(name))
	if err != nil {
		return 0, models.Errorf(models.ENOTFOUND, "There is nothing with the id %q.", c.Params(name))
	}
	return id, nil
}

// Money is an amount in JSON: a string with exactly two decimals.
type Money string

// Date is a calendar date in JSON, YYYY-MM-DD.
type Date string

func date(t time.Time) Date { return Date(t.Format(models.DateLayout)) }

func optDate(t *time.Time) *Date {
	if t == nil {
		return nil
	}
	d := date(*t)
	return &d
}

// list is a page of items. Total counts the whole filtered list; Next is
// the link to the following page, absent on the last.
type list[T any] struct {
	Items   []T    `json:"items"`
	Page    int    `json:"page"`
	PerPage int    `json:"per_page"`
	Total   int    `json:"total"`
	Next    string `json:"next,omitempty" doc:"the next page's path and query; absent on the last page"`
	// Amount is the whole filtered list's money, on a list of money.
	Amount *Money `json:"amount,omitempty" doc:"the money of the whole filtered list (every page), on lists of money such as awards and imports"`
}
