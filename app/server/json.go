package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// decodeJSON reads the request body into v strictly: JSON only, no unknown
// fields, no trailing data, at most MaxJSONBody bytes. Parse failures are
// EBADREQUEST; a value of the wrong type is EINVALID naming the field.
func decodeJSON(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(body) > MaxJSONBody {
		return models.Errorf(models.ETOOLARGE, "The request body is over %d bytes.", MaxJSONBody)
	}
	if ct := c.Get(fiber.HeaderContentType); !strings.HasPrefix(ct, fiber.MIMEApplicationJSON) {
		return models.Errorf(models.EBADREQUEST, "Send the body as JSON with 'Content-Type: application/json'.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return models.Errorf(models.EBADREQUEST, "The body must hold a single JSON object.")
	}
	return nil
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return models.Errorf(models.EBADREQUEST, "The body must be a JSON object.")
		}
		return &models.Error{Code: models.EINVALID, Message: "The input has problems; see fields.",
			Fields: []models.FieldError{{Field: field, Message: typeMessage(typeErr.Type)}}}
	case errors.As(err, &syntaxErr):
		return models.Errorf(models.EBADREQUEST, "The body is not valid JSON (at byte %d).", syntaxErr.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return models.Errorf(models.EBADREQUEST, "The body is empty or cut short.")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, _ = strconv.Unquote(name)
		return &models.Error{Code: models.EINVALID, Message: "The input has problems; see fields.",
			Fields: []models.FieldError{{Field: name, Message: "is not a recognised field"}}}
	}
	return &models.Error{Code: models.EBADREQUEST, Message: "The body could not be read as JSON.", Err: err}
}

func typeMessage(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return `must be a string; money is sent as text such as "2000000.00" so that no penny is lost`
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "must be a whole number"
	case reflect.Bool:
		return "must be true or false"
	case reflect.Slice:
		return "must be a list"
	case reflect.Struct, reflect.Map:
		return "must be an object"
	}
	return "has the wrong type"
}

// pathID reads the :id parameter; ENOTFOUND when it is not a positive number.
func pathID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.Errorf(models.ENOTFOUND, "There is nothing with the id %q.", c.Params("id"))
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

// list is a page of items.
type list[T any] struct {
	Items   []T `json:"items"`
	Page    int `json:"page"`
	PerPage int `json:"per_page"`
	Total   int `json:"total"`
}
