package server

import (
	"net/http"
	"reflect"
	"regexp"
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
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"multipart/form-data": map[string]any{"schema": map[string]any{"type": "object", "required": []any{r.Upload},
					"properties": map[string]any{r.Upload: map[string]any{"type": "string", "format": "binary",
						"maxLength": r.FileSize}}}}}}
		}
		status := r.Status
		if status == 0 {
			status = http.StatusOK
		}
		ok := map[string]any{"description": http.StatusText(status)}
		if r.Response != nil {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": schemaOf(reflect.TypeOf(r.Response), schemas)}}
		}
		responses := map[string]any{strconv.Itoa(status): ok}
		problem := map[string]any{"$ref": "#/components/responses/Problem"}
		if r.Roles != nil {
			op["security"] = []any{map[string]any{"bearer": []any{}}}
			responses["401"], responses["403"] = problem, problem
		}
		if r.Request != nil || r.Upload != "" {
			responses["400"], responses["413"], responses["422"] = problem, problem, problem
		}
		if strings.Contains(r.Path, "/:") {
			responses["404"] = problem
		}
		if r.Method != http.MethodGet {
			responses["409"] = problem
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
	schemas["Problem"] = schemaOf(reflect.TypeOf(Problem{}), schemas)
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "granttrack API", "version": "1",
			"description": "Funding lines, awards and spend for public bodies. Money is a string with two decimals, e.g. \"2000000.00\"; dates are YYYY-MM-DD; errors are application/problem+json (RFC 9457)."},
		"paths": paths,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
			"responses": map[string]any{"Problem": map[string]any{"description": "A problem", "content": map[string]any{
				"application/problem+json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Problem"}}}}},
		},
	}
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
	timeType  = reflect.TypeOf(time.Time{})
	moneyType = reflect.TypeOf(Money(""))
	dateType  = reflect.TypeOf(Date(""))
)

// moneySchema is the one shape of money on the wire.
var moneySchema = map[string]any{"type": "string", "pattern": `^-?[0-9]{1,13}\.[0-9]{2}$`, "examples": []any{"2000000.00"}}

// schemaOf describes t as a JSON Schema, registering named structs in schemas.
func schemaOf(t reflect.Type, schemas map[string]any) map[string]any {
	switch t {
	case timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case moneyType:
		return moneySchema
	case dateType:
		return map[string]any{"type": "string", "format": "date"}
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
		if !f.IsExported() {
			continue
		}
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			addFields(f.Type, props, schemas)
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || name == "" {
			continue
		}
		fs := schemaOf(f.Type, schemas)
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
