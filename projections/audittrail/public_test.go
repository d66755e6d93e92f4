package audittrail_test

import (
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/projections/audittrail"
)

// TestPublicContentKeepsNoPersonalData: the public part of a payload has no personal object (sealed or
// clear, at any depth), no individual payee's person id or payee key naming one, and no resident's
// objection text; everything else is kept, and a payload with nothing to remove is kept as it is.
func TestPublicContentKeepsNoPersonalData(t *testing.T) {
	for _, c := range []struct{ typ, in, want string }{
		{"funds.expenditure-requested", `{"purpose":"误工补贴","amount_fen":80000,"payee":{"kind":"individual","person":"p-42","personal":{"subject":"p-42","key":"dk-1","sealed":"AAA"}}}`,
			`{"amount_fen":80000,"payee":{"kind":"individual"},"purpose":"误工补贴"}`},
		{"funds.expenditure-requested", `{"payee":{"kind":"organisation","organisation":"某工程公司"}}`, `{"payee":{"kind":"organisation","organisation":"某工程公司"}}`},
		{"funds.budget-committed", `{"payee":"person:p-42","amount_fen":1}`, `{"amount_fen":1}`},
		{"disclosure.objection-raised", `{"notice_id":"n-1","objection_id":"R1","text":"我的意见","personal":{"subject":"resident-R1","phone":"13912345678"}}`,
			`{"notice_id":"n-1","objection_id":"R1"}`},
		{"community.committee-seated", `{"members":[{"person":"p-1","role":"chair","public_name":"王小明","personal":{"subject":"p-1","name":"王小明"}}]}`,
			`{"members":[{"person":"p-1","public_name":"王小明","role":"chair"}]}`},
		{"meeting.convened", `{"meeting_id":"m-1","title":"两委联席会议"}`, `{"meeting_id":"m-1","title":"两委联席会议"}`},
	} {
		got := string(audittrail.PublicContent(c.typ, []byte(c.in)))
		if got != c.want {
			t.Errorf("%s %s\n = %s\nwant %s", c.typ, c.in, got, c.want)
		}
		for _, secret := range []string{"13912345678", "我的意见", "p-42", "sealed"} {
			if strings.Contains(got, secret) {
				t.Errorf("%s keeps %q: %s", c.typ, secret, got)
			}
		}
	}
	if audittrail.PublicContent("x", []byte("not json")) != nil {
		t.Error("a payload that is not a JSON object has no public content")
	}
}
