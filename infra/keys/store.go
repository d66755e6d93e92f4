package keys

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/infra/secret"
)

// Schema is the key store's PostgreSQL schema. The portal's role has no grant on it; rebuilds never
// touch it.
const Schema = "keystore"

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates or updates schema keystore.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	return pg.MigrateEmbedded(ctx, pool, Schema, migrations)
}

var (
	// ErrNoKEK: the key store holds data keys but the key-encryption key is not where it was looked for.
	ErrNoKEK = errors.New("keys: the key-encryption key is missing")
	// ErrWrongKEK: the key-encryption key found is not the one the key store's data keys are wrapped under.
	ErrWrongKEK = errors.New("keys: the key-encryption key does not match the key store")
	// ErrUnknownKey: a sealed object names a data key the key store never held — another ledger's key
	// store, or a restore of an older backup than the events.
	ErrUnknownKey = errors.New("keys: the key store has no such data key")
)

// Store is the key store: the wrapped data keys in PostgreSQL and the KEK(s) from their file. It is safe
// for concurrent use. A recording process caches unwrapped keys and holds spare ones only while Listen
// runs (cache.go, spare.go): a destruction anywhere drops the person from every such cache at once.
type Store struct {
	pool *pgxpool.Pool
	path string

	mu      sync.RWMutex
	keks    map[string]*KEK
	current *KEK

	cache    keyCache
	checking sync.Mutex // one CheckStore at a time
}

// Open migrates the key store and loads the KEK at path (and a rotation's path+".new" if one was left
// half done). With create, a missing KEK is made on first use — only when the key store has never had
// one; a key store whose keys are wrapped under a KEK that is not found is refused (ErrNoKEK, ErrWrongKEK)
// before anything is written, with what to do.
func Open(ctx context.Context, pool *pgxpool.Pool, path string, create bool) (*Store, error) {
	if err := Migrate(ctx, pool); err != nil {
		return nil, err
	}
	s := &Store{pool: pool, path: path}
	s.cache.spares.low = make(chan struct{}, 1)
	if err := s.load(); err != nil {
		return nil, err
	}
	var registered *string
	if err := pool.QueryRow(ctx, `SELECT kek_id FROM keystore.kek`).Scan(&registered); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	var wrapping []string
	if err := pool.QueryRow(ctx, `SELECT coalesce(array_agg(DISTINCT kek_id), '{}') FROM
		(SELECT kek_id FROM keystore.data_keys WHERE kek_id IS NOT NULL UNION SELECT kek_id FROM keystore.key_pool) k`).Scan(&wrapping); err != nil {
		return nil, err
	}
	if registered != nil && len(wrapping) == 0 && s.keks[*registered] == nil {
		// No live key is wrapped under the registered KEK: nothing is lost by taking another (or a new)
		// one; a ledger whose data keys were all destroyed, or that never sealed anything, starts afresh.
		registered = nil
		if _, err := pool.Exec(ctx, `DELETE FROM keystore.kek`); err != nil {
			return nil, err
		}
	}
	switch {
	case registered == nil && len(s.keks) == 0 && create:
		k, err := CreateKEK(path)
		if err != nil {
			return nil, err
		}
		s.keks[k.ID] = k
		fallthrough
	case registered == nil && len(s.keks) > 0:
		id := s.newest()
		if _, err := pool.Exec(ctx, `INSERT INTO keystore.kek (kek_id) VALUES ($1) ON CONFLICT (one) DO NOTHING`, id); err != nil {
			return nil, err
		}
		if err := pool.QueryRow(ctx, `SELECT kek_id FROM keystore.kek`).Scan(&registered); err != nil {
			return nil, err
		}
	case registered == nil:
		return s, nil // nothing sealed yet, and nothing may be: a reader of a ledger without personal data
	}
	if len(s.keks) == 0 {
		return nil, fmt.Errorf("%w: the key store's data keys are wrapped under the key-encryption key %s, and there is no file %s. "+
			"Restore that file from its backup (or point %s at it); without it no personal data recorded so far can be read, "+
			"and the ledger writes nothing until it is back", ErrNoKEK, *registered, path, KEKFileEnv)
	}
	for _, id := range append(wrapping, *registered) {
		if s.keks[id] == nil {
			return nil, fmt.Errorf("%w: the key store's data keys are wrapped under the key-encryption key %s, but %s holds %s. "+
				"Point %s at the right file (restore it from its backup); nothing was written", ErrWrongKEK, id, path, s.ids(), KEKFileEnv)
		}
	}
	s.current = s.keks[*registered]
	// A rotation that re-wrapped every key but stopped before installing the new file: install it now.
	if nk := s.keks[s.newID()]; nk != nil && nk == s.current && len(wrapping) <= 1 && (len(wrapping) == 0 || wrapping[0] == nk.ID) {
		if err := secret.Replace(path+".new", path); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// load reads the KEK file and a rotation's new one, when present.
func (s *Store) load() error {
	keks := map[string]*KEK{}
	for _, p := range []string{s.path, s.path + ".new"} {
		if !exists(p) {
			continue
		}
		k, err := LoadKEK(p)
		if err != nil {
			return err
		}
		keks[k.ID] = k
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.current
	s.keks = keks
	if cur != nil && keks[cur.ID] != nil {
		s.current = keks[cur.ID]
	}
	return nil
}

// newID is the id of the KEK in path+".new" ("" when there is none).
func (s *Store) newID() string {
	if !exists(s.path + ".new") {
		return ""
	}
	k, err := LoadKEK(s.path + ".new")
	if err != nil {
		return ""
	}
	return k.ID
}

// newest is the KEK to register first: the rotation's new one when there is one, else the file's.
func (s *Store) newest() string {
	if id := s.newID(); id != "" {
		return id
	}
	for id := range s.keks {
		return id
	}
	return ""
}

func (s *Store) ids() string {
	var ids []string
	for id := range s.keks {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return fmt.Sprint(ids)
}

func (s *Store) kek(id string) *KEK {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.keks[id]
}

// currentKEK is the KEK new data keys are wrapped under (nil when there is none yet).
func (s *Store) currentKEK() *KEK {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.current
}

// KEKID is the id of the KEK new data keys are wrapped under ("" when there is none yet).
func (s *Store) KEKID() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.current == nil {
		return ""
	}
	return s.current.ID
}

// dataKey is an unwrapped data key; aead is nil when the key was destroyed.
type dataKey struct {
	id, subject string
	aead        cipher.AEAD
}

// Holder is a subject with personal data in one community (of jurisdiction path).
type Holder struct{ Subject, Community, Jurisdiction string }

// live returns the live data key of every holder's subject, creating the missing ones, and records in
// which communities each subject has data: one statement, one round trip, which writes (and waits for
// a commit) only when a subject is new somewhere or needs a key.
func (s *Store) live(ctx context.Context, holders []Holder) (map[string]dataKey, error) {
	var subj, comm, juri, subjects []string
	seen, want := map[Holder]bool{}, map[string]bool{}
	for _, h := range holders {
		if !seen[h] && h.Community != "" {
			seen[h] = true
			subj, comm, juri = append(subj, h.Subject), append(comm, h.Community), append(juri, h.Jurisdiction)
		}
		if !want[h.Subject] {
			want[h.Subject] = true
			subjects = append(subjects, h.Subject)
		}
	}
	cached, registered, version := s.cache.snapshot(subjects, holders)
	if cached != nil && registered {
		return cached, nil // a known person in a known community: no round trip
	}
	if keys, ok := s.fromSpares(subjects, holders); ok {
		return keys, nil // a new person takes a spare key: no round trip either
	}
	out := make(map[string]dataKey, len(subjects))
	defer func() { s.cache.put(version, out, holders) }()
	for try := 0; ; try++ {
		k := s.currentKEK()
		if k == nil {
			return nil, fmt.Errorf("%w: there is no key-encryption key to seal personal data with (start ledger serve once to create it)", ErrNoKEK)
		}
		// A candidate key for every subject, used only where the subject has no live key yet.
		ids, wrapped := make([]string, len(subjects)), make([][]byte, len(subjects))
		for i, sub := range subjects {
			var err error
			if ids[i], _, wrapped[i], err = newDataKey(k, sub); err != nil {
				return nil, err
			}
		}
		rows, err := s.pool.Query(ctx, `WITH reg AS (INSERT INTO keystore.subjects (subject, community_id, jurisdiction)
				SELECT * FROM unnest($2::text[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING),
			existing AS (SELECT key_id, subject, kek_id, wrapped, pooled FROM keystore.data_keys WHERE subject = ANY($1) AND wrapped IS NOT NULL),
			created AS (INSERT INTO keystore.data_keys (key_id, subject, kek_id, wrapped)
				SELECT t.k, t.s, $6, t.w FROM unnest($5::text[], $1::text[], $7::bytea[]) AS t(k, s, w)
				WHERE t.s NOT IN (SELECT subject FROM existing) AND (SELECT kek_id FROM keystore.kek) = $6
				ON CONFLICT DO NOTHING RETURNING key_id, subject, kek_id, wrapped, pooled)
			SELECT * FROM existing UNION ALL SELECT * FROM created`,
			subjects, subj, comm, juri, ids, k.ID, wrapped)
		if err != nil {
			return nil, err
		}
		keys, err := s.collect(rows)
		if err != nil {
			return nil, err
		}
		for _, dk := range keys {
			out[dk.subject] = dk
		}
		subj, comm, juri = nil, nil, nil // registered
		var missing []string
		for _, sub := range subjects {
			if _, ok := out[sub]; !ok {
				missing = append(missing, sub)
			}
		}
		if len(missing) == 0 {
			return out, nil
		}
		if try == 3 {
			return nil, fmt.Errorf("keys: could not create the data keys of %d subjects", len(missing))
		}
		// Another process created the key first (the next round reads it), or rotated the KEK.
		subjects = missing
		if err := s.followRotation(ctx, k); err != nil {
			return nil, err
		}
	}
}

// newDataKey makes a data key with a fresh id, wrapped under k for subject ("" for a spare).
func newDataKey(k *KEK, subject string) (id string, dek, wrapped []byte, err error) {
	raw := make([]byte, 16)
	dek = make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, nil, err
	}
	if _, err := rand.Read(dek); err != nil {
		return "", nil, nil, err
	}
	id = "dk-" + hex.EncodeToString(raw)
	wrapped, err = k.wrap(id, subject, dek)
	return id, dek, wrapped, err
}

// followRotation loads the KEK the key store now wraps under, when it is no longer k.
func (s *Store) followRotation(ctx context.Context, k *KEK) error {
	var cur string
	if err := s.pool.QueryRow(ctx, `SELECT kek_id FROM keystore.kek`).Scan(&cur); err != nil {
		return err
	}
	if cur == k.ID {
		return nil
	}
	if err := s.load(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current = s.keks[cur]; s.current == nil {
		return fmt.Errorf("%w: the key store now wraps under %s, which is in neither %s nor %s.new", ErrWrongKEK, cur, s.path, s.path)
	}
	return nil
}

// byID returns the data keys of ids, destroyed ones with a nil aead; a key the store never held is
// ErrUnknownKey, one that does not unwrap ErrTampered.
func (s *Store) byID(ctx context.Context, ids []string) (map[string]dataKey, error) {
	out := make(map[string]dataKey, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	// A spare key taken by a process but not yet learnt by CheckStore is still in the pool: it has no
	// subject in the key store yet (the sealed object names it).
	rows, err := s.pool.Query(ctx, `SELECT key_id, subject, kek_id, wrapped, pooled FROM keystore.data_keys WHERE key_id = ANY($1)
		UNION ALL SELECT key_id, '', kek_id, wrapped, true FROM keystore.key_pool WHERE key_id = ANY($1)`, ids)
	if err != nil {
		return nil, err
	}
	keys, err := s.collect(rows)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		out[k.id] = k
	}
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			return nil, fmt.Errorf("%w: %s (is this the key store of this ledger?)", ErrUnknownKey, id)
		}
	}
	return out, nil
}

// collect unwraps rows of (key_id, subject, kek_id, wrapped, pooled).
func (s *Store) collect(rows pgx.Rows) ([]dataKey, error) {
	type row struct {
		id, subject string
		kek         *string
		wrapped     []byte
		pooled      bool
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.subject, &r.kek, &r.wrapped, &r.pooled); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]dataKey, 0, len(rs))
	for _, r := range rs {
		k := dataKey{id: r.id, subject: r.subject}
		if r.wrapped != nil {
			kek := s.kek(*r.kek)
			if kek == nil { // rotated by another process since we read the files
				if err := s.load(); err != nil {
					return nil, err
				}
				if kek = s.kek(*r.kek); kek == nil {
					return nil, fmt.Errorf("%w: data key %s is wrapped under %s, which is in neither %s nor %s.new", ErrWrongKEK, r.id, *r.kek, s.path, s.path)
				}
			}
			dek, err := kek.unwrap(r.id, wrappedFor(r.subject, r.pooled), r.wrapped)
			if err != nil {
				return nil, err
			}
			if k.aead, err = newAEAD(dek); err != nil {
				return nil, err
			}
		}
		out = append(out, k)
	}
	return out, nil
}

// wrappedFor is the subject a data key's wrapping binds: none for a key made as a spare.
func wrappedFor(subject string, pooled bool) string {
	if pooled {
		return ""
	}
	return subject
}

// Holdings says what the key store knows of subject: the jurisdiction paths of the communities where
// personal data of it was recorded, and the ids of its live (not destroyed) data keys.
func (s *Store) Holdings(ctx context.Context, subject string) (paths, live []string, err error) {
	err = s.pool.QueryRow(ctx, `SELECT coalesce((SELECT array_agg(jurisdiction ORDER BY jurisdiction) FROM keystore.subjects WHERE subject = $1), '{}'),
		coalesce((SELECT array_agg(key_id ORDER BY key_id) FROM keystore.data_keys WHERE subject = $1 AND wrapped IS NOT NULL), '{}')`, subject).Scan(&paths, &live)
	return paths, live, err
}

// Destroy destroys every live data key of subject for good, noting the erasure (an event id) that
// ordered it, and returns how many it destroyed. Destroying nothing is not an error.
// Every process's key cache drops the subject (see Listen) as the destruction commits.
func (s *Store) Destroy(ctx context.Context, subject, erasure string) (int, error) {
	s.cache.drop(subject)
	var n int
	err := s.pool.QueryRow(ctx, `WITH d AS (UPDATE keystore.data_keys SET wrapped = NULL, kek_id = NULL, destroyed_at = now(), erasure = $2
			WHERE subject = $1 AND wrapped IS NOT NULL RETURNING 1)
		SELECT count(*) FROM d, LATERAL (SELECT pg_notify('`+destroyedChannel+`', $1)) AS n`, subject, erasure).Scan(&n)
	s.cache.drop(subject)
	return n, err
}

// Rotate re-wraps every live data key under a new KEK, then installs the new KEK at the KEK's path; the
// event store is not touched. The new KEK is written first (path+".new") and registered before any key
// moves, so a crash at any point leaves every key readable and a second Rotate (or the next Open)
// finishes the job; processes running meanwhile learn of it when their next key creation is refused.
// progress, when not nil, is told after each batch how many keys moved so far and how many there are.
// It returns the new KEK's id and how many keys it re-wrapped.
func (s *Store) Rotate(ctx context.Context, progress func(done, total int)) (string, int, error) {
	next, err := CreateKEK(s.path + ".new")
	if err != nil {
		return "", 0, err
	}
	s.mu.Lock()
	s.keks[next.ID] = next
	s.current = next
	s.mu.Unlock()
	if _, err := s.pool.Exec(ctx, `INSERT INTO keystore.kek (kek_id) VALUES ($1) ON CONFLICT (one) DO UPDATE SET kek_id = excluded.kek_id`, next.ID); err != nil {
		return "", 0, err
	}
	var total int
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM keystore.data_keys WHERE wrapped IS NOT NULL AND kek_id <> $1)
		+ (SELECT count(*) FROM keystore.key_pool WHERE kek_id <> $1)`, next.ID).Scan(&total); err != nil {
		return "", 0, err
	}
	done := 0
	for _, t := range []wrappedKeys{dataKeys, sparePool} {
		for {
			n, err := s.rewrapBatch(ctx, next, t)
			if err != nil {
				return "", done, err
			}
			if n == 0 {
				break
			}
			done += n
			if progress != nil {
				progress(done, total)
			}
		}
	}
	if err := secret.Replace(s.path+".new", s.path); err != nil {
		return "", done, err
	}
	s.mu.Lock()
	s.keks = map[string]*KEK{next.ID: next}
	s.mu.Unlock()
	return next.ID, done, nil
}

// wrappedKeys is a table of wrapped keys: the data keys, or the spares not taken yet.
type wrappedKeys struct{ table, subject, live string }

var (
	dataKeys  = wrappedKeys{"keystore.data_keys", "CASE WHEN pooled THEN '' ELSE subject END", "wrapped IS NOT NULL"}
	sparePool = wrappedKeys{"keystore.key_pool", "''", "true"}
)

// rewrapBatch moves up to 1000 keys of t to next in one transaction.
func (s *Store) rewrapBatch(ctx context.Context, next *KEK, t wrappedKeys) (int, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	rows, err := tx.Query(ctx, `SELECT key_id, `+t.subject+`, kek_id, wrapped FROM `+t.table+`
		WHERE `+t.live+` AND kek_id <> $1 ORDER BY key_id LIMIT 1000 FOR UPDATE`, next.ID)
	if err != nil {
		return 0, err
	}
	var ids []string
	var wrapped [][]byte
	for rows.Next() {
		var id, subject, kekID string
		var w []byte
		if err := rows.Scan(&id, &subject, &kekID, &w); err != nil {
			rows.Close()
			return 0, err
		}
		old := s.kek(kekID)
		if old == nil {
			rows.Close()
			return 0, fmt.Errorf("%w: data key %s is wrapped under %s, which is not loaded", ErrWrongKEK, id, kekID)
		}
		dek, err := old.unwrap(id, subject, w)
		if err != nil {
			rows.Close()
			return 0, err
		}
		nw, err := next.wrap(id, subject, dek)
		if err != nil {
			rows.Close()
			return 0, err
		}
		ids, wrapped = append(ids, id), append(wrapped, nw)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if _, err := tx.Exec(ctx, `UPDATE `+t.table+` d SET kek_id = $2, wrapped = t.w
		FROM unnest($1::text[], $3::bytea[]) AS t(k, w) WHERE d.key_id = t.k`, ids, next.ID, wrapped); err != nil {
		return 0, err
	}
	return len(ids), tx.Commit(ctx)
}
