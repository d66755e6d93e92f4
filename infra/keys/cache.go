package keys

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// destroyedChannel is the PostgreSQL notification channel on which Destroy announces, in the transaction
// that destroys them, the subjects whose keys are gone.
const destroyedChannel = "ledger_keys_destroyed"

// keyCache keeps, per process, each subject's live data key and the (subject, community) pairs already
// registered, so that recording for a known person costs no round trip to the key store. It is trusted
// only while Listen is connected: a destruction anywhere is announced on destroyedChannel and drops the
// subject before its transaction is even visible to a new query; without the listener the cache is off
// and every seal asks the key store.
type keyCache struct {
	mu         sync.Mutex
	on         bool
	version    uint64 // moves on every drop, enable and disable: a look-up begun before one is not cached
	bySubject  map[string]dataKey
	registered map[Holder]bool
	spares     spares // guarded by mu too
}

// snapshot returns the cached keys of subjects (nil when the cache is off or one is missing), whether
// every holder is registered, and the version to cache a fetched answer at.
func (c *keyCache) snapshot(subjects []string, holders []Holder) (map[string]dataKey, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return nil, false, c.version
	}
	out := make(map[string]dataKey, len(subjects))
	for _, s := range subjects {
		k, ok := c.bySubject[s]
		if !ok {
			return nil, false, c.version
		}
		out[s] = k
	}
	for _, h := range holders {
		if h.Community != "" && !c.registered[h] {
			return out, false, c.version
		}
	}
	return out, true, c.version
}

// put caches keys and registered holders fetched at version, unless something moved since.
func (c *keyCache) put(version uint64, keys map[string]dataKey, holders []Holder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on || c.version != version {
		return
	}
	for s, k := range keys {
		c.bySubject[s] = k
	}
	for _, h := range holders {
		c.registered[h] = true
	}
}

func (c *keyCache) drop(subject string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version++
	delete(c.bySubject, subject)
}

func (c *keyCache) set(on bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.version++
	c.on = on
	c.bySubject, c.registered = map[string]dataKey{}, map[Holder]bool{}
}

// Listen keeps the key cache trustworthy until ctx ends: it holds one connection listening for
// destructions, and turns the cache off (and empties it) whenever that connection is down. It also keeps
// the process's spare keys (a new person's first record takes one), and deletes those never taken when
// ctx ends. A process that records (serve, demo) runs it; without it every seal asks the key store.
func (s *Store) Listen(ctx context.Context) {
	spares := make(chan struct{})
	go func() { defer close(spares); s.keepSpares(ctx) }()
	defer func() { <-spares }()
	for ctx.Err() == nil {
		s.listenOnce(ctx)
		s.cache.set(false)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return
	}
	defer func() {
		// A connection left listening (or mid-wait) is not given back to others.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+destroyedChannel); err != nil {
		if ctx.Err() == nil {
			slog.Warn("keys: cannot listen for key destructions; sealing asks the key store every time", "err", err)
		}
		return
	}
	s.cache.set(true)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return
		}
		s.cache.drop(n.Payload)
	}
}

// Caching reports whether the key cache is on (Listen is connected).
func (s *Store) Caching() bool {
	s.cache.mu.Lock()
	defer s.cache.mu.Unlock()
	return s.cache.on
}
