// Package storetest is the contract every backend of the ledger's event store passes, spoken through the
// one adapter (infra/eventstore): the embedded node and a real EventStoreDB server alike. A backend's test
// calls Run with a Harness.
//
// Every subtest writes to streams named after a random run id, so the suite runs again and again against a
// persistent server without cleaning up, and reads of $all look only at the run's own streams (or at
// positions the run took itself).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// Harness gives the suite access to a backend.
type Harness struct {
	// Open returns a new store on the backend as it currently runs. The harness closes it when the test
	// ends (t.Cleanup); the suite may close it earlier.
	Open func(t *testing.T) *eventstore.Store
	// Restart stops the backend gracefully and starts it again on the same durable data. Stores opened
	// before are dead afterwards; the suite opens new ones. Nil when the backend cannot be restarted from a
	// test (a real server): those subtests skip.
	Restart func(t *testing.T)
	// Crash starts a fresh, empty backend in a child process that the suite can kill -9 and start again on
	// the same data. Nil when the backend cannot be run that way: those subtests skip.
	Crash func(t *testing.T) Process
}

// Process is a backend running in a child process.
type Process interface {
	// Open returns a new store on the running child, closed when the test ends.
	Open(t *testing.T) *eventstore.Store
	// Kill sends SIGKILL to the child and waits until it is gone.
	Kill(t *testing.T)
	// Start starts a new child on the same data (after Kill).
	Start(t *testing.T)
}

const skipNeedsNode = "needs a restartable embedded node"

// Run runs the whole contract against the backend h gives.
func Run(t *testing.T, h Harness) {
	if h.Open == nil {
		t.Fatal("storetest: Harness.Open is required")
	}
	s := &suite{h: h, run: runID()}
	t.Logf("storetest run id %s (streams %s…)", s.run, s.prefix())

	t.Run("Expected", s.testExpected)
	t.Run("IdempotentRetry", s.testIdempotentRetry)
	t.Run("AtomicMultiEvent", s.testAtomicMultiEvent)
	t.Run("ReadStream", s.testReadStream)
	t.Run("Envelope", s.testEnvelope)
	t.Run("HashChain", s.testHashChain)
	t.Run("AllOrder", s.testAllOrder)
	t.Run("ConcurrentWritersAndSubscriber", s.testConcurrent)
	t.Run("Filters", s.testFilters)
	t.Run("Subscribe", s.testSubscribe)
	t.Run("Restart", s.testRestart)
	t.Run("Crash", s.testCrash)
}

type suite struct {
	h    Harness
	run  string
	cmds atomic.Int64
}

func runID() string {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// prefix is the start of every stream name of this run.
func (s *suite) prefix() string { return "st" + s.run + "-" }

// stream names a stream of this run; name must be unique within the run.
func (s *suite) stream(name string) string { return s.prefix() + name }

// typ is an event type unique to this run.
func (s *suite) typ(name string) string { return "storetest." + s.run + "." + name }

// cmd returns a new command id, unique to this run.
func (s *suite) cmd() string { return fmt.Sprintf("%s-cmd-%d", s.run, s.cmds.Add(1)) }

var occurred = time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600))

// batch makes n events of command cmd (ids derived from it, so the same cmd gives the same ids).
func (s *suite) batch(cmd string, n int, typ string) []eventlog.Event {
	if typ == "" {
		typ = s.typ("recorded")
	}
	evs := make([]eventlog.Event, n)
	for i := range evs {
		evs[i] = eventlog.Event{
			ID:   eventlog.DeriveID(cmd, i),
			Type: typ,
			Data: []byte(fmt.Sprintf(`{"cmd":%q,"i":%d,"note":"村务公开"}`, cmd, i)),
			Meta: eventlog.Metadata{
				SchemaVersion: 1,
				CommunityID:   "330303001001",
				Jurisdiction:  "33/3303/330303/330303001/330303001001",
				Actor:         "system:storetest",
				CommandID:     cmd,
				CorrelationID: cmd,
				CausationID:   "cause-" + cmd,
				OccurredAt:    occurred,
			},
		}
	}
	return evs
}

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// mustAppend appends and fails the test on error.
func mustAppend(t *testing.T, st *eventstore.Store, stream string, exp eventlog.Expected, evs []eventlog.Event) eventlog.AppendResult {
	t.Helper()
	res, err := st.Append(ctxFor(t, 30*time.Second), stream, exp, evs)
	if err != nil {
		t.Fatalf("append %d events to %s at %s: %v", len(evs), stream, exp, err)
	}
	return res
}

func mustLoad(t *testing.T, st *eventstore.Store, stream string) []eventlog.Recorded {
	t.Helper()
	evs, err := st.Load(ctxFor(t, 30*time.Second), stream)
	if err != nil {
		t.Fatalf("load %s: %v", stream, err)
	}
	return evs
}

// tail returns the condition to append after the stream's current events.
func tail(t *testing.T, st *eventstore.Store, stream string) eventlog.Expected {
	t.Helper()
	return eventlog.After(mustLoad(t, st, stream))
}

// ids lists the ids of recorded events.
func ids(rs []eventlog.Recorded) []eventlog.ID {
	out := make([]eventlog.ID, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func eventIDs(evs []eventlog.Event) []eventlog.ID {
	out := make([]eventlog.ID, len(evs))
	for i, e := range evs {
		out[i] = e.ID
	}
	return out
}

func sameIDs(a, b []eventlog.ID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// readRun reads $all from from (included) and returns the events whose stream matches, stopping after limit
// of them (limit <= 0: to the end).
func (s *suite) readRun(t *testing.T, st *eventstore.Store, from eventlog.Position, match func(stream string) bool, limit int) []eventlog.Recorded {
	t.Helper()
	var out []eventlog.Recorded
	errStop := fmt.Errorf("enough")
	err := st.ReadAll(ctxFor(t, 60*time.Second), from, 0, func(r eventlog.Recorded) error {
		if match(r.Stream) {
			out = append(out, r)
			if limit > 0 && len(out) == limit {
				return errStop
			}
		}
		return nil
	})
	if err != nil && err != errStop {
		t.Fatalf("read $all from %s: %v", from, err)
	}
	return out
}

// streamIs matches one stream.
func streamIs(name string) func(string) bool { return func(s string) bool { return s == name } }

// streamHasPrefix matches the streams whose names start with p.
func streamHasPrefix(p string) func(string) bool {
	return func(s string) bool { return strings.HasPrefix(s, p) }
}

// marker appends one event to a fresh stream and returns its position: a place in $all taken before
// whatever the test appends next.
func (s *suite) marker(t *testing.T, st *eventstore.Store, name string) eventlog.Position {
	t.Helper()
	return mustAppend(t, st, s.stream(name+"-marker"), eventlog.NoStream(), s.batch(s.cmd(), 1, "")).Position
}
