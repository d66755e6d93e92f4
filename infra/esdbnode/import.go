package esdbnode

import (
	"context"
	"errors"
	"fmt"

	"github.com/grassroots-ledger/ledger/infra/esdbwire"
)

// errImportStopped answers the runs of an import queued after one the store refused.
var errImportStopped = errors.New("esdbnode: an earlier run of the same import was not written")

// importChain ties the requests of one import: the writer, the only goroutine that touches it, refuses every
// request queued after one that was refused or failed. A nil chain (an ordinary append) ties nothing.
type importChain struct{ stopped bool }

func (c *importChain) broken() bool { return c != nil && c.stopped }

func (c *importChain) breakOff() {
	if c != nil {
		c.stopped = true
	}
}

// Import appends runs in the order given, each at exactly its revision, as the same runs appended one
// after the other through Append would be, with the same checks — but queued to the writer together, so
// that many share one commit instead of costing a round trip and an fsync each. Runs are written in order
// and never past a gap: a run the store refuses (its stream is not at First: esdbwire.ErrWrongRevision)
// or cannot write stops the import, and no run queued after it is written. Import returns when every run
// is durable, or with how many of runs were (a prefix) and why the next was not. A run that breaks the
// Append call's rules (no type, a stream name or size it refuses) is refused before anything is queued.
func (n *Node) Import(ctx context.Context, runs []esdbwire.Run) (int, error) {
	reqs := make([]*appendRequest, len(runs))
	chain := &importChain{}
	for i, run := range runs {
		r, err := importRequest(run)
		if err != nil {
			return 0, err
		}
		r.chain = chain
		reqs[i] = r
	}
	queued := 0
	var qerr error
	for _, r := range reqs {
		if qerr = n.writer.enqueue(ctx, r); qerr != nil {
			break
		}
		queued++
	}
	written := 0
	var werr error
	for i, r := range reqs[:queued] {
		res := n.writer.wait(ctx, r)
		switch {
		case werr != nil:
		case res.err != nil:
			werr = fmt.Errorf("import into %q at revision %d: %w", runs[i].Stream, runs[i].First, res.err)
		case res.wrongVersion:
			werr = fmt.Errorf("import into %q at revision %d: %w", runs[i].Stream, runs[i].First, wrongRevision(res))
		default:
			written++
		}
	}
	if werr == nil {
		werr = qerr
	}
	return written, werr
}

func wrongRevision(res appendResult) error {
	if !res.currentExists {
		return fmt.Errorf("%w: the stream does not exist", esdbwire.ErrWrongRevision)
	}
	return fmt.Errorf("%w: its last revision is %d", esdbwire.ErrWrongRevision, res.current)
}

// importRequest is run as an append request, checked as the Append call checks what it receives.
func importRequest(run esdbwire.Run) (*appendRequest, error) {
	if err := checkStreamName([]byte(run.Stream)); err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	r := &appendRequest{stream: []byte(run.Stream), expected: expectation{kind: expectNoStream}, events: make([]proposed, len(run.Events))}
	if run.First > 0 {
		r.expected = expectation{kind: expectExact, rev: run.First - 1}
	}
	total := 0
	for i, e := range run.Events {
		if e.Type == "" {
			return nil, fmt.Errorf("import into %q: event %d has no type", run.Stream, i)
		}
		p := proposed{id: e.ID, eventType: []byte(e.Type), contentType: []byte(e.ContentType), data: e.Data, metadata: e.Metadata}
		total += appendedLen(r.stream, &p)
		if total > maxAppendBytes {
			return nil, fmt.Errorf("import into %q: a run larger than %d bytes", run.Stream, maxAppendBytes)
		}
		r.events[i] = p
	}
	return r, nil
}
