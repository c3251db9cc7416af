package server

import (
	"bytes"
	stdjson "encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"granttrack/models"
)

// requestTypes are the body types of every API route that takes JSON.
func requestTypes() []reflect.Type {
	var out []reflect.Type
	for _, r := range (&Server{}).apiRoutes() {
		if r.Request != nil {
			out = append(out, reflect.TypeOf(r.Request))
		}
	}
	return out
}

// FuzzDecodeJSON decodes any body into every request type of the route
// list. The decoder never panics and answers nil or a coded 4xx error (a
// bad field named); what it accepts, encoding/json reads the same way, so
// nothing it lets through means something else to another reader; and
// Validate on what it accepts never panics and answers nil or EINVALID.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"amount":"1.00"}`, `{"amount":"1","amount":"2"}`, `{"AMOUNT":"1"}`, "{\"name\":\"\xa3\"}",
		`{"funding_line_id":1,"award_id":-1,"incurred_on":"0000-01-01"}`, `{"tranches":[{"due_on":"2024-04-01","amount":"1.00"}]}`,
		`{"tender":{"awarded_supplier_id":0}}`, `{"reason":"a\u0000"}`, `null`, `{} {}`} {
		f.Add(uint8(0), []byte(s))
	}
	types := requestTypes()
	app := fiber.New()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		typ := types[int(which)%len(types)]
		c := app.AcquireCtx(&fasthttp.RequestCtx{})
		defer app.ReleaseCtx(c)
		c.Request().Header.SetContentType(fiber.MIMEApplicationJSON)
		c.Request().SetBody(body)
		v := reflect.New(typ)
		err := decodeJSON(c, v.Interface())
		if err != nil {
			switch code := models.ErrorCode(err); code {
			case models.EBADREQUEST, models.ETOOLARGE:
			case models.EINVALID:
				if len(err.(*models.Error).Fields) == 0 {
					t.Fatalf("%s: EINVALID without a field: %v", typ, err)
				}
			default:
				t.Fatalf("%s: %q gave %v, want a 4xx", typ, body, err)
			}
			return
		}
		std := reflect.New(typ)
		dec := stdjson.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(std.Interface()); err != nil || !reflect.DeepEqual(v.Elem().Interface(), std.Elem().Interface()) {
			t.Fatalf("%s: %q decoded as %+v, but encoding/json reads %+v (%v)", typ, body, v.Elem().Interface(), std.Elem().Interface(), err)
		}
		validate(t, v)
	})
}

// validate calls the value's Validate, if it has one, with any id it needs.
func validate(t *testing.T, v reflect.Value) {
	m := v.MethodByName("Validate")
	if !m.IsValid() {
		return
	}
	var args []reflect.Value
	for i := range m.Type().NumIn() {
		// What a handler passes: an id, or the record it validates against
		// (never nil, as a handler loads it first).
		if in := m.Type().In(i); in.Kind() == reflect.Pointer {
			args = append(args, reflect.New(in.Elem()))
		} else {
			args = append(args, reflect.New(in).Elem())
		}
	}
	out := m.Call(args)
	if err, _ := out[len(out)-1].Interface().(error); err != nil && models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("%s.Validate: %v, want nil or EINVALID", v.Elem().Type(), err)
	}
}

// FuzzSafeNext checks the sign-in redirect: wherever next points, the
// browser stays on this site. Browsers drop tabs and line breaks from a URL
// and read a backslash as a slash, so the check reads it the same way.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/spend", "//evil.example", "/\\evil.example", "https://evil.example", "/\t/evil.example", "", "/a?b=//c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		seen := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(got)
		u, err := url.Parse(seen)
		if !strings.HasPrefix(seen, "/") || strings.HasPrefix(seen, "//") || err == nil && (u.Scheme != "" || u.Host != "") {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
