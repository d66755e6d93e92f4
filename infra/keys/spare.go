package keys

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Spare data keys: made ahead of need, in batches (one commit for many) into keystore.key_pool, and
// kept in memory by the process that made them, so that a person's first record takes one without a
// round trip to the key store (the commit that makes a key durable is no longer on the append's path).
// A spare key is wrapped before it has a subject; which person took it is learnt from the store of
// record by CheckStore, which every erasure runs first (see Eraser).
const (
	spareBatch = 128 // keys made per commit
	spareLow   = 32  // fewer left than this: make another batch
)

// spares are this process's spare keys (made, durable, not taken yet). Only Listen's goroutine makes
// them, and only while the key cache is on are they taken.
type spares struct {
	keys []dataKey
	low  chan struct{} // a taker found fewer than spareLow left
}

// take takes n spare keys (under the cache's lock); false when there are not enough.
func (p *spares) take(n int) ([]dataKey, bool) {
	if len(p.keys) < n {
		p.wake()
		return nil, false
	}
	out := p.keys[len(p.keys)-n:]
	p.keys = p.keys[:len(p.keys)-n]
	if len(p.keys) < spareLow {
		p.wake()
	}
	return out, true
}

func (p *spares) wake() {
	select {
	case p.low <- struct{}{}:
	default:
	}
}

// fromSpares answers live for a process whose key cache is on: the cached key of each known subject and
// a spare key for each new one, with no round trip; false when the cache is off or the spares ran out
// (the caller then asks the key store). The communities are left for CheckStore to register from the
// events.
func (s *Store) fromSpares(subjects []string, holders []Holder) (map[string]dataKey, bool) {
	c := &s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return nil, false
	}
	var missing []string
	for _, sub := range subjects {
		if _, ok := c.bySubject[sub]; !ok {
			missing = append(missing, sub)
		}
	}
	taken, ok := c.spares.take(len(missing))
	if !ok {
		return nil, false
	}
	for i, sub := range missing {
		k := taken[i]
		k.subject = sub
		c.bySubject[sub] = k
	}
	for _, h := range holders {
		c.registered[h] = true
	}
	out := make(map[string]dataKey, len(subjects))
	for _, sub := range subjects {
		out[sub] = c.bySubject[sub]
	}
	return out, true
}

// keepSpares makes a batch of spare keys whenever they run low, until ctx ends; then it deletes the
// ones never taken.
func (s *Store) keepSpares(ctx context.Context) {
	defer s.dropSpares(context.WithoutCancel(ctx))
	s.cache.spares.wake()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.cache.spares.low:
		}
		s.cache.mu.Lock()
		have := len(s.cache.spares.keys)
		s.cache.mu.Unlock()
		if have >= spareLow {
			continue
		}
		made, err := s.makeSpares(ctx, spareBatch)
		if err != nil {
			if ctx.Err() == nil {
				slog.Warn("keys: cannot make spare data keys; a person's first record makes its key on the spot", "err", err)
				select { // try again later, not in a loop
				case <-ctx.Done():
					return
				case <-time.After(time.Second):
				}
				s.cache.spares.wake()
			}
			continue
		}
		s.cache.mu.Lock()
		s.cache.spares.keys = append(made, s.cache.spares.keys...)
		s.cache.mu.Unlock()
	}
}

// makeSpares makes n data keys and stores them, wrapped under the current KEK, in keystore.key_pool
// (one statement, one commit); a rotation meanwhile is followed.
func (s *Store) makeSpares(ctx context.Context, n int) ([]dataKey, error) {
	for try := 0; ; try++ {
		k := s.currentKEK()
		if k == nil {
			return nil, fmt.Errorf("%w: there is no key-encryption key to seal personal data with", ErrNoKEK)
		}
		ids, wrapped, out := make([]string, n), make([][]byte, n), make([]dataKey, n)
		for i := range n {
			id, dek, w, err := newDataKey(k, "")
			if err != nil {
				return nil, err
			}
			ids[i] = id
			aead, err := newAEAD(dek)
			if err != nil {
				return nil, err
			}
			wrapped[i], out[i] = w, dataKey{id: ids[i], aead: aead}
		}
		tag, err := s.pool.Exec(ctx, `INSERT INTO keystore.key_pool (key_id, kek_id, wrapped)
			SELECT t.k, $2, t.w FROM unnest($1::text[], $3::bytea[]) AS t(k, w)
			WHERE (SELECT kek_id FROM keystore.kek) = $2`, ids, k.ID, wrapped)
		if err != nil {
			return nil, err
		}
		if tag.RowsAffected() == int64(n) {
			return out, nil
		}
		if try == 2 {
			return nil, fmt.Errorf("keys: the key store refused spare keys wrapped under %s", k.ID)
		}
		if err := s.followRotation(ctx, k); err != nil { // rotated meanwhile: wrap under the new KEK
			return nil, err
		}
	}
}

// dropSpares deletes the spare keys never taken (nothing was sealed with them).
func (s *Store) dropSpares(ctx context.Context) {
	s.cache.mu.Lock()
	left := s.cache.spares.keys
	s.cache.spares.keys = nil
	s.cache.mu.Unlock()
	if len(left) == 0 {
		return
	}
	ids := make([]string, len(left))
	for i, k := range left {
		ids[i] = k.id
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := s.pool.Exec(ctx, `DELETE FROM keystore.key_pool WHERE key_id = ANY($1)`, ids); err != nil {
		slog.Warn("keys: could not delete the spare data keys never taken (they are harmless)", "keys", len(ids), "err", err)
	}
}
