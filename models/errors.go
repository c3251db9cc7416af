// Package models holds granttrack's domain: the Bun models and the pure rules
// of money, financial years, organisation identifiers and state transitions.
// It imports neither Fiber nor the app packages.
package models

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each code to a status in exactly one place.
const (
	ECONFLICT     = "conflict"     // the request clashes with stored state (duplicate code, over budget)
	EINTERNAL     = "internal"     // a fault of ours; details are logged, not shown
	EINVALID      = "invalid"      // the input breaks a rule; Fields says which
	ENOTFOUND     = "not_found"    // no such thing
	EUNAUTHORIZED = "unauthorized" // no valid credentials
	EFORBIDDEN    = "forbidden"    // the role may not do this
	EBADREQUEST   = "bad_request"  // the body cannot be parsed at all
	ETOOLARGE     = "too_large"    // the body is over the limit
	EUNAVAILABLE  = "unavailable"  // the database cannot be reached
)

// FieldError names one bad input field and why it is bad, in words a
// finance officer can act on.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is granttrack's coded error. Message is safe to show to users.
type Error struct {
	Code    string
	Message string
	Fields  []FieldError
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// Problems collects field errors while validating input, so that every bad
// field is reported at once rather than the first only.
type Problems []FieldError

// Add records that field is bad for the reason given.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Has reports whether field already has a problem.
func (p Problems) Has(field string) bool {
	for _, f := range p {
		if f.Field == field {
			return true
		}
	}
	return false
}

// Err returns an EINVALID *Error carrying the problems, or nil if there are none.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "The input has problems; see fields.", Fields: p}
}
