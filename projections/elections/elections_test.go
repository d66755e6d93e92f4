package elections_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/internal/readmodeltest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

var (
	t0    = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	day   = 24 * time.Hour
	luoxi = decodetest.Community("33/3303/330303/330303001", "330303001001")
)

func es(id string) string { return eventlog.StreamName("election", luoxi.ID, id) }

func personal(id, name string) *kernel.PersonalData {
	return &kernel.PersonalData{Subject: kernel.PersonID(id), Name: name, NationalID: "3303031980" + strings.Repeat(id[len(id)-1:], 8),
		Phone: "1370000000" + id[len(id)-1:], Address: "罗西社区" + id + "幢"}
}

var names = map[string]string{"p-1": "陈一鸣", "p-2": "林二娜", "p-3": "黄三石", "p-4": "周四方", "p-5": "吴五岳", "p-8": "郑八斗", "p-9": "冯九州", "p-7": "何七巧"}

// sample is one general election and the life of its term.
func sample() (*decodetest.History, []eventlog.Recorded) {
	h := &decodetest.History{}
	var ev []eventlog.Recorded
	rec := func(at time.Duration, e ...kernel.Event) {
		ev = append(ev, h.Record(es("e-2026"), luoxi, t0.Add(at), e...)...)
	}
	rec(0, election.CommitteeFormed{ElectionID: "e-2026", Term: "2026-2031", Seats: 3, FormedAt: t0, Members: []election.ElectionCommitteeMember{
		{Person: "p-8", Role: election.CommitteeChair, Personal: personal("p-8", names["p-8"])},
		{Person: "p-9", Role: election.CommitteeMember, Personal: personal("p-9", names["p-9"])},
		{Person: "p-3", Role: election.CommitteeMember}}}) // 0
	rec(time.Hour, election.CommitteeMemberAdded{ElectionID: "e-2026", Member: election.ElectionCommitteeMember{Person: "p-7", Role: election.CommitteeMember,
		Personal: personal("p-7", names["p-7"])}, AddedAt: t0.Add(time.Hour)}) // 1
	for i, p := range []string{"p-1", "p-2", "p-4"} {
		public := map[string]string{"p-1": "陈先生"}[p] // the public display name, recorded apart from the personal data
		rec(day+time.Duration(i)*time.Hour, election.CandidateNominated{ElectionID: "e-2026", Candidate: kernel.PersonID(p),
			ResidenceSince: t0.AddDate(-5, 0, 0), Personal: personal(p, names[p]), PublicName: public,
			NominatedAt: t0.Add(day + time.Duration(i)*time.Hour)}) // 2, 3, 4
	}
	rec(day+3*time.Hour,
		election.CommitteeMemberLeft{ElectionID: "e-2026", Person: "p-3", Reason: election.LeftBecameCandidate, LeftAt: t0.Add(day + 3*time.Hour)},
		election.CandidateNominated{ElectionID: "e-2026", Candidate: "p-3", ResidenceSince: t0.AddDate(-9, 0, 0), Personal: personal("p-3", names["p-3"]),
			NominatedAt: t0.Add(day + 3*time.Hour)}) // 5, 6
	rec(2*day, election.CandidateWithdrawn{ElectionID: "e-2026", Candidate: "p-4", Reason: "家庭原因", WithdrawnAt: t0.Add(2 * day)})                         // 7
	rec(3*day, election.CandidateListPublicized{ElectionID: "e-2026", Candidates: []kernel.PersonID{"p-1", "p-2", "p-3"}, PublicizedAt: t0.Add(3 * day)}) // 8
	rec(4*day, election.ObjectionRaised{ElectionID: "e-2026", ObjectionID: "o-1", Concerning: "p-2", Text: "候选人林二娜居住不满一年",
		Objector: *personal("p-r", "钱十全"), RaisedAt: t0.Add(4 * day)}) // 9
	rec(4*day+time.Hour, election.ObjectionRaised{ElectionID: "e-2026", ObjectionID: "o-2", Text: "名单公示时间不足",
		Objector: *personal("p-s", "孙百川"), RaisedAt: t0.Add(4*day + time.Hour)}) // 10
	rec(5*day, election.ObjectionAnswered{ElectionID: "e-2026", ObjectionID: "o-1", Answer: "经核实已满一年", AnsweredAt: t0.Add(5 * day)}) // 11
	rec(10*day, election.VotingHeld{ElectionID: "e-2026", RegisteredVoters: 1000, BallotsCast: 800, HeldAt: t0.Add(10 * day),
		Tally: []election.Tally{{Candidate: "p-1", Votes: 700}, {Candidate: "p-2", Votes: 650}, {Candidate: "p-3", Votes: 300}}}) // 12
	rec(11*day, election.ResultCertified{ElectionID: "e-2026", RegisteredVoters: 1000, BallotsCast: 800, CertifiedAt: t0.Add(11 * day),
		Winners: []election.Winner{{Person: "p-1", Role: community.Chair, FullTime: true, Votes: 700}, {Person: "p-2", Role: community.Member, Votes: 650}}}) // 13
	rec(100*day, election.MemberResigned{ElectionID: "e-2026", Person: "p-2", Reason: "身体原因(病历)", ResignedAt: t0.Add(100 * day)}) // 14
	rec(130*day, election.MemberByElected{ElectionID: "e-2026", Winner: election.Winner{Person: "p-5", Role: community.Member, FullTime: true, Votes: 500},
		ResidenceSince: t0.AddDate(-3, 0, 0), Personal: personal("p-5", names["p-5"]), RegisteredVoters: 1000, BallotsCast: 600, ByElectedAt: t0.Add(130 * day)}) // 15
	rec(200*day, election.MemberRecalled{ElectionID: "e-2026", Person: "p-1", RegisteredVoters: 1000, BallotsCast: 700, VotesFor: 600, RecalledAt: t0.Add(200 * day)}) // 16
	return h, ev
}

func TestTimelineResultAndChanges(t *testing.T) {
	t.Parallel()
	h, ev := sample()
	pool := readmodeltest.Projected(t, elections.New(), h.Events, 0)
	ctx := context.Background()

	list, err := elections.Elections(ctx, pool, luoxi.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("elections: %+v %v", list, err)
	}
	tl, err := elections.ElectionTimeline(ctx, pool, luoxi.ID, "e-2026")
	if err != nil {
		t.Fatal(err)
	}
	e := tl.Election
	at := func(s *elections.Step, i int) bool {
		return s != nil && s.EventID == ev[i].ID && s.Commit == ev[i].Position.Commit
	}
	if e.Term != "2026-2031" || e.Seats != 3 || e.Phase != elections.Certified || e.CommitteeMembers != 3 || e.Candidates != 3 ||
		e.Formed.EventID != ev[0].ID || !at(e.ListPublicized, 8) || e.ListSize != 3 || e.ObjectionsRaised != 2 || e.ObjectionsAnswered != 1 ||
		e.ObjectionsLast == nil || e.ObjectionsLast.EventID != ev[11].ID || !at(e.Voting, 12) || !at(e.Certified, 13) ||
		e.RegisteredVoters != 1000 || e.BallotsCast != 800 || e.Turnout != "80.00" || e.Winners != 2 ||
		e.MembersResigned != 1 || e.MembersByElected != 1 || e.MembersRecalled != 1 || e.Jurisdiction != luoxi.Path {
		t.Fatalf("election: %+v", e)
	}
	var got []string
	for _, c := range tl.Candidates {
		votes := "-"
		if c.Votes != nil {
			votes = fmt.Sprint(*c.Votes)
		}
		got = append(got, fmt.Sprintf("%s:%s:list=%v:votes=%s:obj=%d:%s:%v", c.PersonID, c.Status, c.OnList, votes, c.Objections, c.Role, c.FullTime))
	}
	want := "p-1:elected:list=true:votes=700:obj=0:chair:true p-2:elected:list=true:votes=650:obj=1:member:false " +
		"p-4:withdrawn:list=false:votes=-:obj=0::false p-3:not-elected:list=true:votes=300:obj=0::false"
	if strings.Join(got, " ") != want {
		t.Fatalf("candidates:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if c := tl.Candidates[0]; c.Nominated.EventID != ev[2].ID || c.VotesEventID != ev[12].ID || !at(c.Result, 13) || !c.Result.At.Equal(t0.Add(11*day)) {
		t.Fatalf("candidate provenance: %+v", c)
	}
	if c := tl.Candidates[2]; c.Withdrawn == nil || !c.Withdrawn.Equal(t0.Add(2*day)) || c.Result != nil {
		t.Fatalf("withdrawn candidate: %+v", c)
	}
	if len(tl.Objections) != 2 || tl.Objections[0].Concerning != "p-2" || !at(tl.Objections[0].Answered, 11) || tl.Objections[1].Answered != nil ||
		tl.Objections[0].Answer != "经核实已满一年" || tl.Objections[1].Answer != "" {
		t.Fatalf("objections: %+v", tl.Objections)
	}
	// A resident finds an objection by its id (the receipt code); its text and objector are never kept.
	if o, err := elections.ObjectionByID(ctx, pool, "o-1"); err != nil || o.ElectionID != "e-2026" || o.Answer != "经核实已满一年" || !at(o.Answered, 11) {
		t.Fatalf("objection o-1 by id: %+v %v", o, err)
	}
	if _, err := elections.ObjectionByID(ctx, pool, "o-9"); !errors.Is(err, elections.ErrNotFound) {
		t.Fatalf("an unknown objection: %v", err)
	}
	// Sentences name an election by its term and a person by their public name (none for p-2: left out).
	terms, people, err := elections.Names(ctx, pool, luoxi.ID, []string{"e-2026", "e-1999"}, []string{"p-1", "p-2"})
	if err != nil || len(terms) != 1 || terms["e-2026"] != "2026-2031" || len(people) != 1 || people["p-1"] != "陈先生" {
		t.Fatalf("names: %v %v %v", terms, people, err)
	}
	var changes []string
	for _, c := range tl.Changes {
		changes = append(changes, fmt.Sprintf("%s:%s:%s:%v:%d:%d:%d/%d@%d", c.Change, c.PersonID, c.Role, c.FullTime, c.Votes, c.VotesFor, c.BallotsCast, c.RegisteredVoters, c.Commit))
	}
	wantChanges := fmt.Sprintf("resigned:p-2::false:0:0:0/0@%d by-elected:p-5:member:true:500:0:600/1000@%d recalled:p-1::false:0:600:700/1000@%d",
		ev[14].Position.Commit, ev[15].Position.Commit, ev[16].Position.Commit)
	if strings.Join(changes, " ") != wantChanges {
		t.Fatalf("member changes:\n got %s\nwant %s", strings.Join(changes, " "), wantChanges)
	}
	if all, err := elections.MemberChanges(ctx, pool, luoxi.ID); err != nil || len(all) != 3 {
		t.Fatalf("member changes of the community: %+v %v", all, err)
	}
	if _, err := elections.ElectionTimeline(ctx, pool, luoxi.ID, "e-1999"); !errors.Is(err, elections.ErrNotFound) {
		t.Fatalf("unknown election: %v", err)
	}

	// The committee's answer ("经核实已满一年") is public; the objection's text and its objector are not.
	secrets := []string{"p-r", "p-s", "钱十全", "孙百川", "候选人林二娜居住不满一年", "名单公示时间不足", "身体原因", "家庭原因", "罗西社区p-"}
	for _, n := range names {
		secrets = append(secrets, n)
	}
	for _, row := range decodetest.RowText(t, pool, elections.Schema) {
		for _, s := range secrets {
			if strings.Contains(row, s) {
				t.Errorf("an elections row holds %q: %s", s, row)
			}
		}
		if strings.Contains(row, "3303031980") || strings.Contains(row, "137000000") {
			t.Errorf("an elections row holds an ID number or phone: %s", row)
		}
	}
}

// TestContract: the read-model contract (readmodeltest) over the sample and a generated district. The
// model halts on a poison event.
func TestContract(t *testing.T) {
	h, _ := sample()
	readmodeltest.Run(t, readmodeltest.Model{New: func() runtime.ReadModel { return elections.New() }, Sample: h.Events,
		Redelivery: decodetest.Idempotent, Handles: "election.result-certified"})
}
