package httpapi_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

var keyChars = regexp.MustCompile(`[^A-Za-z0-9._:-]`)

// TestHostileInputIsRefusedNamingTheField: what an attacker with an ordinary clerk token sent to stop
// every read model — and what JSON allows but the ledger cannot store or would read two ways — is a 400
// naming the field, through the real catalogue, and nothing is appended.
func TestHostileInputIsRefusedNamingTheField(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	clerk := srv.Token(t, commands.RoleClerk, pathA)

	expenditure := func(purpose, extra string) string {
		return `{"community_id":"` + communityA + `","expenditure_id":"e1","fiscal_year":2026,"category":"operating","kind":"other",` +
			`"purpose":` + purpose + `,"amount_fen":1000,"payee":{"kind":"organisation","organisation":"某某公司"}` + extra + `}`
	}
	meeting := func(field string) string {
		return `{"community_id":"` + communityA + `","meeting_id":"m1","kind":"joint","title":"两委联席会议","basis":"members",` + field + `}`
	}
	cases := []struct {
		name, command, body string
		code, field         string
	}{
		{"NUL in a text", "request-expenditure", expenditure(`"a\u0000b"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"other C0 control", "request-expenditure", expenditure(`"a\u001bb"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"newline in a one-line text", "request-expenditure", expenditure(`"a\nb"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"bidirectional override", "request-expenditure", expenditure(`"付款\u202e0001"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"isolate", "request-expenditure", expenditure(`"付款\u2066x\u2069"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"lone surrogate", "request-expenditure", expenditure(`"a\ud800b"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"invalid UTF-8", "request-expenditure", expenditure("\"a\xff\xfeb\"", ""), httpapi.CodeInvalidText, "purpose"},
		{"only spaces", "request-expenditure", expenditure(`"   　 "`, ""), httpapi.CodeInvalidText, "purpose"},
		{"only invisible characters", "request-expenditure", expenditure(`"\u200b\ufeff\u200d"`, ""), httpapi.CodeInvalidText, "purpose"},
		{"amount beyond int64 sums", "request-expenditure", strings.Replace(expenditure(`"修路"`, ""), `"amount_fen":1000`, `"amount_fen":9223372036854775807`, 1), httpapi.CodeInvalidValue, "amount_fen"},
		{"amount beyond 10^13 fen", "request-expenditure", strings.Replace(expenditure(`"修路"`, ""), `"amount_fen":1000`, `"amount_fen":10000000000001`, 1), httpapi.CodeInvalidValue, "amount_fen"},
		{"case variant of a field", "request-expenditure", expenditure(`"修路"`, `,"AMOUNT_FEN":5`), httpapi.CodeDuplicateField, "AMOUNT_FEN"},
		{"duplicate key", "request-expenditure", expenditure(`"修路"`, `,"amount_fen":5`), httpapi.CodeDuplicateField, "amount_fen"},
		{"duplicate nested key", "request-expenditure", strings.Replace(expenditure(`"修路"`, ""), `"kind":"organisation"`, `"kind":"organisation","kind":"individual"`, 1), httpapi.CodeDuplicateField, "payee.kind"},
		{"count beyond int32", "convene-meeting", meeting(`"expected":2147483648`), httpapi.CodeInvalidValue, "expected"},
		{"year 0001", "convene-meeting", meeting(`"expected":7,"held_at":"0001-01-01T00:00:00Z"`), httpapi.CodeOutOfRange, "held_at"},
		{"year 9999", "convene-meeting", meeting(`"expected":7,"held_at":"9999-12-31T00:00:00Z"`), httpapi.CodeOutOfRange, "held_at"},
		{"a time in the future", "convene-meeting", strings.Replace(meeting(`"expected":7,"held_at":"2099-12-31T00:00:00Z"`), "members", "invitees", 1), "time-in-future", "held_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := srv.Head(t)
			resp := srv.Post(t, c.command, clerk, "hostile-"+keyChars.ReplaceAllString(c.name, "-"), c.body)
			p := resp.WantProblem(t, http.StatusBadRequest, c.code)
			if p.Field != c.field {
				t.Errorf("field %q, want %q: %s", p.Field, c.field, resp.Body)
			}
			srv.WantNothingAppended(t, before)
		})
	}

	t.Run("ids made of dots", func(t *testing.T) {
		for _, id := range []string{".", ".."} {
			before := srv.Head(t)
			resp := srv.Post(t, "request-expenditure", clerk, "hostile-dots-"+fmt.Sprint(len(id)),
				strings.Replace(expenditure(`"修路"`, ""), `"expenditure_id":"e1"`, `"expenditure_id":"`+id+`"`, 1))
			if p := resp.WantProblem(t, http.StatusBadRequest, ""); p.Field != "expenditure_id" {
				t.Errorf("id %q: field %q: %s", id, p.Field, resp.Body)
			}
			srv.WantNothingAppended(t, before)
		}
	})

	t.Run("a device clock a little ahead is taken as now", func(t *testing.T) {
		ahead := time.Now().Add(kernel.ClockSkew / 2).UTC().Format(time.RFC3339Nano)
		resp := srv.Post(t, "convene-meeting", clerk, "hostile-skew", strings.Replace(meeting(`"expected":7,"held_at":"`+ahead+`"`), "members", "invitees", 1))
		if resp.Status != http.StatusOK {
			t.Fatalf("held_at %s, within the clock skew: %d %s", ahead, resp.Status, resp.Body)
		}
	})

	t.Run("a long text keeps its lines", func(t *testing.T) {
		body := `{"community_id":"` + communityA + `","notice_id":"n-lines","category":"affairs","period":{"from":"2026-01-01T00:00:00Z","to":"2026-03-31T00:00:00Z"},` +
			`"title":"第一季度公开","text":"第一行\n第二行\t附表","window":{"start":"2026-04-01T00:00:00Z","end":"2099-04-20T00:00:00Z"}}`
		resp := srv.Post(t, "publish-disclosure", clerk, "hostile-lines", body)
		if resp.Status == http.StatusBadRequest {
			t.Fatalf("a newline and a tab in a notice's text: %s", resp.Body)
		}
	})

	t.Run("error bodies are bounded", func(t *testing.T) {
		body := strings.Repeat("[", 1<<20-16)
		before := srv.Head(t)
		resp := srv.Post(t, "request-expenditure", clerk, "hostile-brackets", body)
		resp.WantProblem(t, http.StatusBadRequest, httpapi.CodeMalformedJSON)
		if len(resp.Body) > 4096 {
			t.Fatalf("a 1 MiB body of '[' is answered with %d bytes", len(resp.Body))
		}
		srv.WantNothingAppended(t, before)
	})
}

// TestEveryIntegerIsBounded: every integer a command carries has a maximum in the served schema, within
// what the read models' columns hold (money within 10^13 fen per amount, everything else within int32),
// and every text a maximum length: nothing a client sends can overflow a column or a sum.
func TestEveryIntegerIsBounded(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	doc := fetchOpenAPI(t, srv)
	seen := map[*jsonSchema]bool{}
	var walk func(s *jsonSchema, where string)
	walk = func(s *jsonSchema, where string) {
		s = doc.resolve(s)
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		switch s.Type {
		case "object":
			for k, p := range s.Properties {
				walk(p, where+"."+k)
			}
		case "array":
			walk(s.Items, where+"[]")
		case "integer":
			limit := float64(1<<31 - 1)
			if strings.HasSuffix(where, "_fen") {
				limit = 1e13
			}
			if s.Maximum == nil || *s.Maximum > limit || s.Minimum == nil {
				t.Errorf("%s: integer without bounds within [?, %.0f] (minimum %v, maximum %v)", where, limit, s.Minimum, s.Maximum)
			}
		}
	}
	names := httpapi.CommandNames(srv.Commands)
	for _, name := range names {
		op := doc.Paths[httpapi.CommandPathPrefix+name]["post"]
		walk(op.RequestBody.Content["application/json"].Schema, name)
	}
	if len(seen) < len(names) {
		t.Fatalf("walked %d schemas for %d commands", len(seen), len(names))
	}
}

// TestPersonalDataInPublicTextIs422: a national ID or mobile number in a text the public reads is refused
// with 422 naming the field, in the forms masking after the fact missed; in the personal-data fields it
// is accepted.
func TestPersonalDataInPublicTextIs422(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	body := func(id, purpose, payee string) string {
		return `{"community_id":"` + communityA + `","expenditure_id":"` + id + `","fiscal_year":2026,"category":"operating","kind":"other",` +
			`"purpose":"` + purpose + `","amount_fen":1000,"payee":` + payee + `}`
	}
	org := `{"kind":"organisation","organisation":"某某公司"}`
	for i, purpose := range []string{"补贴 ID330303198505121237", "联系１３９１２３４５６７１", "联系+8613811113333", "电话 139-1234-5671"} {
		before := srv.Head(t)
		resp := srv.Post(t, "request-expenditure", clerk, fmt.Sprint("pii-", i), body(fmt.Sprint("p", i), purpose, org))
		if p := resp.WantProblem(t, http.StatusUnprocessableEntity, httpapi.CodePersonalData); p.Field != "purpose" {
			t.Errorf("%q: field %q: %s", purpose, p.Field, resp.Body)
		}
		srv.WantNothingAppended(t, before)
	}
	before := srv.Head(t)
	resp := srv.Post(t, "request-expenditure", clerk, "pii-org", body("p-org", "补贴 某公司 13912345671", `{"kind":"organisation","organisation":"电话13912345671"}`))
	if p := resp.WantProblem(t, http.StatusUnprocessableEntity, httpapi.CodePersonalData); p.Field != "payee.organisation" && p.Field != "purpose" {
		t.Errorf("field %q: %s", p.Field, resp.Body)
	}
	srv.WantNothingAppended(t, before)
	srv.Post(t, "request-expenditure", clerk, "pii-ok", body("p-ok", "困难补助",
		`{"kind":"individual","person":"p-1","personal":{"name":"张三","national_id":"330303198505121237","phone":"13912345671"}}`)).Result(t)
}
