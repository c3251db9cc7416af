package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The OpenAPI 3.1 document is built from the route list and the Go types the
// handlers really decode and encode, so it cannot drift from the API.

var pathParam = regexp.MustCompile(`:(\w+)`)

// OpenAPIPath turns a Fiber path into OpenAPI's form: /x/:id → /x/{id}.
func OpenAPIPath(p string) string { return pathParam.ReplaceAllString(p, "{$1}") }

// OpenAPI returns the document describing the API routes.
func (s *Server) OpenAPI() map[string]any {
	schemas := map[string]any{}
	paths := map[string]any{}
	for _, r := range s.routes {
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r),
		}
		var params []any
		for _, m := range pathParam.FindAllStringSubmatch(r.Path, -1) {
			schema := map[string]any{"type": "integer", "minimum": 1}
			if m[1] != "id" { // a name, such as a file of the publishing pack
				schema = map[string]any{"type": "string"}
			}
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": schema})
		}
		if r.Query != nil {
			t := reflect.TypeOf(r.Query)
			for i := range t.NumField() {
				f := t.Field(i)
				p := map[string]any{"name": f.Tag.Get("query"), "in": "query", "schema": schemaOf(f.Type, schemas)}
				if d := f.Tag.Get("doc"); d != "" {
					p["description"] = d
				}
				params = append(params, p)
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Request), schemas)}}}
		}
		if r.Upload != "" {
			var schema any = map[string]any{"type": "object", "required": []any{r.Upload},
				"properties": map[string]any{r.Upload: map[string]any{"type": "string", "format": "binary",
					"maxLength": r.FileSize}}}
			if r.Request != nil { // the form's other fields, beside the file
				schema = map[string]any{"allOf": []any{schemaOf(reflect.TypeOf(r.Request), schemas), schema}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data": map[string]any{"schema": schema}}}
		}
		status := r.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		if r.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Response), schemas)}}
		}
		if r.Files != nil {
			content := map[string]any{}
			for _, mt := range r.Files {
				schema := map[string]any{"type": "string", "format": "binary"}
				if mt == "application/json" { // an export in a JSON format, described by that format
					schema = map[string]any{"description": "The file, as its format defines it."}
				}
				content[mt] = map[string]any{"schema": schema}
			}
			ok["content"] = content
		}
		responses := map[string]any{strconv.Itoa(status): ok}
		if r.Accepted {
			accepted := maps.Clone(ok)
			accepted["description"] = "Accepted: proposed for a second person's decision"
			responses[strconv.Itoa(http.StatusAccepted)] = accepted
		}
		for _, st := range problemStatuses(r) {
			responses[strconv.Itoa(st)] = map[string]any{"$ref": "#/components/responses/" + http.StatusText(st)}
		}
		op["responses"] = responses
		path := OpenAPIPath(r.Path)
		item, _ := paths[path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		item[strings.ToLower(r.Method)] = op
	}
	schemas["Problem"] = problemSchema
	schemas["FieldError"] = fieldErrorSchema
	problems := map[string]any{}
	for _, st := range []int{400, 401, 403, 404, 409, 413, 422, 429, 500, 503} {
		problems[http.StatusText(st)] = map[string]any{"description": problemDescriptions[st], "content": map[string]any{
			"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "granttrack API", "version": "1",
			"description": "Funding lines, awards and spend for public bodies. Money is a string with two decimals, e.g. \"2000000.00\"; dates are YYYY-MM-DD; errors are application/problem+json (RFC 9457)."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses":       problems,
		},
	}
}

// problemStatuses are the error statuses route may answer, each with a
// problem+json body: every route may fail inside (500) or find the database
// down (503, never 401 or 403).
func problemStatuses(r Route) []int {
	out := []int{http.StatusInternalServerError, http.StatusServiceUnavailable}
	if r.Roles != nil {
		out = append(out, http.StatusUnauthorized, http.StatusForbidden)
	}
	if r.Request != nil || r.Upload != "" {
		out = append(out, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	}
	if r.Query != nil {
		out = append(out, http.StatusUnprocessableEntity)
	}
	if strings.Contains(r.Path, "/:") || r.Files != nil { // a file download may find nothing to give
		out = append(out, http.StatusNotFound)
	}
	if r.Conflict {
		out = append(out, http.StatusConflict)
	}
	if r.Method != http.MethodGet {
		// A decision without a body may still break a rule of what it
		// decides (a status that cannot follow, a missing citation).
		out = append(out, http.StatusConflict, http.StatusUnprocessableEntity)
	}
	return out
}

var problemDescriptions = map[int]string{
	400: "The body is not JSON, or not the JSON object expected.",
	401: "No API token, or one that is unknown or revoked.",
	403: "The token's user has a role that may not do this.",
	404: "There is no such thing.",
	409: "The change conflicts with the ledger's state or rules.",
	413: "The body is larger than allowed.",
	422: "The input has problems; errors names each field.",
	429: "Too many requests.",
	500: "Something failed inside; the request_id helps support find it.",
	503: "The database is not reachable; try again shortly. Keep your token: it was not refused.",
}

// problemSchema is the body of every error: RFC 9457 problem details with
// the bad fields listed.
var problemSchema = map[string]any{
	"type": "object", "additionalProperties": false,
	"required": []any{"type", "title", "status", "detail", "code"},
	"properties": map[string]any{
		"type":       map[string]any{"type": "string", "description": "A URI reference naming the kind of problem, /problems/<code>."},
		"title":      map[string]any{"type": "string", "description": "The HTTP status in words."},
		"status":     map[string]any{"type": "integer", "minimum": 400, "maximum": 599},
		"detail":     map[string]any{"type": "string", "description": "What went wrong, for a person to read."},
		"instance":   map[string]any{"type": "string", "description": "The path of the request."},
		"code":       map[string]any{"type": "string", "enum": problemCodes()},
		"request_id": map[string]any{"type": "string", "description": "The server's id for the request, for support."},
		"errors": map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/FieldError"},
			"description": "The fields that are wrong, each with its message."},
	},
}

var fieldErrorSchema = map[string]any{
	"type": "object", "additionalProperties": false, "required": []any{"field", "message"},
	"properties": map[string]any{
		"field":   map[string]any{"type": "string", "description": "The field's JSON name; nested fields are dotted, list items indexed (tranches[2].amount)."},
		"message": map[string]any{"type": "string"},
	},
}

func problemCodes() []any {
	var out []any
	for code := range statusOf {
		out = append(out, code)
	}
	slices.SortFunc(out, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	return out
}

func (s *Server) openapi(c *fiber.Ctx) error { return c.JSON(s.OpenAPI()) }

func operationID(r Route) string {
	parts := []string{strings.ToLower(r.Method)}
	for _, seg := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		if seg == "api" || seg == "v1" {
			continue
		}
		seg = strings.TrimPrefix(seg, ":")
		parts = append(parts, strings.ReplaceAll(seg, "-", "_"))
	}
	return strings.Join(parts, "_")
}

var (
	timeType    = reflect.TypeOf(time.Time{})
	moneyType   = reflect.TypeOf(Money(""))
	dateType    = reflect.TypeOf(Date(""))
	rawJSONType = reflect.TypeOf(json.RawMessage(nil))
)

// moneySchema is the one shape of money on the wire.
var moneySchema = map[string]any{"type": "string", "pattern": `^-?[0-9]{1,13}\.[0-9]{2}$`, "examples": []any{"2000000.00"}}

// moneyInputSchema is what the API accepts as money: up to two decimals
// (models.ParseMoney); it answers with exactly two.
var moneyInputSchema = map[string]any{"type": "string", "pattern": `^-?[0-9]{1,13}(\.[0-9]{1,2})?$`, "examples": []any{"1250.00"}}

// schemaOf describes t as a JSON Schema, registering named structs in schemas.
func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case moneyType:
		return moneySchema
	case dateType:
		return map[string]any{"type": "string", "format": "date"}
	case rawJSONType: // an audit payload: the object recorded, or null
		return map[string]any{"type": []any{"object", "null"}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		s := schemaOf(t.Elem(), schemas)
		if _, isRef := s["$ref"]; isRef {
			return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
		}
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []any{s["type"], "null"}
		return out
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": schemaOf(t.Elem(), schemas)}
	case reflect.Map:
		return map[string]any{"type": "object"}
	case reflect.Struct:
		name := schemaName(t)
		if _, done := schemas[name]; !done {
			schemas[name] = map[string]any{} // placeholder against recursion
			props := map[string]any{}
			addFields(t, props, schemas)
			schemas[name] = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

func addFields(t reflect.Type, props map[string]any, schemas map[string]any) {
	for i := range t.NumField() {
		f := t.Field(i)
		// encoding/json promotes the fields of an embedded struct, exported
		// or not, unless it has a name of its own.
		if f.Anonymous && f.Type.Kind() == reflect.Struct && f.Tag.Get("json") == "" {
			addFields(f.Type, props, schemas)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		fs := schemaOf(f.Type, schemas)
		// Money kept as a plain string by a package outside the server.
		switch f.Tag.Get("openapi") {
		case "money":
			fs = moneySchema
			if f.Type.Kind() == reflect.Pointer {
				fs = map[string]any{"type": []any{"string", "null"}, "pattern": moneySchema["pattern"], "examples": moneySchema["examples"]}
			}
		case "money-input":
			fs = moneyInputSchema
			if f.Type.Kind() == reflect.Pointer {
				fs = map[string]any{"type": []any{"string", "null"}, "pattern": moneyInputSchema["pattern"], "examples": moneyInputSchema["examples"]}
			}
		}
		if doc := f.Tag.Get("doc"); doc != "" {
			fs = withDescription(fs, doc)
		}
		props[name] = fs
	}
}

func withDescription(s map[string]any, doc string) map[string]any {
	out := map[string]any{"description": doc}
	for k, v := range s {
		out[k] = v
	}
	return out
}

func schemaName(t reflect.Type) string {
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 { // generic: list[granttrack/app/server.awardJSON]
		inner := name[i+1 : len(name)-1]
		inner = inner[strings.LastIndexByte(inner, '.')+1:]
		name = name[:i] + "_" + inner
	}
	name = strings.TrimSuffix(name, "JSON")
	return strings.ToUpper(name[:1]) + name[1:]
}
