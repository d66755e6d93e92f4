package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
)

// publishOpenNotice publishes notice id of community c with its publicity window open for a week.
func publishOpenNotice(t *testing.T, srv *servedLedger, token, c, id string) {
	t.Helper()
	now := time.Now().UTC()
	body := fmt.Sprintf(`{"community_id":%q,"notice_id":%q,"category":"affairs","period":{"from":%q,"to":%q},`+
		`"title":"养老照料中心建设方案","text":"拟建设养老照料中心一处，请居民提出意见。","window":{"start":%q,"end":%q}}`,
		c, id, now.Add(-48*time.Hour).Format(time.RFC3339), now.Add(-time.Hour).Format(time.RFC3339),
		now.Add(-time.Minute).Format(time.RFC3339), now.Add(7*24*time.Hour).Format(time.RFC3339))
	srv.PostResult("publish-disclosure", token, "publish-"+id, body)
}

// servedWithOpenNotice is serve with community c and its notice id in its publicity window, on the portal.
func servedWithOpenNotice(t *testing.T, id string) (*servedLedger, string) {
	t.Helper()
	db := onEmbeddedNode(t)
	srv := startServe(t, db)
	admin := srv.Token(commands.RoleAdmin, "*")
	registerCommunity(t, srv, admin, c)
	publishOpenNotice(t, srv, admin, c, id)
	waitUntil(t, "the notice on the portal", 30*time.Second, func() bool {
		_, _, b := srv.Get("/c/" + c + "/notices/" + id)
		return bytes.Contains(b, []byte("对本公示提出异议"))
	})
	return srv, db
}

// projectedEvents counts the events the audit trail of db holds: what a submission wrote, once projected.
func projectedEvents(t *testing.T, db string) func() int {
	pool := testPool(t, db)
	return func() int {
		var n int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM rm_audittrail.audit_events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// form posts a form as a browser without JavaScript would, without following the redirect.
func form(t *testing.T, srv *servedLedger, path string, v url.Values) (int, http.Header, []byte) {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.PostForm(srv.Base+path, v)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header, b.Bytes()
}

var hiddenKey = regexp.MustCompile(`name="key" value="([0-9a-f]+)"`)

// submitTwice posts form v to path twice, as a double click would: both must send the resident to the
// same receipt; it returns the receipt's page and code.
func submitTwice(t *testing.T, srv *servedLedger, path string, v url.Values) (receipt, code string) {
	t.Helper()
	st, h, _ := form(t, srv, path, v)
	receipt = h.Get("Location")
	if st != http.StatusSeeOther || !regexp.MustCompile(`^/r/R[0-9A-Z]{10}$`).MatchString(receipt) {
		t.Fatalf("the submission: %d, Location %q", st, receipt)
	}
	if st, h, _ := form(t, srv, path, v); st != http.StatusSeeOther || h.Get("Location") != receipt {
		t.Fatalf("the same form submitted again: %d %q, want the same receipt %s", st, h.Get("Location"), receipt)
	}
	return receipt, strings.TrimPrefix(receipt, "/r/")
}

// TestResidentObjectsAndReadsTheAnswer walks a resident's objection without an account: the notice page
// offers the form while its window is open; the form (no JavaScript) gives a receipt; submitting the same
// form twice gives the same receipt and records one objection; a mistake shows the form again naming the
// field, recording nothing; a clerk answers through the command API; the receipt page and the notice page
// show the answer, never the objector, whose phone is sealed and seen by the auditors only. The JSON API
// does the same for a topic, and a robot filling the hidden field records nothing.
func TestResidentObjectsAndReadsTheAnswer(t *testing.T) {
	srv, db := servedWithOpenNotice(t, "n-elder")
	notice := "/c/" + c + "/notices/n-elder"
	_, _, page := srv.Get(notice + "/object")
	m := hiddenKey.FindSubmatch(page)
	if m == nil {
		t.Fatalf("the objection form has no key:\n%s", page)
	}
	const phone = "13912345678"
	objection := url.Values{"key": {string(m[1])}, "text": {"选址离幼儿园太近，\r\n<b>请重新考虑</b>。"}, "name": {"王五"}, "phone": {phone}, "website": {""}}

	// A mistake first: no text. The form comes back naming the field, with what was typed; nothing recorded.
	bad := url.Values{"key": objection["key"], "text": {"   "}, "name": objection["name"], "phone": objection["phone"]}
	if st, _, b := form(t, srv, notice+"/object", bad); st != http.StatusBadRequest || !bytes.Contains(b, []byte("「内容」")) ||
		!bytes.Contains(b, []byte(`aria-invalid="true"`)) || !bytes.Contains(b, []byte(phone)) {
		t.Fatalf("an empty objection: %d\n%s", st, b)
	}
	receipt, code := submitTwice(t, srv, notice+"/object", objection)
	var rec []byte
	waitUntil(t, "the receipt page", 30*time.Second, func() bool {
		_, _, rec = srv.Get(receipt)
		return bytes.Contains(rec, []byte("已收到，等待答复"))
	})
	if bytes.Contains(rec, []byte("王五")) || bytes.Contains(rec, []byte(phone)) || bytes.Contains(rec, []byte("幼儿园")) {
		t.Fatalf("the receipt shows who objected or what they wrote:\n%s", rec)
	}
	// A typed code in lower case with a dash finds the same receipt.
	if st, h, _, _ := srv.request(http.MethodGet, "/r?code="+strings.ToLower(code[:5])+"-"+strings.ToLower(code[5:]), "", "", ""); st != http.StatusOK && st != http.StatusSeeOther || (st == http.StatusSeeOther && h.Get("Location") != receipt) {
		t.Fatalf("a typed receipt code: %d %v", st, h)
	}

	// The clerk answers through the command API.
	clerk := srv.Token(commands.RoleClerk, "*")
	srv.PostResult("answer-disclosure-objection", clerk, "answer-1", `{"community_id":"`+c+`","notice_id":"n-elder","objection_id":"`+code+`","answer":"已请设计单位另选址，调整方案将重新公示。"}`)
	waitUntil(t, "the answer on the receipt", 30*time.Second, func() bool {
		_, _, rec = srv.Get(receipt)
		return bytes.Contains(rec, []byte("已请设计单位另选址"))
	})
	var b []byte
	waitUntil(t, "the answer on the notice page", 30*time.Second, func() bool {
		_, _, b = srv.Get(notice)
		return bytes.Contains(b, []byte("已请设计单位另选址"))
	})
	if bytes.Contains(b, []byte("王五")) || bytes.Contains(b, []byte("幼儿园")) {
		t.Fatalf("the notice page must show the answer, never the objector or the objection:\n%s", b)
	}
	auditor := srv.Token(commands.RoleAuditor, "*")
	if export := srv.GetAs(auditor, "/api/v1/audit/export?community="+c+"&format=jsonl"); !bytes.Contains(export, []byte(phone)) ||
		!bytes.Contains(export, []byte(`\u003cb\u003e请重新考虑`)) && !bytes.Contains(export, []byte(`<b>请重新考虑`)) {
		t.Fatalf("the auditors see the objection and the contact:\n%s", export)
	}
	if l := leaks("public pages", append(rec, srv.Out.String()...)); len(l) > 0 {
		t.Fatalf("personal data: %v", l)
	}

	// The JSON API: a topic, idempotent by its key; a field at fault is named.
	post := func(path, key, body string) (int, []byte) {
		st, _, b, err := srv.request(http.MethodPost, "/api/v1/public"+path, "", key, body)
		if err != nil {
			t.Fatal(err)
		}
		return st, b
	}
	key := "9f1c2a7e-5b3d-4e8a-a1f0-7c6d5e4b3a21"
	topic := `{"community_id":"` + c + `","text":"小区东门晚上没有路灯，老人出行不便。"}`
	st1, b1 := post("/topics", key, topic)
	st2, b2 := post("/topics", key, topic)
	var r1, r2 struct {
		Receipt  string `json:"receipt"`
		Replayed bool   `json:"replayed"`
	}
	_ = json.Unmarshal(b1, &r1)
	_ = json.Unmarshal(b2, &r2)
	if st1 != http.StatusOK || st2 != http.StatusOK || r1.Receipt == "" || r1.Receipt != r2.Receipt || !r2.Replayed {
		t.Fatalf("a topic sent twice: %d %s / %d %s", st1, b1, st2, b2)
	}
	if st, b := post("/objections", "0123456789abcdef-x", `{"community_id":"`+c+`","notice_id":"n-elder","text":"x","phone":"call me"}`); st != http.StatusBadRequest ||
		!bytes.Contains(b, []byte(`"field":"phone"`)) {
		t.Fatalf("a bad phone: %d %s", st, b)
	}
	for _, text := range []string{`路灯\u202e坏了`, `\u200b\u200b`, `路灯\u0085坏了`} { // what a form may not carry, JSON may not either
		if st, b := post("/topics", "0123456789abcdef-text", `{"community_id":"`+c+`","text":"`+text+`"}`); st != http.StatusBadRequest ||
			!bytes.Contains(b, []byte(`"field":"text"`)) {
			t.Fatalf("a topic of %s: %d %s", text, st, b)
		}
	}
	plain, err := http.NewRequest(http.MethodPost, srv.Base+"/api/v1/public/topics", strings.NewReader(topic))
	if err != nil {
		t.Fatal(err)
	}
	plain.Header.Set("Content-Type", "text/plain")
	plain.Header.Set("Idempotency-Key", "0123456789abcdef-type")
	if resp, err := http.DefaultClient.Do(plain); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Fatalf("a topic sent as text/plain: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	// Decoded as the command API decodes: a key twice, a missing field, an unknown one — 400 naming it.
	for body, field := range map[string]string{
		`{"community_id":"` + c + `","text":"同意","text":"反对"}`: "text",
		`{"text":"同意"}`: "community_id",
		`{"community_id":"` + c + `","text":"同意","Text":"反对"}`: "Text",
		`{"community_id":"` + c + `","text":"同意","extra":1}`:   "extra",
	} {
		if st, b := post("/topics", "0123456789abcdef-json", body); st != http.StatusBadRequest || !bytes.Contains(b, []byte(`"field":"`+field+`"`)) {
			t.Fatalf("a topic %s: %d %s, want 400 naming %s", body, st, b, field)
		}
	}
	if st, b := post("/objections", "short", `{"community_id":"`+c+`","notice_id":"n-elder","text":"x"}`); st/100 != 4 || !bytes.Contains(b, []byte("Idempotency-Key")) {
		t.Fatalf("a short key: %d %s", st, b)
	}
	waitUntil(t, "the topic's receipt", 30*time.Second, func() bool {
		st, _, b, _ := srv.request(http.MethodGet, "/api/v1/public/receipts/"+r1.Receipt, "", "", "")
		return st == http.StatusOK && bytes.Contains(b, []byte(`"kind":"topic"`))
	})
	// A robot fills the hidden field: it is thanked, and nothing is recorded.
	count := projectedEvents(t, db)
	before := count()
	_, _, page = srv.Get(notice + "/object")
	robot := url.Values{"key": {string(hiddenKey.FindSubmatch(page)[1])}, "text": {"buy now"}, "website": {"http://spam.example"}}
	if st, _, _ := form(t, srv, notice+"/object", robot); st != http.StatusOK {
		t.Fatalf("the robot: %d", st)
	}
	// Malformed posts — a body too large, broken encodings, control characters, a bidirectional override, a
	// text of zero-width spaces, a key of NULs, a name on two lines, the wrong content type — are refused as
	// the resident's mistake (4xx), never a server error, and record nothing (the form path refuses what the
	// JSON API refuses: kernel.CheckText).
	formKey := hiddenKey.FindSubmatch(page)[1]
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i, raw := range []struct{ contentType, body string }{
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=" + strings.Repeat("长", 20_000)},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=%zz"},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=%00%01"},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=%FF%FE"},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=%E2%80%AE%E5%90%8C%E6%84%8F"},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=%E2%80%8B%E2%80%8B"},
		{"application/x-www-form-urlencoded", "key=" + strings.Repeat("%00", 20) + "&text=x"},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=x&name=%E7%8E%8B%0D%0A%E4%BA%94"},
		{"application/x-www-form-urlencoded", "key=" + string(formKey) + "&text=x&phone=%E2%80%AE13912345678"},
		{"application/x-www-form-urlencoded", ""},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\nx\r\n--x--"},
		{"text/plain", "key=" + string(formKey) + "&text=x"},
		{"", "\xff\xfe\x00"},
	} {
		req, err := http.NewRequest(http.MethodPost, srv.Base+notice+"/object", strings.NewReader(raw.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", raw.contentType)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		st := resp.StatusCode
		if st/100 != 4 {
			t.Errorf("malformed post %d (%s, %.60q): %d\n%.300s", i, raw.contentType, raw.body, st, b.Bytes())
		}
	}
	time.Sleep(time.Second)
	if after := count(); after != before {
		t.Fatalf("the robot's or a malformed submission was recorded: %d → %d events", before, after)
	}
}

// TestAFloodFromOneAddressRecordsOnlyItsLimit: 10 000 submissions from one address, as fast as eight
// connections send them, record at most the address's limit (a burst of 5, then one a minute) and write
// nothing else; the rest are answered 429 with Retry-After. Meanwhile the community page keeps being
// served; its latencies are logged (a measurement, never asserted: the README quotes a run's figures).
func TestAFloodFromOneAddressRecordsOnlyItsLimit(t *testing.T) {
	srv, db := servedWithOpenNotice(t, "n-flood")
	events := projectedEvents(t, db)
	time.Sleep(500 * time.Millisecond)
	before := events()

	stop := make(chan struct{})
	var pageTimes []time.Duration
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			start := time.Now()
			if st, _, _ := srv.Get("/c/" + c); st != http.StatusOK {
				t.Errorf("the community page during the flood: %d", st)
				return
			}
			pageTimes = append(pageTimes, time.Since(start))
		}
	})
	var accepted, limited, other atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 8 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > 10000 {
					return
				}
				key := fmt.Sprintf("flood-%016d", i)
				st, h, _, err := srv.request(http.MethodPost, "/api/v1/public/objections", "", key,
					`{"community_id":"`+c+`","notice_id":"n-flood","text":"flood `+key+`"}`)
				switch {
				case err != nil:
					other.Add(1)
				case st == http.StatusOK:
					accepted.Add(1)
				case st == http.StatusTooManyRequests && h.Get("Retry-After") != "":
					limited.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	if accepted.Load() > 6 || accepted.Load() < 5 || other.Load() != 0 || accepted.Load()+limited.Load() != 10000 {
		t.Fatalf("10 000 submissions: %d accepted, %d limited, %d other; want 5 (6 if a minute passed) accepted, the rest 429",
			accepted.Load(), limited.Load(), other.Load())
	}
	waitUntil(t, "the accepted objections projected", 30*time.Second, func() bool { return events() >= before+int(accepted.Load()) })
	time.Sleep(time.Second)
	if got := events() - before; got != int(accepted.Load()) {
		t.Fatalf("%d events written for %d accepted submissions", got, accepted.Load())
	}
	slices.Sort(pageTimes)
	if len(pageTimes) > 0 {
		t.Logf("community page during the flood: %d requests, p50 %v, p99 %v, max %v", len(pageTimes),
			pageTimes[len(pageTimes)/2], pageTimes[len(pageTimes)*99/100], pageTimes[len(pageTimes)-1])
	}
}

// TestResidentObjectsToACandidateList walks an objection to an election's candidate list without an
// account: before the list is publicized the form is closed and a post is refused, recording nothing;
// once it is, the election's page offers the form, which names the standing candidates by their public
// names; the form and the JSON API each give a receipt (the API names a notice_id it does not take);
// the election committee answers through the command API; the receipt and the election's page show the
// answer and the candidate concerned, never the objector or the objection's text.
func TestResidentObjectsToACandidateList(t *testing.T) {
	db := onEmbeddedNode(t)
	srv := startServe(t, db)
	admin := srv.Token(commands.RoleAdmin, "*")
	clerk := srv.Token(commands.RoleClerk, "*")
	registerCommunity(t, srv, admin, c)
	srv.PostResult("form-election-committee", clerk, "e-form", `{"community_id":"`+c+`","election_id":"e-2026","term":"2026-2031","seats":3,`+
		`"members":[{"person":"p-e1","role":"chair"},{"person":"p-e2","role":"member"},{"person":"p-e3","role":"member"}]}`)
	for i, cand := range [][2]string{{"p-c1", "张建国"}, {"p-c2", "李秀英"}, {"p-c3", "赵退出"}} {
		srv.PostResult("nominate-candidate", clerk, fmt.Sprint("e-nom-", i), `{"community_id":"`+c+`","election_id":"e-2026","candidate":"`+cand[0]+
			`","residence_since":"2010-01-01T00:00:00Z","public_name":"`+cand[1]+`","personal":{"name":"`+cand[1]+`","national_id":"330303198001010011"}}`)
	}
	srv.PostResult("withdraw-candidate", clerk, "e-wd", `{"community_id":"`+c+`","election_id":"e-2026","candidate":"p-c3","reason":"工作调动"}`)
	election := "/c/" + c + "/elections/e-2026"
	waitUntil(t, "the election on the portal", 30*time.Second, func() bool {
		st, _, b := srv.Get(election)
		return st == http.StatusOK && bytes.Contains(b, []byte("李秀英"))
	})
	count := projectedEvents(t, db)

	// Before the list is publicized: no link, the form says why, a post records nothing.
	if _, _, b := srv.Get(election); bytes.Contains(b, []byte("/object")) {
		t.Fatalf("the election offers objections before its list is publicized:\n%s", b)
	}
	_, _, page := srv.Get(election + "/object")
	if !bytes.Contains(page, []byte("不能在网上提出异议")) || bytes.Contains(page, []byte(`<form method="post"`)) {
		t.Fatalf("the form before publicity:\n%s", page)
	}
	before := count()
	if st, _, b := form(t, srv, election+"/object", url.Values{"key": {"0123456789abcdef0123"}, "text": {"太早"}}); st != http.StatusUnprocessableEntity {
		t.Fatalf("an objection before publicity: %d\n%s", st, b)
	}

	srv.PostResult("publicize-candidate-list", clerk, "e-pub", `{"community_id":"`+c+`","election_id":"e-2026"}`)
	waitUntil(t, "the objection link", 30*time.Second, func() bool {
		_, _, b := srv.Get(election)
		return bytes.Contains(b, []byte("对候选人名单提出异议"))
	})
	if after := count(); after != before+1 {
		t.Fatalf("%d events recorded besides the publicity (%d → %d)", after-before-1, before, after)
	}
	_, _, page = srv.Get(election + "/object")
	m := hiddenKey.FindSubmatch(page)
	if m == nil || !bytes.Contains(page, []byte(`<option value="p-c2">李秀英</option>`)) || bytes.Contains(page, []byte("赵退出")) {
		t.Fatalf("the form names the standing candidates by their public names:\n%s", page)
	}
	const phone = "13787654321"
	objection := url.Values{"key": {string(m[1])}, "concerning": {"p-c2"}, "text": {"李秀英去年才迁入本村，居住不满一年。"},
		"name": {"陈六"}, "phone": {phone}}
	bad := url.Values{"key": objection["key"], "concerning": {"p-c9"}, "text": objection["text"]}
	if st, _, b := form(t, srv, election+"/object", bad); st/100 != 4 || !bytes.Contains(b, []byte("「涉及的候选人」")) {
		t.Fatalf("an objection concerning no candidate: %d\n%s", st, b)
	}
	receipt, code := submitTwice(t, srv, election+"/object", objection)

	// The JSON API: an objection to the whole list; a notice_id is not what it takes.
	post := func(key, body string) (int, []byte) {
		st, _, b, err := srv.request(http.MethodPost, "/api/v1/public/election-objections", "", key, body)
		if err != nil {
			t.Fatal(err)
		}
		return st, b
	}
	if st, b := post("3c1d2a7e-5b3d-4e8a-a1f0-000000000001", `{"community_id":"`+c+`","notice_id":"n-1","text":"x"}`); st != http.StatusBadRequest ||
		!bytes.Contains(b, []byte(`"field":"notice_id"`)) {
		t.Fatalf("a notice_id to the candidate list's endpoint: %d %s", st, b)
	}
	if st, b := post("3c1d2a7e-5b3d-4e8a-a1f0-000000000002", `{"community_id":"`+c+`","election_id":"e-1999","text":"x"}`); st != http.StatusNotFound {
		t.Fatalf("an unknown election: %d %s", st, b)
	}
	st2, b2 := post("3c1d2a7e-5b3d-4e8a-a1f0-000000000003", `{"community_id":"`+c+`","election_id":"e-2026","text":"名单公示地点不醒目，很多人没看到。"}`)
	var api struct {
		Receipt string `json:"receipt"`
	}
	if err := json.Unmarshal(b2, &api); st2 != http.StatusOK || err != nil || api.Receipt == "" || api.Receipt == code {
		t.Fatalf("an objection through the API: %d %s", st2, b2)
	}

	var rec []byte
	waitUntil(t, "the receipt page", 30*time.Second, func() bool {
		_, _, rec = srv.Get(receipt)
		return bytes.Contains(rec, []byte("候选人名单异议")) && bytes.Contains(rec, []byte("已收到，等待答复"))
	})
	srv.PostResult("answer-election-objection", clerk, "e-ans", `{"community_id":"`+c+`","election_id":"e-2026","objection_id":"`+code+
		`","answer":"经核查户籍登记，该候选人自2010年起在本村居住，符合条件。"}`)
	waitUntil(t, "the answer on the receipt", 30*time.Second, func() bool {
		_, _, rec = srv.Get(receipt)
		return bytes.Contains(rec, []byte("符合条件")) && bytes.Contains(rec, []byte("已答复"))
	})
	var b []byte
	waitUntil(t, "the answer on the election's page", 30*time.Second, func() bool {
		_, _, b = srv.Get(election)
		return bytes.Contains(b, []byte("符合条件"))
	})
	if !bytes.Contains(b, []byte("候选人 李秀英")) || !bytes.Contains(b, []byte("尚未答复")) {
		t.Fatalf("the election's page lists both objections, the candidate concerned and the answer:\n%s", b)
	}
	for _, page := range [][]byte{b, rec} {
		if bytes.Contains(page, []byte("陈六")) || bytes.Contains(page, []byte(phone)) || bytes.Contains(page, []byte("迁入")) ||
			bytes.Contains(page, []byte("不醒目")) {
			t.Fatalf("a public page shows who objected or what they wrote:\n%s", page)
		}
	}
	if l := leaks("public pages", append(append(rec, b...), srv.Out.String()...)); len(l) > 0 {
		t.Fatalf("personal data: %v", l)
	}
}
