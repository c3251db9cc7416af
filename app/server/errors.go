package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"granttrack/models"
)

// statusOf is the one map from error codes to HTTP statuses.
var statusOf = map[string]int{
	models.EINVALID:      http.StatusUnprocessableEntity,
	models.EBADREQUEST:   http.StatusBadRequest,
	models.ENOTFOUND:     http.StatusNotFound,
	models.ECONFLICT:     http.StatusConflict,
	models.EUNAUTHORIZED: http.StatusUnauthorized,
	models.EFORBIDDEN:    http.StatusForbidden,
	models.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	models.EUNAVAILABLE:  http.StatusServiceUnavailable,
	models.EINTERNAL:     http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem details body, with the bad fields listed.
type Problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Instance  string              `json:"instance,omitempty"`
	Code      string              `json:"code"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []models.FieldError `json:"errors,omitempty"`
}

// problemOf turns any error into a problem body. Fiber's own errors (404 for
// an unknown route, 413 for a body over the limit) keep their status.
func problemOf(err error) Problem {
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code := models.EINTERNAL
		for c, st := range statusOf {
			if st == fe.Code {
				code = c
			}
		}
		detail := fe.Message
		if fe.Code == http.StatusRequestEntityTooLarge {
			detail = "The request body is larger than allowed."
		}
		return Problem{Type: "/problems/" + code, Title: http.StatusText(fe.Code), Status: fe.Code, Detail: detail, Code: code}
	}
	code := models.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := Problem{Type: "/problems/" + code, Title: http.StatusText(status), Status: status, Code: code, Detail: models.ErrorMessage(err)}
	var me *models.Error
	if errors.As(err, &me) {
		p.Errors = me.Fields
	}
	return p
}

// handleError is Fiber's error handler: the API answers problem+json, the
// web app an error page. Only internal errors are logged in detail.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	p := problemOf(err)
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code == http.StatusRequestEntityTooLarge {
		if l := s.bodyLimitOf(c.Method(), c.Path()); l != nil {
			p.Detail = "The upload is too large: " + l.what + "."
		}
	}
	p.Instance = c.Path()
	p.RequestID = requestID(c)
	if p.Status >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", p.RequestID, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="granttrack"`)
	}
	if isAPI(c) {
		c.Status(p.Status)
		c.Set(fiber.HeaderContentType, "application/problem+json")
		return c.JSON(p, "application/problem+json")
	}
	if p.Status == http.StatusUnauthorized {
		return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
	}
	return s.render(c.Status(p.Status), "error", fiber.Map{"Title": p.Title, "Problem": p})
}

func isAPI(c *fiber.Ctx) bool {
	return strings.HasPrefix(c.Path(), "/api/") || c.Path() == "/healthz" || c.Path() == "/readyz"
}
