package supervision

import (
	"context"
	"fmt"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// Runner is the port through which the supervision runner (infra/supervision) drives the model: the alert
// events the fold decided (the outbox), those the clock decides (due deadlines, calendar checkpoints),
// how far the model got, and an alert as a supervisor's resolution sees it. Every statement on the
// model's tables lives behind it; the runner appends, waits and keeps time.
type Runner interface {
	// Checkpoint is the model's checkpoint: every event up to it is applied.
	Checkpoint(ctx context.Context) (eventlog.Position, error)
	// Outbox returns at most limit alert events the fold decided and nobody appended yet (or whose
	// append the model has not seen yet), oldest decision first.
	Outbox(ctx context.Context, limit int) ([]Pending, error)
	// DueAlerts returns the alert events the deadlines due at now raise: at the rule's severity when due,
	// red once the missing fact is older than red-after; looked is how many due deadlines it read (at most
	// limit: a full page means there is more).
	DueAlerts(ctx context.Context, now time.Time, limit int) (out []Pending, looked int, err error)
	// CalendarAlerts returns the alert events calendar checkpoint k raises (residents' meetings, and at
	// year end the operating funds) that were not raised before.
	CalendarAlerts(ctx context.Context, k supervision.Checkpoint, now time.Time) ([]Pending, error)
	// Alert is an alert as the model holds it, with a clear still in the outbox counted as cleared;
	// ErrAlertNotFound when there is none.
	Alert(ctx context.Context, alertID string) (supervision.AlertState, error)
}

// NewRunner returns the port on q (the pool the model's tables are in).
func NewRunner(q Querier) Runner { return runner{q: q} }

type runner struct{ q Querier }

func (r runner) Checkpoint(ctx context.Context) (eventlog.Position, error) {
	return checkpoint(ctx, r.q)
}

func (r runner) Outbox(ctx context.Context, limit int) ([]Pending, error) {
	return outbox(ctx, r.q, limit)
}

func (r runner) DueAlerts(ctx context.Context, now time.Time, limit int) ([]Pending, int, error) {
	dues, err := dueDeadlines(ctx, r.q, now, limit)
	if err != nil {
		return nil, 0, err
	}
	params := r.params()
	ids := make([]string, len(dues))
	for i, d := range dues {
		ids[i] = supervision.AlertID(d.Rule, d.Subject, supervision.DeadlineAnchor(d.DueAt, d.Epoch))
	}
	known, err := knownAll(ctx, r.q, ids)
	if err != nil {
		return nil, 0, err
	}
	var out []Pending
	for _, d := range dues {
		p, err := params.get(ctx, d.Jurisdiction)
		if err != nil {
			return nil, 0, err
		}
		sev := p.SeverityAt(d.Rule, d.DueAt, now)
		if d.Severity != "" && !supervision.Worse(sev, d.Severity) {
			continue
		}
		due := d.DueAt.UTC()
		id := supervision.AlertID(d.Rule, d.Subject, supervision.DeadlineAnchor(due, d.Epoch))
		if k, found := known[id]; found && (k.Cleared || !supervision.Worse(sev, k.Severity)) {
			continue
		}
		detail := d.Detail
		if sev == rulebook.Red && p.Severity(d.Rule) != rulebook.Red {
			detail += fmt.Sprintf("；逾期已超过%s", p.Span(d.Rule, rulebook.ParamRedAfter).Chinese())
		}
		a := supervision.AlertRaised{AlertID: id, Rule: d.Rule, Severity: sev, Community: d.Community, Jurisdiction: d.Jurisdiction,
			Subject: d.Subject, Trigger: supervision.ByDeadline, Detail: detail, DueAt: &due, Source: d.Source, RaisedAt: now}
		cause := Cause{}
		if d.Source != nil {
			cause.EventID = d.Source.EventID
		}
		stream, ev, err := Envelope(a, Actor, cause)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Pending{Stream: stream, Event: ev})
	}
	return out, len(dues), nil
}

func (r runner) CalendarAlerts(ctx context.Context, k supervision.Checkpoint, now time.Time) ([]Pending, error) {
	params := r.params()
	checks, err := assemblyChecks(ctx, r.q, k)
	if err != nil {
		return nil, err
	}
	var candidates []supervision.AlertRaised
	if !k.FirstHalf { // the year k.Year ended: its operating funds too
		fundsChecks, err := operatingFundsChecks(ctx, r.q, k.Year)
		if err != nil {
			return nil, err
		}
		for _, f := range fundsChecks {
			p, err := params.get(ctx, f.Jurisdiction)
			if err != nil {
				return nil, err
			}
			if b := supervision.CheckOperatingFunds(k.Year, f.Households, f.Allocated, p); b != nil {
				candidates = append(candidates, calendarAlert(*b, k, f.Community, f.Jurisdiction,
					supervision.OperatingFundsSubject(f.Community, k.Year), p, now))
			}
		}
	}
	for _, c := range checks {
		p, err := params.get(ctx, c.Jurisdiction)
		if err != nil {
			return nil, err
		}
		if b := supervision.CheckAssemblies(k, c.Kind, c.Held, p); b != nil {
			candidates = append(candidates, calendarAlert(*b, k, c.Community, c.Jurisdiction, k.Subject(c.Community), p, now))
		}
	}
	var out []Pending
	for len(candidates) > 0 {
		page := candidates[:min(len(candidates), 1000)]
		candidates = candidates[len(page):]
		ids := make([]string, len(page))
		for i, a := range page {
			ids[i] = a.AlertID
		}
		known, err := knownAll(ctx, r.q, ids)
		if err != nil {
			return nil, err
		}
		for _, a := range page {
			if _, found := known[a.AlertID]; found {
				continue
			}
			stream, ev, err := Envelope(a, Actor, Cause{})
			if err != nil {
				return nil, err
			}
			out = append(out, Pending{Stream: stream, Event: ev})
		}
	}
	return out, nil
}

// calendarAlert is the alert a calendar checkpoint raises for a breach found about subject.
func calendarAlert(b kernel.Breach, k supervision.Checkpoint, c kernel.CommunityID, path kernel.JurisdictionPath, subject string,
	p rulebook.Params, now time.Time) supervision.AlertRaised {
	due := k.At
	return supervision.AlertRaised{AlertID: supervision.AlertID(b.Rule, subject, supervision.Anchor(k.At)),
		Rule: b.Rule, Severity: p.Severity(b.Rule), Community: c, Jurisdiction: path, Subject: subject,
		Trigger: supervision.ByCalendar, Detail: b.Detail, DueAt: &due, RaisedAt: now}
}

func (r runner) Alert(ctx context.Context, alertID string) (supervision.AlertState, error) {
	a, err := AlertByID(ctx, r.q, alertID)
	if err != nil {
		return supervision.AlertState{}, err
	}
	var pendingClear bool
	if err := r.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM `+table("outbox")+` WHERE event_id = $1)`,
		pgUUID(supervision.ClearedEventID(a.ID))).Scan(&pendingClear); err != nil {
		return supervision.AlertState{}, fmt.Errorf("look for a pending clear of %s: %w", a.ID, err)
	}
	return supervision.AlertState{ID: a.ID, Rule: a.Rule, Community: a.Community, Jurisdiction: a.Jurisdiction, Subject: a.Subject,
		Open: a.Open() && !pendingClear}, nil
}

// params resolves the rule parameters in force per jurisdiction, each read once per call of the port.
func (r runner) params() *paramsCache {
	return &paramsCache{q: r.q, m: map[kernel.JurisdictionPath]rulebook.Params{}}
}

type paramsCache struct {
	q Querier
	m map[kernel.JurisdictionPath]rulebook.Params
}

func (c *paramsCache) get(ctx context.Context, path kernel.JurisdictionPath) (rulebook.Params, error) {
	if p, ok := c.m[path]; ok {
		return p, nil
	}
	p, err := paramsFor(ctx, c.q, table("overrides"), path)
	if err != nil {
		return rulebook.Params{}, err
	}
	c.m[path] = p
	return p, nil
}
