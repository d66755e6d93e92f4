// Package elections is the read model of elections (换届选举) as the public follows them: each election's
// timeline — election committee formed, candidates nominated and withdrawn, candidate list publicized,
// objections raised and answered (times and the committee's public answer, never the objector or the
// objection's text), the vote with every candidate's votes, the
// certified result with its winners and turnout — and the later changes of the elected committee: recall
// (罢免), by-election (补选) and resignation (辞职).
//
// Candidates and members appear by person id and by the public display name recorded on the nomination
// (公示姓名), when one was: the domain carries everything else about a person (real name, ID number,
// phone) solely inside the personal-data object (to be crypto-shredded), which the model never reads.
// It lives in schema rm_elections.
package elections

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/election"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Name is the read model's permanent name; its tables live in schema rm_elections.
const Name = "elections"

// Schema is where the live tables are.
var Schema = runtime.SchemaOf(Name)

//go:embed migrations/*.sql
var migrations embed.FS

// Model is the elections read model. Create it with New.
type Model struct{ decode.Model }

// New returns the elections model, decoding with the domain's registry.
func New() *Model {
	return &Model{decode.NewModel(Name, migrations,
		election.CommitteeFormed{}, election.CommitteeMemberAdded{},
		election.CommitteeMemberLeft{}, election.CandidateNominated{}, election.CandidateWithdrawn{},
		election.CandidateListPublicized{}, election.ObjectionRaised{}, election.ObjectionAnswered{}, election.VotingHeld{},
		election.ResultCertified{}, election.MemberRecalled{}, election.MemberByElected{}, election.MemberResigned{})}
}

// Tables are the model's tables as declared once for its writes and loads (checked against the
// migrations by the read-model contract, projections/internal/readmodeltest).
func (*Model) Tables() []*tables.Table {
	return []*tables.Table{electionsTable, candidatesTable, nominatedTable, objectionsTable, changesTable}
}

// Poison implements runtime.ReadModel: Halt. An election result is a legal fact: a skipped vote or
// certification would show a wrong winner, turnout or phase, a skipped recall a member who no longer
// sits, with nothing later to correct it. Halted, the model keeps serving what it had, visibly stale.
func (*Model) Poison() runtime.PoisonPolicy { return runtime.Halt }

// Phase of an election.
type Phase string

const (
	Nominating Phase = "nominating" // committee formed, candidates being nominated
	Publicized Phase = "publicized" // candidate list publicized
	Voted      Phase = "voted"      // vote held, result not yet certified
	Certified  Phase = "certified"  // result certified
)

// CandidateStatus is where a candidate stands.
type CandidateStatus string

const (
	Nominated  CandidateStatus = "nominated"
	Withdrawn  CandidateStatus = "withdrawn"
	Elected    CandidateStatus = "elected"
	NotElected CandidateStatus = "not-elected"
)

// Change is a change of the elected committee.
type Change string

const (
	Recalled  Change = "recalled"   // 罢免
	ByElected Change = "by-elected" // 补选
	Resigned  Change = "resigned"   // 辞职
)

// ---- state of a batch -----------------------------------------------------------------------------------

type key struct{ community, election string }

type candidate struct {
	person       string
	status       CandidateStatus
	nominatedAt  time.Time
	nominatedSrc decode.Source
	withdrawnAt  pgtype.Timestamptz
	onList       bool
	objections   int
	votes        pgtype.Int4
	votesSrc     decode.Source
	role         pgtype.Text
	fullTime     pgtype.Bool
	resultSrc    decode.Source
	publicName   pgtype.Text // 公示姓名: public
	dirty, isNew bool        // isNew: not in the table before this batch
}

type objection struct {
	id          string
	concerning  pgtype.Text
	raisedAt    time.Time
	raisedSrc   decode.Source
	answeredAt  pgtype.Timestamptz
	answeredSrc decode.Source
	answer      pgtype.Text // the committee's answer: public
	dirty       bool
}

type change struct {
	rev                           int64
	change                        Change
	person                        string
	role                          pgtype.Text
	fullTime                      pgtype.Bool
	votes, votesFor, voters, cast pgtype.Int4
	at                            time.Time
	src                           decode.Source
}

type electionRow struct {
	key
	jurisdiction, term            string
	seats, committee              int
	phase                         Phase
	formedAt                      time.Time
	formedSrc                     decode.Source
	listAt                        pgtype.Timestamptz
	listSize                      pgtype.Int4
	listSrc                       decode.Source
	raised, answered              int
	objectionsSrc                 decode.Source
	votingAt                      pgtype.Timestamptz
	votingSrc                     decode.Source
	voters, cast                  pgtype.Int4
	certifiedAt                   pgtype.Timestamptz
	winners                       pgtype.Int4
	certifiedSrc                  decode.Source
	recalled, byElected, resigned int
	stream                        string
	lastRev                       int64
	candidates                    map[string]*candidate
	objections                    map[string]*objection
	changes                       []change
	standing                      int  // candidates nominated and not withdrawn
	candidatesLoaded              bool // every candidate of the election is in candidates
	dirty, isNew                  bool // isNew: not in the table before this batch
}

func electionOf(p any) string {
	switch p := p.(type) {
	case election.CommitteeFormed:
		return p.ElectionID
	case election.CommitteeMemberAdded:
		return p.ElectionID
	case election.CommitteeMemberLeft:
		return p.ElectionID
	case election.CandidateNominated:
		return p.ElectionID
	case election.CandidateWithdrawn:
		return p.ElectionID
	case election.CandidateListPublicized:
		return p.ElectionID
	case election.ObjectionRaised:
		return p.ElectionID
	case election.ObjectionAnswered:
		return p.ElectionID
	case election.VotingHeld:
		return p.ElectionID
	case election.ResultCertified:
		return p.ElectionID
	case election.MemberRecalled:
		return p.ElectionID
	case election.MemberByElected:
		return p.ElectionID
	case election.MemberResigned:
		return p.ElectionID
	}
	return ""
}

// Apply implements runtime.ReadModel: one round trip loads the elections the batch touches, with their
// candidates where the batch reads them (and the objections it answers), the batch is folded in memory, one round trip writes every
// changed row with multi-row statements. Events at or below an election's last applied revision are
// skipped, so applying a batch twice changes nothing.
func (m *Model) Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error {
	evs, err := m.Dec.Batch(batch)
	if err != nil || len(evs) == 0 {
		return err
	}
	var keys, answering, electing []key
	seen, seenAns, seenEl := map[key]bool{}, map[key]bool{}, map[key]bool{}
	for _, e := range evs {
		if err := decode.RequireCommunity(e); err != nil {
			return err
		}
		k := key{e.Community(), electionOf(e.Payload)}
		if err := decode.CheckStream(e, "election", k.election); err != nil {
			return err
		}
		if err := decode.Int32s(e, counts(e.Payload)...); err != nil {
			return err
		}
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
		if _, ok := e.Payload.(election.ObjectionAnswered); ok && !seenAns[k] {
			seenAns[k] = true
			answering = append(answering, k)
		}
		if needsCandidates(e.Payload) && !seenEl[k] {
			seenEl[k] = true
			electing = append(electing, k)
		}
	}
	rows, err := load(ctx, tx, keys, answering, electing)
	if err != nil {
		return err
	}
	for _, e := range evs {
		k := key{e.Community(), electionOf(e.Payload)}
		r := rows[k]
		if r != nil && e.Revision() <= r.lastRev {
			continue // already applied
		}
		if p, ok := e.Payload.(election.CommitteeFormed); ok {
			if r != nil {
				return e.Poison(errors.New("the election committee was formed before"))
			}
			// p.Members[].Personal is deliberately dropped: the committee is shown by its size.
			r = &electionRow{key: k, jurisdiction: e.Rec.Meta.Jurisdiction, term: p.Term, seats: p.Seats, committee: len(p.Members),
				phase: Nominating, formedAt: p.FormedAt, formedSrc: e.Source(),
				candidates: map[string]*candidate{}, objections: map[string]*objection{}, candidatesLoaded: true, isNew: true}
			rows[k] = r
		} else if r == nil {
			return e.Poison(errors.New("the elections model never saw the election committee formed"))
		}
		r.stream, r.lastRev, r.dirty = e.Rec.Stream, e.Revision(), true
		if err := r.apply(e); err != nil {
			return e.Poison(err)
		}
	}
	return write(ctx, tx, rows)
}

// apply folds one event (after CommitteeFormed) into the election.
func (r *electionRow) apply(e decode.Event) error {
	src := e.Source()
	known := func(p string) (*candidate, error) {
		c := r.candidates[p]
		if c == nil {
			return nil, fmt.Errorf("the elections model never saw candidate %s nominated", p)
		}
		c.dirty = true
		return c, nil
	}
	switch p := e.Payload.(type) {
	case election.CommitteeMemberAdded:
		r.committee++
	case election.CommitteeMemberLeft:
		r.committee = max(r.committee-1, 0)
	case election.CandidateNominated:
		// p.Personal (name, ID number, phone, address) and p.ResidenceSince are deliberately dropped; the
		// public display name is kept.
		if r.candidates[string(p.Candidate)] != nil {
			return fmt.Errorf("candidate %s was nominated before", p.Candidate)
		}
		r.candidates[string(p.Candidate)] = &candidate{person: string(p.Candidate), status: Nominated, nominatedAt: p.NominatedAt,
			nominatedSrc: src, publicName: tables.Text(p.PublicName), dirty: true, isNew: true}
		r.standing++
	case election.CandidateWithdrawn:
		c, err := known(string(p.Candidate))
		if err != nil {
			return err
		}
		if c.status != Withdrawn {
			r.standing--
		}
		c.status, c.withdrawnAt, c.onList = Withdrawn, tables.Time(p.WithdrawnAt), false
	case election.CandidateListPublicized:
		r.phase, r.listAt, r.listSize, r.listSrc = Publicized, tables.Time(p.PublicizedAt), tables.Int(len(p.Candidates), true), src
		for _, person := range p.Candidates {
			c, err := known(string(person))
			if err != nil {
				return err
			}
			c.onList = true
		}
	case election.ObjectionRaised:
		// p.Objector (personal data) and p.Text are deliberately dropped.
		if _, dup := r.objections[p.ObjectionID]; !dup {
			r.raised++
			if c := r.candidates[string(p.Concerning)]; c != nil {
				c.objections++
				c.dirty = true
			}
		}
		r.objections[p.ObjectionID] = &objection{id: p.ObjectionID, concerning: tables.Text(string(p.Concerning)), raisedAt: p.RaisedAt,
			raisedSrc: src, dirty: true}
		r.objectionsSrc = src
	case election.ObjectionAnswered:
		o := r.objections[p.ObjectionID]
		if o == nil {
			return fmt.Errorf("the elections model never saw objection %q raised", p.ObjectionID)
		}
		if !o.answeredAt.Valid {
			r.answered++
		}
		o.answeredAt, o.answeredSrc, o.answer, o.dirty = tables.Time(p.AnsweredAt), src, tables.Text(p.Answer), true
		r.objectionsSrc = src
	case election.VotingHeld:
		r.phase, r.votingAt, r.votingSrc = Voted, tables.Time(p.HeldAt), src
		r.voters, r.cast = tables.Int(p.RegisteredVoters, true), tables.Int(p.BallotsCast, true)
		for _, t := range p.Tally {
			c, err := known(string(t.Candidate))
			if err != nil {
				return err
			}
			c.votes, c.votesSrc = tables.Int(t.Votes, true), src
		}
	case election.ResultCertified:
		r.phase, r.certifiedAt, r.certifiedSrc = Certified, tables.Time(p.CertifiedAt), src
		r.voters, r.cast, r.winners = tables.Int(p.RegisteredVoters, true), tables.Int(p.BallotsCast, true), tables.Int(len(p.Winners), true)
		won := map[string]election.Winner{}
		for _, w := range p.Winners {
			if _, err := known(string(w.Person)); err != nil {
				return err
			}
			won[string(w.Person)] = w
		}
		for person, c := range r.candidates {
			if c.status == Withdrawn {
				continue
			}
			c.dirty, c.resultSrc = true, src
			if w, ok := won[person]; ok {
				c.status, c.role, c.fullTime = Elected, tables.Text(string(w.Role)), tables.Bool(w.FullTime, true)
				c.votes = tables.Int(w.Votes, true)
			} else {
				c.status = NotElected
			}
		}
	case election.MemberRecalled:
		r.recalled++
		r.changes = append(r.changes, change{rev: e.Revision(), change: Recalled, person: string(p.Person),
			votesFor: tables.Int(p.VotesFor, true), voters: tables.Int(p.RegisteredVoters, true), cast: tables.Int(p.BallotsCast, true),
			at: p.RecalledAt, src: src})
	case election.MemberByElected:
		// p.Personal is deliberately dropped.
		r.byElected++
		r.changes = append(r.changes, change{rev: e.Revision(), change: ByElected, person: string(p.Winner.Person),
			role: tables.Text(string(p.Winner.Role)), fullTime: tables.Bool(p.Winner.FullTime, true), votes: tables.Int(p.Winner.Votes, true),
			voters: tables.Int(p.RegisteredVoters, true), cast: tables.Int(p.BallotsCast, true), at: p.ByElectedAt, src: src})
	case election.MemberResigned:
		// p.Reason is not shown: it may speak of the member's private life.
		r.resigned++
		r.changes = append(r.changes, change{rev: e.Revision(), change: Resigned, person: string(p.Person), at: p.ResignedAt, src: src})
	}
	return nil
}

// counts are the numbers an event carries into integer columns.
func counts(p any) []int {
	var ns []int
	switch p := p.(type) {
	case election.CommitteeFormed:
		ns = append(ns, p.Seats, len(p.Members))
	case election.VotingHeld:
		ns = append(ns, p.RegisteredVoters, p.BallotsCast)
		for _, t := range p.Tally {
			ns = append(ns, t.Votes)
		}
	case election.ResultCertified:
		ns = append(ns, p.RegisteredVoters, p.BallotsCast)
		for _, w := range p.Winners {
			ns = append(ns, w.Votes)
		}
	case election.MemberRecalled:
		ns = append(ns, p.RegisteredVoters, p.BallotsCast, p.VotesFor)
	case election.MemberByElected:
		ns = append(ns, p.RegisteredVoters, p.BallotsCast, p.Winner.Votes)
	}
	return ns
}

// needsCandidates reports whether folding an event needs the election's candidates: nominating one does
// not (the election's revision guards it), everything that reads or changes the standing candidates does.
func needsCandidates(p any) bool {
	switch p := p.(type) {
	case election.CandidateWithdrawn, election.CandidateListPublicized, election.VotingHeld, election.ResultCertified:
		return true
	case election.ObjectionRaised:
		return p.Concerning != ""
	}
	return false
}

func split(keys []key) (cs, es []string) {
	cs, es = make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		cs[i], es[i] = k.community, k.election
	}
	return cs, es
}

func load(ctx context.Context, tx pgx.Tx, keys, answering, electing []key) (map[key]*electionRow, error) {
	out := make(map[key]*electionRow, len(keys))
	cs, es := split(keys)
	b := &pgx.Batch{}
	electionsTable.QueueLoad(b, func(rs pgx.Rows) error {
		r := &electionRow{candidates: map[string]*candidate{}, objections: map[string]*objection{}}
		var phase string
		var lEv, oEv, vEv, cEv pgtype.UUID
		var lPos, oPos, vPos, cPos pgtype.Int8
		if err := rs.Scan(&r.community, &r.election, &r.jurisdiction, &r.term, &r.seats, &phase, &r.committee, &r.formedAt,
			&r.formedSrc.ID, &r.formedSrc.Commit, &r.standing, &r.listAt, &r.listSize, &lEv, &lPos, &r.raised, &r.answered, &oEv, &oPos,
			&r.votingAt, &vEv, &vPos, &r.voters, &r.cast, &r.certifiedAt, &r.winners, &cEv, &cPos, &r.recalled,
			&r.byElected, &r.resigned, &r.stream, &r.lastRev); err != nil {
			return err
		}
		r.phase = Phase(phase)
		r.listSrc, r.objectionsSrc, r.votingSrc, r.certifiedSrc = decode.SourceOf(lEv, lPos), decode.SourceOf(oEv, oPos), decode.SourceOf(vEv, vPos), decode.SourceOf(cEv, cPos)
		out[r.key] = r
		return nil
	}, cs, es)
	if len(electing) > 0 {
		cs, es := split(electing)
		candidatesTable.QueueLoad(b, func(rs pgx.Rows) error {
			var k key
			c := &candidate{}
			var status string
			var vEv, rEv pgtype.UUID
			var vPos, rPos pgtype.Int8
			if err := rs.Scan(&k.community, &k.election, &c.person, &status, &c.nominatedAt, &c.nominatedSrc.ID, &c.nominatedSrc.Commit,
				&c.withdrawnAt, &c.onList, &c.objections, &c.votes, &vEv, &vPos, &c.role, &c.fullTime, &rEv, &rPos, &c.publicName); err != nil {
				return err
			}
			c.status, c.votesSrc, c.resultSrc = CandidateStatus(status), decode.SourceOf(vEv, vPos), decode.SourceOf(rEv, rPos)
			if r := out[k]; r != nil {
				r.candidates[c.person] = c
			}
			return nil
		}, cs, es)
	}
	if len(answering) > 0 {
		cs, es := split(answering)
		objectionsTable.QueueLoad(b, func(rs pgx.Rows) error {
			var k key
			o := &objection{}
			var aEv pgtype.UUID
			var aPos pgtype.Int8
			if err := rs.Scan(&k.community, &k.election, &o.id, &o.concerning, &o.raisedAt, &o.raisedSrc.ID, &o.raisedSrc.Commit,
				&o.answeredAt, &aEv, &aPos, &o.answer); err != nil {
				return err
			}
			o.answeredSrc = decode.SourceOf(aEv, aPos)
			if r := out[k]; r != nil {
				r.objections[o.id] = o
			}
			return nil
		}, cs, es)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("elections: load %d elections: %w", len(keys), err)
	}
	for _, k := range electing {
		if r := out[k]; r != nil {
			r.candidatesLoaded = true
		}
	}
	return out, nil
}

var candidateColumns = []string{"community_id text", "election_id text", "person_id text", "status text", "nominated_at timestamptz",
	"nominated_event_id uuid", "nominated_commit_pos int8", "withdrawn_at timestamptz", "on_list bool", "objections int4",
	"votes int4", "votes_event_id uuid", "votes_commit_pos int8", "role text", "full_time bool", "result_event_id uuid",
	"result_commit_pos int8", "public_name text"}

var (
	electionsTable = tables.New("elections", []string{"community_id", "election_id"}, "",
		"community_id text", "election_id text", "jurisdiction text", "term text", "seats int4", "phase text",
		"committee_members int4", "formed_at timestamptz", "formed_event_id uuid", "formed_commit_pos int8", "candidates int4",
		"list_publicized_at timestamptz", "list_size int4", "list_event_id uuid", "list_commit_pos int8", "objections_raised int4",
		"objections_answered int4", "objections_event_id uuid", "objections_commit_pos int8", "voting_held_at timestamptz",
		"voting_event_id uuid", "voting_commit_pos int8", "registered_voters int4", "ballots_cast int4", "certified_at timestamptz",
		"winners int4", "certified_event_id uuid", "certified_commit_pos int8", "members_recalled int4", "members_by_elected int4",
		"members_resigned int4", "stream text", "last_revision int8")
	candidatesTable = tables.New("candidates", []string{"community_id", "election_id", "person_id"}, "", candidateColumns...)
	nominatedTable  = tables.New("candidates", []string{"community_id", "election_id", "person_id"}, "nothing",
		candidateColumns...)
	objectionsTable = tables.New("objections", []string{"community_id", "election_id", "objection_id"}, "",
		"community_id text", "election_id text", "objection_id text", "concerning text", "raised_at timestamptz",
		"raised_event_id uuid", "raised_commit_pos int8", "answered_at timestamptz", "answered_event_id uuid", "answered_commit_pos int8",
		"answer text")
	changesTable = tables.New("member_changes", []string{"community_id", "election_id", "revision"}, "nothing",
		"community_id text", "election_id text", "revision int8", "change text", "person_id text", "role text", "full_time bool",
		"votes int4", "votes_for int4", "registered_voters int4", "ballots_cast int4", "at timestamptz", "event_id uuid", "commit_pos int8")
)

// write upserts the changed elections and candidates that exist and the objections in one round trip,
// then copies the new elections, the new candidates of elections whose candidates were loaded, and the
// member changes (one per event, above the election's last revision) in.
func write(ctx context.Context, tx pgx.Tx, rows map[key]*electionRow) error {
	keys := make([]key, 0, len(rows))
	for k, r := range rows {
		if r.dirty {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.community, b.community), strings.Compare(a.election, b.election))
	})
	freshE, changedE := electionsTable.Rows(), electionsTable.Rows()
	freshC, changedC, nominated := candidatesTable.Rows(), candidatesTable.Rows(), nominatedTable.Rows()
	objections, changes := objectionsTable.Rows(), changesTable.Rows()
	for _, k := range keys {
		r := rows[k]
		to := changedE
		if r.isNew {
			to = freshE
		}
		to.Row().Text(k.community).Text(k.election).Text(r.jurisdiction).Text(r.term).Int4(int32(r.seats)).Text(string(r.phase)).
			Int4(int32(r.committee)).Time(r.formedAt).UUID(r.formedSrc.ID).Int8(r.formedSrc.Commit).Int4(int32(r.standing)).
			NullTime(r.listAt).NullInt4(r.listSize).UUID(r.listSrc.ID).NullInt8(r.listSrc.Pos()).Int4(int32(r.raised)).
			Int4(int32(r.answered)).UUID(r.objectionsSrc.ID).NullInt8(r.objectionsSrc.Pos()).NullTime(r.votingAt).UUID(r.votingSrc.ID).
			NullInt8(r.votingSrc.Pos()).NullInt4(r.voters).NullInt4(r.cast).NullTime(r.certifiedAt).NullInt4(r.winners).
			UUID(r.certifiedSrc.ID).NullInt8(r.certifiedSrc.Pos()).Int4(int32(r.recalled)).Int4(int32(r.byElected)).
			Int4(int32(r.resigned)).Text(r.stream).Int8(r.lastRev)
		for _, p := range sortedKeys(r.candidates) {
			x := r.candidates[p]
			if !x.dirty {
				continue
			}
			to := changedC
			switch {
			case x.isNew && r.candidatesLoaded:
				to = freshC // known not to be there
			case x.isNew:
				to = nominated // new by the election's revision, not looked up: never overwrite
			}
			to.Row().Text(k.community).Text(k.election).Text(p).Text(string(x.status)).Time(x.nominatedAt).UUID(x.nominatedSrc.ID).
				Int8(x.nominatedSrc.Commit).NullTime(x.withdrawnAt).Bool(x.onList).Int4(int32(x.objections)).NullInt4(x.votes).
				UUID(x.votesSrc.ID).NullInt8(x.votesSrc.Pos()).NullText(x.role).NullBool(x.fullTime).UUID(x.resultSrc.ID).
				NullInt8(x.resultSrc.Pos()).NullText(x.publicName)
		}
		for _, id := range sortedKeys(r.objections) {
			x := r.objections[id]
			if x.dirty {
				objections.Row().Text(k.community).Text(k.election).Text(id).NullText(x.concerning).Time(x.raisedAt).UUID(x.raisedSrc.ID).
					Int8(x.raisedSrc.Commit).NullTime(x.answeredAt).UUID(x.answeredSrc.ID).NullInt8(x.answeredSrc.Pos()).NullText(x.answer)
			}
		}
		for _, x := range r.changes {
			changes.Row().Text(k.community).Text(k.election).Int8(x.rev).Text(string(x.change)).Text(x.person).NullText(x.role).
				NullBool(x.fullTime).NullInt4(x.votes).NullInt4(x.votesFor).NullInt4(x.voters).NullInt4(x.cast).Time(x.at).
				UUID(x.src.ID).Int8(x.src.Commit)
		}
	}
	var w tables.Writer
	w.Upsert(changedE)
	w.Upsert(changedC)
	w.Upsert(nominated)
	w.Upsert(objections)
	w.Copy(freshE)
	w.Copy(freshC)
	w.Copy(changes)
	if err := w.Flush(ctx, tx); err != nil {
		return fmt.Errorf("elections: %w", err)
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
