package portal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/time/rate"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/meetings"
)

// Residents take part without an account (群众参与): an objection to a notice during its publicity window
// (公示异议) or to an election's candidate list (候选人名单异议), and a topic for deliberation (群众说事), from a plain HTML form that works without JavaScript
// or from the JSON API. Each submission is a command of the public actor (commands.Residents): the
// resident gets a receipt code (回执号) and a page /r/{code} with the status and, once given, the
// committee's answer. A contact is optional and is personal data (sealed, never public).
//
// Abuse: every address has a token bucket (SubmissionLimits), the bodies and fields have limits, a hidden
// honeypot field catches form-filling robots (answered as if accepted, nothing recorded), and no text is
// ever rendered as markup.

// Submitter records a resident's submission and returns its receipt code (commands.Residents).
type Submitter interface {
	Submit(ctx context.Context, key string, s commands.Submission) (string, commands.Result, error)
}

// SubmissionLimits bound what one address may submit: Burst at once, then one every Every (a submission
// refused or replayed costs nothing). Addresses
// are remembered in memory, at most Addresses of them (an address whose bucket is full again is
// forgotten first; past the bound new addresses are refused until some are). Defaults 5, 1 minute,
// 100 000.
type SubmissionLimits struct {
	Burst     int
	Every     time.Duration
	Addresses int
}

type limiter struct {
	cfg SubmissionLimits
	now func() time.Time
	mu  sync.Mutex
	by  map[string]*bucket
}

// bucket is one address's tokens, and the submissions of it being recorded now (each holds a token
// that is taken only if it records something).
type bucket struct {
	tokens   *rate.Limiter
	inflight int
}

func newLimiter(cfg SubmissionLimits, now func() time.Time) *limiter {
	if cfg.Burst <= 0 {
		cfg.Burst = 5
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Minute
	}
	if cfg.Addresses <= 0 {
		cfg.Addresses = 100000
	}
	return &limiter{cfg: cfg, now: now, by: map[string]*bucket{}}
}

// allow holds a token of addr's bucket for one submission, or says how long to wait. done(true) takes
// the token (something was recorded); done(false) gives it back (refused, or a replay of a submission
// recorded before).
func (l *limiter) allow(addr string) (done func(recorded bool), wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	b := l.by[addr]
	if b == nil {
		if len(l.by) >= l.cfg.Addresses {
			for a, x := range l.by { // forget the buckets that are full again: they hold nothing
				if x.inflight == 0 && x.tokens.TokensAt(now) >= float64(l.cfg.Burst) {
					delete(l.by, a)
				}
			}
			if len(l.by) >= l.cfg.Addresses {
				return nil, l.cfg.Every, false
			}
		}
		b = &bucket{tokens: rate.NewLimiter(rate.Every(l.cfg.Every), l.cfg.Burst)}
		l.by[addr] = b
	}
	if free := b.tokens.TokensAt(now) - float64(b.inflight); free < 1 {
		return nil, time.Duration((1 - free) * float64(l.cfg.Every)), false
	}
	b.inflight++
	return func(recorded bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		b.inflight--
		if recorded {
			b.tokens.AllowN(l.now(), 1)
		}
	}, 0, true
}

const (
	// maxFormBody bounds a submission's body (form or JSON).
	maxFormBody = 16 << 10
	// honeypot is the name of the form field people never see (hidden by the style sheet) and robots fill.
	honeypot = "website"
)

// submissionForm is what the form templates show.
type submissionForm struct {
	Kind          commands.SubmissionKind
	CommunityID   string
	CommunityName string
	Notice        *Notice // an objection to a notice: the notice
	// Election is an objection to a candidate list: the election, with its candidates to choose from.
	Election    *ElectionDetail
	Concerning  string // the candidate chosen (person id)
	Action      string
	Key         string
	Text        string
	Name, Phone string
	Field       string // the field at fault
	Error       string
	Closed      string // why no form is offered
}

func newKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// formTarget loads what a form is about (the notice, the community) into a form, or answers the
// request itself (404) and returns false.
type formTarget func(w http.ResponseWriter, r *http.Request) (submissionForm, bool)

// showForm is a form's GET: the form with a fresh one-time key (its idempotency key).
func (p *Portal) showForm(target formTarget) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f, ok := target(w, r); ok {
			f.Key = newKey()
			p.renderForm(w, http.StatusOK, f)
		}
	}
}

// submitTo is a form's POST.
func (p *Portal) submitTo(target formTarget) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if f, ok := target(w, r); ok {
			p.submitForm(w, r, f)
		}
	}
}

// objectionTarget loads the notice an objection is about into a form.
func (p *Portal) objectionTarget(w http.ResponseWriter, r *http.Request) (submissionForm, bool) {
	ctx := r.Context()
	s := p.snapshot(ctx)
	id, noticeID := r.PathValue("id"), r.PathValue("notice")
	h, err := p.loadNoticeHistory(ctx, &s, id, noticeID)
	if err != nil {
		p.fail(w, r, err)
		return submissionForm{}, false
	}
	f := submissionForm{Kind: commands.NoticeObjection, CommunityID: id, CommunityName: h.CommunityName, Notice: &h.Notice,
		Action: communityHref(id) + "/notices/" + url.PathEscape(noticeID) + "/object"}
	if !h.Notice.WindowOpen {
		f.Closed = "本事项的公示期为 " + ChinaTime(h.Notice.WindowStart) + " 至 " + ChinaTime(h.Notice.WindowEnd) + "，现在不在公示期内，不能在网上提出异议。"
	}
	return f, true
}

// electionObjectionTarget loads the election whose candidate list an objection is about into a form.
func (p *Portal) electionObjectionTarget(w http.ResponseWriter, r *http.Request) (submissionForm, bool) {
	id, electionID := r.PathValue("id"), r.PathValue("election")
	d, err := p.loadElection(r.Context(), id, electionID)
	if err != nil {
		p.fail(w, r, err)
		return submissionForm{}, false
	}
	f := submissionForm{Kind: commands.ElectionObjection, CommunityID: id, CommunityName: d.CommunityName, Election: &d,
		Action: d.Election.Href + "/object"}
	if !d.ObjectionsOpen {
		f.Closed = "候选人名单公示后、选举结果确认前，可以对候选人名单提出异议。本次选举现在" + d.Election.PhaseName + "，不能在网上提出异议。"
	}
	return f, true
}

// topicTarget is the community a topic is raised in.
func (p *Portal) topicTarget(w http.ResponseWriter, r *http.Request) (submissionForm, bool) {
	id := r.PathValue("id")
	name, err := p.communityName(r.Context(), id)
	if err != nil {
		p.fail(w, r, err)
		return submissionForm{}, false
	}
	return submissionForm{Kind: commands.Topic, CommunityID: id, CommunityName: name, Action: communityHref(id) + "/topics/new"}, true
}

// submitForm reads a posted form, records it and sends the resident to the receipt (303); a mistake
// shows the form again with what was typed and the field at fault.
func (p *Portal) submitForm(w http.ResponseWriter, r *http.Request, f submissionForm) {
	if p.cfg.Residents == nil {
		p.errorPage(w, r, http.StatusServiceUnavailable, "暂不受理", "本门户暂不受理网上提交，请到村（居）委会当面提出。")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseForm(); err != nil {
		p.errorPage(w, r, http.StatusRequestEntityTooLarge, "内容过长", "提交的内容过长（最多约 2000 字），请删减后再提交。")
		return
	}
	// A browser sends a textarea's line breaks as CRLF (the form's encoding); the record keeps them as LF.
	lf := strings.NewReplacer("\r\n", "\n")
	f.Key, f.Text, f.Name, f.Phone = r.PostForm.Get("key"), lf.Replace(r.PostForm.Get("text")), lf.Replace(r.PostForm.Get("name")), r.PostForm.Get("phone")
	if f.Kind == commands.ElectionObjection {
		f.Concerning = r.PostForm.Get("concerning")
	}
	if f.Closed != "" {
		p.renderForm(w, http.StatusUnprocessableEntity, f)
		return
	}
	if r.PostForm.Get(honeypot) != "" { // a robot: it is told nothing useful, and nothing is recorded
		p.errorPage(w, r, http.StatusOK, "已收到", "谢谢。")
		return
	}
	done, wait, ok := p.limits.allow(httpapi.ClientAddress(r))
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		f.Error = fmt.Sprintf("同一网络地址提交过于频繁，请在 %d 秒后再提交。已填写的内容保留在下方。", int(wait.Seconds())+1)
		p.renderForm(w, http.StatusTooManyRequests, f)
		return
	}
	if len(f.Key) < 16 || len(f.Key) > 100 {
		f.Key = newKey() // a form from elsewhere: a fresh key, this submission only
	}
	code, res, err := p.cfg.Residents.Submit(r.Context(), "portal:"+f.Key, commands.Submission{Kind: f.Kind, CommunityID: f.CommunityID,
		Target: targetOf(f), Concerning: f.Concerning, Text: f.Text, Name: strings.TrimSpace(f.Name), Phone: strings.TrimSpace(f.Phone)})
	done(err == nil && !res.Replayed)
	if err != nil {
		status, field, msg := p.submitError(r, f.Kind, err)
		if status >= 500 {
			p.errorPage(w, r, status, "提交失败", msg)
			return
		}
		f.Field, f.Error = field, msg
		p.renderForm(w, status, f)
		return
	}
	http.Redirect(w, r, "/r/"+code, http.StatusSeeOther)
}

// targetOf is what a form objects to: the notice or the election ("" for a topic).
func targetOf(f submissionForm) string {
	switch {
	case f.Notice != nil:
		return f.Notice.NoticeID
	case f.Election != nil:
		return f.Election.Election.ElectionID
	}
	return ""
}

// fieldNames are the form's fields as the resident sees them.
var fieldNames = map[string]string{"text": "内容", "name": "联系人", "phone": "联系电话", "notice_id": "公示事项", "election_id": "选举",
	"concerning": "涉及的候选人"}

// submissionProblem is a refusal of a submission of kind as the form and the JSON API name its input:
// the contact's fields without their "personal." prefix, the notice or election as notice_id or
// election_id, the key as its header.
func (p *Portal) submissionProblem(ctx context.Context, kind commands.SubmissionKind, err error) *httpapi.Problem {
	pr := httpapi.ProblemFor(ctx, p.log, err)
	switch pr.Field {
	case "target":
		pr.Field = "notice_id"
		if kind == commands.ElectionObjection {
			pr.Field = "election_id"
		}
	case "command_id":
		pr.Field = "Idempotency-Key"
	default:
		pr.Field = strings.TrimPrefix(pr.Field, "personal.")
	}
	return pr
}

// submitError turns a refusal into a status, the field at fault and a sentence for the resident.
func (p *Portal) submitError(r *http.Request, kind commands.SubmissionKind, err error) (int, string, string) {
	pr := p.submissionProblem(r.Context(), kind, err)
	if pr.Status >= 500 {
		return pr.Status, "", "暂时无法提交，请稍后再试（编号 " + pr.RequestID + "）。"
	}
	if n, ok := fieldNames[pr.Field]; ok {
		return pr.Status, pr.Field, "「" + n + "」：" + pr.Detail
	}
	return pr.Status, pr.Field, pr.Detail
}

func (p *Portal) renderForm(w http.ResponseWriter, status int, f submissionForm) {
	title := "对公示提出异议"
	switch f.Kind {
	case commands.Topic:
		title = "群众说事：提出议题"
	case commands.ElectionObjection:
		title = "对候选人名单提出异议"
	}
	p.uncached(w, status, page{Title: title, Crumbs: []Crumb{{Name: f.CommunityName, Href: communityHref(f.CommunityID)}}}, "submission-form", f)
}

// Receipt is what a receipt code shows: what was submitted where and when, its status, and the
// committee's answer (public) — never who submitted it or what they wrote.
type Receipt struct {
	Code          string     `json:"code" doc:"The receipt code (回执号)"`
	Kind          string     `json:"kind" doc:"notice-objection, election-objection or topic"`
	KindName      string     `json:"kind_name"`
	CommunityID   string     `json:"community_id"`
	CommunityName string     `json:"community_name"`
	Href          string     `json:"href" doc:"The page of the notice, the election or the topics"`
	SubmittedAt   time.Time  `json:"submitted_at"`
	Status        string     `json:"status" doc:"received, answered (objection); the step of the topic"`
	StatusName    string     `json:"status_name"`
	AnsweredAt    *time.Time `json:"answered_at,omitempty"`
	Answer        string     `json:"answer,omitempty" doc:"The committee's answer, public"`
	Steps         []Step     `json:"steps,omitempty" doc:"A topic's steps so far"`
}

// Step is one step a topic took, as its receipt shows it.
type Step struct {
	Name   string    `json:"name"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

// objectionReceipt is the receipt of an objection raised at raisedAt in community c, shown on page href,
// answered at answeredAt (zero while not) with answer.
func (p *Portal) objectionReceipt(ctx context.Context, code string, kind commands.SubmissionKind, c, href string, raisedAt, answeredAt time.Time,
	answer string) (Receipt, error) {
	name, err := p.communityName(ctx, c)
	if err != nil {
		return Receipt{}, err
	}
	rc := Receipt{Code: code, Kind: string(kind), KindName: "公示异议", CommunityID: c, CommunityName: name, Href: href,
		SubmittedAt: local(raisedAt), Status: "received", StatusName: "已收到，等待答复"}
	if kind == commands.ElectionObjection {
		rc.KindName = "候选人名单异议"
	}
	if !answeredAt.IsZero() {
		rc.Status, rc.StatusName, rc.AnsweredAt, rc.Answer = "answered", "已答复", localPtr(answeredAt), Redact(answer)
	}
	return rc, nil
}

// loadReceipt finds a receipt code among the objections to notices and to candidate lists, and the topics.
func (p *Portal) loadReceipt(ctx context.Context, code string) (Receipt, error) {
	o, err := board.ObjectionByID(ctx, p.db, code)
	if err == nil {
		return p.objectionReceipt(ctx, code, commands.NoticeObjection, o.CommunityID,
			communityHref(o.CommunityID)+"/notices/"+url.PathEscape(o.NoticeID), o.RaisedAt, o.AnsweredAt, o.Answer)
	}
	if !errors.Is(err, board.ErrNotFound) {
		return Receipt{}, err
	}
	eo, err := elections.ObjectionByID(ctx, p.db, code)
	if err == nil {
		var answeredAt time.Time
		if eo.Answered != nil {
			answeredAt = eo.Answered.At
		}
		return p.objectionReceipt(ctx, code, commands.ElectionObjection, eo.CommunityID,
			communityHref(eo.CommunityID)+"/elections/"+url.PathEscape(eo.ElectionID), eo.Raised.At, answeredAt, eo.Answer)
	}
	if !errors.Is(err, elections.ErrNotFound) {
		return Receipt{}, err
	}
	t, err := meetings.TopicByID(ctx, p.db, code)
	if err != nil {
		return Receipt{}, err
	}
	name, err := p.communityName(ctx, t.Topic.CommunityID)
	if err != nil {
		return Receipt{}, err
	}
	rc := Receipt{Code: code, Kind: string(commands.Topic), KindName: "群众说事", CommunityID: t.Topic.CommunityID, CommunityName: name,
		Href: communityHref(t.Topic.CommunityID) + "/topics", SubmittedAt: local(t.Topic.CollectedAt),
		Status: string(t.Topic.Status), StatusName: t.Topic.StepName}
	for _, st := range t.Steps {
		rc.Steps = append(rc.Steps, Step{Name: st.StepName, At: local(st.Taken.At), Detail: Redact(st.Detail)})
	}
	return rc, nil
}

// receiptPage is GET /r/{code} (and GET /r?code=…, the box where a code is typed).
func (p *Portal) receiptPage(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("code")
	if raw == "" {
		raw = r.URL.Query().Get("code")
		if raw == "" {
			p.renderReceipt(w, http.StatusOK, nil, "")
			return
		}
	}
	code, ok := commands.NormalizeReceipt(raw)
	if !ok {
		p.renderReceipt(w, http.StatusBadRequest, nil, "回执号应为 R 开头的 11 位字母和数字，例如 R7K3Q9XMA2B。")
		return
	}
	if code != raw {
		http.Redirect(w, r, "/r/"+code, http.StatusSeeOther)
		return
	}
	rc, err := p.loadReceipt(r.Context(), code)
	if notFound(err) {
		p.renderReceipt(w, http.StatusNotFound, nil, "没有找到回执号 "+code+" 。刚提交的事项可能需要几秒钟才能查到，请稍后刷新。")
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.renderReceipt(w, http.StatusOK, &rc, "")
}

func (p *Portal) renderReceipt(w http.ResponseWriter, status int, rc *Receipt, msg string) {
	p.uncached(w, status, page{Title: "回执查询"}, "receipt-page", map[string]any{"R": rc, "Message": msg})
}

// ---- the residents' JSON API ----------------------------------------------------------------------------

// submitIn is a resident's submission through the JSON API.
type submitIn struct {
	IdempotencyKey string `header:"Idempotency-Key" required:"true" minLength:"16" maxLength:"100" doc:"A random key of this submission (a UUID): sending it again returns the same receipt and records nothing more. 16–100 characters of A–Z a–z 0–9 . _ : -"`
	ContentType    string `header:"Content-Type" doc:"application/json"`
	// RawBody is a SubmissionBody, decoded as the command API decodes its bodies (httpapi.StrictJSON).
	RawBody []byte `contentType:"application/json"`
	addr    string
}

// SubmissionBody is what a resident submits.
type SubmissionBody struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" doc:"Community code (社区/村编码)"`
	NoticeID    string `json:"notice_id,omitempty" maxLength:"64" doc:"The notice objected to (objections to a notice only)"`
	ElectionID  string `json:"election_id,omitempty" maxLength:"64" doc:"The election whose candidate list is objected to (objections to a candidate list only)"`
	Concerning  string `json:"concerning,omitempty" maxLength:"128" doc:"The candidate (person id, as the election's page lists them) an objection to a candidate list concerns, if one"`
	Text        string `json:"text" maxLength:"8000" doc:"The objection or the topic, at most 2000 characters"`
	Name        string `json:"name,omitempty" maxLength:"128" doc:"Optional contact name (联系人): personal data, never public"`
	Phone       string `json:"phone,omitempty" maxLength:"64" doc:"Optional contact phone (联系电话): personal data, never public"`
}

// Resolve notes the address the submission came from (its token bucket).
func (in *submitIn) Resolve(ctx huma.Context) []error {
	host, _, err := net.SplitHostPort(ctx.RemoteAddr())
	if err != nil {
		host = ctx.RemoteAddr()
	}
	in.addr = host
	return nil
}

// SubmissionReceipt answers a submission.
type SubmissionReceipt struct {
	Receipt  string `json:"receipt" doc:"The receipt code (回执号)"`
	Href     string `json:"href" doc:"The receipt's page"`
	Replayed bool   `json:"replayed" doc:"The same Idempotency-Key was sent before: this is its receipt, nothing more was recorded"`
}

type submitOut struct {
	Body SubmissionReceipt
}

type receiptIn struct {
	Code string `path:"code" maxLength:"20" doc:"The receipt code"`
}

type receiptOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         Receipt
}

func (p *Portal) registerResidentAPI(api huma.API, problemSchema *huma.Schema) {
	errResp := func(what string) *huma.Response {
		return &huma.Response{Description: what, Content: map[string]*huma.MediaType{httpapi.ProblemContentType: {Schema: problemSchema}}}
	}
	responses := map[string]*huma.Response{
		"400": errResp("Invalid input (the field is named in `field`)."),
		"404": errResp("No such community, notice or election."),
		"409": errResp("The Idempotency-Key was used for another submission."),
		"422": errResp("Refused by a rule: the notice's publicity window is closed, the notice was withdrawn; the candidate list is not publicized or the result is certified."),
		"429": errResp("Too many submissions from this address; Retry-After says when to try again."),
		"500": errResp("Server error; `request_id` identifies it in the log."),
	}
	strict := httpapi.NewStrictJSON[SubmissionBody](api)
	submit := func(kind commands.SubmissionKind, id, path, summary, desc string) {
		huma.Register(api, huma.Operation{OperationID: id, Method: http.MethodPost, Path: apiPrefix + path, Summary: summary,
			Description: desc + "\n\nPublic: no token. Each address may submit a few at once, then one a minute (429 with Retry-After). " +
				"The contact is personal data: sealed, never public, seen by auditors only.",
			Tags: []string{"public"}, MaxBodyBytes: maxFormBody, SkipValidateBody: true, Responses: responses},
			func(ctx context.Context, in *submitIn) (*submitOut, error) {
				b, bad := strict.Decode(in.ContentType, in.RawBody) // a malformed body is the sender's to fix, whatever else holds
				if bad != nil {
					return nil, bad
				}
				if p.cfg.Residents == nil {
					return nil, httpapi.NewProblem(http.StatusServiceUnavailable, "submissions-off", "本门户暂不受理网上提交", "")
				}
				done, wait, ok := p.limits.allow(in.addr)
				if !ok {
					return nil, httpapi.NewProblem(http.StatusTooManyRequests, "too-many-submissions",
						"同一网络地址提交过于频繁，请稍后再试", "").WithHeader("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
				}
				target, other := b.NoticeID, b.ElectionID
				if kind == commands.ElectionObjection {
					target, other = b.ElectionID, b.NoticeID
				}
				if other != "" {
					done(false)
					field := "election_id"
					if kind == commands.ElectionObjection {
						field = "notice_id"
					}
					return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "本接口不接受 "+field, field)
				}
				code, res, err := p.cfg.Residents.Submit(ctx, "api:"+in.IdempotencyKey, commands.Submission{Kind: kind,
					CommunityID: b.CommunityID, Target: target, Concerning: b.Concerning, Text: b.Text, Name: strings.TrimSpace(b.Name),
					Phone: strings.TrimSpace(b.Phone)})
				done(err == nil && !res.Replayed) // nothing recorded: the token goes back
				if err != nil {
					return nil, p.submissionProblem(ctx, kind, err)
				}
				return &submitOut{Body: SubmissionReceipt{Receipt: code, Href: "/r/" + code, Replayed: res.Replayed}}, nil
			})
		strict.Document(api.OpenAPI().Paths[apiPrefix+path].Post, "The submission, as JSON.")
	}
	submit(commands.NoticeObjection, "public-object", "/objections", "Object to a notice during its publicity window (公示异议)",
		"A resident's objection to a notice while its publicity window is open. The answer is published on the notice, without the objector.")
	submit(commands.ElectionObjection, "public-election-objection", "/election-objections",
		"Object to an election's candidate list (候选人名单异议)",
		"A resident's objection to the candidate list of an election, from its publicity until the result is certified, optionally "+
			"concerning one candidate. The election committee's answer is published on the election's page, without the objector; "+
			"the result cannot be certified while an objection is unanswered.")
	submit(commands.Topic, "public-topic", "/topics", "Raise a topic for deliberation (群众说事)",
		"A resident's topic for the community's five-step deliberation (the first step, 征集议题); its progress shows on the receipt.")
	huma.Register(api, huma.Operation{OperationID: "public-receipt", Method: http.MethodGet, Path: apiPrefix + "/receipts/{code}",
		Summary: "What became of a submission (回执查询)", Tags: []string{"public"},
		Description: "The status of an objection (to a notice or a candidate list) or a topic by its receipt code, and the committee's answer once given. Public: no token; never who submitted it or what they wrote.",
		Responses:   responses},
		func(ctx context.Context, in *receiptIn) (*receiptOut, error) {
			code, ok := commands.NormalizeReceipt(in.Code)
			if !ok {
				return nil, httpapi.NewProblem(http.StatusBadRequest, httpapi.CodeInvalidValue, "回执号应为 R 开头的 11 位字母和数字", "code")
			}
			rc, err := p.loadReceipt(ctx, code)
			if notFound(err) {
				return nil, httpapi.NewProblem(http.StatusNotFound, httpapi.CodeNotFound, "没有找到回执号 "+code, "code")
			}
			if err != nil {
				return nil, httpapi.ProblemFor(ctx, p.log, err)
			}
			return &receiptOut{CacheControl: "no-store", Body: rc}, nil
		})
}
