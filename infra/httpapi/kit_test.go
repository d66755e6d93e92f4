package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

// TestDecodeJSONNamesTheField: the plain handlers' decoder answers 400 naming the field at fault, found
// from the body and the target's fields, never from an error's text.
func TestDecodeJSONNamesTheField(t *testing.T) {
	type in struct {
		Reason string `json:"reason"`
		Count  int    `json:"count"`
		Hidden string `json:"-"`
	}
	for _, c := range []struct {
		name, body, code, field string
		status                  int
	}{
		{"unknown field", `{"reason":"x","extra":1}`, httpapi.CodeUnknownField, "extra", 400},
		{"a field the body may not set", `{"Hidden":"x"}`, httpapi.CodeUnknownField, "Hidden", 400},
		{"wrong type", `{"count":"three"}`, httpapi.CodeWrongType, "count", 400},
		{"malformed", `{"reason":`, httpapi.CodeMalformedJSON, "reason", 400},
		{"empty", ``, httpapi.CodeMalformedJSON, "", 400},
		{"not an object", `["x"]`, httpapi.CodeWrongType, "", 400},
		{"twice", `{"reason":"a","reason":"b"}`, "duplicate-field", "reason", 400},
		{"too large", `{"reason":"` + strings.Repeat("x", 70<<10) + `"}`, httpapi.CodeBodyTooLarge, "", 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/api/v1/x", strings.NewReader(c.body))
			var v in
			p := httpapi.DecodeJSON(r, &v)
			if p == nil || p.Status != c.status || p.Code != c.code || p.Field != c.field {
				t.Fatalf("got %+v, want %d %s naming %q", p, c.status, c.code, c.field)
			}
		})
	}
	var v in
	if p := httpapi.DecodeJSON(httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"reason":"r","count":2}`)), &v); p != nil ||
		v.Reason != "r" || v.Count != 2 {
		t.Fatalf("decoded %+v, %+v", v, p)
	}
}
