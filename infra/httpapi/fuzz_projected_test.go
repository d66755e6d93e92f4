package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/httpapi/apitest"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/all"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// FuzzCommandsAreProjected posts arbitrary bodies to every command of the catalogue, as an administrator
// of the whole tree, on a ledger where a community has a bit of everything (a committee, a budget, an
// expenditure, an assembly with a resolution, a notice, an election, an audit, a topic), with every read
// model projecting. Whatever the bytes, either the command is refused with a 4xx problem and nothing is
// appended, or it is accepted and every read model applies it: none halts, none records a poison event,
// and all of them reach the command's position. Never a 5xx.
//
// The seeds are valid or near-valid bodies of every command (seeds below, and testdata/fuzz for inputs
// that once failed); `make test` runs them, and then fuzzes for a bounded time (FUZZTIME). Run longer:
//
//	go test ./infra/httpapi -run '^$' -fuzz FuzzCommandsAreProjected -fuzztime 5m -parallel 1
func FuzzCommandsAreProjected(f *testing.F) {
	srv := startCatalogueOn(f, true)
	ctx, cancel := context.WithCancel(context.Background())
	rt, err := runtime.New(runtime.Config{Pool: srv.Pool, Source: srv.Store, Migrate: pg.Migrator(srv.Pool), Models: all.Models(nil),
		Logger: apitest.Logger(), MaxWait: time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	if err := rt.Migrate(ctx); err != nil { // before the story: waitProjected reads rm_meta at once
		f.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })

	admin := srv.Token(f, commands.RoleAdmin, "*")
	routes := commandRoutes(srv)
	var n atomic.Int64
	post := func(tb testing.TB, name string, body []byte) apitest.Response {
		return srv.Post(tb, name, admin, fmt.Sprintf("fz-%d", n.Add(1)), json.RawMessage(body))
	}
	for _, s := range fuzzStory {
		body, _ := json.Marshal(s.body)
		if resp := post(f, s.name, body); resp.Status != http.StatusOK {
			f.Fatalf("story: %s: %d %s", s.name, resp.Status, resp.Body)
		}
	}
	waitProjected(f, srv, rt, srv.Head(f).Last)
	for _, s := range fuzzSeeds {
		i := slices.Index(routes, s.name)
		if i < 0 {
			f.Fatalf("seed for %s, which the catalogue does not serve", s.name)
		}
		body, _ := json.Marshal(s.body)
		f.Add(uint8(i), body)
	}
	for i, r := range routes {
		if !slices.ContainsFunc(fuzzSeeds, func(s fuzzStep) bool { return s.name == r }) {
			f.Errorf("no seed for command %s (route %d)", r, i)
		}
	}

	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		name := routes[int(route)%len(routes)]
		before := srv.Head(t)
		resp := post(t, name, body)
		t.Logf("%s: %d %.200s", name, resp.Status, resp.Body)
		switch {
		case resp.Status == http.StatusOK:
			var res commands.Result
			if err := json.Unmarshal(resp.Body, &res); err != nil {
				t.Fatalf("%s: %s", name, resp.Body)
			}
			waitProjected(t, srv, rt, srv.Head(t).Last)
		case resp.Status >= 400 && resp.Status < 500:
			if p := resp.Problem(t); p.Code == "" || p.Detail == "" {
				t.Fatalf("%s: a problem without code or detail: %s", name, resp.Body)
			}
			srv.WantNothingAppended(t, before)
		default:
			t.Fatalf("%s %q: status %d: %s", name, body, resp.Status, resp.Body)
		}
	})
}

// commandRoutes lists the command names the catalogue serves, from its OpenAPI document.
func commandRoutes(srv *apitest.Server) []string {
	var out []string
	for p := range srv.Commands.API().OpenAPI().Paths {
		if name, ok := strings.CutPrefix(p, httpapi.CommandPathPrefix); ok && name != "" && !strings.Contains(name, "/") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// waitProjected waits until every read model has applied the events up to pos, and fails when one halts,
// records a poison event, or does not get there within 20 s.
func waitProjected(tb testing.TB, srv *apitest.Server, rt *runtime.Runtime, pos eventlog.Position) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var poisoned int
		if err := srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM rm_meta.poison_events`).Scan(&poisoned); err != nil {
			tb.Fatal(err)
		}
		if poisoned > 0 {
			tb.Fatalf("a read model recorded %d poison events: %+v", poisoned, rt.Status())
		}
		behind := ""
		for _, st := range rt.Status() {
			if st.Halted {
				tb.Fatalf("read model %s halted: %s", st.Name, st.HaltReason)
			}
			if st.Checkpoint.Less(pos) {
				behind = st.Name
			}
		}
		if behind == "" {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("read model %s did not reach %s within 20 s: %+v", behind, pos, rt.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type fuzzStep struct {
	name string
	body map[string]any
}

const (
	fzC        = communityA
	fzPath     = pathA
	fzDistrict = "33/3303/330303"
)

// fzDue is a rectification deadline a quarter from now (a deadline must lie within a year).
var fzDue = time.Now().AddDate(0, 3, 0).UTC().Format(time.RFC3339)

var fzWindow = map[string]any{"start": "2026-01-10T00:00:00Z", "end": "2199-01-20T00:00:00Z"}

// fuzzStory gives community A a bit of everything for the commands to act on.
var fuzzStory = []fuzzStep{
	{"register-jurisdiction", map[string]any{"path": "33", "name": "浙江省"}},
	{"register-jurisdiction", map[string]any{"path": "33/3303", "name": "温州市"}},
	{"register-jurisdiction", map[string]any{"path": "33/3303/330303", "name": "龙湾区"}},
	{"register-jurisdiction", map[string]any{"path": street, "name": "永中街道"}},
	{"register-community", map[string]any{"community_id": fzC, "name": "罗西社区", "kind": "urban", "jurisdiction": fzPath, "households": 2400, "adults": 5200}},
	{"seat-committee", map[string]any{"community_id": fzC, "term": "2021-2026", "members": []map[string]any{
		{"person": "p-1", "role": "chair", "full_time": true, "source": "elected"}, {"person": "p-2", "role": "vice-chair", "full_time": true, "source": "elected"},
		{"person": "p-3", "role": "member", "full_time": true, "source": "elected"}, {"person": "p-4", "role": "member", "full_time": true, "source": "elected"},
		{"person": "p-5", "role": "member", "full_time": false, "source": "elected"}}}},
	{"allocate-budget", map[string]any{"community_id": fzC, "fiscal_year": 2026, "allocation_id": "a-1", "source": "county-finance", "category": "operating", "amount_fen": 5000000}},
	{"request-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-1", "fiscal_year": 2026, "category": "operating", "kind": "other",
		"purpose": "办公用品", "amount_fen": 120000, "payee": map[string]any{"kind": "organisation", "organisation": "龙湾文具店"}}},
	{"request-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-2", "fiscal_year": 2026, "category": "operating", "kind": "allowance",
		"purpose": "志愿者补贴", "amount_fen": 30000, "payee": map[string]any{"kind": "individual", "person": "p-9", "personal": map[string]any{"name": "张三", "phone": "13912345678"}}}},
	{"approve-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-2", "by": "p-1"}},
	{"convene-meeting", map[string]any{"community_id": fzC, "meeting_id": "m-1", "kind": "assembly", "title": "居民会议", "basis": "adults"}},
	{"record-attendance", map[string]any{"community_id": fzC, "meeting_id": "m-1", "present": 3100}},
	{"table-motion", map[string]any{"community_id": fzC, "meeting_id": "m-1", "motion_id": "mo-1", "title": "路灯改造"}},
	{"record-vote", map[string]any{"community_id": fzC, "meeting_id": "m-1", "motion_id": "mo-1", "for": 2500, "against": 400, "abstain": 200, "outcome": "passed"}},
	{"adopt-resolution", map[string]any{"community_id": fzC, "meeting_id": "m-1", "resolution_id": "r-1", "motion_id": "mo-1", "subject": "major-spending",
		"ceiling_fen": 8000000, "text": "同意路灯改造"}},
	{"table-motion", map[string]any{"community_id": fzC, "meeting_id": "m-1", "motion_id": "mo-2", "title": "增设停车位"}},
	{"publish-disclosure", map[string]any{"community_id": fzC, "notice_id": "n-1", "category": "affairs",
		"period": map[string]any{"from": "2026-01-01T00:00:00Z", "to": "2026-03-31T00:00:00Z"}, "title": "村务公开", "text": "第一季度", "window": fzWindow}},
	{"raise-disclosure-objection", map[string]any{"community_id": fzC, "notice_id": "n-1", "objection_id": "o-1", "text": "数字有误",
		"personal": map[string]any{"subject": "p-r1", "name": "吴十"}}},
	{"form-election-committee", map[string]any{"community_id": fzC, "election_id": "e-1", "term": "2026-2031", "seats": 5,
		"members": []map[string]any{{"person": "p-e1", "role": "chair"}, {"person": "p-e2", "role": "member"}, {"person": "p-e3", "role": "member"}}}},
	{"nominate-candidate", map[string]any{"community_id": fzC, "election_id": "e-1", "candidate": "p-c1", "residence_since": "2015-03-01T00:00:00Z"}},
	{"open-audit", map[string]any{"community_id": fzC, "audit_id": "au-1", "kind": "regular", "auditor": "龙湾区审计局",
		"period": map[string]any{"from": "2025-01-01T00:00:00Z", "to": "2025-12-31T00:00:00Z"}}},
	{"collect-topic", map[string]any{"community_id": fzC, "topic_id": "t-1", "channel": "home-visit", "summary": "加装电梯"}},
	{"register-seal", map[string]any{"community_id": fzC, "seal_id": "s-1", "kind": "committee", "name": "罗西社区居民委员会", "custodian": "p-3",
		"custodian_name": "陈文书"}},
	{"request-seal-use", map[string]any{"community_id": fzC, "seal_id": "s-1", "use_id": "u-1", "document": fzSealDoc}},
	{"register-asset", map[string]any{"community_id": fzC, "asset_id": "a-1", "kind": "fixed", "name": "临街店面", "location": "罗西路18号"}},
	{"list-duty", map[string]any{"district": fzDistrict, "duty_id": "d-1", "list": "assists", "title": "协助开展人口普查", "basis": "《全国人口普查条例》"}},
	{"apply-task-admission", map[string]any{"district": fzDistrict, "task_id": "t-1", "department": "区市场监管局", "title": "食品安全宣传",
		"legal_basis": "《食品安全法》", "funding_fen": 300000}},
	{"sign-asset-contract", map[string]any{"community_id": fzC, "asset_id": "a-1", "contract_id": "c-1", "counterparty": "便民超市", "counterparty_kind": "organisation",
		"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z", "rent_fen": 600000, "every": "quarter", "method": "public-bidding"}},
	{"record-inspection", map[string]any{"community_id": fzC, "inspection_id": "i-1", "inspectors": "区督查组", "methods": []string{"site-visit"},
		"findings": []map[string]any{{"finding_id": "f-1", "severity": "minor", "text": "公开栏未更新"}}}},
	{"order-rectification", map[string]any{"community_id": fzC, "rectification_id": "z-1", "requirement": "补齐公开", "due": fzDue,
		"source": map[string]any{"kind": "inspection", "id": "i-1", "finding_id": "f-1"}}},
	{"open-survey", map[string]any{"community_id": fzC, "survey_id": "s-2025", "title": "2025年度居民满意度测评", "audience": []string{"residents", "representatives"},
		"questions": []map[string]any{{"question_id": "q1", "text": "总体评价", "scale": "satisfaction"}}}},
	{"hire-worker", map[string]any{"community_id": fzC, "worker_id": "w-1", "person": "p-21", "personal": map[string]any{"name": "郑丽"},
		"post": map[string]any{"series": "staff", "grade": 5}, "hired_at": "2026-01-05T00:00:00Z"}},
}

// fzSealDoc is a small contract a seal is put on.
var fzSealDoc = map[string]any{"title": "保洁服务合同", "date": "2026-02-01T00:00:00Z", "purpose": "签订保洁服务合同", "counterparty": "洁美物业有限公司",
	"amount_fen": 3600000}

// fuzzSeeds are a valid or near-valid body of every command, on the story's state.
var fuzzSeeds = []fuzzStep{
	{"register-jurisdiction", map[string]any{"path": fzPath + "/g01", "name": "第一网格"}},
	{"register-community", map[string]any{"community_id": communityB, "name": "社区B", "kind": "rural", "jurisdiction": pathB, "households": 800, "adults": 1900}},
	{"update-community-figures", map[string]any{"community_id": fzC, "households": 2450, "adults": 5300, "reason": "年度人口统计"}},
	{"set-rule-override", map[string]any{"jurisdiction": fzPath, "rule": "minutes-kept", "parameter": "within", "value": "24h", "reason": "试点"}},
	{"remove-rule-override", map[string]any{"jurisdiction": fzPath, "rule": "minutes-kept", "parameter": "within", "reason": "试点结束"}},
	{"seat-committee", map[string]any{"community_id": fzC, "term": "2026-2031", "members": []map[string]any{
		{"person": "p-1", "role": "chair", "full_time": true, "source": "elected"}, {"person": "p-7", "role": "member", "full_time": false, "source": "appointed"}}}},
	{"join-committee", map[string]any{"community_id": fzC, "member": map[string]any{"person": "p-8", "role": "member", "full_time": false, "source": "by-elected"}}},
	{"leave-committee", map[string]any{"community_id": fzC, "person": "p-7", "reason": "resigned"}},
	{"form-election-committee", map[string]any{"community_id": fzC, "election_id": "e-2", "term": "2026-2031", "seats": 7,
		"members": []map[string]any{{"person": "p-e7", "role": "chair"}}}},
	{"add-election-committee-member", map[string]any{"community_id": fzC, "election_id": "e-1", "member": map[string]any{"person": "p-e4", "role": "member"}}},
	{"leave-election-committee", map[string]any{"community_id": fzC, "election_id": "e-1", "person": "p-e3", "reason": "resigned"}},
	{"nominate-candidate", map[string]any{"community_id": fzC, "election_id": "e-1", "candidate": "p-c2", "residence_since": "2010-01-01T00:00:00Z",
		"personal": map[string]any{"name": "李四", "national_id": "11010519491231002X"}}},
	{"withdraw-candidate", map[string]any{"community_id": fzC, "election_id": "e-1", "candidate": "p-c1", "reason": "工作调动"}},
	{"publicize-candidate-list", map[string]any{"community_id": fzC, "election_id": "e-1"}},
	{"raise-election-objection", map[string]any{"community_id": fzC, "election_id": "e-1", "objection_id": "eo-1", "concerning": "p-c1",
		"text": "居住年限存疑", "personal": map[string]any{"subject": "p-r2", "name": "王五"}}},
	{"answer-election-objection", map[string]any{"community_id": fzC, "election_id": "e-1", "objection_id": "eo-1", "answer": "经核实无误"}},
	{"hold-voting", map[string]any{"community_id": fzC, "election_id": "e-1", "registered_voters": 4000, "ballots_cast": 2600,
		"tally": []map[string]any{{"candidate": "p-c2", "votes": 2400}}}},
	{"certify-election-result", map[string]any{"community_id": fzC, "election_id": "e-1", "winners": []map[string]any{{"person": "p-c2", "role": "chair", "full_time": true}}}},
	{"recall-member", map[string]any{"community_id": fzC, "election_id": "e-1", "person": "p-c2", "registered_voters": 4000, "ballots_cast": 2600, "votes_for": 2000}},
	{"by-elect-member", map[string]any{"community_id": fzC, "election_id": "e-1", "winner": map[string]any{"person": "p-c9", "role": "member", "full_time": false, "votes": 1500},
		"residence_since": "2018-06-01T00:00:00Z", "registered_voters": 4000, "ballots_cast": 2300}},
	{"resign-member", map[string]any{"community_id": fzC, "election_id": "e-1", "person": "p-c9", "reason": "身体原因"}},
	{"convene-meeting", map[string]any{"community_id": fzC, "meeting_id": "m-2", "kind": "joint", "title": "两委联席会议", "basis": "invitees", "expected": 9}},
	{"record-attendance", map[string]any{"community_id": fzC, "meeting_id": "m-1", "present": 3200}},
	{"table-motion", map[string]any{"community_id": fzC, "meeting_id": "m-1", "motion_id": "mo-3", "title": "绿化改造", "text": "补种树木"}},
	{"record-vote", map[string]any{"community_id": fzC, "meeting_id": "m-1", "motion_id": "mo-2", "for": 1000, "against": 1900, "abstain": 200, "outcome": "failed"}},
	{"adopt-resolution", map[string]any{"community_id": fzC, "meeting_id": "m-1", "resolution_id": "r-2", "motion_id": "mo-1", "subject": "other", "text": "其他事项"}},
	{"record-minutes", map[string]any{"community_id": fzC, "meeting_id": "m-1", "document_sha256": strings.Repeat("ab", 32)}},
	{"close-meeting", map[string]any{"community_id": fzC, "meeting_id": "m-1"}},
	{"collect-topic", map[string]any{"community_id": fzC, "topic_id": "t-2", "channel": "wechat", "summary": "停车难"}},
	{"screen-topic", map[string]any{"community_id": fzC, "topic_id": "t-1", "accepted": true, "reason": "涉及多数居民"}},
	{"draft-topic-plan", map[string]any{"community_id": fzC, "topic_id": "t-1", "plan": "召开协商会，居民代表与物业参加"}},
	{"give-topic-notice", map[string]any{"community_id": fzC, "topic_id": "t-1", "deliberation_at": "2199-01-01T00:00:00Z", "notice": "定于下周协商"}},
	{"hold-topic-deliberation", map[string]any{"community_id": fzC, "topic_id": "t-1", "meeting_id": "m-2", "outcome": "同意加装"}},
	{"disclose-topic-result", map[string]any{"community_id": fzC, "topic_id": "t-1", "disclosure_id": "n-1"}},
	{"record-topic-feedback", map[string]any{"community_id": fzC, "topic_id": "t-1", "feedback": "已完成", "closed": true}},
	{"allocate-budget", map[string]any{"community_id": fzC, "fiscal_year": 2026, "allocation_id": "a-2", "source": "central-project", "category": "project",
		"amount_fen": 10000000, "note": "路灯改造项目资金"}},
	{"request-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-3", "fiscal_year": 2026, "category": "project", "kind": "other",
		"purpose": "路灯改造", "amount_fen": 7000000, "project": "路灯改造", "payee": map[string]any{"kind": "organisation", "organisation": "某工程公司"}}},
	{"approve-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-1", "by": "p-1"}},
	{"pay-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-2", "voucher_no": "记-1"}},
	{"reject-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-3", "by": "p-1", "reason": "附件不全"}},
	{"cancel-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-1", "by": "p-1", "reason": "取消采购"}},
	{"publish-disclosure", map[string]any{"community_id": fzC, "notice_id": "n-2", "category": "finance",
		"period": map[string]any{"from": "2026-01-01T00:00:00Z", "to": "2026-01-31T00:00:00Z"}, "title": "财务公开", "text": "支出明细", "window": fzWindow,
		"discloses": []map[string]any{{"kind": "budget", "id": "a-1", "fiscal_year": 2026}}}},
	{"correct-disclosure", map[string]any{"community_id": fzC, "notice_id": "n-1", "title": "村务公开(更正)", "text": "第一季度，更正", "reason": "笔误"}},
	{"withdraw-disclosure", map[string]any{"community_id": fzC, "notice_id": "n-1", "reason": "内容有误"}},
	{"raise-disclosure-objection", map[string]any{"community_id": fzC, "notice_id": "n-2", "objection_id": "o-2", "text": "有遗漏",
		"personal": map[string]any{"subject": "p-r3", "name": "赵六", "phone": "13500000000"}}},
	{"answer-disclosure-objection", map[string]any{"community_id": fzC, "notice_id": "n-1", "objection_id": "o-1", "answer": "已核实更正"}},
	{"open-audit", map[string]any{"community_id": fzC, "audit_id": "au-2", "kind": "exit", "subject": "p-5", "auditor": "龙湾区农村经济管理站",
		"period": map[string]any{"from": "2021-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}},
	{"record-audit-finding", map[string]any{"community_id": fzC, "audit_id": "au-1", "finding_id": "f-1", "severity": "minor", "text": "凭证不全"}},
	{"close-audit", map[string]any{"community_id": fzC, "audit_id": "au-1", "result": "issues-found", "summary": "基本规范"}},
	{"register-seal", map[string]any{"community_id": fzC, "seal_id": "s-2", "kind": "finance", "name": "罗西社区居民委员会财务专用章", "custodian": "p-4",
		"custodian_name": "王会计"}},
	{"change-seal-custodian", map[string]any{"community_id": fzC, "seal_id": "s-1", "custodian": "p-5", "custodian_name": "赵文书", "reason": "调岗"}},
	{"request-seal-use", map[string]any{"community_id": fzC, "seal_id": "s-1", "use_id": "u-2", "meeting_id": "m-1", "resolution_id": "r-1",
		"document": map[string]any{"title": "路灯改造工程合同", "date": "2027-01-01T00:00:00Z", "purpose": "签订工程合同", "counterparty": "龙湾照明工程有限公司",
			"amount_fen": 7000000}}},
	{"approve-seal-use", map[string]any{"community_id": fzC, "seal_id": "s-1", "use_id": "u-1", "approver": "p-1", "approver_name": "张主任",
		"role": "committee-head"}},
	{"record-seal-use", map[string]any{"community_id": fzC, "seal_id": "s-1", "use_id": "u-1",
		"document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
	{"register-asset", map[string]any{"community_id": fzC, "asset_id": "a-2", "kind": "resource", "name": "西塘鱼塘", "location": "西塘",
		"value_fen": 12000000}},
	{"sign-asset-contract", map[string]any{"community_id": fzC, "asset_id": "a-2", "contract_id": "c-2", "counterparty": "陈大海", "counterparty_kind": "individual",
		"from": "2026-03-01T00:00:00Z", "to": "2031-03-01T00:00:00Z", "rent_fen": 2000000, "every": "year", "method": "negotiated",
		"meeting_id": "m-1", "resolution_id": "r-1"}},
	{"receive-rent", map[string]any{"community_id": fzC, "asset_id": "a-1", "contract_id": "c-1", "installment": 1, "amount_fen": 600000,
		"voucher_no": "收-1"}},
	{"list-duty", map[string]any{"district": fzDistrict, "duty_id": "d-2", "list": "performs", "title": "组织居民议事协商", "basis": "组织法"}},
	{"delist-duty", map[string]any{"district": fzDistrict, "duty_id": "d-1", "reason": "普查结束"}},
	{"apply-task-admission", map[string]any{"district": fzDistrict, "task_id": "t-2", "department": "区住建局", "title": "统计电梯",
		"legal_basis": "无", "funding_fen": 0}},
	{"decide-task-admission", map[string]any{"district": fzDistrict, "task_id": "t-1", "admit": true}},
	{"record-community-task", map[string]any{"community_id": fzC, "record_id": "w-1", "department": "区市场监管局", "title": "食品安全宣传",
		"task_id": "t-1"}},
	{"record-community-task", map[string]any{"community_id": fzC, "record_id": "w-2", "department": "区住建局", "title": "统计电梯"}},
	{"dispose-asset", map[string]any{"community_id": fzC, "asset_id": "a-1", "how": "scrap", "meeting_id": "m-1", "resolution_id": "r-1"}},
	{"hire-worker", map[string]any{"community_id": fzC, "worker_id": "w-2", "person": "p-22", "personal": map[string]any{"name": "吴小燕"},
		"post": map[string]any{"series": "deputy", "grade": 3}}},
	{"change-worker-post", map[string]any{"community_id": fzC, "worker_id": "w-1", "post": map[string]any{"series": "staff", "grade": 7}, "reason": "晋级"}},
	{"record-worker-training", map[string]any{"community_id": fzC, "worker_id": "w-1", "training_id": "t-1", "course": "岗位培训", "hours": 8}},
	{"record-worker-leave", map[string]any{"community_id": fzC, "worker_id": "w-1", "reason": "resigned"}},
	{"record-inspection", map[string]any{"community_id": fzC, "inspection_id": "i-2", "inspectors": "街道督查组", "round": "2026年第2轮",
		"methods": []string{"interview", "ledger-review"}, "held_at": "2026-03-01T00:00:00Z"}},
	{"order-rectification", map[string]any{"community_id": fzC, "rectification_id": "z-2", "requirement": "整改", "due": fzDue,
		"source": map[string]any{"kind": "audit", "id": "au-1", "finding_id": "f-1"}}},
	{"report-rectification", map[string]any{"community_id": fzC, "rectification_id": "z-1", "response": "已整改"}},
	{"open-survey", map[string]any{"community_id": fzC, "survey_id": "s-2026", "title": "2026年度居民满意度测评", "audience": []string{"residents"},
		"questions": []map[string]any{{"question_id": "q1", "text": "总体评价", "scale": "satisfaction"}}}},
	{"close-survey", map[string]any{"community_id": fzC, "survey_id": "s-2025", "respondents": 120,
		"tallies": []map[string]any{{"question_id": "q1", "counts": []int{80, 30, 10}}}}},
	{"hold-evaluation", map[string]any{"community_id": fzC, "evaluation_id": "2026-H1", "period": "2026-H1", "evaluators": 40,
		"results": []map[string]any{{"person": "p-1", "competent": 35, "basically": 4, "incompetent": 1}}}},
	{"publish-bulletin", map[string]any{"jurisdiction": fzDistrict, "bulletin_id": "b-1", "title": "督查通报", "text": "通报内容",
		"cites": []map[string]any{{"community_id": fzC, "inspection_id": "i-1"}}}},
	{"open-street-survey", map[string]any{"jurisdiction": fzDistrict, "survey_id": "s-street", "title": "2026年度全区居民满意度测评", "audience": []string{"residents"},
		"questions": []map[string]any{{"question_id": "q1", "text": "总体评价", "scale": "satisfaction"}}}},
	{"define-assessment", map[string]any{"jurisdiction": fzDistrict, "year": 2025, "items": []map[string]any{
		{"code": "A1", "title": "按时公开", "measure": "disclosures", "points": 20}, {"code": "C1", "title": "重点工作", "measure": "assessor", "points": 10}}}},
	{"score-assessment", map[string]any{"community_id": fzC, "year": 2025, "item_code": "C1", "points": -2, "reason": "台账不全"}},
	{"freeze-assessment", map[string]any{"community_id": fzC, "year": 2025}},
	{"record-rating", map[string]any{"community_id": fzC, "period": "2025-Q4"}},
	{"request-expenditure", map[string]any{"community_id": fzC, "expenditure_id": "x-9", "fiscal_year": 2026, "category": "salaries", "kind": "salary",
		"purpose": "基本工资", "amount_fen": 480000, "payee": map[string]any{"kind": "individual", "person": "p-21", "personal": map[string]any{"name": "郑丽"}},
		"payroll": map[string]any{"worker_id": "w-1", "component": "basic", "period": "2026-12"}}},
	{"record-seal-use", map[string]any{"community_id": fzC, "seal_id": "s-2", "use_id": "u-9", "document": fzSealDoc,
		"document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}},
}
