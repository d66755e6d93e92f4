package directory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/seal"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// The seal register (印章管理) as the public sees it: the seals with their custodians by the name the
// register shows, and every use with its document, counterparty, approvers and whether it had the joint
// approval when it was used. A custodian's or approver's person id is never kept.

type sealKey struct{ community, seal string }

type useKey struct {
	sealKey
	use string
}

type sealRow struct {
	sealKey
	kind, name, custodianName string
	custodianSince            time.Time
	registeredAt              time.Time
	registeredSrc             decode.Source
	uses, unapproved          int
	stream                    string
	lastRev                   int64
	dirty                     bool
}

type useRow struct {
	useKey
	title, purpose, counterparty string
	date                         time.Time
	amount                       pgtype.Int8
	resolution, meeting          pgtype.Text
	approvers                    string
	approvals                    int
	requestedAt, usedAt          pgtype.Timestamptz
	approved, late               pgtype.Bool
	sha                          pgtype.Text
	src                          decode.Source
	dirty                        bool
}

var (
	sealsTable = tables.New("seals", []string{"community_id", "seal_id"}, "",
		"community_id text", "seal_id text", "kind text", "name text", "custodian_name text", "custodian_since timestamptz",
		"registered_at timestamptz", "registered_event_id uuid", "registered_commit_pos int8", "uses int4", "unapproved int4",
		"stream text", "last_revision int8")
	sealUsesTable = tables.New("seal_uses", []string{"community_id", "seal_id", "use_id"}, "",
		"community_id text", "seal_id text", "use_id text", "title text", "document_date timestamptz", "purpose text", "counterparty text",
		"amount_fen int8", "resolution_id text", "meeting_id text", "approvers text", "approvals int4", "requested_at timestamptz",
		"used_at timestamptz", "approved bool", "late bool", "document_sha256 text", "event_id uuid", "commit_pos int8")
)

// sealOf is the seal an event is about, and the use when it is about one.
func sealOf(p any) (sealID, useID string, ok bool) {
	switch p := p.(type) {
	case seal.Registered:
		return p.SealID, "", true
	case seal.CustodianChanged:
		return p.SealID, "", true
	case seal.UseRequested:
		return p.SealID, p.UseID, true
	case seal.UseApproved:
		return p.SealID, p.UseID, true
	case seal.Used:
		return p.SealID, p.UseID, true
	}
	return "", "", false
}

// roleNames are the approving capacities as the register shows them.
var roleNames = map[seal.Role]string{seal.CommitteeHead: "村(居)委会主任", seal.PartySecretary: "党组织书记", seal.Supervision: "监督委员会"}

// sealBatch is the seals and uses a batch's seal events touch.
type sealBatch struct {
	seals map[sealKey]*sealRow
	uses  map[useKey]*useRow
}

// foldSeals loads the seals and the uses the batch's seal events touch (one round trip), folds the events
// over them and returns the rows to write. Events at or below a seal's last applied revision are skipped.
func foldSeals(ctx context.Context, tx pgx.Tx, evs []decode.Event) (sealBatch, error) {
	keys, err := collectKeys(evs, "seal", func(p any) (string, string) {
		sealID, useID, _ := sealOf(p)
		return sealID, useID
	})
	if err != nil {
		return sealBatch{}, err
	}
	sc, ss, uc, us, uu := keys.pc, keys.pp, keys.cc, keys.cp, keys.ci
	out := sealBatch{seals: map[sealKey]*sealRow{}, uses: map[useKey]*useRow{}}
	b := &pgx.Batch{}
	sealsTable.QueueLoad(b, func(rs pgx.Rows) error {
		s := &sealRow{}
		if err := rs.Scan(&s.community, &s.seal, &s.kind, &s.name, &s.custodianName, &s.custodianSince, &s.registeredAt,
			&s.registeredSrc.ID, &s.registeredSrc.Commit, &s.uses, &s.unapproved, &s.stream, &s.lastRev); err != nil {
			return err
		}
		out.seals[s.sealKey] = s
		return nil
	}, sc, ss)
	if len(uu) > 0 {
		sealUsesTable.QueueLoad(b, func(rs pgx.Rows) error {
			u := &useRow{}
			if err := rs.Scan(&u.community, &u.seal, &u.use, &u.title, &u.date, &u.purpose, &u.counterparty, &u.amount, &u.resolution,
				&u.meeting, &u.approvers, &u.approvals, &u.requestedAt, &u.usedAt, &u.approved, &u.late, &u.sha, &u.src.ID,
				&u.src.Commit); err != nil {
				return err
			}
			out.uses[u.useKey] = u
			return nil
		}, uc, us, uu)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return sealBatch{}, fmt.Errorf("directory: load %d seals: %w", len(ss), err)
	}
	for _, e := range evs {
		sealID, useID, _ := sealOf(e.Payload)
		k := sealKey{e.Community(), sealID}
		s := out.seals[k]
		if s != nil && e.Revision() <= s.lastRev {
			continue // already applied
		}
		if r, ok := e.Payload.(seal.Registered); ok {
			s = &sealRow{sealKey: k, kind: string(r.Kind), name: r.Name, custodianName: r.CustodianName, custodianSince: r.RegisteredAt,
				registeredAt: r.RegisteredAt, registeredSrc: e.Source()}
			out.seals[k] = s
		} else if s == nil {
			continue // the seal's registration was never applied (skipped as poison): nothing to attach to
		}
		s.stream, s.lastRev, s.dirty = e.Rec.Stream, e.Revision(), true
		uk := useKey{k, useID}
		u := out.uses[uk]
		switch p := e.Payload.(type) {
		case seal.CustodianChanged:
			s.custodianName, s.custodianSince = p.CustodianName, p.ChangedAt
		case seal.UseRequested:
			u = newUse(uk, p.Document, p.Resolution)
			u.requestedAt = tables.Time(p.RequestedAt)
			out.uses[uk] = u
		case seal.UseApproved:
			if u == nil {
				return sealBatch{}, e.Poison(fmt.Errorf("the directory never saw use %q of seal %q requested", useID, sealID))
			}
			if u.approvers != "" {
				u.approvers += "、"
			}
			u.approvers += p.ApproverName + "（" + roleNames[p.Role] + "）"
			u.approvals++
		case seal.Used:
			if u == nil {
				u = newUse(uk, p.Document, p.Resolution)
				out.uses[uk] = u
			}
			late := false
			for _, b := range p.Breaches {
				late = late || b.Rule == rulebook.LateRecording
			}
			u.usedAt, u.approved, u.late, u.sha = tables.Time(p.UsedAt), pgtype.Bool{Bool: p.Approved, Valid: true},
				pgtype.Bool{Bool: late, Valid: true}, tables.Text(p.DocumentSHA256)
			s.uses++
			if !p.Approved {
				s.unapproved++
			}
		}
		if u != nil {
			u.src, u.dirty = e.Source(), true
		}
	}
	return out, nil
}

func newUse(k useKey, d seal.Document, r *seal.Resolution) *useRow {
	u := &useRow{useKey: k, title: d.Title, date: d.Date, purpose: d.Purpose, counterparty: d.Counterparty,
		amount: pgtype.Int8{Int64: int64(d.Amount), Valid: d.Amount > 0}}
	if r != nil {
		u.resolution, u.meeting = tables.Text(r.ID), tables.Text(r.MeetingID)
	}
	return u
}

// writeSeals queues the changed seals' and uses' upserts on w.
func writeSeals(w *tables.Writer, b sealBatch) {
	seals, uses := sealsTable.Rows(), sealUsesTable.Rows()
	for _, k := range slices.SortedFunc(maps.Keys(b.seals), compareSeals) {
		if s := b.seals[k]; s.dirty {
			seals.Row().Text(s.community).Text(s.seal).Text(s.kind).Text(s.name).Text(s.custodianName).Time(s.custodianSince).
				Time(s.registeredAt).UUID(s.registeredSrc.ID).Int8(s.registeredSrc.Commit).Int4(int32(s.uses)).Int4(int32(s.unapproved)).
				Text(s.stream).Int8(s.lastRev)
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.uses), func(a, b useKey) int {
		return cmp.Or(compareSeals(a.sealKey, b.sealKey), strings.Compare(a.use, b.use))
	}) {
		if u := b.uses[k]; u.dirty {
			uses.Row().Text(u.community).Text(u.seal).Text(u.use).Text(u.title).Time(u.date).Text(u.purpose).Text(u.counterparty).
				NullInt8(u.amount).NullText(u.resolution).NullText(u.meeting).Text(u.approvers).Int4(int32(u.approvals)).
				NullTime(u.requestedAt).NullTime(u.usedAt).NullBool(u.approved).NullBool(u.late).NullText(u.sha).UUID(u.src.ID).
				Int8(u.src.Commit)
		}
	}
	w.Upsert(seals)
	w.Upsert(uses)
}

func compareSeals(a, b sealKey) int {
	return cmp.Or(strings.Compare(a.community, b.community), strings.Compare(a.seal, b.seal))
}

// Seal is a seal of the register as the public sees it.
type Seal struct {
	SealID         string
	Kind           seal.Kind
	Name           string
	CustodianName  string
	CustodianSince time.Time
	Registered     Step
	Uses           int
	Unapproved     int
}

// SealUse is one use of a seal as the public sees it.
type SealUse struct {
	SealID       string
	UseID        string
	Title        string
	DocumentDate time.Time
	Purpose      string
	Counterparty string
	AmountFen    int64 // 0 when none was given
	ResolutionID string
	MeetingID    string
	Approvers    string // 张主任（村(居)委会主任）、李监督（监督委员会）
	Approvals    int
	Requested    *time.Time
	// Used is when the use was recorded (nil while only requested); Approved and Late are its state then.
	Used           *time.Time
	Approved, Late bool
	DocumentSHA256 string
	EventID        eventlog.ID
	Commit         uint64
}

// SealRegister returns a community's seals by id and its seal uses, the latest document first, at most
// limit of them.
func SealRegister(ctx context.Context, q Querier, communityID string, limit int) ([]Seal, []SealUse, error) {
	seals, err := tables.Collect(ctx, q, "directory", "seals of "+communityID, `SELECT seal_id, kind, name, custodian_name, custodian_since,
		registered_at, registered_event_id, registered_commit_pos, uses, unapproved FROM `+pgx.Identifier{Schema, "seals"}.Sanitize()+`
		WHERE community_id = $1 ORDER BY seal_id`, func(rs pgx.Rows) (Seal, error) {
		var s Seal
		var kind string
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&s.SealID, &kind, &s.Name, &s.CustodianName, &s.CustodianSince, &s.Registered.At, &ev, &pos, &s.Uses, &s.Unapproved)
		s.Kind, s.CustodianSince = seal.Kind(kind), s.CustodianSince.UTC()
		s.Registered = Step{At: s.Registered.At.UTC(), EventID: ev.Bytes, Commit: uint64(pos)}
		return s, err
	}, communityID)
	if err != nil {
		return nil, nil, err
	}
	uses, err := tables.Collect(ctx, q, "directory", "seal uses of "+communityID, `SELECT seal_id, use_id, title, document_date, purpose,
		counterparty, coalesce(amount_fen, 0), coalesce(resolution_id, ''), coalesce(meeting_id, ''), approvers, approvals, requested_at,
		used_at, coalesce(approved, false), coalesce(late, false), coalesce(document_sha256, ''), event_id, commit_pos
		FROM `+pgx.Identifier{Schema, "seal_uses"}.Sanitize()+` WHERE community_id = $1
		ORDER BY document_date DESC, seal_id, use_id LIMIT $2`, func(rs pgx.Rows) (SealUse, error) {
		var u SealUse
		var req, used pgtype.Timestamptz
		var ev pgtype.UUID
		var pos int64
		err := rs.Scan(&u.SealID, &u.UseID, &u.Title, &u.DocumentDate, &u.Purpose, &u.Counterparty, &u.AmountFen, &u.ResolutionID,
			&u.MeetingID, &u.Approvers, &u.Approvals, &req, &used, &u.Approved, &u.Late, &u.DocumentSHA256, &ev, &pos)
		u.DocumentDate, u.EventID, u.Commit = u.DocumentDate.UTC(), ev.Bytes, uint64(pos)
		if req.Valid {
			t := req.Time.UTC()
			u.Requested = &t
		}
		if used.Valid {
			t := used.Time.UTC()
			u.Used = &t
		}
		return u, err
	}, communityID, limit)
	return seals, uses, err
}

// SealsFingerprint is a value that changes whenever community id's seal register changes.
func SealsFingerprint(ctx context.Context, q Querier, id string) (string, error) {
	return registerFingerprint(ctx, q, "seals", id)
}

// registerFingerprint is a value that changes whenever community id's rows of a register's table (one
// row per stream, holding its last revision) change: their count and the sum of their revisions.
func registerFingerprint(ctx context.Context, q Querier, table, id string) (string, error) {
	marks, err := tables.Collect(ctx, q, "directory", table+" fingerprint of "+id, `SELECT count(*) || '.' || coalesce(sum(last_revision), 0)
		FROM `+pgx.Identifier{Schema, table}.Sanitize()+` WHERE community_id = $1`, tables.One[string], id)
	if err != nil || len(marks) == 0 {
		return "", err
	}
	return marks[0], nil
}

// registerKeys are the keys a batch of a register's events touches, each once, as the text arrays its load
// statements take: the parents (community, id: a seal, an asset) and the children (community, parent, id:
// a use, a contract).
type registerKeys struct {
	pc, pp     []string
	cc, cp, ci []string
}

// collectKeys checks that every event of a register is its community's and on its parent's stream
// (<kind>-<community>-<parent>), and collects the keys; of names an event's parent and child ("" for none).
func collectKeys(evs []decode.Event, kind string, of func(any) (parent, child string)) (registerKeys, error) {
	var k registerKeys
	seenParent, seenChild := map[[2]string]bool{}, map[[3]string]bool{}
	for _, e := range evs {
		parent, child := of(e.Payload)
		if err := decode.RequireCommunity(e); err != nil {
			return k, err
		}
		if err := decode.CheckStream(e, kind, parent); err != nil {
			return k, err
		}
		pk := [2]string{e.Community(), parent}
		if !seenParent[pk] {
			seenParent[pk] = true
			k.pc, k.pp = append(k.pc, pk[0]), append(k.pp, parent)
		}
		if ck := [3]string{pk[0], parent, child}; child != "" && !seenChild[ck] {
			seenChild[ck] = true
			k.cc, k.cp, k.ci = append(k.cc, pk[0]), append(k.cp, parent), append(k.ci, child)
		}
	}
	return k, nil
}
