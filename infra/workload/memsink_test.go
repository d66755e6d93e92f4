package workload_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"sync"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// memSink is an in-memory store for tests: it checks each append's expectation against the stream as it
// stands, seals the events as the adapter does, decodes every event with the registry, verifies the hash
// chain as it grows, and keeps a hash of each stream's content (ids, types, data, metadata) and of the
// whole sequence of appends.
type memSink struct {
	mu      sync.Mutex
	reg     *kernel.Registry
	streams map[string]*memStream
	seq     hash.Hash // over appends in the order they arrived
	inspect func(stream string, e eventlog.Event, decoded kernel.Event)
	events  int
}

type memStream struct {
	next     uint64
	verifier eventlog.ChainVerifier
	content  hash.Hash
}

// newMemSink returns an empty sink; inspect, when not nil, sees every event as it is appended (under the
// sink's lock, in append order).
func newMemSink(inspect func(stream string, e eventlog.Event, decoded kernel.Event)) *memSink {
	return &memSink{reg: events.MustRegistry(), streams: map[string]*memStream{}, seq: sha256.New(), inspect: inspect}
}

func (m *memSink) Append(_ context.Context, stream string, exp eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st := m.streams[stream]
	switch {
	case exp.Kind == eventlog.ExpectNoStreamKind && st != nil:
		return eventlog.AppendResult{}, fmt.Errorf("%s: expected no stream, at %d: %w", stream, st.next-1, eventlog.ErrConflict)
	case exp.Kind == eventlog.ExpectRevisionKind && (st == nil || st.next-1 != exp.Revision || st.verifier.Tail() != exp.TailHash):
		return eventlog.AppendResult{}, fmt.Errorf("%s: expected %s: %w", stream, exp, eventlog.ErrConflict)
	case exp.Kind != eventlog.ExpectNoStreamKind && exp.Kind != eventlog.ExpectRevisionKind:
		return eventlog.AppendResult{}, fmt.Errorf("%s: generator used %s, want an exact expectation", stream, exp)
	}
	if st == nil {
		st = &memStream{content: sha256.New()}
		m.streams[stream] = st
	}
	eventlog.Seal(stream, st.verifier.Tail(), evs) // as the adapter does: must change nothing
	for _, e := range evs {
		r := eventlog.Recorded{Event: e, Stream: stream, Revision: st.next}
		if err := st.verifier.Next(r); err != nil {
			return eventlog.AppendResult{}, err
		}
		ev, err := m.reg.Decode(e.Type, e.Meta.SchemaVersion, e.Data)
		if err != nil {
			return eventlog.AppendResult{}, fmt.Errorf("%s revision %d: %w", stream, st.next, err)
		}
		if m.inspect != nil {
			m.inspect(stream, e, ev)
		}
		fmt.Fprintf(st.content, "%s|%s|%s|%s\n", e.ID, e.Type, e.Data, e.Meta.Hash)
		fmt.Fprintf(m.seq, "%s|%s|%s\n", stream, e.ID, e.Meta.Hash)
		st.next++
		m.events++
	}
	return eventlog.AppendResult{Revision: st.next - 1}, nil
}

// streamsDigest hashes every stream's content in stream-name order: equal whatever the interleaving.
func (m *memSink) streamsDigest() string {
	names := make([]string, 0, len(m.streams))
	for n := range m.streams {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		fmt.Fprintf(h, "%s=%x\n", n, m.streams[n].content.Sum(nil))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (m *memSink) sequenceDigest() string { return hex.EncodeToString(m.seq.Sum(nil)) }
