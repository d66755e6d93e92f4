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

	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/tables"
)

// The audits of a community's cadres (干部审计), by what the public may know of them: enough to name one in a
// sentence (审计（离任，2026年2月）) and to list them. The cadre audited, the findings' text and the summary
// are not kept.

type auditKey struct{ community, audit string }

type auditRow struct {
	auditKey
	kind, auditor string
	periodFrom    time.Time
	periodTo      time.Time
	openedAt      time.Time
	openedSrc     decode.Source
	findings      int
	result        pgtype.Text
	closedAt      pgtype.Timestamptz
	closedSrc     decode.Source
	stream        string
	lastRev       int64
	dirty         bool
}

var auditsTable = tables.New("audits", []string{"community_id", "audit_id"}, "",
	"community_id text", "audit_id text", "kind text", "auditor text", "period_from timestamptz", "period_to timestamptz",
	"opened_at timestamptz", "opened_event_id uuid", "opened_commit_pos int8", "findings int4", "result text",
	"closed_at timestamptz", "closed_event_id uuid", "closed_commit_pos int8", "stream text", "last_revision int8")

// auditOf is the audit an event is about.
func auditOf(p any) (string, bool) {
	switch p := p.(type) {
	case audit.Opened:
		return p.AuditID, true
	case audit.FindingRecorded:
		return p.AuditID, true
	case audit.Closed:
		return p.AuditID, true
	}
	return "", false
}

// foldAudits loads the audits the batch's audit events touch (one query), folds the events over them and
// returns the rows to write. Events at or below an audit's last applied revision are skipped.
func foldAudits(ctx context.Context, tx pgx.Tx, evs []decode.Event) (map[auditKey]*auditRow, error) {
	var cs, ids []string
	seen := map[auditKey]bool{}
	for _, e := range evs {
		id, _ := auditOf(e.Payload)
		if err := decode.RequireCommunity(e); err != nil {
			return nil, err
		}
		if err := decode.CheckStream(e, "audit", id); err != nil {
			return nil, err
		}
		if k := (auditKey{e.Community(), id}); !seen[k] {
			seen[k] = true
			cs, ids = append(cs, k.community), append(ids, k.audit)
		}
	}
	rows := make(map[auditKey]*auditRow, len(ids))
	loaded, err := tables.Collect(ctx, tx, "directory", fmt.Sprintf("load %d audits", len(ids)), auditsTable.LoadSQL(2),
		func(rs pgx.Rows) (*auditRow, error) {
			a := &auditRow{}
			var cEv pgtype.UUID
			var cPos pgtype.Int8
			err := rs.Scan(&a.community, &a.audit, &a.kind, &a.auditor, &a.periodFrom, &a.periodTo, &a.openedAt, &a.openedSrc.ID,
				&a.openedSrc.Commit, &a.findings, &a.result, &a.closedAt, &cEv, &cPos, &a.stream, &a.lastRev)
			a.closedSrc = decode.SourceOf(cEv, cPos)
			return a, err
		}, cs, ids)
	if err != nil {
		return nil, err
	}
	for _, a := range loaded {
		rows[a.auditKey] = a
	}
	for _, e := range evs {
		id, _ := auditOf(e.Payload)
		k := auditKey{e.Community(), id}
		a := rows[k]
		if a != nil && e.Revision() <= a.lastRev {
			continue // already applied
		}
		if o, ok := e.Payload.(audit.Opened); ok {
			a = &auditRow{auditKey: k, kind: string(o.Kind), auditor: o.Auditor, periodFrom: o.Period.From, periodTo: o.Period.To,
				openedAt: o.OpenedAt, openedSrc: e.Source()}
			rows[k] = a
		} else if a == nil {
			continue // the audit's opening was never applied (skipped as poison): nothing to attach to
		}
		a.stream, a.lastRev, a.dirty = e.Rec.Stream, e.Revision(), true
		switch p := e.Payload.(type) {
		case audit.FindingRecorded:
			a.findings++
		case audit.Closed:
			a.result, a.closedAt, a.closedSrc = tables.Text(string(p.Result)), tables.Time(p.ClosedAt), e.Source()
		}
	}
	return rows, nil
}

// writeAudits queues the changed audits' upserts on w.
func writeAudits(w *tables.Writer, rows map[auditKey]*auditRow) {
	out := auditsTable.Rows()
	keys := slices.SortedFunc(maps.Keys(rows), func(a, b auditKey) int {
		return cmp.Or(strings.Compare(a.community, b.community), strings.Compare(a.audit, b.audit))
	})
	for _, k := range keys {
		if a := rows[k]; a.dirty {
			out.Row().Text(a.community).Text(a.audit).Text(a.kind).Text(a.auditor).Time(a.periodFrom).Time(a.periodTo).Time(a.openedAt).
				UUID(a.openedSrc.ID).Int8(a.openedSrc.Commit).Int4(int32(a.findings)).NullText(a.result).NullTime(a.closedAt).
				UUID(a.closedSrc.ID).NullInt8(a.closedSrc.Pos()).Text(a.stream).Int8(a.lastRev)
		}
	}
	w.Upsert(out)
}

// Step is when something happened and the event that recorded it, with its $all commit position.
type Step = tables.Step

// Audit is an audit of a community's cadres as the public may know it.
type Audit struct {
	CommunityID string
	AuditID     string
	Kind        audit.Kind
	Auditor     string
	PeriodFrom  time.Time
	PeriodTo    time.Time
	Opened      Step
	Findings    int
	// Result and Closed are set once the audit is closed.
	Result audit.Result
	Closed *Step
}

// Audits returns the audits of community communityID with the given ids (all of them when ids is nil), by
// id: what sentences naming an audit look up.
func Audits(ctx context.Context, q Querier, communityID string, ids []string) (map[string]Audit, error) {
	where, args := "community_id = $1", []any{communityID}
	if ids != nil {
		where, args = where+" AND audit_id = ANY($2)", append(args, ids)
	}
	as, err := tables.Collect(ctx, q, "directory", "audits of "+communityID, `SELECT community_id, audit_id, kind, auditor, period_from,
		period_to, opened_at, opened_event_id, opened_commit_pos, findings, coalesce(result, ''), closed_at, closed_event_id, closed_commit_pos
		FROM `+pgx.Identifier{Schema, "audits"}.Sanitize()+` WHERE `+where+` ORDER BY opened_at, audit_id`,
		func(rows pgx.Rows) (Audit, error) {
			var a Audit
			var kind, result string
			var oEv, cEv pgtype.UUID
			var oPos int64
			var cPos pgtype.Int8
			var cAt pgtype.Timestamptz
			if err := rows.Scan(&a.CommunityID, &a.AuditID, &kind, &a.Auditor, &a.PeriodFrom, &a.PeriodTo, &a.Opened.At, &oEv, &oPos,
				&a.Findings, &result, &cAt, &cEv, &cPos); err != nil {
				return Audit{}, err
			}
			a.Kind, a.Result = audit.Kind(kind), audit.Result(result)
			a.PeriodFrom, a.PeriodTo = a.PeriodFrom.UTC(), a.PeriodTo.UTC()
			a.Opened = tables.Step{At: a.Opened.At.UTC(), EventID: eventlog.ID(oEv.Bytes), Commit: uint64(oPos)}
			a.Closed = tables.StepOf(cAt, cEv, cPos)
			return a, nil
		}, args...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Audit, len(as))
	for _, a := range as {
		out[a.AuditID] = a
	}
	return out, nil
}
