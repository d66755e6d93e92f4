package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// TestResolutionCeilingIsCumulativeThroughTheAPI (major-matter-resolution, 四议两公开): through HTTP,
// five 100 000 元 expenditures cite one resolution whose ceiling is 100 000 元: the first is approved,
// the other four are refused with resolution-ceiling-exhausted and append nothing; an expenditure of
// another project cannot cite a resolution on a project (resolution-project-mismatch).
func TestResolutionCeilingIsCumulativeThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	do := func(name, key string, body any) { t.Helper(); srv.Post(t, name, clerk, key, body).Result(t) }
	do("seat-committee", "seat", commands.SeatCommittee{CommunityID: communityA, Term: "2021-2026", Members: []commands.CommitteeSeat{
		{Person: "p-1", Role: "chair", FullTime: true, Source: "elected"}, {Person: "p-2", Role: "vice-chair", FullTime: true, Source: "elected"},
		{Person: "p-3", Role: "member", FullTime: true, Source: "elected"}, {Person: "p-4", Role: "member", Source: "elected"},
		{Person: "p-5", Role: "member", Source: "elected"}}})
	do("convene-meeting", "m", commands.ConveneMeeting{CommunityID: communityA, MeetingID: "m-1", Kind: "assembly", Title: "居民会议", Basis: "adults"})
	do("record-attendance", "att", commands.RecordAttendance{CommunityID: communityA, MeetingID: "m-1", Present: 2000})
	for i, project := range []string{"", "养老照料中心"} {
		mo, r := fmt.Sprint("mo-", i), fmt.Sprint("r-", i)
		do("table-motion", "mo"+mo, commands.TableMotion{CommunityID: communityA, MeetingID: "m-1", MotionID: mo, Title: "议案"})
		do("record-vote", "v"+mo, commands.RecordVote{CommunityID: communityA, MeetingID: "m-1", MotionID: mo, For: 1800, Against: 100, Abstain: 100, Outcome: "passed"})
		do("adopt-resolution", "r"+mo, commands.AdoptResolution{CommunityID: communityA, MeetingID: "m-1", ResolutionID: r, MotionID: mo,
			Subject: "major-spending", CeilingFen: 10_000_000, Project: project, Text: "同意，上限10万元"})
	}
	request := func(id, project string) {
		do("request-expenditure", "q"+id, commands.RequestExpenditure{CommunityID: communityA, ExpenditureID: id, FiscalYear: 2026,
			Category: "project", Kind: "other", Purpose: "工程款", AmountFen: 10_000_000, Project: project,
			Payee: commands.Payee{Kind: "organisation", Organisation: "某工程公司"}})
	}
	for i := range 5 {
		id := fmt.Sprint("x-", i)
		request(id, "")
		before := srv.Head(t)
		resp := srv.Post(t, "approve-expenditure", clerk, "a"+id, commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: id,
			By: "p-1", MeetingID: "m-1", ResolutionID: "r-0"})
		if i == 0 {
			resp.Result(t)
			continue
		}
		if p := resp.WantProblem(t, http.StatusUnprocessableEntity, "resolution-ceiling-exhausted"); p.Field != "resolution_id" {
			t.Errorf("field %q: %s", p.Field, resp.Body)
		}
		srv.WantNothingAppended(t, before)
	}
	request("road", "村道硬化")
	before := srv.Head(t)
	resp := srv.Post(t, "approve-expenditure", clerk, "a-road", commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: "road",
		By: "p-1", MeetingID: "m-1", ResolutionID: "r-1"})
	resp.WantProblem(t, http.StatusUnprocessableEntity, "resolution-project-mismatch")
	srv.WantNothingAppended(t, before)
	request("care", "养老照料中心")
	srv.Post(t, "approve-expenditure", clerk, "a-care", commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: "care",
		By: "p-1", MeetingID: "m-1", ResolutionID: "r-1"}).Result(t)
}

// TestShortPublicityWindowIs422 (publicity-window): through HTTP, a finance notice up for three days is
// refused naming window.end, and nothing is appended; seven days is accepted.
func TestShortPublicityWindowIs422(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	start := time.Now().UTC().Truncate(time.Second)
	notice := func(id string, days int) commands.PublishDisclosure {
		return commands.PublishDisclosure{CommunityID: communityA, NoticeID: id, Category: "finance",
			Period: commands.Period{From: start.AddDate(0, -1, 0), To: start}, Title: "财务公开", Text: "收支明细",
			Window: commands.Window{Start: start, End: start.AddDate(0, 0, days)}}
	}
	before := srv.Head(t)
	resp := srv.Post(t, "publish-disclosure", clerk, "short", notice("n-short", 3))
	if p := resp.WantProblem(t, http.StatusUnprocessableEntity, "publicity-window-too-short"); p.Field != "window.end" {
		t.Errorf("field %q: %s", p.Field, resp.Body)
	}
	srv.WantNothingAppended(t, before)
	srv.Post(t, "publish-disclosure", clerk, "week", notice("n-week", 7)).Result(t)
}

// TestBudgetBalanceAndSplittingThroughTheAPI (budget-balance, split-spending; watched): through HTTP, two
// approvals race for a budget line that holds one of them: both are recorded (watch), exactly one says it
// exceeds the balance; and the third of three 20 000 元 expenditures to one payee within 30 days says it
// splits a major one, naming the other two.
func TestBudgetBalanceAndSplittingThroughTheAPI(t *testing.T) {
	t.Parallel()
	srv := startCatalogue(t)
	registerCommunities(t, srv)
	clerk := srv.Token(t, commands.RoleClerk, pathA)
	do := func(name, key string, body any) commands.Result {
		t.Helper()
		return srv.Post(t, name, clerk, key, body).Result(t)
	}
	do("seat-committee", "seat", commands.SeatCommittee{CommunityID: communityA, Term: "2021-2026", Members: []commands.CommitteeSeat{
		{Person: "p-1", Role: "chair", FullTime: true, Source: "elected"}, {Person: "p-2", Role: "vice-chair", FullTime: true, Source: "elected"},
		{Person: "p-3", Role: "member", FullTime: true, Source: "elected"}, {Person: "p-4", Role: "member", Source: "elected"},
		{Person: "p-5", Role: "member", Source: "elected"}}})
	year := time.Now().In(kernel.ChinaTime()).Year()
	do("allocate-budget", "alloc", map[string]any{"community_id": communityA, "fiscal_year": year, "allocation_id": "a-1",
		"source": "street-finance", "category": "operating", "amount_fen": 500_000, "note": "工作经费"})
	request := func(id, payee string, fen int64) {
		do("request-expenditure", "q"+id, commands.RequestExpenditure{CommunityID: communityA, ExpenditureID: id, FiscalYear: year,
			Category: "operating", Kind: "other", Purpose: "办公用品", AmountFen: fen, Payee: commands.Payee{Kind: "organisation", Organisation: payee}})
	}
	request("b-1", "文具店", 300_000)
	request("b-2", "印刷厂", 300_000)
	var wg sync.WaitGroup
	results := make([]commands.Result, 2)
	for i, id := range []string{"b-1", "b-2"} {
		wg.Go(func() {
			for attempt := 0; ; attempt++ { // a conflict is retried with the same key, as a client does
				resp := srv.Post(t, "approve-expenditure", clerk, "a"+id, commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: id, By: "p-1"})
				if resp.Status == http.StatusConflict && attempt < 5 {
					continue
				}
				results[i] = resp.Result(t)
				return
			}
		})
	}
	wg.Wait()
	over := 0
	for _, r := range results {
		for _, b := range r.Breaches {
			if b.Rule == "budget-balance" {
				over++
			}
		}
	}
	if over != 1 {
		t.Fatalf("%d of two racing approvals over a budget that holds one were told so: %+v", over, results)
	}

	for i := range 3 {
		request(fmt.Sprint("s-", i), "某装修公司", 2_000_000)
	}
	do("approve-expenditure", "as0", commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: "s-0", By: "p-1"})
	do("approve-expenditure", "as1", commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: "s-1", By: "p-1"})
	res := do("approve-expenditure", "as2", commands.ApproveExpenditure{CommunityID: communityA, ExpenditureID: "s-2", By: "p-1"})
	var split *commands.BreachRef
	for i := range res.Breaches {
		if res.Breaches[i].Rule == "split-spending" {
			split = &res.Breaches[i]
		}
	}
	if split == nil || !strings.Contains(split.Detail, "s-0") || !strings.Contains(split.Detail, "s-1") {
		t.Fatalf("the third 20 000 元 payment to one payee: %+v", res.Breaches)
	}
}
