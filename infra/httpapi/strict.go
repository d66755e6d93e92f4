package httpapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// What every command body must be before it is decoded, beyond its JSON Schema: a value the ledger can
// store and every read model can project, whatever the client sent. An event that PostgreSQL cannot hold
// (a NUL in a text, a number beyond a column) would stop the models that project it, so such input is a
// 400 naming the field, never accepted and never silently repaired.
const (
	// CodeInvalidText: a text holds a control character, a bidirectional override, a replacement
	// character (invalid UTF-8 or a lone surrogate escape), or only blanks where a text is required.
	CodeInvalidText = "invalid-text"
	// CodeDuplicateField: the same key twice in one object, or two keys differing only in case.
	CodeDuplicateField = "duplicate-field"
	// CodeOutOfRange: a time outside the years the ledger records.
	CodeOutOfRange = "out-of-range"
	// CodePersonalData: a text the public will read holds a national ID or a mobile number (422).
	CodePersonalData = "personal-data-in-public-text"

	// longText is the maxLength from which a text is prose, where newlines and tabs are allowed.
	longText = 4000
	// maxFieldPath and maxMessage bound what an error repeats of the input.
	maxFieldPath = 200
	maxMessage   = 300
)

// Times a command may carry: from the founding of the People's Republic to well after any plan.
var (
	earliestTime = time.Date(1949, time.October, 1, 0, 0, 0, 0, time.UTC)
	latestTime   = time.Date(2200, time.January, 1, 0, 0, 0, 0, time.UTC)
)

// checkBody checks body, which is valid JSON, in the order a client best fixes things: encoding, then
// keys, then values against schema. It returns nil or the errors, at least one.
func checkBody(reg huma.Registry, schema *huma.Schema, body []byte, parsed any) []FieldError {
	if !utf8.Valid(body) {
		off := invalidUTF8At(body)
		return []FieldError{{Field: syntaxPath(body[:off]), Code: CodeInvalidText, Message: fmt.Sprintf("not valid UTF-8 (at byte %d)", off)}}
	}
	if errs := checkKeys(body); errs != nil {
		return errs
	}
	var errs []FieldError
	checkValue(reg, schema, parsed, "", false, &errs)
	return errs
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// checkKeys refuses a key given twice in one object, or beside another that differs only in case (the
// decoder would take either for the same field).
func checkKeys(body []byte) []FieldError {
	var errs []FieldError
	walkKeys(body, func(path, key string, before map[string]string) bool {
		prev, seen := before[strings.ToLower(key)]
		switch {
		case !seen:
			return true
		case prev == key:
			errs = []FieldError{{Field: bound(path, maxFieldPath), Code: CodeDuplicateField, Message: "given twice"}}
		default:
			errs = []FieldError{{Field: bound(path, maxFieldPath), Code: CodeDuplicateField,
				Message: bound(fmt.Sprintf("differs only in case from %q: field names are exact", prev), maxMessage)}}
		}
		return false
	})
	return errs
}

// stringField is a string value of a body, with what the schema says of it.
type stringField struct {
	value, path string
	schema      *huma.Schema // nil when the schema says nothing
	required    bool         // required by its object, or an array element
	personal    bool         // inside a Personal object (never public)
}

// walkStrings calls visit for every string value of v, found at path, in key order, with its schema
// (references resolved); visit returning false stops the walk.
func walkStrings(reg huma.Registry, s *huma.Schema, v any, path string, required, personal bool, visit func(stringField) bool) bool {
	if s != nil && s.Ref != "" {
		personal = personal || strings.HasSuffix(s.Ref, "/Personal")
		s = reg.SchemaFromRef(s.Ref)
	}
	switch t := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(t)) {
			var sub *huma.Schema
			req := false
			if s != nil {
				sub = s.Properties[k]
				req = slices.Contains(s.Required, k)
			}
			if !walkStrings(reg, sub, t[k], join(path, k), req, personal, visit) {
				return false
			}
		}
	case []any:
		var items *huma.Schema
		if s != nil {
			items = s.Items
		}
		for i, e := range t {
			if !walkStrings(reg, items, e, path+"["+strconv.Itoa(i)+"]", true, personal, visit) {
				return false
			}
		}
	case string:
		return visit(stringField{value: t, path: path, schema: s, required: required, personal: personal})
	}
	return true
}

// checkValue checks every string of v against what the schema says of it.
func checkValue(reg huma.Registry, s *huma.Schema, v any, path string, required bool, errs *[]FieldError) {
	walkStrings(reg, s, v, path, required, false, func(f stringField) bool {
		t, s := f.value, f.schema
		long := s == nil || s.MaxLength == nil || *s.MaxLength >= longText
		if msg := textProblem(t, long); msg != "" {
			*errs = append(*errs, FieldError{Field: f.path, Code: CodeInvalidText, Message: msg})
			return true
		}
		if (f.required || s != nil && s.MinLength != nil && *s.MinLength > 0) && kernel.Blank(t) {
			*errs = append(*errs, FieldError{Field: f.path, Code: CodeInvalidText, Message: "must not be empty or only blanks"})
			return true
		}
		if s != nil && s.Format == "date-time" {
			if at, err := time.Parse(time.RFC3339Nano, t); err == nil && (at.Before(earliestTime) || !at.Before(latestTime)) {
				*errs = append(*errs, FieldError{Field: f.path, Code: CodeOutOfRange,
					Message: fmt.Sprintf("%s is outside the years the ledger records (1949-10-01 to 2199)", bound(t, 40))})
			}
		}
		return true
	})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// textProblem says what is wrong with the characters of s (kernel.CheckText), or "" when nothing is.
// Newlines and tabs are allowed in long texts only.
func textProblem(s string, long bool) string {
	f := kernel.CheckText(s, long)
	switch f.Kind {
	case kernel.TextLineBreak:
		return fmt.Sprintf("a line break or tab at character %d: this field is one line", f.At)
	case kernel.TextControl:
		return fmt.Sprintf("control character U+%04X at character %d", f.Rune, f.At)
	case kernel.TextBidiOverride:
		return fmt.Sprintf("bidirectional override U+%04X at character %d: it makes the text read differently from what is stored", f.Rune, f.At)
	case kernel.TextNotUnicode:
		return fmt.Sprintf("U+FFFD at character %d: the text was not valid Unicode (invalid UTF-8 or a lone surrogate)", f.At)
	}
	return ""
}

// bound cuts s to at most n bytes (on a character boundary), marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// personalDataIn finds a national ID or mobile number in a free text of the command (a string field with
// neither pattern, enum nor format) outside the personal-data objects, which are never public. The
// clerk is told to put it where it belongs; masking after the fact misses too many ways of writing it.
func personalDataIn(reg huma.Registry, s *huma.Schema, v any, path string) *FieldError {
	var found *FieldError
	walkStrings(reg, s, v, path, false, false, func(f stringField) bool {
		if f.personal || f.schema == nil || f.schema.Pattern != "" || len(f.schema.Enum) > 0 || f.schema.Format != "" {
			return true
		}
		if kind, at := kernel.FindPersonalData(f.value); kind != "" {
			what := map[kernel.PersonalDataKind]string{kernel.FoundNationalID: "身份证号", kernel.FoundMobile: "手机号"}[kind]
			found = &FieldError{Field: f.path, Code: CodePersonalData,
				Message: fmt.Sprintf("公开内容中含有%s(第%d个字符起)：个人信息请填写在 personal 字段中，公众看不到", what, at+1)}
			return false
		}
		return true
	})
	return found
}
