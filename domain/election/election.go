package election

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

type phase int

const (
	phaseNone phase = iota
	phaseNominating
	phasePublicized
	phaseVoted
	phaseCertified
)

type candidate struct {
	withdrawn bool
}

// Election is one election and the term it produces. The zero value is an
// election not yet started.
type Election struct {
	id           string
	seats        int
	phase        phase
	committee    map[kernel.PersonID]bool
	candidates   map[kernel.PersonID]*candidate
	order        []kernel.PersonID
	publicizedAt time.Time
	objections   map[string]bool // answered?
	voting       *VotingHeld
	members      map[kernel.PersonID]bool
}

// Stream is the stream of one election and the term it produced, election-<communityID>-<electionID>.
func Stream(c kernel.CommunityID, electionID string) string {
	return eventlog.StreamName("election", string(c), electionID)
}

// Rehydrate rebuilds an election from its history.
func Rehydrate(history []kernel.Event) *Election { return kernel.Rehydrate(&Election{}, history) }

// Apply changes state only.
func (el *Election) Apply(e kernel.Event) {
	if el.committee == nil {
		el.committee = map[kernel.PersonID]bool{}
		el.candidates = map[kernel.PersonID]*candidate{}
		el.objections = map[string]bool{}
		el.members = map[kernel.PersonID]bool{}
	}
	switch e := e.(type) {
	case CommitteeFormed:
		el.id, el.seats, el.phase = e.ElectionID, e.Seats, phaseNominating
		for _, m := range e.Members {
			el.committee[m.Person] = true
		}
	case CommitteeMemberAdded:
		el.committee[e.Member.Person] = true
	case CommitteeMemberLeft:
		delete(el.committee, e.Person)
	case CandidateNominated:
		el.candidates[e.Candidate] = &candidate{}
		el.order = append(el.order, e.Candidate)
	case CandidateWithdrawn:
		if c := el.candidates[e.Candidate]; c != nil {
			c.withdrawn = true
		}
	case CandidateListPublicized:
		el.phase, el.publicizedAt = phasePublicized, e.PublicizedAt
	case ObjectionRaised:
		el.objections[e.ObjectionID] = false
	case ObjectionAnswered:
		el.objections[e.ObjectionID] = true
	case VotingHeld:
		v := e
		el.voting, el.phase = &v, phaseVoted
	case ResultCertified:
		el.phase = phaseCertified
		for _, w := range e.Winners {
			el.members[w.Person] = true
		}
	case MemberRecalled:
		delete(el.members, e.Person)
	case MemberResigned:
		delete(el.members, e.Person)
	case MemberByElected:
		el.members[e.Winner.Person] = true
	}
}

// Exists reports whether the election has started.
func (el *Election) Exists() bool { return el.phase != phaseNone }

// ID returns the election's ID.
func (el *Election) ID() string { return el.id }

// Candidates returns the candidates still standing, in nomination order.
func (el *Election) Candidates() []kernel.PersonID {
	var out []kernel.PersonID
	for _, p := range el.order {
		if !el.candidates[p].withdrawn {
			out = append(out, p)
		}
	}
	return out
}

// IsCommitteeMember reports whether p sits on the election committee.
func (el *Election) IsCommitteeMember(p kernel.PersonID) bool { return el.committee[p] }

// IsSittingMember reports whether p sits on the elected committee.
func (el *Election) IsSittingMember(p kernel.PersonID) bool { return el.members[p] }

func (el *Election) isCandidate(p kernel.PersonID) bool {
	c := el.candidates[p]
	return c != nil && !c.withdrawn
}

// Errors of the election. The rule each enforces is named in its comment.
var (
	ErrElectionNotFound = kernel.NotFound("election-not-found", "该选举尚未开始(未成立选举委员会)")
	ErrElectionExists   = kernel.Conflict("election-already-started", "该选举已成立选举委员会")
	// rule candidate-residence
	ErrResidenceTooShort = kernel.Rejected("candidate-residence-too-short", "候选人须在本社区居住满一年")
	// rule election-committee-member-candidacy
	ErrCommitteeMemberIsCandidate = kernel.Rejected("committee-member-is-candidate", "候选人不能担任选举委员会成员，须退出选举委员会")
	ErrAlreadyCandidate           = kernel.Conflict("already-candidate", "此人已是候选人")
	ErrCandidateNotFound          = kernel.NotFound("candidate-not-found", "此人不是候选人")
	ErrNominationsClosed          = kernel.Rejected("nominations-closed", "候选人名单已公示或已投票，不能再提名")
	ErrListAlreadyPublicized      = kernel.Conflict("candidate-list-already-publicized", "候选人名单已公示")
	ErrNoCandidates               = kernel.Rejected("no-candidates", "还没有候选人")
	ErrListNotPublicized          = kernel.Rejected("candidate-list-not-publicized", "候选人名单尚未公示")
	ErrObjectionNotFound          = kernel.ErrObjectionNotFound
	ErrObjectionExists            = kernel.Conflict("objection-already-raised", "这条异议已登记")
	ErrObjectionAnswered          = kernel.ErrObjectionAnswered
	ErrVotingAlreadyHeld          = kernel.Conflict("voting-already-held", "已经投票")
	ErrVotingNotHeld              = kernel.Rejected("voting-not-held", "尚未投票，不能确认选举结果")
	// ErrObjectionsUnanswered (enforces objection-answered at certification): residents' objections to
	// the election are unanswered.
	ErrObjectionsUnanswered = kernel.Rejected("objections-unanswered", "选举异议尚未答复，不能确认选举结果")
	ErrAlreadyCertified     = kernel.Conflict("result-already-certified", "选举结果已确认")
	ErrNotCertified         = kernel.Rejected("result-not-certified", "选举结果尚未确认")
	// rule election-validity
	ErrTurnoutTooLow = kernel.Rejected("election-turnout-too-low", "参加投票的选民未超过登记选民的半数，选举无效")
	// rule election-validity
	ErrWinnerWithoutMajority = kernel.Rejected("winner-without-majority", "当选人须获得参加投票选民的过半数选票")
	// rule election-validity (applied to a recall vote)
	ErrRecallNotCarried     = kernel.Rejected("recall-not-carried", "罢免须过半数选民投票且经投票选民过半数通过")
	ErrTooManyWinners       = kernel.Invalid("too-many-winners", "winners", "当选人数超过应选名额")
	ErrNotCommitteeMember   = kernel.NotFound("not-election-committee-member", "此人不是选举委员会成员")
	ErrAlreadyOnCommittee   = kernel.Conflict("already-election-committee-member", "此人已是选举委员会成员")
	ErrNotSittingMember     = kernel.NotFound("not-sitting-member", "此人不是本届委员会成员")
	ErrAlreadySittingMember = kernel.Conflict("already-sitting-member", "此人已是本届委员会成员")
)

func checkCommitteeMember(m ElectionCommitteeMember, field string) error {
	if err := kernel.Required(string(m.Person), field+".person", "选举委员会成员"); err != nil {
		return err
	}
	if m.Role != CommitteeChair && m.Role != CommitteeMember {
		return kernel.Invalid("invalid-role", field+".role", "选举委员会职务须为 chair 或 member")
	}
	return checkPersonal(m.Person, m.Personal, field+".personal")
}

func checkPersonal(p kernel.PersonID, d *kernel.PersonalData, field string) error {
	if d != nil && d.Subject != p {
		return kernel.Invalid("personal-data-subject-mismatch", field+".subject", "个人信息须属于本人")
	}
	return nil
}

// FormCommittee is the command that starts an election.
type FormCommittee struct {
	ElectionID string
	Term       string
	Seats      int
	Members    []ElectionCommitteeMember
}

// FormCommittee starts the election with its election committee.
func (el *Election) FormCommittee(cmd FormCommittee, now time.Time) ([]kernel.Event, error) {
	if el.Exists() {
		return nil, ErrElectionExists
	}
	if err := kernel.Required(cmd.ElectionID, "election_id", "选举编号"); err != nil {
		return nil, err
	}
	if err := kernel.Required(cmd.Term, "term", "届次"); err != nil {
		return nil, err
	}
	if cmd.Seats < 1 {
		return nil, kernel.Invalid("invalid-seats", "seats", "应选名额须大于零")
	}
	if len(cmd.Members) == 0 {
		return nil, kernel.Invalid("required", "members", "选举委员会成员不能为空")
	}
	seen := map[kernel.PersonID]bool{}
	for i, m := range cmd.Members {
		field := fmt.Sprintf("members[%d]", i)
		if err := checkCommitteeMember(m, field); err != nil {
			return nil, err
		}
		if seen[m.Person] {
			return nil, kernel.Invalid("duplicate-member", field+".person", "同一人不能重复列入选举委员会")
		}
		seen[m.Person] = true
	}
	return []kernel.Event{CommitteeFormed{
		ElectionID: cmd.ElectionID, Term: cmd.Term, Seats: cmd.Seats,
		Members: append([]ElectionCommitteeMember(nil), cmd.Members...), FormedAt: now.UTC(),
	}}, nil
}

// AddCommitteeMember fills a vacancy on the election committee (递补).
// Enforces election-committee-member-candidacy: a candidate cannot join.
func (el *Election) AddCommitteeMember(m ElectionCommitteeMember, replaces kernel.PersonID, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase >= phaseCertified {
		return nil, ErrAlreadyCertified
	}
	if err := checkCommitteeMember(m, "member"); err != nil {
		return nil, err
	}
	if el.committee[m.Person] {
		return nil, ErrAlreadyOnCommittee
	}
	if el.isCandidate(m.Person) {
		return nil, ErrCommitteeMemberIsCandidate
	}
	return []kernel.Event{CommitteeMemberAdded{ElectionID: el.id, Member: m, Replaces: replaces, AddedAt: now.UTC()}}, nil
}

// LeaveCommittee records a member leaving the election committee.
func (el *Election) LeaveCommittee(p kernel.PersonID, reason LeaveReason, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if !el.committee[p] {
		return nil, ErrNotCommitteeMember
	}
	if !slices.Contains(LeaveReasons(), reason) {
		return nil, kernel.Invalid("invalid-leave-reason", "reason", "退出原因须为 became-candidate、resigned 或 other")
	}
	return []kernel.Event{CommitteeMemberLeft{ElectionID: el.id, Person: p, Reason: string(reason), LeftAt: now.UTC()}}, nil
}

// Nominate is the command to nominate a candidate.
type Nominate struct {
	Candidate      kernel.PersonID
	ResidenceSince time.Time
	Personal       *kernel.PersonalData
	// PublicName is the name the candidate list and the results show (公示姓名): public.
	PublicName string
}

func checkResidence(since time.Time, p rulebook.Params, at time.Time) error {
	if since.IsZero() {
		return kernel.Invalid("required", "residence_since", "居住起始日期不能为空")
	}
	if since.After(at) {
		return kernel.Invalid("time-in-future", "residence_since", "居住起始日期不能晚于提名日期")
	}
	least := p.Span(rulebook.CandidateResidence, rulebook.ParamMinResidence)
	if least.After(since).After(at) {
		return ErrResidenceTooShort.WithMsg("候选人须在本社区居住满%s(自%s起居住)", least.Chinese(), since.Format("2006-01-02")).WithField("residence_since")
	}
	return nil
}

// Nominate records a candidate. Enforces candidate-residence at the
// nomination date (now). A member of the election committee who is nominated
// leaves it: the events are committee-member-left then candidate-nominated.
func (el *Election) Nominate(cmd Nominate, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase >= phasePublicized {
		return nil, ErrNominationsClosed
	}
	if err := kernel.Required(string(cmd.Candidate), "candidate", "候选人"); err != nil {
		return nil, err
	}
	if err := checkPersonal(cmd.Candidate, cmd.Personal, "personal"); err != nil {
		return nil, err
	}
	if err := kernel.CheckPublicName(cmd.PublicName, "public_name"); err != nil {
		return nil, err
	}
	if el.candidates[cmd.Candidate] != nil {
		return nil, ErrAlreadyCandidate
	}
	now = now.UTC()
	if err := checkResidence(cmd.ResidenceSince, p, now); err != nil {
		return nil, err
	}
	var out []kernel.Event
	if el.committee[cmd.Candidate] {
		out = append(out, CommitteeMemberLeft{ElectionID: el.id, Person: cmd.Candidate, Reason: LeftBecameCandidate, LeftAt: now})
	}
	return append(out, CandidateNominated{
		ElectionID: el.id, Candidate: cmd.Candidate, ResidenceSince: cmd.ResidenceSince.UTC(),
		Personal: cmd.Personal, PublicName: cmd.PublicName, NominatedAt: now,
	}), nil
}

// Withdraw records a candidate withdrawing before the vote.
func (el *Election) Withdraw(c kernel.PersonID, reason string, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase >= phaseVoted {
		return nil, ErrVotingAlreadyHeld
	}
	if !el.isCandidate(c) {
		return nil, ErrCandidateNotFound
	}
	if err := kernel.Required(reason, "reason", "退出原因"); err != nil {
		return nil, err
	}
	return []kernel.Event{CandidateWithdrawn{ElectionID: el.id, Candidate: c, Reason: reason, WithdrawnAt: now.UTC()}}, nil
}

// Publicize records the candidate list posted at `at` (zero: now). The list
// is publicized once; nominations close with it.
//
// With the community's rule parameters (watch), a list recorded as posted long before it was recorded
// carries a late-recording breach (back-dating the posting would lengthen the publicity on paper).
func (el *Election) Publicize(at, now time.Time, watch ...rulebook.Params) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase >= phasePublicized {
		return nil, ErrListAlreadyPublicized
	}
	cands := el.Candidates()
	if len(cands) == 0 {
		return nil, ErrNoCandidates
	}
	at, err := kernel.At(at, now, "publicized_at")
	if err != nil {
		return nil, err
	}
	e := CandidateListPublicized{ElectionID: el.id, Candidates: cands, PublicizedAt: at}
	for _, p := range watch {
		e.Breaches = kernel.Breaches(p.CheckLateRecording("选举"+el.id+"候选人名单的公示", at, now))
	}
	return []kernel.Event{e}, nil
}

// RaiseObjection records an objection to the publicized list, before the
// result is certified.
func (el *Election) RaiseObjection(id string, concerning kernel.PersonID, text string, objector kernel.PersonalData, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase < phasePublicized {
		return nil, ErrListNotPublicized
	}
	if el.phase >= phaseCertified {
		return nil, ErrAlreadyCertified
	}
	if err := kernel.Required(id, "objection_id", "异议编号"); err != nil {
		return nil, err
	}
	if _, ok := el.objections[id]; ok {
		return nil, ErrObjectionExists
	}
	if concerning != "" && el.candidates[concerning] == nil {
		return nil, ErrCandidateNotFound.WithField("concerning")
	}
	if err := kernel.Required(text, "text", "异议内容"); err != nil {
		return nil, err
	}
	if err := kernel.Required(string(objector.Subject), "personal.subject", "异议人"); err != nil {
		return nil, err
	}
	return []kernel.Event{ObjectionRaised{
		ElectionID: el.id, ObjectionID: id, Concerning: concerning, Text: text, Objector: objector, RaisedAt: now.UTC(),
	}}, nil
}

// AnswerObjection records the answer to an objection.
func (el *Election) AnswerObjection(id, answer string, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if err := kernel.CheckAnswer(el.objections, id, answer); err != nil {
		return nil, err
	}
	return []kernel.Event{ObjectionAnswered{ElectionID: el.id, ObjectionID: id, Answer: answer, AnsweredAt: now.UTC()}}, nil
}

// HoldVoting is the command recording the vote.
type HoldVoting struct {
	At               time.Time // when the vote took place; zero: now
	RegisteredVoters int
	BallotsCast      int
	Tally            []Tally // candidates missing from it received no vote
}

func checkCounts(registered, cast int) error {
	if registered < 1 {
		return kernel.Invalid("invalid-registered-voters", "registered_voters", "登记选民数须大于零")
	}
	if cast < 0 || cast > registered {
		return kernel.Invalid("invalid-ballots-cast", "ballots_cast", "投票人数须在0与登记选民数之间")
	}
	return nil
}

// HoldVoting records the vote. Watches candidate-list-publicity: a vote
// less than the minimum publicity after the list was posted (or without a
// posted list) carries a breach.
func (el *Election) HoldVoting(cmd HoldVoting, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase >= phaseVoted {
		return nil, ErrVotingAlreadyHeld
	}
	cands := el.Candidates()
	if len(cands) == 0 {
		return nil, ErrNoCandidates
	}
	at, err := kernel.At(cmd.At, now, "held_at")
	if err != nil {
		return nil, err
	}
	if err := checkCounts(cmd.RegisteredVoters, cmd.BallotsCast); err != nil {
		return nil, err
	}
	votes := map[kernel.PersonID]int{}
	for i, t := range cmd.Tally {
		field := fmt.Sprintf("tally[%d]", i)
		if !el.isCandidate(t.Candidate) {
			return nil, ErrCandidateNotFound.WithField(field + ".candidate")
		}
		if _, dup := votes[t.Candidate]; dup {
			return nil, kernel.Invalid("duplicate-tally", field+".candidate", "同一候选人的票数重复登记")
		}
		if t.Votes < 0 || t.Votes > cmd.BallotsCast {
			return nil, kernel.Invalid("invalid-votes", field+".votes", "得票数须在0与投票人数之间")
		}
		votes[t.Candidate] = t.Votes
	}
	tally := make([]Tally, len(cands))
	for i, c := range cands {
		tally[i] = Tally{Candidate: c, Votes: votes[c]}
	}
	e := VotingHeld{ElectionID: el.id, RegisteredVoters: cmd.RegisteredVoters, BallotsCast: cmd.BallotsCast, Tally: tally, HeldAt: at}
	least := p.Span(rulebook.CandidateListPublicity, rulebook.ParamMinPublicity)
	switch {
	case el.publicizedAt.IsZero():
		e.Breaches = []kernel.Breach{{Rule: rulebook.CandidateListPublicity, Detail: "投票前未公示候选人名单"}}
	case least.After(el.publicizedAt).After(at):
		e.Breaches = []kernel.Breach{{Rule: rulebook.CandidateListPublicity, Detail: fmt.Sprintf(
			"候选人名单于%s公示，%s投票，公示不足%s", el.publicizedAt.Format(time.RFC3339), at.Format(time.RFC3339), least.Chinese())}}
	}
	if b := p.CheckLateRecording("选举"+el.id+"的投票", at, now); b != nil {
		e.Breaches = append(e.Breaches, *b)
	}
	return []kernel.Event{e}, nil
}

// Certify is the command to certify the result.
type Certify struct {
	Winners []Winner // Votes are taken from the tally
	// Community is the community's kind and figures, looked up by the
	// handler, for the committee-size and full-time watches.
	Community community.Figures
}

// Certify certifies the result. Enforces election-validity: more than half
// of registered voters voted, and each winner received more than half of the
// ballots cast. Watches committee-size and committee-full-time-share.
func (el *Election) Certify(cmd Certify, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase >= phaseCertified {
		return nil, ErrAlreadyCertified
	}
	if el.phase < phaseVoted {
		return nil, ErrVotingNotHeld
	}
	var open []string
	for id, answered := range el.objections {
		if !answered {
			open = append(open, id)
		}
	}
	if len(open) > 0 {
		slices.Sort(open)
		return nil, ErrObjectionsUnanswered.WithMsg("候选人名单的异议尚未答复(%s)：答复后才能确认选举结果", strings.Join(open, "、"))
	}
	v := el.voting
	if !cmd.Community.Kind.Valid() {
		return nil, kernel.Invalid("invalid-community-kind", "community.kind", "须提供社区类型与户数、人口，以检查委员会职数")
	}
	if len(cmd.Winners) == 0 {
		return nil, kernel.Invalid("required", "winners", "当选人不能为空")
	}
	if len(cmd.Winners) > el.seats {
		return nil, ErrTooManyWinners
	}
	turnout := p.Threshold(rulebook.ElectionValidity, rulebook.ParamTurnout)
	if !turnout.Met(int64(v.BallotsCast), int64(v.RegisteredVoters)) {
		return nil, ErrTurnoutTooLow.WithMsg("登记选民%d人，投票%d人，未%s，选举无效", v.RegisteredVoters, v.BallotsCast, turnout.Chinese())
	}
	majority := p.Threshold(rulebook.ElectionValidity, rulebook.ParamWinnerMajority)
	votes := map[kernel.PersonID]int{}
	for _, t := range v.Tally {
		votes[t.Candidate] = t.Votes
	}
	winners := make([]Winner, len(cmd.Winners))
	fullTime := 0
	for i, w := range cmd.Winners {
		field := fmt.Sprintf("winners[%d]", i)
		n, ok := votes[w.Person]
		if !ok {
			return nil, ErrCandidateNotFound.WithField(field + ".person")
		}
		if !w.Role.Valid() {
			return nil, kernel.Invalid("invalid-role", field+".role", "职务须为 chair、vice-chair 或 member")
		}
		for _, prev := range winners[:i] {
			if prev.Person == w.Person {
				return nil, kernel.Invalid("duplicate-winner", field+".person", "当选人重复")
			}
		}
		if !majority.Met(int64(n), int64(v.BallotsCast)) {
			return nil, ErrWinnerWithoutMajority.WithMsg("投票%d人，该候选人得%d票，未%s", v.BallotsCast, n, majority.Chinese()).WithField(field + ".person")
		}
		w.Votes = n
		winners[i] = w
		if w.FullTime {
			fullTime++
		}
	}
	e := ResultCertified{
		ElectionID: el.id, RegisteredVoters: v.RegisteredVoters, BallotsCast: v.BallotsCast,
		Winners: winners, CertifiedAt: now.UTC(),
	}
	e.Breaches = cmd.Community.CheckCommittee(p, len(winners), fullTime)
	return []kernel.Event{e}, nil
}

// Recall is the command recording a recall vote (罢免).
type Recall struct {
	Person           kernel.PersonID
	At               time.Time // when the vote took place; zero: now
	RegisteredVoters int
	BallotsCast      int
	VotesFor         int
}

// Recall records a member recalled. Enforces election-validity for the
// recall vote: more than half of registered voters voted and more than half
// of the ballots cast were for the recall.
func (el *Election) Recall(cmd Recall, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if err := el.checkTerm(cmd.Person, "person"); err != nil {
		return nil, err
	}
	at, err := kernel.At(cmd.At, now, "held_at")
	if err != nil {
		return nil, err
	}
	if err := checkCounts(cmd.RegisteredVoters, cmd.BallotsCast); err != nil {
		return nil, err
	}
	if cmd.VotesFor < 0 || cmd.VotesFor > cmd.BallotsCast {
		return nil, kernel.Invalid("invalid-votes", "votes_for", "赞成票须在0与投票人数之间")
	}
	turnout := p.Threshold(rulebook.ElectionValidity, rulebook.ParamTurnout)
	majority := p.Threshold(rulebook.ElectionValidity, rulebook.ParamWinnerMajority)
	if !turnout.Met(int64(cmd.BallotsCast), int64(cmd.RegisteredVoters)) || !majority.Met(int64(cmd.VotesFor), int64(cmd.BallotsCast)) {
		return nil, ErrRecallNotCarried
	}
	e := MemberRecalled{
		ElectionID: el.id, Person: cmd.Person, RegisteredVoters: cmd.RegisteredVoters,
		BallotsCast: cmd.BallotsCast, VotesFor: cmd.VotesFor, RecalledAt: at,
	}
	e.Breaches = kernel.Breaches(p.CheckLateRecording("选举"+el.id+"对"+string(cmd.Person)+"的罢免投票", at, now))
	return []kernel.Event{e}, nil
}

func (el *Election) checkTerm(person kernel.PersonID, field string) error {
	if !el.Exists() {
		return ErrElectionNotFound
	}
	if el.phase < phaseCertified {
		return ErrNotCertified
	}
	if !el.members[person] {
		return ErrNotSittingMember.WithField(field)
	}
	return nil
}

// ByElect is the command recording a by-election (补选).
type ByElect struct {
	Winner           Winner // Votes: the votes received
	ResidenceSince   time.Time
	Personal         *kernel.PersonalData
	At               time.Time // when the vote took place; zero: now
	RegisteredVoters int
	BallotsCast      int
}

// ByElect records a member elected to a vacancy. The candidate must meet
// candidate-residence and the vote election-validity, as in the general
// election.
func (el *Election) ByElect(cmd ByElect, p rulebook.Params, now time.Time) ([]kernel.Event, error) {
	if !el.Exists() {
		return nil, ErrElectionNotFound
	}
	if el.phase < phaseCertified {
		return nil, ErrNotCertified
	}
	w := cmd.Winner
	if err := kernel.Required(string(w.Person), "winner.person", "当选人"); err != nil {
		return nil, err
	}
	if el.members[w.Person] {
		return nil, ErrAlreadySittingMember
	}
	if !w.Role.Valid() {
		return nil, kernel.Invalid("invalid-role", "winner.role", "职务须为 chair、vice-chair 或 member")
	}
	if err := checkPersonal(w.Person, cmd.Personal, "personal"); err != nil {
		return nil, err
	}
	at, err := kernel.At(cmd.At, now, "held_at")
	if err != nil {
		return nil, err
	}
	if err := checkResidence(cmd.ResidenceSince, p, at); err != nil {
		return nil, err
	}
	if err := checkCounts(cmd.RegisteredVoters, cmd.BallotsCast); err != nil {
		return nil, err
	}
	if w.Votes < 0 || w.Votes > cmd.BallotsCast {
		return nil, kernel.Invalid("invalid-votes", "winner.votes", "得票数须在0与投票人数之间")
	}
	turnout := p.Threshold(rulebook.ElectionValidity, rulebook.ParamTurnout)
	if !turnout.Met(int64(cmd.BallotsCast), int64(cmd.RegisteredVoters)) {
		return nil, ErrTurnoutTooLow
	}
	if !p.Threshold(rulebook.ElectionValidity, rulebook.ParamWinnerMajority).Met(int64(w.Votes), int64(cmd.BallotsCast)) {
		return nil, ErrWinnerWithoutMajority.WithField("winner.votes")
	}
	e := MemberByElected{
		ElectionID: el.id, Winner: w, ResidenceSince: cmd.ResidenceSince.UTC(), Personal: cmd.Personal,
		RegisteredVoters: cmd.RegisteredVoters, BallotsCast: cmd.BallotsCast, ByElectedAt: at,
	}
	e.Breaches = kernel.Breaches(p.CheckLateRecording("选举"+el.id+"的补选", at, now))
	return []kernel.Event{e}, nil
}

// Resign records a member's resignation.
func (el *Election) Resign(person kernel.PersonID, reason string, now time.Time) ([]kernel.Event, error) {
	if err := el.checkTerm(person, "person"); err != nil {
		return nil, err
	}
	if err := kernel.Required(reason, "reason", "辞职原因"); err != nil {
		return nil, err
	}
	return []kernel.Event{MemberResigned{ElectionID: el.id, Person: person, Reason: reason, ResignedAt: now.UTC()}}, nil
}
