package commands

import (
	"context"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Elections (换届选举): one stream per election, election-<communityID>-<electionID>, from the election
// committee to the end of the term it produced.

// elections are the election streams of a community.
var elections = kind[*election.Election]{"election_id", election.Stream, election.Rehydrate}

// ElectionCommitteeMember is a member of the election committee (选举委员会成员).
type ElectionCommitteeMember struct {
	Person   string                 `json:"person" minLength:"1" maxLength:"128" doc:"Opaque person id"`
	Role     election.CommitteeRole `json:"role" doc:"chair 主任, member 委员"`
	Personal *Personal              `json:"personal,omitempty" doc:"The member's personal data (never public)"`
}

func (e ElectionCommitteeMember) member() election.ElectionCommitteeMember {
	return election.ElectionCommitteeMember{Person: kernel.PersonID(e.Person), Role: e.Role, Personal: e.Personal.of(e.Person)}
}

// FormElectionCommittee starts an election: the election committee is formed (成立选举委员会) for the
// term, with the number of seats of the committee to elect.
type FormElectionCommittee struct {
	CommunityID string                    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string                    `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"Id of the new election, e.g. 2026"`
	Term        string                    `json:"term" minLength:"1" maxLength:"64" doc:"The term to elect, e.g. 2026-2031 (届次)"`
	Seats       int                       `json:"seats" minimum:"1" maximum:"99" doc:"Seats of the committee to elect (应选名额)"`
	Members     []ElectionCommitteeMember `json:"members" minItems:"1" doc:"Members of the election committee"`
}

// FormElectionCommittee handles form-election-committee.
func (h *Handlers) FormElectionCommittee(ctx context.Context, m Meta, c FormElectionCommittee) (Result, error) {
	members := make([]election.ElectionCommitteeMember, len(c.Members))
	for i, mm := range c.Members {
		members[i] = mm.member()
	}
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.FormCommittee(election.FormCommittee{ElectionID: c.ElectionID, Term: c.Term, Seats: c.Seats, Members: members}, f.Now)
	})
}

// AddElectionCommitteeMember fills a vacancy on the election committee (依法递补). A candidate cannot
// join it.
type AddElectionCommitteeMember struct {
	CommunityID string                  `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string                  `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	Member      ElectionCommitteeMember `json:"member" doc:"The member joining"`
	Replaces    string                  `json:"replaces,omitempty" maxLength:"128" doc:"Person id of the member replaced, if any"`
}

// AddElectionCommitteeMember handles add-election-committee-member.
func (h *Handlers) AddElectionCommitteeMember(ctx context.Context, m Meta, c AddElectionCommitteeMember) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.AddCommitteeMember(c.Member.member(), kernel.PersonID(c.Replaces), f.Now)
	})
}

// LeaveElectionCommittee records a member leaving the election committee (退出选举委员会). A member who is
// nominated leaves it by the nomination itself.
type LeaveElectionCommittee struct {
	CommunityID string               `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string               `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	Person      string               `json:"person" minLength:"1" maxLength:"128" doc:"Person id of the member leaving"`
	Reason      election.LeaveReason `json:"reason" doc:"became-candidate 被确定为候选人, resigned 辞去, other"`
}

// LeaveElectionCommittee handles leave-election-committee.
func (h *Handlers) LeaveElectionCommittee(ctx context.Context, m Meta, c LeaveElectionCommittee) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.LeaveCommittee(kernel.PersonID(c.Person), c.Reason, f.Now)
	})
}

// NominateCandidate records a candidate (提名候选人). Enforced: the candidate has lived in the community
// for at least the rulebook's minimum (1 year by default) at the nomination; a member of the election
// committee who is nominated leaves it, recorded in the same command.
type NominateCandidate struct {
	CommunityID    string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID     string    `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	Candidate      string    `json:"candidate" minLength:"1" maxLength:"128" doc:"Person id of the candidate (候选人)"`
	ResidenceSince time.Time `json:"residence_since" doc:"Since when the candidate has lived in the community (居住起始日期)"`
	Personal       *Personal `json:"personal,omitempty" doc:"The candidate's personal data (never public)"`
	PublicName     string    `json:"public_name,omitempty" maxLength:"32" doc:"The name the candidate list and the results show (公示姓名): public, kept apart from the personal data"`
}

// NominateCandidate handles nominate-candidate; it resolves the rulebook in force for the residence rule.
func (h *Handlers) NominateCandidate(ctx context.Context, m Meta, c NominateCandidate) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, ruled(func(el *election.Election, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return el.Nominate(election.Nominate{
			Candidate: kernel.PersonID(c.Candidate), ResidenceSince: c.ResidenceSince, Personal: c.Personal.of(c.Candidate),
			PublicName: c.PublicName,
		}, p, f.Now)
	}))
}

// WithdrawCandidate records a candidate withdrawing before the vote (候选人退出).
type WithdrawCandidate struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	Candidate   string `json:"candidate" minLength:"1" maxLength:"128" doc:"Person id of the candidate"`
	Reason      string `json:"reason" minLength:"1" maxLength:"512" doc:"Why the candidate withdraws"`
}

// WithdrawCandidate handles withdraw-candidate.
func (h *Handlers) WithdrawCandidate(ctx context.Context, m Meta, c WithdrawCandidate) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.Withdraw(kernel.PersonID(c.Candidate), c.Reason, f.Now)
	})
}

// PublicizeCandidateList records the candidate list posted publicly (候选人名单公示); nominations close
// with it. The vote should come at least the rulebook's minimum later (7 days by default; watched).
type PublicizeCandidateList struct {
	CommunityID  string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID   string    `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	PublicizedAt time.Time `json:"publicized_at,omitzero" doc:"When the list was posted (RFC 3339); default now, never in the future"`
}

// PublicizeCandidateList handles publicize-candidate-list.
func (h *Handlers) PublicizeCandidateList(ctx context.Context, m Meta, c PublicizeCandidateList) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, ruled(func(el *election.Election, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return el.Publicize(c.PublicizedAt, f.Now, p)
	}))
}

// RaiseElectionObjection records a voter's objection to the publicized list or a candidate (选举异议),
// before the result is certified. The objector's identity is never public.
type RaiseElectionObjection struct {
	CommunityID string   `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string   `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	ObjectionID string   `json:"objection_id" minLength:"1" maxLength:"64" doc:"Id of the objection within the election"`
	Concerning  string   `json:"concerning,omitempty" maxLength:"128" doc:"Person id of the candidate objected to, if the objection concerns one"`
	Text        string   `json:"text" minLength:"1" maxLength:"4000" doc:"The objection"`
	Objector    Personal `json:"personal" doc:"The objector (subject required); never public"`
}

// RaiseElectionObjection handles raise-election-objection.
func (h *Handlers) RaiseElectionObjection(ctx context.Context, m Meta, c RaiseElectionObjection) (Result, error) {
	return affairAs(ctx, h, m, ResidentInput, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.RaiseObjection(c.ObjectionID, kernel.PersonID(c.Concerning), c.Text, c.Objector.value(""), f.Now)
	})
}

// AnswerElectionObjection records the election committee's answer to an objection (答复异议).
type AnswerElectionObjection struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	ObjectionID string `json:"objection_id" minLength:"1" maxLength:"64" doc:"The objection answered"`
	Answer      string `json:"answer" minLength:"1" maxLength:"4000" doc:"The answer"`
}

// AnswerElectionObjection handles answer-election-objection.
func (h *Handlers) AnswerElectionObjection(ctx context.Context, m Meta, c AnswerElectionObjection) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.AnswerObjection(c.ObjectionID, c.Answer, f.Now)
	})
}

// Tally is the number of votes one candidate received.
type Tally struct {
	Candidate string `json:"candidate" minLength:"1" maxLength:"128" doc:"Person id of the candidate"`
	Votes     int    `json:"votes" minimum:"0" maximum:"1000000" doc:"Votes received (得票数)"`
}

// HoldVoting records the vote (投票选举): registered voters, ballots cast and the votes of every
// candidate. Watched: the list was publicized long enough before the vote.
type HoldVoting struct {
	CommunityID      string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID       string    `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	HeldAt           time.Time `json:"held_at,omitzero" doc:"When the vote took place (RFC 3339); default now"`
	RegisteredVoters int       `json:"registered_voters" minimum:"1" maximum:"1000000" doc:"Registered voters (登记选民数)"`
	BallotsCast      int       `json:"ballots_cast" minimum:"0" maximum:"1000000" doc:"Voters who voted (参加投票人数)"`
	Tally            []Tally   `json:"tally" doc:"Votes per candidate; a candidate missing here received none"`
}

// HoldVoting handles hold-voting; it resolves the rulebook in force for the publicity rule.
func (h *Handlers) HoldVoting(ctx context.Context, m Meta, c HoldVoting) (Result, error) {
	tally := make([]election.Tally, len(c.Tally))
	for i, t := range c.Tally {
		tally[i] = election.Tally{Candidate: kernel.PersonID(t.Candidate), Votes: t.Votes}
	}
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, ruled(func(el *election.Election, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return el.HoldVoting(election.HoldVoting{At: c.HeldAt, RegisteredVoters: c.RegisteredVoters, BallotsCast: c.BallotsCast, Tally: tally}, p, f.Now)
	}))
}

// Winner is an elected member.
type Winner struct {
	Person   string         `json:"person" minLength:"1" maxLength:"128" doc:"Person id of the winner (当选人)"`
	Role     community.Role `json:"role" doc:"chair 主任, vice-chair 副主任, member 委员"`
	FullTime bool           `json:"full_time" doc:"Whether the member will work full time (专职)"`
}

// CertifyElectionResult certifies the result (确认选举结果). Enforced: more than half of the registered
// voters voted and every winner received more than half of the ballots cast (thresholds from the
// rulebook). Watched: the elected committee fits the community's registered figures.
type CertifyElectionResult struct {
	CommunityID string   `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string   `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election"`
	Winners     []Winner `json:"winners" minItems:"1" doc:"The winners; their votes are taken from the recorded tally"`
}

// CertifyElectionResult handles certify-election-result; the community's kind and figures come from its
// registry profile, the thresholds from the rulebook in force.
func (h *Handlers) CertifyElectionResult(ctx context.Context, m Meta, c CertifyElectionResult) (Result, error) {
	winners := make([]election.Winner, len(c.Winners))
	for i, w := range c.Winners {
		winners[i] = election.Winner{Person: kernel.PersonID(w.Person), Role: w.Role, FullTime: w.FullTime}
	}
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, ruled(func(el *election.Election, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return el.Certify(election.Certify{Winners: winners, Community: f.Community.Figures()}, p, f.Now)
	}))
}

// RecallMember records a member of the elected committee recalled by vote (罢免). Enforced: more than
// half of the registered voters voted and more than half of the ballots were for the recall.
type RecallMember struct {
	CommunityID      string    `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID       string    `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election that produced the member"`
	Person           string    `json:"person" minLength:"1" maxLength:"128" doc:"Person id of the member recalled"`
	HeldAt           time.Time `json:"held_at,omitzero" doc:"When the recall vote took place (RFC 3339); default now"`
	RegisteredVoters int       `json:"registered_voters" minimum:"1" maximum:"1000000" doc:"Registered voters"`
	BallotsCast      int       `json:"ballots_cast" minimum:"0" maximum:"1000000" doc:"Voters who voted"`
	VotesFor         int       `json:"votes_for" minimum:"0" maximum:"1000000" doc:"Ballots for the recall"`
}

// RecallMember handles recall-member.
func (h *Handlers) RecallMember(ctx context.Context, m Meta, c RecallMember) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, ruled(func(el *election.Election, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return el.Recall(election.Recall{
			Person: kernel.PersonID(c.Person), At: c.HeldAt, RegisteredVoters: c.RegisteredVoters,
			BallotsCast: c.BallotsCast, VotesFor: c.VotesFor,
		}, p, f.Now)
	}))
}

// ByElectedWinner is the member elected to a vacancy, with the votes received.
type ByElectedWinner struct {
	Person   string         `json:"person" minLength:"1" maxLength:"128" doc:"Person id of the winner"`
	Role     community.Role `json:"role" doc:"chair 主任, vice-chair 副主任, member 委员"`
	FullTime bool           `json:"full_time" doc:"Whether the member will work full time (专职)"`
	Votes    int            `json:"votes" minimum:"0" maximum:"1000000" doc:"Votes received"`
}

// ByElectMember records a member elected to a vacancy (补选). Enforced as in the general election: the
// residence rule and the validity of the vote.
type ByElectMember struct {
	CommunityID      string          `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID       string          `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election whose term has the vacancy"`
	Winner           ByElectedWinner `json:"winner" doc:"The member elected"`
	ResidenceSince   time.Time       `json:"residence_since" doc:"Since when the winner has lived in the community"`
	Personal         *Personal       `json:"personal,omitempty" doc:"The winner's personal data"`
	HeldAt           time.Time       `json:"held_at,omitzero" doc:"When the by-election took place (RFC 3339); default now"`
	RegisteredVoters int             `json:"registered_voters" minimum:"1" maximum:"1000000" doc:"Registered voters"`
	BallotsCast      int             `json:"ballots_cast" minimum:"0" maximum:"1000000" doc:"Voters who voted"`
}

// ByElectMember handles by-elect-member.
func (h *Handlers) ByElectMember(ctx context.Context, m Meta, c ByElectMember) (Result, error) {
	w := election.Winner{Person: kernel.PersonID(c.Winner.Person), Role: c.Winner.Role, FullTime: c.Winner.FullTime, Votes: c.Winner.Votes}
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, ruled(func(el *election.Election, f Facts, p rulebook.Params) ([]kernel.Event, error) {
		return el.ByElect(election.ByElect{
			Winner: w, ResidenceSince: c.ResidenceSince, Personal: c.Personal.of(c.Winner.Person), At: c.HeldAt,
			RegisteredVoters: c.RegisteredVoters, BallotsCast: c.BallotsCast,
		}, p, f.Now)
	}))
}

// ResignMember records the resignation of a member of the elected committee (辞职).
type ResignMember struct {
	CommunityID string `json:"community_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9_]+$" doc:"Community code (社区/村编码)"`
	ElectionID  string `json:"election_id" minLength:"1" maxLength:"64" pattern:"^[A-Za-z0-9._-]+$" doc:"The election that produced the member"`
	Person      string `json:"person" minLength:"1" maxLength:"128" doc:"Person id of the member resigning"`
	Reason      string `json:"reason" minLength:"1" maxLength:"512" doc:"Reason given"`
}

// ResignMember handles resign-member.
func (h *Handlers) ResignMember(ctx context.Context, m Meta, c ResignMember) (Result, error) {
	return affair(ctx, h, m, c.CommunityID, elections, c.ElectionID, func(el *election.Election, f Facts) ([]kernel.Event, error) {
		return el.Resign(kernel.PersonID(c.Person), c.Reason, f.Now)
	})
}
