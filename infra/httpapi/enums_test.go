package httpapi_test

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
)

// TestEnumsAreTheDomains: in the served OpenAPI document, the enum of every command field that takes a
// domain type's value is exactly the domain's list (events.Enums, filled from funds.Categories() and the
// like), in its order; every enumerated type of the domain is listed there, and no other string field has
// an enum (no value is repeated as a literal in the API).
func TestEnumsAreTheDomains(t *testing.T) {
	srv := startCatalogue(t)
	doc := fetchOpenAPI(t, srv)
	bodies := 0
	h := reflect.TypeFor[*commands.Handlers]()
	for i := range h.NumMethod() {
		m := h.Method(i).Type
		if m.NumIn() != 4 || m.In(2) != reflect.TypeFor[commands.Meta]() {
			continue
		}
		c := m.In(3)
		s := doc.Components.Schemas[c.Name()]
		if s == nil {
			t.Fatalf("%s: no schema %s in the document", h.Method(i).Name, c.Name())
		}
		bodies++
		checkEnums(t, doc, c, s, c.Name(), events.Enums())
	}
	if bodies < 40 {
		t.Fatalf("only %d command bodies found", bodies)
	}
	// And one field against its package's own list, not through events.Enums.
	if got, want := fmt.Sprint(doc.Components.Schemas["AllocateBudget"].Properties["category"].Enum), fmt.Sprint(funds.Categories()); got != want {
		t.Errorf("allocate-budget category: enum %s, want %s", got, want)
	}
}

func checkEnums(t *testing.T, doc *openAPI, ty reflect.Type, s *jsonSchema, path string, enums map[reflect.Type][]string) {
	t.Helper()
	s = doc.resolve(s)
	for i := range ty.NumField() {
		f := ty.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		prop, ft := s.Properties[name], f.Type
		for prop != nil && (ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice) {
			if ft.Kind() == reflect.Slice {
				prop = doc.resolve(prop).Items
			}
			ft = ft.Elem()
		}
		field := path + "." + name
		if prop == nil {
			t.Errorf("%s: not in the document", field)
			continue
		}
		prop = doc.resolve(prop)
		switch {
		case ft.Kind() == reflect.Struct && ft.PkgPath() != "time":
			checkEnums(t, doc, ft, prop, field, enums)
		case ft.Kind() == reflect.String:
			values, enumerated := enums[ft]
			if !enumerated && ft != reflect.TypeFor[string]() && strings.Contains(ft.PkgPath(), "/domain/") {
				t.Errorf("%s: domain type %s has no list of values in events.Enums", field, ft)
			}
			var want []any
			for _, v := range values {
				want = append(want, v)
			}
			if !slices.Equal(prop.Enum, want) {
				t.Errorf("%s (%s): enum %s, want %s", field, ft, fmt.Sprint(prop.Enum), fmt.Sprint(want))
			}
		}
	}
}
