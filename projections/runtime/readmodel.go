package runtime

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ReadModel is one projection: Postgres tables in its own schema (rm_<Name>) and the code that folds events
// into them. The runtime calls Apply with contiguous batches of $all in order, each inside one transaction
// that also advances the model's checkpoint, so a batch is applied entirely or not at all, and never twice.
//
// Apply runs with search_path set to the model's schema (then public): use unqualified table names. The
// same code runs against the shadow schema during a rebuild, which is what makes the rebuild swap atomic.
// Apply must be deterministic in the events and the tables' contents (no clock, no randomness, no reads of
// other models' schemas): a rebuild must produce the same rows as live projection.
type ReadModel interface {
	// Name is the model's permanent identifier: lower-case letters, digits and underscores, starting with a
	// letter, at most 40 characters. The model lives in schema rm_<Name>; renaming a model is a new model.
	Name() string
	// Migrations holds the model's *.sql files at its root, named NNNN_description.sql and applied once each,
	// in order, with search_path set to the model's schema. Never edit a migration that was applied: add one.
	Migrations() fs.FS
	// Apply folds a batch of events into the model's tables. The batch holds only events after the model's
	// checkpoint, in $all order, without system ($) streams; it may contain events the model ignores.
	// An error that wraps ErrPoison marks an event the model can never apply (see Poison); any other error
	// rolls the batch back and is retried with backoff, forever: a database outage never skips an event.
	Apply(ctx context.Context, tx pgx.Tx, batch []eventlog.Recorded) error
	// Poison says what happens to an event Apply rejects with ErrPoison.
	Poison() PoisonPolicy
}

// PoisonPolicy is what a read model does with an event it cannot apply. Every model chooses one explicitly.
type PoisonPolicy uint8

const (
	// Halt stops the model at the poison event: its checkpoint stays just before the event, the event is
	// recorded in rm_meta.poison_events and the model is marked halted. The other models go on. Choose it
	// for models that must not silently miss a fact (money, elections). Fix the code and restart.
	Halt PoisonPolicy = iota + 1
	// SkipAndReport records the event in rm_meta.poison_events, counts it, and goes on without it. Choose it
	// for models where one missing row is better than a stale model (search indexes, statistics).
	SkipAndReport
)

func (p PoisonPolicy) String() string {
	switch p {
	case Halt:
		return "halt"
	case SkipAndReport:
		return "skip-and-report"
	default:
		return fmt.Sprintf("PoisonPolicy(%d)", uint8(p))
	}
}

// ErrPoison marks an event a read model can never apply: an unknown schema version, a payload that does
// not decode. Wrap it (fmt.Errorf("decode %s: %w", typ, runtime.ErrPoison)) and the model's PoisonPolicy
// applies. Never wrap it for a failure that could go away on retry (a database error): that would skip data.
var ErrPoison = errors.New("projection: poison event")

// PoisonError names the event of a batch that is poison. Apply may return it so the runtime does not have
// to find the event by re-applying the batch one event at a time; it wraps ErrPoison.
type PoisonError struct {
	Position eventlog.Position
	Err      error
}

func (e *PoisonError) Error() string {
	return fmt.Sprintf("poison event at %s: %v", e.Position, e.Err)
}

// Unwrap returns the cause.
func (e *PoisonError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPoison) true.
func (e *PoisonError) Is(target error) bool { return target == ErrPoison }

// Poison wraps err as the poison error of event r.
func Poison(r eventlog.Recorded, err error) error {
	return &PoisonError{Position: r.Position, Err: err}
}

var modelName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// SchemaOf is the Postgres schema of the read model named name: rm_<name>.
func SchemaOf(name string) string { return "rm_" + name }

// shadowSchema is where a rebuild of the model writes until the swap.
func shadowSchema(name string) string { return "rm_" + name + "__rebuild" }

// retiredSchema is the name the live schema takes for the instant of the swap.
func retiredSchema(name string) string { return "rm_" + name + "__retired" }

func validateModel(m ReadModel) error {
	if m == nil {
		return errors.New("read model is nil")
	}
	name := m.Name()
	if !modelName.MatchString(name) {
		return fmt.Errorf("read model name %q: want lower-case letters, digits and _ (starting with a letter, at most 40)", name)
	}
	if name == "meta" {
		return errors.New(`read model name "meta" is reserved for the runtime's own schema rm_meta`)
	}
	if p := m.Poison(); p != Halt && p != SkipAndReport {
		return fmt.Errorf("read model %s: poison policy %v: choose Halt or SkipAndReport", name, p)
	}
	if m.Migrations() == nil {
		return fmt.Errorf("read model %s: Migrations is nil", name)
	}
	return nil
}

// WholeLog is implemented by a read model of the whole log rather than of communities — the transparency
// log's Merkle tree over every event in $all order. An auditor's replay of one community's events leaves
// it out: a tree over a subset of the log is no log anyone publishes (auditors check the log itself with
// its proofs and signed checkpoints).
type WholeLog interface {
	WholeLog()
}
