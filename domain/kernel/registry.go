package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"

	jsonv2 "github.com/go-json-experiment/json"
	jsonv1 "github.com/go-json-experiment/json/v1"
)

// Decoding failures. Every error Registry.Decode returns is a *DecodeError
// that matches exactly one of these with errors.Is. A projection that meets
// one has found a poison event: it must not retry it forever, but park it,
// alert, and keep its checkpoint where it is until an operator decides.
var (
	// ErrUnknownEvent: no event type is registered under the wire name. The
	// binary is older than the stream, or the name is corrupt.
	ErrUnknownEvent = errors.New("unknown event name")
	// ErrUnsupportedVersion: the name is known but the schema version is
	// newer than this binary knows, below 1, or lacks an upcaster chain.
	ErrUnsupportedVersion = errors.New("unsupported event schema version")
	// ErrMalformedEvent: the payload is not a JSON object of the expected
	// shape for its version (bad JSON, wrong types, unknown fields, or an
	// upcaster refused it).
	ErrMalformedEvent = errors.New("malformed event payload")
)

// DecodeError says which event failed to decode and why. Err is one of the
// sentinels above; Cause, when set, is the underlying JSON or upcaster error.
type DecodeError struct {
	Name    string
	Version int
	Err     error
	Cause   error
}

func (e *DecodeError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("decode %s v%d: %v: %v", e.Name, e.Version, e.Err, e.Cause)
	}
	return fmt.Sprintf("decode %s v%d: %v", e.Name, e.Version, e.Err)
}

// Unwrap exposes both the sentinel and the cause to errors.Is and errors.As.
func (e *DecodeError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// Upcaster turns the JSON payload of version N of an event into the payload
// of version N+1. It must be a pure function of its input.
type Upcaster func(json.RawMessage) (json.RawMessage, error)

// EventType describes one registered event: its wire name and its latest
// schema version (the one its Go struct encodes).
type EventType struct {
	Name    string
	Version int
}

type registered struct {
	version   int
	goType    reflect.Type
	decode    func([]byte) (Event, error)
	upcasters map[int]Upcaster
}

// payloadOptions decode an event's payload with encoding/json's semantics (names matched regardless of
// case, the last of duplicate names kept, …), refusing members its struct does not have and anything after
// the object but white space. github.com/go-json-experiment/json is the implementation that became
// encoding/json/v2 (behind GOEXPERIMENT=jsonv2 in this Go): on an event it takes a third of encoding/json's
// time and one allocation instead of fifteen, and every replay, rebuild and live batch decodes each event.
var payloadOptions = jsonv2.JoinOptions(jsonv1.DefaultOptionsV1(), jsonv2.RejectUnknownMembers(true))

// Registry maps wire names to decoders of the latest Go struct, with the
// upcasters that bring older payloads up to date. It is built explicitly by
// a function at start-up (see domain/events) — there are no package-level
// registries and no init() — and is read-only afterwards, so it is safe for
// concurrent use once built.
type Registry struct {
	types map[string]*registered
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: map[string]*registered{}} }

// Register adds event type E, which must be a struct type with value
// receivers. Its wire name and latest version come from E's zero value.
// Registering a name twice (even by another type) is an error.
func Register[E Event](r *Registry) error {
	var zero E
	t := reflect.TypeFor[E]()
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("register %v: events must be struct values, not %v", t, t.Kind())
	}
	name, version := zero.EventName(), zero.SchemaVersion()
	if name == "" || version < 1 {
		return fmt.Errorf("register %v: empty wire name or schema version %d < 1", t, version)
	}
	if prev, ok := r.types[name]; ok {
		return fmt.Errorf("register %v: wire name %q already registered by %v", t, name, prev.goType)
	}
	r.types[name] = &registered{
		version:   version,
		goType:    t,
		upcasters: map[int]Upcaster{},
		decode: func(data []byte) (Event, error) {
			var e E
			if err := jsonv2.Unmarshal(data, &e, payloadOptions); err != nil {
				return nil, err
			}
			return e, nil
		},
	}
	return nil
}

// RegisterAll runs the registrations in order (kernel.Register[E] for each event of a package), stopping
// at the first error.
func RegisterAll(r *Registry, regs ...func(*Registry) error) error {
	for _, reg := range regs {
		if err := reg(r); err != nil {
			return err
		}
	}
	return nil
}

// Upcast registers the upcaster from version `from` to from+1 of the named
// event. The event must be registered first, and from must lie in
// [1, latest-1].
func (r *Registry) Upcast(name string, from int, up Upcaster) error {
	t, ok := r.types[name]
	if !ok {
		return fmt.Errorf("upcaster for %s v%d: %w", name, from, ErrUnknownEvent)
	}
	if from < 1 || from >= t.version {
		return fmt.Errorf("upcaster for %s v%d: latest version is %d", name, from, t.version)
	}
	if _, dup := t.upcasters[from]; dup {
		return fmt.Errorf("upcaster for %s v%d registered twice", name, from)
	}
	if up == nil {
		return fmt.Errorf("upcaster for %s v%d is nil", name, from)
	}
	t.upcasters[from] = up
	return nil
}

// Validate checks that every event can be decoded from every version from 1
// to its latest, i.e. that no upcaster is missing from a chain.
func (r *Registry) Validate() error {
	var errs []error
	for _, name := range r.names() {
		t := r.types[name]
		for v := 1; v < t.version; v++ {
			if _, ok := t.upcasters[v]; !ok {
				errs = append(errs, fmt.Errorf("%s: no upcaster from v%d to v%d", name, v, v+1))
			}
		}
	}
	return errors.Join(errs...)
}

// Decode turns a stored payload of the given wire name and schema version
// into the latest Go struct, upcasting in sequence. Errors are *DecodeError
// matching ErrUnknownEvent, ErrUnsupportedVersion or ErrMalformedEvent.
func (r *Registry) Decode(name string, version int, data []byte) (Event, error) {
	fail := func(sentinel, cause error) (Event, error) {
		return nil, &DecodeError{Name: name, Version: version, Err: sentinel, Cause: cause}
	}
	t, ok := r.types[name]
	if !ok {
		return fail(ErrUnknownEvent, nil)
	}
	if version < 1 || version > t.version {
		return fail(ErrUnsupportedVersion, fmt.Errorf("this binary knows versions 1 to %d", t.version))
	}
	raw := bytes.TrimSpace(data)
	// Only an object can be an event; whether it is well-formed the decoder (or the first upcaster) finds
	// as it reads, so the payload is scanned once, not once more beforehand.
	if len(raw) == 0 || raw[0] != '{' {
		return fail(ErrMalformedEvent, errors.New("payload is not a JSON object"))
	}
	for v := version; v < t.version; v++ {
		up, ok := t.upcasters[v]
		if !ok {
			return fail(ErrUnsupportedVersion, fmt.Errorf("no upcaster from v%d", v))
		}
		next, err := up(json.RawMessage(raw))
		if err != nil {
			return fail(ErrMalformedEvent, fmt.Errorf("upcast v%d to v%d: %w", v, v+1, err))
		}
		raw = next
	}
	e, err := t.decode(raw)
	if err != nil {
		return fail(ErrMalformedEvent, err)
	}
	return e, nil
}

// Latest returns the latest schema version of the named event.
func (r *Registry) Latest(name string) (int, bool) {
	t, ok := r.types[name]
	if !ok {
		return 0, false
	}
	return t.version, true
}

// Types lists every registered event, sorted by wire name.
func (r *Registry) Types() []EventType {
	out := make([]EventType, 0, len(r.types))
	for _, name := range r.names() {
		out = append(out, EventType{Name: name, Version: r.types[name].version})
	}
	return out
}

// Knows reports whether e's concrete type is the one registered under its
// wire name, at its version.
func (r *Registry) Knows(e Event) bool {
	t, ok := r.types[e.EventName()]
	return ok && t.goType == reflect.TypeOf(e) && t.version == e.SchemaVersion()
}

func (r *Registry) names() []string {
	names := make([]string, 0, len(r.types))
	for n := range r.types {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Encode returns the wire name, schema version and JSON payload of e.
func Encode(e Event) (name string, version int, data []byte, err error) {
	data, err = json.Marshal(e)
	if err != nil {
		return "", 0, nil, fmt.Errorf("encode %s: %w", e.EventName(), err)
	}
	return e.EventName(), e.SchemaVersion(), data, nil
}

// Registrar adds a package's events (and their upcasters) to a registry.
// Every domain package exposes one as RegisterEvents.
type Registrar func(*Registry) error

// Build returns a validated registry holding the events of every registrar.
func Build(registrars ...Registrar) (*Registry, error) {
	r := NewRegistry()
	for _, reg := range registrars {
		if err := reg(r); err != nil {
			return nil, err
		}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return r, nil
}

// Names returns the wire names of events, for assertions in tests.
func Names(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.EventName()
	}
	return slices.Clip(out)
}
