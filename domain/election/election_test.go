package election_test

import (
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/internal/domaintest"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

var (
	t0       = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	day      = 24 * time.Hour
	defaults = rulebook.Defaults()
	urban    = community.Figures{Kind: kernel.Urban, Households: 2400, Adults: 5200}
)

const eid = "e-330303001001-2026"

func samples() []kernel.Event {
	personal := &kernel.PersonalData{Subject: "p-c1", Name: "李四", NationalID: "330303198001011234", Phone: "13900000000", Address: "罗西社区3幢"}
	return []kernel.Event{
		election.CommitteeFormed{ElectionID: eid, Term: "2026-2031", Seats: 5, FormedAt: t0, Members: []election.ElectionCommitteeMember{
			{Person: "p-e1", Role: election.CommitteeChair, Personal: &kernel.PersonalData{Subject: "p-e1", Name: "王五"}},
			{Person: "p-e2", Role: election.CommitteeMember},
		}},
		election.CommitteeMemberAdded{ElectionID: eid, Member: election.ElectionCommitteeMember{Person: "p-e3", Role: election.CommitteeMember,
			Personal: &kernel.PersonalData{Subject: "p-e3", Name: "赵六"}}, Replaces: "p-e2", AddedAt: t0},
		election.CommitteeMemberLeft{ElectionID: eid, Person: "p-e2", Reason: election.LeftBecameCandidate, LeftAt: t0},
		election.CandidateNominated{ElectionID: eid, Candidate: "p-c1", ResidenceSince: t0.AddDate(-5, 0, 0), Personal: personal, NominatedAt: t0},
		election.CandidateWithdrawn{ElectionID: eid, Candidate: "p-c9", Reason: "个人原因", WithdrawnAt: t0},
		election.CandidateListPublicized{ElectionID: eid, Candidates: []kernel.PersonID{"p-c1", "p-c2"}, PublicizedAt: t0},
		election.ObjectionRaised{ElectionID: eid, ObjectionID: "o-1", Concerning: "p-c1", Text: "候选人居住年限存疑", RaisedAt: t0,
			Objector: kernel.PersonalData{Subject: "p-r1", Name: "钱七", Phone: "13700000000"}},
		election.ObjectionAnswered{ElectionID: eid, ObjectionID: "o-1", Answer: "经核实户籍与居住证明，符合条件", AnsweredAt: t0},
		election.VotingHeld{ElectionID: eid, RegisteredVoters: 4000, BallotsCast: 2600, HeldAt: t0,
			Tally: []election.Tally{{Candidate: "p-c1", Votes: 2100}, {Candidate: "p-c2", Votes: 900}},
			Watch: kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CandidateListPublicity, Detail: "公示不足7天"}}}},
		election.ResultCertified{ElectionID: eid, RegisteredVoters: 4000, BallotsCast: 2600, CertifiedAt: t0,
			Winners: []election.Winner{{Person: "p-c1", Role: community.Chair, FullTime: true, Votes: 2100}},
			Watch:   kernel.Watch{Breaches: []kernel.Breach{{Rule: rulebook.CommitteeSize, Detail: "委员会现有1人"}}}},
		election.MemberRecalled{ElectionID: eid, Person: "p-c1", RegisteredVoters: 4000, BallotsCast: 2500, VotesFor: 1800, RecalledAt: t0},
		election.MemberByElected{ElectionID: eid, Winner: election.Winner{Person: "p-c3", Role: community.Member, FullTime: true, Votes: 1500},
			ResidenceSince: t0.AddDate(-3, 0, 0), Personal: &kernel.PersonalData{Subject: "p-c3", Name: "孙八"},
			RegisteredVoters: 4000, BallotsCast: 2200, ByElectedAt: t0},
		election.MemberResigned{ElectionID: eid, Person: "p-c3", Reason: "工作调动", ResignedAt: t0},
	}
}

func TestGoldens(t *testing.T) {
	domaintest.Goldens(t, domaintest.Registry(t, election.RegisterEvents), "testdata", samples())
}

func run(t *testing.T, cases []domaintest.Case[*election.Election]) {
	t.Helper()
	domaintest.Run(t, domaintest.Registry(t, election.RegisterEvents), func() *election.Election { return &election.Election{} }, cases)
}

// A story of an election, as given events.
var (
	formed = election.CommitteeFormed{ElectionID: eid, Term: "2026-2031", Seats: 5, FormedAt: t0, Members: []election.ElectionCommitteeMember{
		{Person: "p-e1", Role: election.CommitteeChair}, {Person: "p-e2", Role: election.CommitteeMember}, {Person: "p-e3", Role: election.CommitteeMember},
	}}
	nominated = func(ids ...kernel.PersonID) []kernel.Event {
		var out []kernel.Event
		for _, id := range ids {
			out = append(out, election.CandidateNominated{ElectionID: eid, Candidate: id, ResidenceSince: t0.AddDate(-3, 0, 0), NominatedAt: t0})
		}
		return out
	}
	publicized = election.CandidateListPublicized{ElectionID: eid, Candidates: []kernel.PersonID{"p-1", "p-2", "p-3", "p-4", "p-5", "p-6"}, PublicizedAt: t0}
	voteAt     = t0.Add(10 * day)
	voted      = election.VotingHeld{ElectionID: eid, RegisteredVoters: 4000, BallotsCast: 2500, HeldAt: voteAt, Tally: []election.Tally{
		{Candidate: "p-1", Votes: 2000}, {Candidate: "p-2", Votes: 1900}, {Candidate: "p-3", Votes: 1800},
		{Candidate: "p-4", Votes: 1700}, {Candidate: "p-5", Votes: 1600}, {Candidate: "p-6", Votes: 1200},
	}}
	fiveWinners = []election.Winner{
		{Person: "p-1", Role: community.Chair, FullTime: true}, {Person: "p-2", Role: community.ViceChair, FullTime: true},
		{Person: "p-3", Role: community.Member, FullTime: true}, {Person: "p-4", Role: community.Member, FullTime: true},
		{Person: "p-5", Role: community.Member},
	}
)

func story(extra ...kernel.Event) []kernel.Event {
	out := append([]kernel.Event{formed}, nominated("p-1", "p-2", "p-3", "p-4", "p-5", "p-6")...)
	return append(out, extra...)
}

func certified() kernel.Event {
	ws := make([]election.Winner, len(fiveWinners))
	copy(ws, fiveWinners)
	for i, v := range []int{2000, 1900, 1800, 1700, 1600} {
		ws[i].Votes = v
	}
	return election.ResultCertified{ElectionID: eid, RegisteredVoters: 4000, BallotsCast: 2500, Winners: ws, CertifiedAt: voteAt.Add(day)}
}

func TestElectionFlow(t *testing.T) {
	run(t, []domaintest.Case[*election.Election]{
		{
			Name: "form the election committee",
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.FormCommittee(election.FormCommittee{ElectionID: eid, Term: "2026-2031", Seats: 5, Members: formed.Members}, t0)
			},
			Then: []kernel.Event{formed},
		},
		{
			Name:  "form twice",
			Given: []kernel.Event{formed},
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.FormCommittee(election.FormCommittee{ElectionID: eid, Term: "t", Seats: 5, Members: formed.Members}, t0)
			},
			ThenErr: election.ErrElectionExists,
		},
		{
			Name: "nominate before the committee is formed",
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-1", ResidenceSince: t0.AddDate(-3, 0, 0)}, defaults, t0)
			},
			ThenErr: election.ErrElectionNotFound,
		},
		{
			Name:  "nominate",
			Given: []kernel.Event{formed},
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-1", ResidenceSince: t0.AddDate(-3, 0, 0)}, defaults, t0)
			},
			Then: nominated("p-1"),
		},
		{
			Name:  "nominate twice",
			Given: story(),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-1", ResidenceSince: t0.AddDate(-3, 0, 0)}, defaults, t0)
			},
			ThenErr: election.ErrAlreadyCandidate,
		},
		{
			Name:  "nominate after the list is publicized",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-7", ResidenceSince: t0.AddDate(-3, 0, 0)}, defaults, t0)
			},
			ThenErr: election.ErrNominationsClosed,
		},
		{
			Name:  "publicize without candidates",
			Given: []kernel.Event{formed},
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Publicize(time.Time{}, t0)
			},
			ThenErr: election.ErrNoCandidates,
		},
		{
			Name:  "publicize lists standing candidates only",
			Given: story(election.CandidateWithdrawn{ElectionID: eid, Candidate: "p-6", Reason: "r", WithdrawnAt: t0}),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Publicize(time.Time{}, t0)
			},
			Then: []kernel.Event{election.CandidateListPublicized{ElectionID: eid, Candidates: []kernel.PersonID{"p-1", "p-2", "p-3", "p-4", "p-5"}, PublicizedAt: t0}},
		},
		{
			Name:  "publicize in the future",
			Given: story(),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Publicize(t0.Add(time.Hour), t0)
			},
			ThenErr: kernel.Invalid("time-in-future", "publicized_at", ""),
		},
		{
			Name:  "objection before the list is public",
			Given: story(),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.RaiseObjection("o-1", "p-1", "异议", kernel.PersonalData{Subject: "p-r"}, t0)
			},
			ThenErr: election.ErrListNotPublicized,
		},
		{
			Name:  "objection and answer",
			Given: story(publicized, election.ObjectionRaised{ElectionID: eid, ObjectionID: "o-1", Text: "x", Objector: kernel.PersonalData{Subject: "p-r"}, RaisedAt: t0}),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.AnswerObjection("o-1", "已核实", t0)
			},
			ThenNames: []string{"election.objection-answered"},
		},
		{
			Name:  "objection without objector",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.RaiseObjection("o-1", "", "异议", kernel.PersonalData{}, t0)
			},
			ThenErr: kernel.Invalid("required", "personal.subject", ""),
		},
		{
			Name:  "withdraw after the vote",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Withdraw("p-6", "r", voteAt)
			},
			ThenErr: election.ErrVotingAlreadyHeld,
		},
		{
			Name:  "vote with an unknown candidate",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.HoldVoting(election.HoldVoting{At: voteAt, RegisteredVoters: 4000, BallotsCast: 2500,
					Tally: []election.Tally{{Candidate: "p-x", Votes: 3}}}, defaults, voteAt)
			},
			ThenErr: election.ErrCandidateNotFound,
		},
		{
			Name:  "more ballots than voters",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.HoldVoting(election.HoldVoting{At: voteAt, RegisteredVoters: 4000, BallotsCast: 4001}, defaults, voteAt)
			},
			ThenErr: kernel.Invalid("invalid-ballots-cast", "ballots_cast", ""),
		},
		{
			Name:  "vote a week and more after publicity",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.HoldVoting(election.HoldVoting{At: voteAt, RegisteredVoters: 4000, BallotsCast: 2500, Tally: voted.Tally}, defaults, voteAt.Add(time.Hour))
			},
			Then: []kernel.Event{voted},
		},
		{
			Name:  "certify before voting",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: fiveWinners, Community: urban}, defaults, voteAt)
			},
			ThenErr: election.ErrVotingNotHeld,
		},
		{
			Name:  "certify",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: fiveWinners, Community: urban}, defaults, voteAt.Add(day))
			},
			Then: []kernel.Event{certified()},
		},
		{
			Name:  "certify twice",
			Given: story(publicized, voted, certified()),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: fiveWinners, Community: urban}, defaults, voteAt.Add(day))
			},
			ThenErr: election.ErrAlreadyCertified,
		},
		{
			Name:  "more winners than seats",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: append(fiveWinners, election.Winner{Person: "p-6", Role: community.Member}), Community: urban}, defaults, voteAt)
			},
			ThenErr: election.ErrTooManyWinners,
		},
		{
			Name:  "resign before the result",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Resign("p-1", "r", voteAt)
			},
			ThenErr: election.ErrNotCertified,
		},
		{
			Name:  "resign",
			Given: story(publicized, voted, certified()),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Resign("p-2", "工作调动", voteAt.Add(30*day))
			},
			Then: []kernel.Event{election.MemberResigned{ElectionID: eid, Person: "p-2", Reason: "工作调动", ResignedAt: voteAt.Add(30 * day)}},
		},
		{
			Name:  "resign twice",
			Given: story(publicized, voted, certified(), election.MemberResigned{ElectionID: eid, Person: "p-2", Reason: "r", ResignedAt: voteAt}),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Resign("p-2", "r", voteAt.Add(30*day))
			},
			ThenErr: election.ErrNotSittingMember,
		},
		{
			Name:  "recall",
			Given: story(publicized, voted, certified()),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Recall(election.Recall{Person: "p-3", RegisteredVoters: 4000, BallotsCast: 2100, VotesFor: 1200}, defaults, voteAt.Add(90*day))
			},
			ThenNames: []string{"election.member-recalled"},
		},
		{
			Name:  "by-election",
			Given: story(publicized, voted, certified(), election.MemberResigned{ElectionID: eid, Person: "p-2", Reason: "r", ResignedAt: voteAt}),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.ByElect(election.ByElect{Winner: election.Winner{Person: "p-8", Role: community.ViceChair, FullTime: true, Votes: 1300},
					ResidenceSince: t0.AddDate(-2, 0, 0), RegisteredVoters: 4000, BallotsCast: 2100}, defaults, voteAt.Add(60*day))
			},
			ThenNames: []string{"election.member-by-elected"},
		},
	})
}

// TestLateRecordingOfRecallsAndByElections (late-recording): a recall vote or a by-election recorded more
// than 72 hours after it was held (its held_at starts the exit audit's clock, changes the committee)
// carries a late-recording breach; recorded within 72 hours, none.
func TestLateRecordingOfRecallsAndByElections(t *testing.T) {
	recall := func(held, now time.Time) func(el *election.Election) ([]kernel.Event, error) {
		return func(el *election.Election) ([]kernel.Event, error) {
			return el.Recall(election.Recall{Person: "p-3", RegisteredVoters: 4000, BallotsCast: 2100, VotesFor: 1200, At: held}, defaults, now)
		}
	}
	byElect := func(held, now time.Time) func(el *election.Election) ([]kernel.Event, error) {
		return func(el *election.Election) ([]kernel.Event, error) {
			return el.ByElect(election.ByElect{Winner: election.Winner{Person: "p-8", Role: community.Member, Votes: 1300},
				ResidenceSince: t0.AddDate(-2, 0, 0), RegisteredVoters: 4000, BallotsCast: 2100, At: held}, defaults, now)
		}
	}
	held := voteAt.Add(60 * day)
	resigned := election.MemberResigned{ElectionID: eid, Person: "p-2", Reason: "r", ResignedAt: voteAt}
	run(t, []domaintest.Case[*election.Election]{
		{Name: "recall recorded ten days late", Given: story(publicized, voted, certified()), When: recall(held, held.Add(10*day)),
			ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
		{Name: "recall recorded within 72 hours", Given: story(publicized, voted, certified()), When: recall(held, held.Add(71*time.Hour)),
			ThenNames: []string{"election.member-recalled"}},
		{Name: "by-election recorded ten days late", Given: story(publicized, voted, certified(), resigned), When: byElect(held, held.Add(10*day)),
			ThenBreaches: []kernel.RuleID{rulebook.LateRecording}},
		{Name: "by-election recorded the same day", Given: story(publicized, voted, certified(), resigned), When: byElect(held, held.Add(time.Hour)),
			ThenNames: []string{"election.member-by-elected"}},
	})
}

// TestRule_CandidateResidence: 候选人须在本社区居住一年以上 (enforce).
func TestRule_CandidateResidence(t *testing.T) {
	run(t, []domaintest.Case[*election.Election]{
		{
			Name:  "a day short of a year",
			Given: []kernel.Event{formed},
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-1", ResidenceSince: t0.AddDate(-1, 0, 1)}, defaults, t0)
			},
			ThenErr: election.ErrResidenceTooShort,
		},
		{
			Name:  "exactly a year",
			Given: []kernel.Event{formed},
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-1", ResidenceSince: t0.AddDate(-1, 0, 0)}, defaults, t0)
			},
			ThenNames: []string{"election.candidate-nominated"},
		},
		{
			Name:  "by-election of a newcomer",
			Given: story(publicized, voted, certified()),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.ByElect(election.ByElect{Winner: election.Winner{Person: "p-8", Role: community.Member, Votes: 1300},
					ResidenceSince: voteAt.AddDate(0, -6, 0), RegisteredVoters: 4000, BallotsCast: 2100}, defaults, voteAt)
			},
			ThenErr: election.ErrResidenceTooShort,
		},
	})
}

// TestRule_CommitteeMemberCandidacy: 选举委员会成员被确定为候选人的，应当退出
// 选举委员会 (enforce). Nominating a member makes them leave; a candidate
// cannot (re)join the committee.
func TestRule_CommitteeMemberCandidacy(t *testing.T) {
	run(t, []domaintest.Case[*election.Election]{
		{
			Name:  "a committee member nominated leaves the committee",
			Given: []kernel.Event{formed},
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Nominate(election.Nominate{Candidate: "p-e2", ResidenceSince: t0.AddDate(-3, 0, 0)}, defaults, t0)
			},
			Then: []kernel.Event{
				election.CommitteeMemberLeft{ElectionID: eid, Person: "p-e2", Reason: election.LeftBecameCandidate, LeftAt: t0},
				election.CandidateNominated{ElectionID: eid, Candidate: "p-e2", ResidenceSince: t0.AddDate(-3, 0, 0), NominatedAt: t0},
			},
		},
		{
			Name:  "a candidate cannot fill a vacancy on the committee",
			Given: story(),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.AddCommitteeMember(election.ElectionCommitteeMember{Person: "p-4", Role: election.CommitteeMember}, "p-e2", t0)
			},
			ThenErr: election.ErrCommitteeMemberIsCandidate,
		},
		{
			Name:  "someone else fills the vacancy (递补)",
			Given: story(),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.AddCommitteeMember(election.ElectionCommitteeMember{Person: "p-e4", Role: election.CommitteeMember}, "p-e2", t0)
			},
			ThenNames: []string{"election.committee-member-added"},
		},
	})
}

// TestRule_CandidateListPublicity: 候选人名单公示不少于7天 (watch).
func TestRule_CandidateListPublicity(t *testing.T) {
	run(t, []domaintest.Case[*election.Election]{
		{
			Name:  "vote six days after publicity",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				at := t0.Add(6 * day)
				return el.HoldVoting(election.HoldVoting{At: at, RegisteredVoters: 4000, BallotsCast: 2500, Tally: voted.Tally}, defaults, at)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CandidateListPublicity},
		},
		{
			Name:  "vote without publicity",
			Given: story(),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.HoldVoting(election.HoldVoting{RegisteredVoters: 4000, BallotsCast: 2500, Tally: voted.Tally}, defaults, voteAt)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CandidateListPublicity},
		},
		{
			Name:  "exactly seven days",
			Given: story(publicized),
			When: func(el *election.Election) ([]kernel.Event, error) {
				at := t0.Add(7 * day)
				return el.HoldVoting(election.HoldVoting{At: at, RegisteredVoters: 4000, BallotsCast: 2500, Tally: voted.Tally}, defaults, at)
			},
			ThenNames: []string{"election.voting-held"},
		},
	})
}

// TestRule_ElectionValidity: 过半数选民投票选举有效；候选人获得参加投票的选民
// 过半数选票始得当选 (enforce at certification; also recall and by-election).
func TestRule_ElectionValidity(t *testing.T) {
	lowTurnout := voted
	lowTurnout.BallotsCast = 2000 // exactly half of 4000: not more than half
	run(t, []domaintest.Case[*election.Election]{
		{
			Name:  "half of the voters voted",
			Given: story(publicized, lowTurnout),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: fiveWinners[:1], Community: urban}, defaults, voteAt)
			},
			ThenErr: election.ErrTurnoutTooLow,
		},
		{
			Name:  "a winner with half of the ballots",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: []election.Winner{{Person: "p-6", Role: community.Member}}, Community: urban}, defaults, voteAt)
			},
			ThenErr: election.ErrWinnerWithoutMajority,
		},
		{
			Name:  "a recall without majority",
			Given: story(publicized, voted, certified()),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Recall(election.Recall{Person: "p-1", RegisteredVoters: 4000, BallotsCast: 2100, VotesFor: 1050}, defaults, voteAt)
			},
			ThenErr: election.ErrRecallNotCarried,
		},
		{
			Name:  "a by-election with low turnout",
			Given: story(publicized, voted, certified()),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.ByElect(election.ByElect{Winner: election.Winner{Person: "p-8", Role: community.Member, Votes: 1500},
					ResidenceSince: t0.AddDate(-3, 0, 0), RegisteredVoters: 4000, BallotsCast: 1900}, defaults, voteAt)
			},
			ThenErr: election.ErrTurnoutTooLow,
		},
	})
}

// TestRule_CommitteeSize at certification (watch): the elected committee
// must fit the community.
func TestRule_CommitteeSize(t *testing.T) {
	village := community.Figures{Kind: kernel.Rural, Households: 500, Adults: 1500}
	run(t, []domaintest.Case[*election.Election]{
		{
			Name:  "three elected to a residents' committee",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: fiveWinners[:3], Community: urban}, defaults, voteAt)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CommitteeSize},
		},
		{
			Name:  "three elected in a village of 1500 adults",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: fiveWinners[:3], Community: village}, defaults, voteAt)
			},
			ThenBreaches: []kernel.RuleID{rulebook.CommitteeSize},
		},
	})
}

// TestRule_FullTimeShare at certification (watch).
func TestRule_FullTimeShare(t *testing.T) {
	ws := append([]election.Winner(nil), fiveWinners...)
	ws[0].FullTime = false // 3 of 5
	run(t, []domaintest.Case[*election.Election]{
		{
			Name:  "three of five full-time",
			Given: story(publicized, voted),
			When: func(el *election.Election) ([]kernel.Event, error) {
				return el.Certify(election.Certify{Winners: ws, Community: urban}, defaults, voteAt)
			},
			ThenBreaches: []kernel.RuleID{rulebook.FullTimeShare},
		},
	})
}

// TestRule_ObjectionAnswered: an election with an unanswered objection to its candidate list cannot be
// certified (enforced at certification); once answered, it can.
func TestRule_ObjectionAnswered(t *testing.T) {
	objected := election.ObjectionRaised{ElectionID: eid, ObjectionID: "o-1", Text: "候选人居住年限存疑", Objector: kernel.PersonalData{Subject: "p-r"}, RaisedAt: t0}
	answered := election.ObjectionAnswered{ElectionID: eid, ObjectionID: "o-1", Answer: "经核实，居住已满一年", AnsweredAt: t0.Add(day)}
	certify := func(el *election.Election) ([]kernel.Event, error) {
		return el.Certify(election.Certify{Winners: fiveWinners, Community: urban}, defaults, voteAt.Add(day))
	}
	run(t, []domaintest.Case[*election.Election]{
		{Name: "an objection unanswered", Given: story(publicized, objected, voted), When: certify, ThenErr: election.ErrObjectionsUnanswered},
		{Name: "the objection answered", Given: story(publicized, objected, answered, voted), When: certify, ThenNames: []string{"election.result-certified"}},
	})
}
