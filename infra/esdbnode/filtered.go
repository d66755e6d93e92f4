package esdbnode

import (
	"encoding/binary"
	"fmt"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// A filtered $all subscription on stream names catches up through the indexes, not by reading $all.
//
// Read as $all, one community's history in a district's ledger means decoding every event of the district
// to keep a few percent of them: an auditor's replay of a 2 500-event community in a 300 000-event ledger
// spent 0.6 s of its 0.8 s there, and the cost grows with the ledger. The streams bucket names every
// indexed stream and the revs bucket lists each one's positions, so the events a stream filter selects are
// found by matching stream names (one per stream, not one per event) and then read by position.
//
// The indexes cover $all up to their watermark (index.go); the catch-up takes the positions at or below
// it from one read transaction (the buckets and the watermark are written together, so they agree), sends
// those events in $all order, then a checkpoint at the watermark, and leaves the rest — the unindexed
// tail, then live — to the plain scan. A filter matching more than maxIndexedCatchUp events, or on event
// types (not indexed), is served by the scan alone.

// maxIndexedCatchUp bounds the positions an indexed catch-up holds (8 bytes each): a filter that selects
// more is no longer a small part of $all, and the scan serves it as well.
const maxIndexedCatchUp = 1 << 20

// indexedPositions returns, in order, the positions in (after, limit] of the events of the streams f
// selects, as far as the indexes cover $all, the names of those streams, and the position up to which they
// answer for it (through, at most limit). ok is false when the indexes cannot answer (they cover nothing
// after after) or more than maxIndexedCatchUp events match: the caller scans instead.
func (s *store) indexedPositions(f *filter, after, limit uint64) (positions []uint64, names map[string]struct{}, through uint64, ok bool, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(keyIndexedThrough); v != nil {
			if through, err = decodeIndexValue(keyIndexedThrough, v); err != nil {
				return s.corrupt("index watermark", err)
			}
		}
		through = min(through, limit)
		if through <= after {
			return nil
		}
		revs := tx.Bucket(bucketRevs).Cursor()
		names = map[string]struct{}{}
		err := tx.Bucket(bucketStreams).ForEach(func(name, v []byte) error {
			if !f.matches(name) {
				return nil
			}
			names[string(name)] = struct{}{}
			h, err := decodeHeadValue(name, v)
			if err != nil {
				return s.corrupt(fmt.Sprintf("head of stream %q", name), err)
			}
			for k, v := revs.Seek(revKey(h.num, 0)); k != nil && binary.BigEndian.Uint64(k) == h.num; k, v = revs.Next() {
				pos, err := decodeIndexValue(k, v)
				if err != nil {
					return s.corrupt(fmt.Sprintf("revision index of stream %q", name), err)
				}
				if pos > through {
					break // a stream's revisions stand in $all order
				}
				if pos > after {
					if len(positions) == maxIndexedCatchUp {
						return errTooManyToIndex
					}
					positions = append(positions, pos)
				}
			}
			return nil
		})
		if err == errTooManyToIndex {
			positions = nil
			return nil
		}
		ok = err == nil
		return err
	})
	if err != nil || !ok {
		return nil, nil, 0, false, err
	}
	slices.Sort(positions)
	return positions, names, through, true, nil
}

var errTooManyToIndex = fmt.Errorf("esdbnode: more than %d events match", maxIndexedCatchUp)

// readPositions reads the events at positions (in order), at most max of them and readChunkBytes in one read
// transaction, checking that each belongs to one of the streams named (those indexedPositions found them
// in: a set look-up, not the filter's expression again for every event), and calls fn with each. It
// returns how many it read.
func (s *store) readPositions(names map[string]struct{}, positions []uint64, max int, fn func(*event)) (n int, err error) {
	err = s.view(func(tx *bolt.Tx) error {
		logB := tx.Bucket(bucketLog)
		var e event
		bytesRead := 0
		for ; n < len(positions) && n < max && bytesRead < readChunkBytes; n++ {
			k := positionKey(positions[n])
			v := logB.Get(k)
			if v == nil {
				return s.corrupt(fmt.Sprintf("the revision index points at missing position %d", positions[n]), errBadRecord)
			}
			if err := decodeEvent(k, v, &e); err != nil {
				return s.corrupt(fmt.Sprintf("record at position %d", positions[n]), err)
			}
			if _, ok := names[string(e.stream)]; !ok {
				return s.corrupt(fmt.Sprintf("the revision index points at position %d, which holds stream %q", positions[n], e.stream), errBadRecord)
			}
			bytesRead += len(v)
			fn(&e)
		}
		return nil
	})
	return n, err
}
