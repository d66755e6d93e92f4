package esdbnode

import "sync/atomic"

// headSignal is one published head: every event at or below pos is committed (fsynced) and may be read.
// changed is closed when a newer head replaces this one.
type headSignal struct {
	pos     uint64
	changed chan struct{}
}

// headWatch publishes the committed head of $all to readers and subscribers. Readers never look past the
// published head, so they cannot see an event before it is durable, nor see a later position before an earlier
// one. A subscriber that has sent everything up to h.pos waits on h.changed: because the channel of a head is
// closed only after its successor is stored, a subscriber that loaded h can never miss the wake-up for the
// commit after it — no lost wake-ups, and no lock shared with the writer.
type headWatch struct {
	cur atomic.Pointer[headSignal]
}

func newHeadWatch(pos uint64) *headWatch {
	h := &headWatch{}
	h.cur.Store(&headSignal{pos: pos, changed: make(chan struct{})})
	return h
}

func (h *headWatch) load() *headSignal { return h.cur.Load() }

// publish makes pos the new head. Only the writer goroutine calls it.
func (h *headWatch) publish(pos uint64) {
	old := h.cur.Load()
	h.cur.Store(&headSignal{pos: pos, changed: make(chan struct{})})
	close(old.changed)
}
