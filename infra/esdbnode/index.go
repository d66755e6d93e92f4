package esdbnode

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Deferred index maintenance.
//
// A commit writes the events to the log bucket, whose keys only ever grow: a few pages at the tail of one
// B-tree. The three indexes are keyed otherwise — ids by random UUID, revs and streams by stream — so updating
// them in every commit touches one more page per event or per stream in every bucket: for a group commit of N
// single-event appends to N streams, about 3N pages to unpack, repack, write and fsync instead of a handful.
// That was measured as the largest cost of a small commit. So the indexes are brought up to date in batches:
//
//   - meta "indexed-through" = P: every event at a position ≤ P has its entries in the ids, revs and streams
//     buckets;
//   - the index entries of the events after P (the "tail") are held in memory. They are not a cache: they are
//     derived from the durable log, and Open rebuilds them by scanning the log from P+1 to the head (bounded,
//     see tailHardCap), so an acknowledged append is durable the moment the log is;
//   - the writer moves the tail into the buckets (advancing P in the same transaction) when it is idle, when the
//     tail passes tailSoftCap and no append is waiting, and in bounded chunks past tailHardCap whatever the
//     load; Close moves all of it.
//
// Readers consult the buckets and the tail together under mu (read-locked for the length of one read
// transaction); the writer takes mu only to add a committed batch (before publishing its head, so no reader
// looks for those entries earlier) and to drop what a flush indexed (after the flush committed, so an entry is
// always in at least one of the two places; while it is in both they agree, and the tail is consulted first).
const (
	tailHardCap    = 65536                 // events: bounds memory and the open-time rebuild
	tailSoftCap    = 16384                 // events: flush as soon as the queue is empty
	flushChunk     = 16384                 // events per flush transaction: bounds how long a flush holds up appends
	idleFlushAfter = 50 * time.Millisecond // flush the tail after this long without appends
)

var keyIndexedThrough = []byte("indexed-through")

type idPos struct {
	id  [16]byte
	pos uint64
}

// streamTail is the unindexed end of one stream: the positions of revisions base, base+1, ….
type streamTail struct {
	num       uint64 // stream number (new streams get theirs when first appended)
	base      uint64 // revisions below base are in the revs bucket
	positions []uint64
}

func (t *streamTail) lastRev() uint64 { return t.base + uint64(len(t.positions)) - 1 }

// index is the in-memory tail of the indexes plus the watermark.
type index struct {
	mu      sync.RWMutex
	through uint64                 // every position ≤ through is in the buckets
	tails   map[string]*streamTail // streams with events after through
	ids     map[[16]byte]uint64    // ids of events after through (writer only)
	order   []idPos                // the same in position order (writer only)
	nextNum uint64                 // next stream number to hand out (writer only)
	pending int                    // events after through
}

func newIndex() *index {
	return &index{tails: make(map[string]*streamTail), ids: make(map[[16]byte]uint64), nextNum: 1}
}

// loadIndex reads the watermark and rebuilds the tail from the log up to head.
func (s *store) loadIndex(tx *bolt.Tx, head uint64) (*index, error) {
	x := newIndex()
	if v := tx.Bucket(bucketMeta).Get(keyIndexedThrough); v != nil {
		p, err := decodeIndexValue(keyIndexedThrough, v)
		if err != nil {
			return nil, s.corrupt("index watermark", err)
		}
		x.through = p
	}
	if x.through > head {
		return nil, s.corrupt(fmt.Sprintf("indexes cover position %d beyond the last event %d", x.through, head), errBadRecord)
	}
	x.nextNum = tx.Bucket(bucketStreams).Sequence() + 1
	c := tx.Bucket(bucketLog).Cursor()
	var e event
	for k, v := c.Seek(positionKey(x.through + 1)); k != nil; k, v = c.Next() {
		if err := decodeEvent(k, v, &e); err != nil {
			return nil, s.corrupt(fmt.Sprintf("record at key %x", k), err)
		}
		t := x.tails[string(e.stream)]
		if t == nil {
			h, found, err := s.bucketHead(tx, e.stream)
			if err != nil {
				return nil, err
			}
			if found {
				t = &streamTail{num: h.num, base: h.lastRev + 1}
			} else {
				t = &streamTail{num: x.nextNum}
				x.nextNum++
			}
			x.tails[string(e.stream)] = t
		}
		if e.revision != t.base+uint64(len(t.positions)) {
			return nil, s.corrupt(fmt.Sprintf("stream %q: record at position %d has revision %d, expected %d",
				e.stream, e.position, e.revision, t.base+uint64(len(t.positions))), errBadRecord)
		}
		t.positions = append(t.positions, e.position)
		x.ids[e.id] = e.position
		x.order = append(x.order, idPos{id: e.id, pos: e.position})
		x.pending++
	}
	return x, nil
}

// bucketHead reads a stream's head from the streams bucket.
func (s *store) bucketHead(tx *bolt.Tx, name []byte) (streamHead, bool, error) {
	v := tx.Bucket(bucketStreams).Get(name)
	if v == nil {
		return streamHead{}, false, nil
	}
	h, err := decodeHeadValue(name, v)
	if err != nil {
		return streamHead{}, false, s.corrupt(fmt.Sprintf("head of stream %q", name), err)
	}
	return h, true, nil
}

// lookupID finds the position of an event id in the tail or the ids bucket. Writer only.
func (x *index) lookupID(s *store, tx *bolt.Tx, id *[16]byte) (uint64, bool, error) {
	if pos, ok := x.ids[*id]; ok {
		return pos, true, nil
	}
	v := tx.Bucket(bucketIDs).Get(id[:])
	if v == nil {
		return 0, false, nil
	}
	pos, err := decodeIndexValue(id[:], v)
	if err != nil {
		return 0, false, s.corrupt(fmt.Sprintf("event-id index entry %x", *id), err)
	}
	return pos, true, nil
}

// streamHead returns a stream's number and last revision from the tail or the bucket. Writer, or a reader
// holding mu.
func (x *index) streamHead(s *store, tx *bolt.Tx, name []byte) (streamHead, bool, error) {
	if t := x.tails[string(name)]; t != nil {
		return streamHead{num: t.num, lastRev: t.lastRev()}, true, nil
	}
	return s.bucketHead(tx, name)
}

// revPosition returns the position of revision rev of the stream whose head is h. Writer, or a reader holding
// mu.
func (x *index) revPosition(s *store, tx *bolt.Tx, name []byte, h streamHead, rev uint64) (uint64, error) {
	if t := x.tails[string(name)]; t != nil && rev >= t.base {
		return t.positions[rev-t.base], nil
	}
	k := revKey(h.num, rev)
	pos, err := decodeIndexValue(k, tx.Bucket(bucketRevs).Get(k))
	if err != nil {
		return 0, s.corrupt(fmt.Sprintf("revision index of stream %q at %d", name, rev), err)
	}
	return pos, nil
}

// addBatch records the index entries of a committed batch. Writer only.
func (x *index) addBatch(b *batchIndex) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for name, bt := range b.tails {
		t := x.tails[name]
		if t == nil {
			x.tails[name] = bt
			continue
		}
		t.positions = append(t.positions, bt.positions...)
	}
	for _, ip := range b.ids {
		x.ids[ip.id] = ip.pos
		x.order = append(x.order, ip)
	}
	x.pending += len(b.ids)
	x.nextNum = b.nextNum
}

// flush moves the index entries of the oldest limit events of the tail into the buckets in one
// transaction and advances the watermark with them. Memory changes only after the commit succeeds. Writer
// only.
func (x *index) flush(s *store, limit int) (int, error) {
	if len(x.order) == 0 {
		return 0, nil
	}
	n := min(limit, len(x.order))
	upTo := x.order[n-1].pos
	// Insert ids in key order: bbolt's cursor then walks the tree forwards instead of jumping around it.
	ids := slices.Clone(x.order[:n])
	slices.SortFunc(ids, func(a, b idPos) int { return bytes.Compare(a.id[:], b.id[:]) })
	names := make([]string, 0, len(x.tails))
	for name := range x.tails {
		names = append(names, name)
	}
	slices.Sort(names)
	take := make(map[string]int, len(names)) // revisions of each tail at or below upTo

	err := guard(s.path, "index events", func() error {
		return s.db.Update(func(tx *bolt.Tx) error {
			idsB, revs, streams := tx.Bucket(bucketIDs), tx.Bucket(bucketRevs), tx.Bucket(bucketStreams)
			revs.FillPercent = 0.9
			for i := range ids {
				if err := idsB.Put(ids[i].id[:], indexValue(ids[i].id[:], ids[i].pos)); err != nil {
					return fmt.Errorf("esdbnode: index event id: %w", err)
				}
			}
			var maxNum uint64
			for _, name := range names {
				t := x.tails[name]
				k, _ := slices.BinarySearch(t.positions, upTo+1)
				if k == 0 {
					continue
				}
				take[name] = k
				for i := range k {
					rk := revKey(t.num, t.base+uint64(i))
					if err := revs.Put(rk, indexValue(rk, t.positions[i])); err != nil {
						return fmt.Errorf("esdbnode: index stream %q: %w", name, err)
					}
				}
				h := streamHead{num: t.num, lastRev: t.base + uint64(k) - 1}
				if err := streams.Put([]byte(name), headValue([]byte(name), h)); err != nil {
					return fmt.Errorf("esdbnode: index stream %q: %w", name, err)
				}
				maxNum = max(maxNum, t.num)
			}
			if maxNum > streams.Sequence() {
				if err := streams.SetSequence(maxNum); err != nil {
					return fmt.Errorf("esdbnode: record stream numbers: %w", err)
				}
			}
			return tx.Bucket(bucketMeta).Put(keyIndexedThrough, indexValue(keyIndexedThrough, upTo))
		})
	})
	if err != nil {
		return 0, err
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	x.through = upTo
	for name, k := range take {
		t := x.tails[name]
		if k == len(t.positions) {
			delete(x.tails, name)
			continue
		}
		t.positions = append(t.positions[:0:0], t.positions[k:]...)
		t.base += uint64(k)
	}
	for i := range n {
		delete(x.ids, x.order[i].id)
	}
	x.order = append(x.order[:0:0], x.order[n:]...)
	x.pending -= n
	return n, nil
}

// batchIndex collects the index entries of one group commit until it is committed.
type batchIndex struct {
	tails   map[string]*streamTail // new positions per stream in this batch (base = first new revision)
	ids     []idPos
	idSet   map[[16]byte]uint64
	nextNum uint64
}

func newBatchIndex(nextNum uint64) *batchIndex {
	return &batchIndex{tails: make(map[string]*streamTail), idSet: make(map[[16]byte]uint64), nextNum: nextNum}
}
