// Package decode turns a batch of recorded events into the domain events a read model handles, through
// the domain's one registry, with every event that can never be applied reported as a runtime poison
// event, and checks the envelope facts every model keys its rows by (community, stream). Writing the
// rows is projections/internal/tables' job.
package decode

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Event is one event of a batch that a model handles: its envelope and its payload decoded (and upcast)
// to the latest Go struct of its type.
type Event struct {
	Rec     *eventlog.Recorded
	Payload kernel.Event
}

// Community is the community the event belongs to, from its metadata.
func (e Event) Community() string { return e.Rec.Meta.CommunityID }

// Revision is the event's place in its stream, as a bigint.
func (e Event) Revision() int64 { return int64(e.Rec.Revision) }

// Commit is the commit part of the event's $all position, as a bigint: what a portal links to.
func (e Event) Commit() int64 { return int64(e.Rec.Position.Commit) }

// ID is the event's id as a PostgreSQL uuid.
func (e Event) ID() pgtype.UUID { return pgtype.UUID{Bytes: e.Rec.ID, Valid: true} }

// Source is the provenance of a figure: the event it came from and that event's $all commit position.
type Source struct {
	ID     pgtype.UUID
	Commit int64
}

// Pos is the commit position as a nullable bigint: NULL when the source is unset (ID not valid).
func (s Source) Pos() pgtype.Int8 { return pgtype.Int8{Int64: s.Commit, Valid: s.ID.Valid} }

// SourceOf rebuilds a source from nullable columns.
func SourceOf(id pgtype.UUID, pos pgtype.Int8) Source {
	if !id.Valid {
		return Source{}
	}
	return Source{ID: id, Commit: pos.Int64}
}

// Source returns the event as the provenance of what it sets.
func (e Event) Source() Source { return Source{ID: e.ID(), Commit: e.Commit()} }

// Poison reports e as a poison event (runtime.ErrPoison) because of err: an event the model can never
// apply. The error names the event's type, stream and revision.
func (e Event) Poison(err error) error {
	return runtime.Poison(*e.Rec, fmt.Errorf("%s %s@%d: %w: %w", e.Rec.Type, e.Rec.Stream, e.Rec.Revision, err, runtime.ErrPoison))
}

// Decoder picks the events a model handles out of a batch and decodes them. It is safe for concurrent
// use once built.
type Decoder struct {
	reg     *kernel.Registry
	handled map[string]bool
	// prefixes are the namespaces of the handled types ("funds."): most events of a batch belong to other
	// models, and a prefix test rules them out faster than a map look-up.
	prefixes []string
}

// New returns a decoder of the event types of handled (zero values name them by their permanent wire
// names). It panics if the registry does not know one of them: a programming error found at start.
func New(reg *kernel.Registry, handled ...kernel.Event) *Decoder {
	d := &Decoder{reg: reg, handled: make(map[string]bool, len(handled))}
	for _, e := range handled {
		if !reg.Knows(e) {
			panic(fmt.Sprintf("projection decoder: the registry does not know %s v%d", e.EventName(), e.SchemaVersion()))
		}
		d.handled[e.EventName()] = true
		p := e.EventName()
		if i := strings.IndexByte(p, '.'); i > 0 {
			p = p[:i+1]
		}
		if !slices.Contains(d.prefixes, p) {
			d.prefixes = append(d.prefixes, p)
		}
	}
	return d
}

func (d *Decoder) handles(typ string) bool {
	for _, p := range d.prefixes {
		if strings.HasPrefix(typ, p) {
			return d.handled[typ]
		}
	}
	return false
}

// Handles reports whether the decoder decodes events of the wire name typ.
func (d *Decoder) Handles(typ string) bool { return d.handles(typ) }

// ErrEnvelope marks an event whose envelope a read model cannot store: a position or revision beyond a
// PostgreSQL bigint, or no community where one is required.
var ErrEnvelope = errors.New("envelope cannot be stored")

// parallelFrom is the number of events of a batch from which Batch decodes on several cores: JSON
// decoding is most of a read model's own CPU time, and while one model decodes, PostgreSQL waits.
const parallelFrom = 256

// Batch decodes, in order, the events of batch whose type the decoder handles; others are left out. The
// first event that does not decode — an unknown schema version, a malformed payload — or whose position
// does not fit a bigint is returned as a *runtime.PoisonError naming it (it wraps runtime.ErrPoison and
// the registry's *kernel.DecodeError), so the runtime applies the model's poison policy to that event.
// Large batches are decoded on every core; the result does not depend on it.
func (d *Decoder) Batch(batch []eventlog.Recorded) ([]Event, error) {
	var idx []int
	for i := range batch {
		if d.handles(batch[i].Type) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	out := make([]Event, len(idx))
	errs := make([]error, len(idx))
	decodeRange := func(from, to int) {
		for k := from; k < to; k++ {
			r := &batch[idx[k]]
			out[k].Rec = r
			out[k].Payload, errs[k] = d.decode(r)
		}
	}
	workers := min(goruntime.GOMAXPROCS(0), len(idx)/parallelFrom)
	if workers <= 1 {
		decodeRange(0, len(idx))
	} else {
		var wg sync.WaitGroup
		per := (len(idx) + workers - 1) / workers
		for from := 0; from < len(idx); from += per {
			wg.Go(func() { decodeRange(from, min(from+per, len(idx))) })
		}
		wg.Wait()
	}
	for k, err := range errs {
		if err != nil {
			return nil, runtime.Poison(*out[k].Rec, err)
		}
	}
	return out, nil
}

func (d *Decoder) decode(r *eventlog.Recorded) (kernel.Event, error) {
	if r.Position.Commit > math.MaxInt64 || r.Position.Prepare > math.MaxInt64 || r.Revision > math.MaxInt64 {
		return nil, fmt.Errorf("%s %s@%d: position %s or revision does not fit a bigint: %w: %w",
			r.Type, r.Stream, r.Revision, r.Position, ErrEnvelope, runtime.ErrPoison)
	}
	// The same copy of an event reaches every model; the first to decode it decodes it for all (the
	// payload is read-only to each of them).
	v, err := r.Shared.Payload(d.reg, func() (any, error) { return d.reg.Decode(r.Type, r.Meta.SchemaVersion, r.Data) })
	e, _ := v.(kernel.Event)
	if err != nil {
		return nil, fmt.Errorf("%s@%d: %w: %w", r.Stream, r.Revision, err, runtime.ErrPoison)
	}
	return e, nil
}

// CheckStream returns a poison error unless e is in stream <kind>-<community>-<id> of its own community
// (DESIGN.md decision 3): the models key rows by community and id and keep, per row, the last revision of
// that one stream, so an event filed elsewhere could be applied twice or over another aggregate's state.
func CheckStream(e Event, kind, id string) error {
	s, c := e.Rec.Stream, e.Community()
	ok := len(s) == len(kind)+len(c)+len(id)+2 && strings.HasPrefix(s, kind) && s[len(kind)] == '-' &&
		s[len(kind)+1:len(kind)+1+len(c)] == c && s[len(kind)+1+len(c)] == '-' && s[len(kind)+len(c)+2:] == id
	if !ok || c == "" || id == "" {
		return e.Poison(fmt.Errorf("the event of %s %q of community %q is in stream %q, not %s-%s-%s: %w",
			kind, id, c, s, kind, c, id, ErrEnvelope))
	}
	return nil
}

// RequireCommunity returns a poison error unless e's metadata names its community: the models key every
// row by community, and an event without one can never be placed.
func RequireCommunity(e Event) error {
	if e.Rec.Meta.CommunityID == "" {
		return e.Poison(fmt.Errorf("no community_id in the metadata: %w", ErrEnvelope))
	}
	return nil
}

// Int32s returns a poison error unless every n fits a PostgreSQL integer: counts (households, voters,
// votes) are integer columns, and a payload beyond them can never be stored faithfully.
func Int32s(e Event, ns ...int) error {
	for _, n := range ns {
		if n < math.MinInt32 || n > math.MaxInt32 {
			return e.Poison(fmt.Errorf("count %d does not fit an integer column: %w", n, ErrEnvelope))
		}
	}
	return nil
}

// Model is what every public read model embeds: its permanent name, its migrations and the decoder of the
// events it handles (the domain's registry). It gives runtime.ReadModel's Name and Migrations; the model
// adds Apply and Poison.
type Model struct {
	Dec        *Decoder
	name       string
	migrations fs.FS
}

// NewModel returns the shared part of model name with the migrations (migrations/*.sql) embedded in its
// package, decoding the event types of handled.
func NewModel(name string, migrations embed.FS, handled ...kernel.Event) Model {
	return Model{Dec: New(events.Shared(), handled...), name: name, migrations: runtime.EmbeddedMigrations(migrations)}
}

// Name implements runtime.ReadModel.
func (m Model) Name() string { return m.name }

// Migrations implements runtime.ReadModel.
func (m Model) Migrations() fs.FS { return m.migrations }
