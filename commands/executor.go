package commands

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Meta is what every command carries besides its own fields.
type Meta struct {
	// CommandID is the idempotency key (HTTP Idempotency-Key): the same id given again returns the first
	// result and appends nothing. 1–128 characters of [A-Za-z0-9._:-].
	CommandID string
	// CorrelationID ties together everything one request caused; defaults to CommandID.
	CorrelationID string
	// CausationID is the direct cause (an event id or a command id); defaults to CommandID.
	CausationID string
	// Actor is the authenticated caller.
	Actor Actor
	// Command names the command and RequestHash identifies its request (name and canonical body), so that
	// the same key given with another command or body is refused (idempotency-key-reused) instead of
	// answered with the first command's result. The HTTP API sets both; empty skips the comparison.
	Command, RequestHash string
}

// ErrIdempotencyKeyReused: an Idempotency-Key given again with another command or another body.
var ErrIdempotencyKeyReused = kernel.Rejected("idempotency-key-reused", "")

// Validate reports malformed metadata as an Invalid domain error naming the field: the command id
// (required) and the correlation id (optional), 1–128 characters of [A-Za-z0-9._:-] each.
func (m Meta) Validate() error {
	if n := len(m.CommandID); n == 0 || n > 128 {
		return kernel.Invalid("command-id-invalid", "command_id", "命令编号(Idempotency-Key)必填，长度1至128个字符")
	}
	if !keyChars(m.CommandID) {
		return kernel.Invalid("command-id-invalid", "command_id", "命令编号只能包含字母、数字和 . _ : -")
	}
	if c := m.CorrelationID; c != "" && (len(c) > 128 || !keyChars(c)) {
		return kernel.Invalid("correlation-id-invalid", "correlation_id", "X-Correlation-ID 只能包含字母、数字和 . _ : -,长度1至128个字符")
	}
	return nil
}

// keyChars reports whether s is made of the characters of an Idempotency-Key.
func keyChars(s string) bool {
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// EventRef names one event a command appended.
type EventRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// Result is what a command did.
type Result struct {
	// Stream is the aggregate's stream; Revision is its revision after the command.
	Stream   string `json:"stream"`
	Revision uint64 `json:"revision"`
	// Position is the $all position of the last event the command appended.
	Position eventlog.Position `json:"position"`
	Events   []EventRef        `json:"events"`
	// Replayed is true when the command id had already been recorded: this is the first result and
	// nothing new was appended.
	Replayed bool `json:"replayed"`
	// Unchanged is true when the command found nothing left to do (personal data already erased): nothing
	// was appended.
	Unchanged bool `json:"unchanged,omitempty"`
	// Breaches are the watch rules the recorded fact breaks: it is recorded, and the supervisors are
	// alerted. The clerk learns it at once.
	Breaches []BreachRef `json:"breaches,omitempty"`
}

// BreachRef is a watch rule a recorded fact breaks: the rule's code, its title and what was wrong.
type BreachRef struct {
	Rule   string `json:"rule"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
}

// breachesOf lists the breaches the events carry.
func breachesOf(events []kernel.Event) []BreachRef {
	var out []BreachRef
	for _, e := range events {
		w, ok := e.(kernel.Watched)
		if !ok {
			continue
		}
		for _, b := range w.Breached() {
			title := string(b.Rule)
			if r, ok := rulebook.Lookup(b.Rule); ok {
				title = r.Title
			}
			out = append(out, BreachRef{Rule: string(b.Rule), Title: title, Detail: b.Detail})
		}
	}
	return out
}

// Target is the aggregate a command is about and the jurisdiction it is authorized against.
type Target struct {
	Stream      string
	CommunityID kernel.CommunityID
	Path        kernel.JurisdictionPath
}

// Decide is the domain step of a command: given the aggregate's history (decoded, oldest first) and the
// handler's clock, the events to append or a domain error.
type Decide func(history []kernel.Event, now time.Time) ([]kernel.Event, error)

// Executor runs commands: authorize, load, decide, append with the exact expected revision.
type Executor struct {
	store EventStore
	clock Clock
	reg   *kernel.Registry
	log   *slog.Logger
}

// NewExecutor builds an executor; logger may be nil.
func NewExecutor(store EventStore, clock Clock, reg *kernel.Registry, logger *slog.Logger) *Executor {
	if logger == nil {
		logger = slog.Default()
	}
	return &Executor{store: store, clock: clock, reg: reg, log: logger}
}

// Now is the executor's clock.
func (x *Executor) Now() time.Time { return x.clock.Now().UTC() }

// Execute runs one command against one stream whose target is known without a look-up: the metadata
// are validated and the actor authorized for action on the target (once), then the command runs (see
// run). The commands of the catalogue use the Handlers, which find their target in the registry in the
// middle of the same gate (see admit).
func (x *Executor) Execute(ctx context.Context, m Meta, t Target, action Action, decide Decide) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if err := Authorize(m.Actor, action, string(t.Path)); err != nil {
		return Result{}, err
	}
	return x.run(ctx, m, t, decide)
}

// execute admits a command whose target resolve names, and runs it.
func (x *Executor) execute(ctx context.Context, m Meta, action Action, resolve func() (Target, error), decide Decide) (Result, error) {
	t, err := admit(m, action, resolve)
	if err != nil {
		return Result{}, err
	}
	return x.run(ctx, m, t, decide)
}

// admit is the gate every command passes once per request, before anything about its subject is read:
// the metadata is validated, the actor's role must be allowed action at all, resolve names the target
// (checking the identifiers that go into its stream name, reading at most the public registry), and the
// actor's scope must cover the target's jurisdiction. Steps of an admitted command on other streams
// (a reservation, a commitment) run without passing it again.
func admit(m Meta, action Action, resolve func() (Target, error)) (Target, error) {
	if err := m.Validate(); err != nil {
		return Target{}, err
	}
	if f := authorizeRole(m.Actor, action); f != nil {
		return Target{}, f
	}
	t, err := resolve()
	if err != nil {
		return Target{}, err
	}
	return t, authorizeScope(m.Actor, string(t.Path))
}

// run is the one load–decide–append of an admitted command. Order matters for "no change on bad
// input": the domain decides before anything is written, and the append is atomic with the exact
// expected revision of what was loaded.
//
// A command id already present in the stream returns the first result (Replayed) without deciding
// again, so a retry after a lost response is safe even if the state moved on since. A conflict (someone
// appended first) returns an error that errors.Is eventlog.ErrConflict: the caller reloads and retries.
func (x *Executor) run(ctx context.Context, m Meta, t Target, decide Decide) (Result, error) {
	recs, err := x.store.Load(ctx, t.Stream)
	if err != nil {
		return Result{}, fmt.Errorf("load %s: %w", t.Stream, err)
	}
	if res, ok, err := replayed(t.Stream, recs, m); ok || err != nil {
		if ok {
			res.Breaches = x.recordedBreaches(recs, m.CommandID)
		}
		return res, err
	}
	history, err := x.decodeAll(recs)
	if err != nil {
		return Result{}, err
	}
	now := x.Now()
	events, err := decide(history, now)
	if err != nil {
		return Result{}, err
	}
	if len(events) == 0 {
		rev := uint64(0)
		if len(recs) > 0 {
			rev = recs[len(recs)-1].Revision
		}
		return Result{Stream: t.Stream, Revision: rev, Events: []EventRef{}}, nil
	}
	proposed, err := Envelope(x.reg, m, t, events, now)
	if err != nil {
		return Result{}, err
	}
	ar, err := x.store.Append(ctx, t.Stream, eventlog.After(recs), proposed)
	if errors.Is(err, eventlog.ErrConflict) {
		// Two deliveries of the same command can race; the loser must see the winner's result, not a
		// conflict it cannot resolve by retrying.
		if again, lerr := x.store.Load(ctx, t.Stream); lerr == nil {
			if res, ok, err := replayed(t.Stream, again, m); ok || err != nil {
				return res, err
			}
			if len(again) == len(recs) && m.RequestHash != "" {
				// Nothing was appended since the load, yet the append was refused: the event ids this key
				// derives are already in another stream (the store keeps ids unique). Retrying cannot help.
				return Result{}, ErrIdempotencyKeyReused.WithField("command_id").WithMsg(
					"Idempotency-Key %s 已用于另一条记录的命令，本次未写入任何内容；新的命令请用新的 Idempotency-Key", m.CommandID)
			}
		}
		return Result{}, err
	}
	if err != nil {
		return Result{}, fmt.Errorf("append %s: %w", t.Stream, err)
	}
	res := Result{Stream: t.Stream, Revision: ar.Revision, Position: ar.Position, Events: make([]EventRef, len(proposed)), Breaches: breachesOf(events)}
	for i, e := range proposed {
		res.Events[i] = EventRef{ID: e.ID.String(), Type: e.Type}
	}
	x.log.LogAttrs(ctx, slog.LevelInfo, "command recorded", slog.String("stream", t.Stream),
		slog.String("command_id", m.CommandID), slog.String("role", string(m.Actor.Role)), slog.Int("events", len(proposed)))
	return res, nil
}

// Recorded reports whether command id has events in stream (it was recorded; Execute would replay it).
func (x *Executor) Recorded(ctx context.Context, stream, commandID string) (bool, error) {
	recs, err := x.store.Load(ctx, stream)
	if err != nil {
		return false, fmt.Errorf("load %s: %w", stream, err)
	}
	for _, r := range recs {
		if r.Meta.CommandID == commandID {
			return true, nil
		}
	}
	return false, nil
}

// recordedBreaches lists the breaches of the events command id recorded in recs (for a replayed result).
func (x *Executor) recordedBreaches(recs []eventlog.Recorded, commandID string) []BreachRef {
	var evs []kernel.Event
	for _, r := range recs {
		if r.Meta.CommandID != commandID {
			continue
		}
		if e, err := x.reg.Decode(r.Type, r.Meta.SchemaVersion, r.Data); err == nil {
			evs = append(evs, e)
		}
	}
	return breachesOf(evs)
}

// Load decodes another aggregate's history, for commands that need facts from it (a resolution, a
// community's figures, the rulebook). A missing stream is an empty history.
func (x *Executor) Load(ctx context.Context, stream string) ([]kernel.Event, error) {
	recs, err := x.store.Load(ctx, stream)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", stream, err)
	}
	return x.decodeAll(recs)
}

func (x *Executor) decodeAll(recs []eventlog.Recorded) ([]kernel.Event, error) {
	out := make([]kernel.Event, 0, len(recs))
	for _, r := range recs {
		e, err := x.reg.Decode(r.Type, r.Meta.SchemaVersion, r.Data)
		if err != nil {
			return nil, fmt.Errorf("decode %s revision %d (%s): %w", r.Stream, r.Revision, r.Type, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// replayed finds the events a command id already appended to the stream.
func replayed(stream string, recs []eventlog.Recorded, m Meta) (Result, bool, error) {
	var res Result
	for _, r := range recs {
		if r.Meta.CommandID != m.CommandID {
			continue
		}
		if m.RequestHash != "" && r.Meta.RequestHash != "" && (r.Meta.RequestHash != m.RequestHash || r.Meta.Command != m.Command) {
			what := "另一个请求内容"
			if r.Meta.Command != m.Command {
				what = "命令 " + r.Meta.Command
			}
			return Result{}, false, ErrIdempotencyKeyReused.WithField("command_id").WithMsg(
				"Idempotency-Key %s 已用于%s（%s 第%d条），本次未写入任何内容；重试请发送完全相同的请求，新的命令请用新的 Idempotency-Key",
				m.CommandID, what, stream, r.Revision)
		}
		res.Events = append(res.Events, EventRef{ID: r.ID.String(), Type: r.Type})
		res.Revision, res.Position = r.Revision, r.Position
	}
	if len(res.Events) == 0 {
		return Result{}, false, nil
	}
	res.Stream, res.Replayed = stream, true
	return res, true, nil
}
