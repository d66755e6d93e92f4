package elections

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// Querier is a pool, connection or transaction (the portal's read-only pool).
type Querier = tables.Querier

// ErrNotFound means the model has no such election: the portal answers 404.
var ErrNotFound = errors.New("elections: not found")

// Step is when something happened and the event that recorded it, with its $all commit position.
type Step = tables.Step

// Election is one election's timeline at a glance.
type Election struct {
	CommunityID  string
	ElectionID   string
	Jurisdiction string
	Term         string
	Seats        int
	Phase        Phase
	// CommitteeMembers is the size of the election committee (选举委员会) now.
	CommitteeMembers int
	Formed           Step
	// Candidates counts those standing (nominated, not withdrawn).
	Candidates int
	// ListPublicized is when the candidate list was publicized (nil before), ListSize how many it named.
	ListPublicized *Step
	ListSize       int
	// ObjectionsRaised and ObjectionsAnswered count objections; ObjectionsLast is the last objection event.
	ObjectionsRaised   int
	ObjectionsAnswered int
	ObjectionsLast     *Step
	// Voting is when the vote was held (nil before).
	Voting *Step
	// RegisteredVoters and BallotsCast are the vote's, then the certified result's; Turnout is
	// BallotsCast/RegisteredVoters in percent with two decimals ("62.50"), "" before the vote.
	RegisteredVoters int
	BallotsCast      int
	Turnout          string
	// Certified is when the result was certified (nil before); Winners how many were elected.
	Certified *Step
	Winners   int
	// Member changes after certification, by count (MemberChanges lists them).
	MembersRecalled  int
	MembersByElected int
	MembersResigned  int
}

// Candidate is one candidate, by opaque person id.
type Candidate struct {
	PersonID string
	// PublicName is the name the candidate list shows (公示姓名); "" when none was recorded.
	PublicName string
	Status     CandidateStatus
	Nominated  Step
	Withdrawn  *time.Time
	OnList     bool
	// Objections counts the objections raised concerning the candidate.
	Objections int
	// Votes is the votes received (nil before the vote); VotesEventID and VotesCommit the vote's event.
	Votes        *int
	VotesEventID eventlog.ID
	VotesCommit  uint64
	// Role and FullTime are set for an elected candidate; Result is the certification (nil before).
	Role     string
	FullTime bool
	Result   *Step
}

// Objection is one objection by id and times, and the committee's answer: never its author or text.
type Objection struct {
	CommunityID string
	ElectionID  string
	ID          string
	Concerning  string // the candidate's person id, when it concerns one
	Raised      Step
	Answered    *Step
	Answer      string // the committee's answer (public), "" before it is given
}

// queryObjections reads the objections matching where, in the order they were raised.
func queryObjections(ctx context.Context, q Querier, what, where string, args ...any) ([]Objection, error) {
	return tables.Collect(ctx, q, "elections", what, `SELECT community_id, election_id, objection_id, coalesce(concerning, ''), raised_at,
		raised_event_id, raised_commit_pos, answered_at, answered_event_id, answered_commit_pos, coalesce(answer, '')
		FROM `+pgx.Identifier{Schema, "objections"}.Sanitize()+` WHERE `+where+` ORDER BY raised_commit_pos, objection_id`,
		func(rows pgx.Rows) (Objection, error) {
			var o Objection
			var rEv, aEv pgtype.UUID
			var rPos int64
			var aPos pgtype.Int8
			var aAt pgtype.Timestamptz
			if err := rows.Scan(&o.CommunityID, &o.ElectionID, &o.ID, &o.Concerning, &o.Raised.At, &rEv, &rPos, &aAt, &aEv, &aPos, &o.Answer); err != nil {
				return Objection{}, err
			}
			o.Raised.At, o.Raised.EventID, o.Raised.Commit = o.Raised.At.UTC(), rEv.Bytes, uint64(rPos)
			o.Answered = tables.StepOf(aAt, aEv, aPos)
			return o, nil
		}, args...)
}

// Names looks up, in a community, the elections and the people (candidates, by the public name of their
// latest nomination that recorded one) given by id: so that an alert can say 选举“2026-2031届换届选举” and
// 委员“张建国” instead of ids. A person without a public name is left out.
func Names(ctx context.Context, q Querier, communityID string, electionIDs, personIDs []string) (terms, people map[string]string, err error) {
	by, err := tables.Tagged(ctx, q, "elections", "names in "+communityID, `SELECT 'e', election_id, term
			FROM `+pgx.Identifier{Schema, "elections"}.Sanitize()+` WHERE community_id = $1 AND election_id = ANY($2)
		UNION ALL (SELECT DISTINCT ON (person_id) 'p', person_id, public_name
			FROM `+pgx.Identifier{Schema, "candidates"}.Sanitize()+`
			WHERE community_id = $1 AND person_id = ANY($3) AND public_name <> ''
			ORDER BY person_id, nominated_commit_pos DESC)`, communityID, electionIDs, personIDs)
	return by["e"], by["p"], err
}

// ObjectionByID finds an objection by its id: a resident's objection is found by its receipt code. The
// first raised wins when two elections hold the same id; ErrNotFound when none does.
func ObjectionByID(ctx context.Context, q Querier, id string) (Objection, error) {
	os, err := queryObjections(ctx, q, "objection "+id, "objection_id = $1", id)
	if err != nil {
		return Objection{}, err
	}
	if len(os) == 0 {
		return Objection{}, fmt.Errorf("objection %s: %w", id, ErrNotFound)
	}
	return os[0], nil
}

// MemberChange is a change of the elected committee after certification.
type MemberChange struct {
	ElectionID string
	Change     Change
	PersonID   string
	// Role, FullTime and Votes are the by-elected member's; VotesFor the ballots for a recall.
	Role             string
	FullTime         bool
	Votes            int
	VotesFor         int
	RegisteredVoters int
	BallotsCast      int
	At               time.Time
	EventID          eventlog.ID
	Commit           uint64
}

// Timeline is everything the model knows of one election.
type Timeline struct {
	Election   Election
	Candidates []Candidate
	Objections []Objection
	Changes    []MemberChange
}

const electionColumns = `community_id, election_id, jurisdiction, term, seats, phase, committee_members, formed_at, formed_event_id,
	formed_commit_pos, candidates, list_publicized_at, coalesce(list_size, 0), list_event_id, list_commit_pos, objections_raised,
	objections_answered, objections_event_id, objections_commit_pos, voting_held_at, voting_event_id, voting_commit_pos,
	coalesce(registered_voters, 0), coalesce(ballots_cast, 0), coalesce(turnout_pct::text, ''), certified_at, coalesce(winners, 0),
	certified_event_id, certified_commit_pos, members_recalled, members_by_elected, members_resigned`

func scanElection(rows pgx.Rows) (Election, error) {
	var e Election
	var phase string
	var fEv, lEv, oEv, vEv, cEv pgtype.UUID
	var fPos int64
	var lPos, oPos, vPos, cPos pgtype.Int8
	var lAt, vAt, cAt pgtype.Timestamptz
	if err := rows.Scan(&e.CommunityID, &e.ElectionID, &e.Jurisdiction, &e.Term, &e.Seats, &phase, &e.CommitteeMembers, &e.Formed.At,
		&fEv, &fPos, &e.Candidates, &lAt, &e.ListSize, &lEv, &lPos, &e.ObjectionsRaised, &e.ObjectionsAnswered, &oEv, &oPos,
		&vAt, &vEv, &vPos, &e.RegisteredVoters, &e.BallotsCast, &e.Turnout, &cAt, &e.Winners, &cEv, &cPos,
		&e.MembersRecalled, &e.MembersByElected, &e.MembersResigned); err != nil {
		return Election{}, err
	}
	e.Phase = Phase(phase)
	e.Formed.At, e.Formed.EventID, e.Formed.Commit = e.Formed.At.UTC(), fEv.Bytes, uint64(fPos)
	e.ListPublicized, e.Voting, e.Certified = tables.StepOf(lAt, lEv, lPos), tables.StepOf(vAt, vEv, vPos), tables.StepOf(cAt, cEv, cPos)
	if oEv.Valid {
		e.ObjectionsLast = &Step{EventID: oEv.Bytes, Commit: tables.Position(oPos)}
	}
	return e, nil
}

func queryElections(ctx context.Context, q Querier, what, where string, args ...any) ([]Election, error) {
	return tables.Collect(ctx, q, "elections", what, `SELECT `+electionColumns+` FROM `+pgx.Identifier{Schema, "elections"}.Sanitize()+
		` WHERE `+where+` ORDER BY formed_at DESC, election_id`, scanElection, args...)
}

// Elections returns a community's elections, the latest formed first.
func Elections(ctx context.Context, q Querier, communityID string) ([]Election, error) {
	return queryElections(ctx, q, "elections of "+communityID, "community_id = $1", communityID)
}

// ElectionTimeline returns one election with its candidates (by nomination), objections and member
// changes; ErrNotFound when the model has no such election.
func ElectionTimeline(ctx context.Context, q Querier, communityID, electionID string) (Timeline, error) {
	es, err := queryElections(ctx, q, "election "+electionID, "community_id = $1 AND election_id = $2", communityID, electionID)
	if err != nil {
		return Timeline{}, err
	}
	if len(es) == 0 {
		return Timeline{}, fmt.Errorf("election %s of %s: %w", electionID, communityID, ErrNotFound)
	}
	t := Timeline{Election: es[0]}
	rows, err := q.Query(ctx, `SELECT person_id, status, nominated_at, nominated_event_id, nominated_commit_pos, withdrawn_at, on_list,
		objections, votes, votes_event_id, votes_commit_pos, coalesce(role, ''), coalesce(full_time, false), certified_at_or_null,
		result_event_id, result_commit_pos, coalesce(public_name, '')
		FROM (SELECT c.*, CASE WHEN result_event_id IS NOT NULL THEN e.certified_at END AS certified_at_or_null
			FROM `+pgx.Identifier{Schema, "candidates"}.Sanitize()+` c JOIN `+pgx.Identifier{Schema, "elections"}.Sanitize()+` e
			USING (community_id, election_id)) c
		WHERE community_id = $1 AND election_id = $2 ORDER BY nominated_commit_pos, person_id`, communityID, electionID)
	if err != nil {
		return Timeline{}, fmt.Errorf("elections: candidates of %s: %w", electionID, err)
	}
	for rows.Next() {
		var c Candidate
		var status string
		var nEv, vEv, rEv pgtype.UUID
		var nPos int64
		var vPos, rPos pgtype.Int8
		var wAt, rAt pgtype.Timestamptz
		var votes pgtype.Int4
		if err := rows.Scan(&c.PersonID, &status, &c.Nominated.At, &nEv, &nPos, &wAt, &c.OnList, &c.Objections, &votes, &vEv, &vPos,
			&c.Role, &c.FullTime, &rAt, &rEv, &rPos, &c.PublicName); err != nil {
			rows.Close()
			return Timeline{}, fmt.Errorf("elections: candidates of %s: %w", electionID, err)
		}
		c.Status = CandidateStatus(status)
		c.Nominated.At, c.Nominated.EventID, c.Nominated.Commit = c.Nominated.At.UTC(), nEv.Bytes, uint64(nPos)
		if wAt.Valid {
			w := wAt.Time.UTC()
			c.Withdrawn = &w
		}
		if votes.Valid {
			v := int(votes.Int32)
			c.Votes = &v
		}
		c.VotesEventID, c.VotesCommit, c.Result = tables.EventID(vEv), tables.Position(vPos), tables.StepOf(rAt, rEv, rPos)
		t.Candidates = append(t.Candidates, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Timeline{}, fmt.Errorf("elections: candidates of %s: %w", electionID, err)
	}
	t.Objections, err = queryObjections(ctx, q, "objections of "+electionID, "community_id = $1 AND election_id = $2", communityID, electionID)
	if err != nil {
		return Timeline{}, err
	}
	t.Changes, err = memberChanges(ctx, q, "community_id = $1 AND election_id = $2", communityID, electionID)
	if err != nil {
		return Timeline{}, err
	}
	return t, nil
}

// MemberChanges returns the recalls, by-elections and resignations of a community's elected committees,
// oldest first.
func MemberChanges(ctx context.Context, q Querier, communityID string) ([]MemberChange, error) {
	return memberChanges(ctx, q, "community_id = $1", communityID)
}

func memberChanges(ctx context.Context, q Querier, where string, args ...any) ([]MemberChange, error) {
	rows, err := q.Query(ctx, `SELECT election_id, change, person_id, coalesce(role, ''), coalesce(full_time, false), coalesce(votes, 0),
		coalesce(votes_for, 0), coalesce(registered_voters, 0), coalesce(ballots_cast, 0), at, event_id, commit_pos
		FROM `+pgx.Identifier{Schema, "member_changes"}.Sanitize()+` WHERE `+where+` ORDER BY at, commit_pos`, args...)
	if err != nil {
		return nil, fmt.Errorf("elections: member changes: %w", err)
	}
	defer rows.Close()
	var out []MemberChange
	for rows.Next() {
		var m MemberChange
		var change string
		var ev pgtype.UUID
		var pos int64
		if err := rows.Scan(&m.ElectionID, &change, &m.PersonID, &m.Role, &m.FullTime, &m.Votes, &m.VotesFor, &m.RegisteredVoters,
			&m.BallotsCast, &m.At, &ev, &pos); err != nil {
			return nil, fmt.Errorf("elections: member changes: %w", err)
		}
		m.Change, m.At, m.EventID, m.Commit = Change(change), m.At.UTC(), ev.Bytes, uint64(pos)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("elections: member changes: %w", err)
	}
	return out, nil
}

// FingerprintSQL is a text expression that changes whenever the elections of community $1 change.
var FingerprintSQL = tables.ChangeMark(Schema, "elections")
