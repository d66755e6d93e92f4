package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"
)

// Why the API decodes command bodies itself: huma validates a declared body in its own order and words
// (its 422 becomes a 400 through the package's hook, problem.go), while the ledger answers 400 naming the
// field at fault first, and keeps 422 for domain rules, so a command operation takes the raw
// body (huma only enforces the size limit) and decodeCommand does, in order: parse as JSON (malformed →
// the field where parsing stopped), validate against the same JSON Schema the OpenAPI document shows
// (huma.Validate: unknown, missing and mistyped fields, enums, patterns, bounds), then decode strictly
// into the Go type. Each step that fails returns field errors; nothing reaches the handler. Between the
// parse and the schema, checkBody (strict.go) refuses what JSON allows but the ledger cannot store or
// would read ambiguously: invalid UTF-8, duplicate or case-variant keys, control characters, blank
// required texts, times outside the ledger's years.

// decodeCommand decodes a command body into C, or returns the input errors (at least one): decodeStrict,
// then a national ID or mobile number in a text that is not personal data is refused.
func decodeCommand[C any](reg huma.Registry, schema *huma.Schema, body []byte) (C, []FieldError) {
	c, parsed, errs := decodeStrict[C](reg, schema, body)
	if errs != nil {
		return c, errs
	}
	if fe := personalDataIn(reg, schema, parsed, ""); fe != nil {
		return c, []FieldError{*fe}
	}
	return c, nil
}

// decodeStrict decodes a JSON object body into C in the order above, and returns it with the parsed value,
// or the input errors (at least one).
func decodeStrict[C any](reg huma.Registry, schema *huma.Schema, body []byte) (C, any, []FieldError) {
	var c C
	var parsed any
	if err := json.Unmarshal(body, &parsed); err != nil {
		return c, nil, []FieldError{parseError(body, err)}
	}
	if _, ok := parsed.(map[string]any); !ok {
		return c, nil, []FieldError{{Code: CodeWrongType, Message: "expected a JSON object"}}
	}
	if errs := checkBody(reg, schema, body, parsed); errs != nil {
		return c, nil, errs
	}
	res := &huma.ValidateResult{}
	huma.Validate(reg, schema, huma.NewPathBuffer(make([]byte, 0, 64), 0), huma.ModeWriteToServer, parsed, res)
	if len(res.Errors) > 0 {
		errs := make([]FieldError, 0, len(res.Errors))
		for _, e := range res.Errors {
			errs = append(errs, validationError(e))
		}
		slices.SortStableFunc(errs, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
		return c, nil, slices.Compact(errs)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, nil, []FieldError{decodeError(err)}
	}
	return c, parsed, nil
}

// StrictJSON decodes an operation's JSON body B as a command's body is decoded (decodeStrict: 400 naming
// the field for malformed JSON, invalid UTF-8, duplicate or case-variant keys, control characters and
// overrides in texts, blank required texts, unknown, missing or mistyped fields), for an operation outside
// the command catalogue. Such an operation's input has a RawBody []byte field (contentType
// application/json), registers with SkipValidateBody, and has Document describe its body after
// huma.Register.
type StrictJSON[B any] struct {
	reg    huma.Registry
	schema *huma.Schema
}

// NewStrictJSON returns the decoder of B, with B's schema in api's document.
func NewStrictJSON[B any](api huma.API) StrictJSON[B] {
	reg := api.OpenAPI().Components.Schemas
	t := reflect.TypeFor[B]()
	return StrictJSON[B]{reg: reg, schema: reg.Schema(t, true, t.Name())}
}

// Decode returns the body sent as contentType (the request's Content-Type: JSON, or none said), or the
// problem: 415 for another type, 400 naming the field.
func (s StrictJSON[B]) Decode(contentType string, body []byte) (B, *Problem) {
	var b B
	if mt, _, err := mime.ParseMediaType(contentType); contentType != "" && (err != nil || mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return b, NewProblem(http.StatusUnsupportedMediaType, "unsupported-media-type", "请求内容须为 JSON(Content-Type: application/json)", "Content-Type")
	}
	b, _, errs := decodeStrict[B](s.reg, s.schema, body)
	if errs != nil {
		return b, badInput(errs)
	}
	return b, nil
}

// Document makes B, as JSON, the request body of op (huma documents a raw body as bytes).
func (s StrictJSON[B]) Document(op *huma.Operation, description string) {
	op.RequestBody.Description = description
	op.RequestBody.Content = map[string]*huma.MediaType{"application/json": {Schema: s.schema}}
}

// validationError turns one of huma's validation errors (location "body.items[2].name") into a field error.
func validationError(err error) FieldError {
	var d *huma.ErrorDetail
	if !errors.As(err, &d) {
		return FieldError{Code: CodeInvalidValue, Message: err.Error()}
	}
	field := strings.TrimPrefix(strings.TrimPrefix(d.Location, "body"), ".")
	msg := d.Message
	switch {
	case msg == validation.MsgUnexpectedProperty:
		return FieldError{Field: field, Code: CodeUnknownField, Message: msg}
	case isRequired(msg):
		prop := requiredProperty(msg)
		if field != "" {
			prop = field + "." + prop
		}
		return FieldError{Field: prop, Code: CodeMissingField, Message: "required"}
	case slices.Contains(typeMessages, msg):
		return FieldError{Field: field, Code: CodeWrongType, Message: msg}
	}
	return FieldError{Field: field, Code: CodeInvalidValue, Message: msg}
}

var typeMessages = []string{
	validation.MsgExpectedBoolean, validation.MsgExpectedNumber, validation.MsgExpectedInteger,
	validation.MsgExpectedString, validation.MsgExpectedArray, validation.MsgExpectedObject,
}

// The required-property message is a format ("expected required property %s to be present"); its two
// constant halves identify it and enclose the property's name.
var requiredPrefix, requiredSuffix, _ = strings.Cut(validation.MsgExpectedRequiredProperty, "%s")

func isRequired(msg string) bool {
	return strings.HasPrefix(msg, requiredPrefix) && strings.HasSuffix(msg, requiredSuffix) &&
		len(msg) > len(requiredPrefix)+len(requiredSuffix)
}

func requiredProperty(msg string) string {
	return msg[len(requiredPrefix) : len(msg)-len(requiredSuffix)]
}

// decodeError explains a failure of the strict decode into the Go type, after the body passed the schema
// (a number beyond the Go type's range, a key differing only in case from a field given twice).
func decodeError(err error) FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return FieldError{Field: te.Field, Code: CodeWrongType, Message: fmt.Sprintf("%s does not fit %s", te.Value, te.Type)}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if f, err := strconv.Unquote(name); err == nil {
			name = f
		}
		return FieldError{Field: name, Code: CodeUnknownField, Message: "unexpected property"}
	}
	return FieldError{Code: CodeInvalidValue, Message: err.Error()}
}

// parseError explains a body that is not JSON, naming the field where parsing stopped.
func parseError(body []byte, err error) FieldError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) { // a number no float64 holds
		return FieldError{Field: overflowPath(body), Code: CodeWrongType, Message: fmt.Sprintf("%s is out of range", te.Value)}
	}
	msg := err.Error()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		msg = fmt.Sprintf("%s (at byte %d)", se.Error(), se.Offset)
	}
	return FieldError{Field: syntaxPath(body), Code: CodeMalformedJSON, Message: msg}
}

// syntaxPath walks body token by token and returns the JSON path ("payee.accounts[1].bank") of the value
// being read, or of the last key read, where the walk failed; "" when it failed at the top level.
func syntaxPath(body []byte) string { return walkKeys(body, nil) }

// walkKeys walks body token by token, keeping the JSON path of the value being read. onKey, when not nil,
// is called with each object key, its path and the keys read before it in the same object (lower-cased →
// as given); returning false stops the walk. walkKeys returns the path where it stopped: at a syntax
// error, at onKey's refusal, or "" at the end.
func walkKeys(body []byte, onKey func(path, key string, before map[string]string) bool) string {
	type frame struct {
		object bool
		key    string            // last key read (objects)
		keys   map[string]string // keys read so far (objects), folded → as given
		n      int               // values completed (arrays)
	}
	var stack []*frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if f.key != "" {
					if b.Len() > 0 {
						b.WriteByte('.')
					}
					b.WriteString(f.key)
				}
				continue
			}
			b.WriteString("[" + strconv.Itoa(f.n) + "]")
		}
		return b.String()
	}
	valueDone := func() {
		if len(stack) > 0 && !stack[len(stack)-1].object {
			stack[len(stack)-1].n++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	expectKey := false
	for {
		tok, err := dec.Token()
		if err != nil { // a syntax error, or the end (where the path is "")
			return path()
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				stack = append(stack, &frame{object: t == '{', keys: map[string]string{}})
				expectKey = t == '{'
			case '}', ']':
				stack = stack[:len(stack)-1]
				valueDone()
				expectKey = len(stack) > 0 && stack[len(stack)-1].object
			}
		default:
			if expectKey {
				f := stack[len(stack)-1]
				k, _ := t.(string)
				f.key = k
				if onKey != nil && !onKey(path(), k, f.keys) {
					return path()
				}
				f.keys[strings.ToLower(k)] = k
				expectKey = false
				continue
			}
			valueDone()
			expectKey = len(stack) > 0 && stack[len(stack)-1].object
		}
	}
}

// overflowPath returns the path of the first number in body (valid JSON) that no float64 holds.
func overflowPath(body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return ""
	}
	var walk func(v any, path string) (string, bool)
	walk = func(v any, path string) (string, bool) {
		switch t := v.(type) {
		case json.Number:
			_, err := t.Float64()
			return path, err != nil
		case []any:
			for i, e := range t {
				if p, ok := walk(e, path+"["+strconv.Itoa(i)+"]"); ok {
					return p, true
				}
			}
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(t)) {
				sub := k
				if path != "" {
					sub = path + "." + k
				}
				if p, ok := walk(t[k], sub); ok {
					return p, true
				}
			}
		}
		return "", false
	}
	p, _ := walk(v, "")
	return p
}

// requestHash identifies a command request whatever its formatting: SHA-256 of the command's name and its
// body in canonical JSON (keys sorted, insignificant space dropped, numbers as written, strings escaped one
// way). The body is valid JSON when this is called.
func requestHash(name string, body []byte) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	canonical := body
	if dec.Decode(&v) == nil {
		if b, err := json.Marshal(v); err == nil {
			canonical = b
		}
	}
	h := sha256.New()
	h.Write([]byte(name))
	h.Write([]byte{0})
	h.Write(canonical)
	return hex.EncodeToString(h.Sum(nil))
}
