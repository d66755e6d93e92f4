package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/outage"
)

// Appender is the append half of a store of record.
type Appender interface {
	Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error)
}

// Append seals the personal data of events (a copy: the caller's data is not changed) and appends them
// to inner, which seals them into the stream's hash chain: the chain covers the ciphertext. It keeps
// inner's contract (infra/eventstore.Store.Append): what inner writes into the events' metadata (the
// chain's PrevHash and Hash, OccurredAt in UTC) is written into the caller's events too, so that the last
// one's Hash is the stream's new tail hash, ready for the next append's expectation. Without it a caller
// that continues a stream from its own events (the demo generator) continued the chain from an empty hash.
func (s *Store) Append(ctx context.Context, inner Appender, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	evs := slices.Clone(events)
	if err := s.Seal(ctx, evs); err != nil {
		return eventlog.AppendResult{}, err
	}
	res, err := inner.Append(ctx, stream, expected, evs)
	for i := range events {
		events[i].Meta = evs[i].Meta
	}
	return res, err
}

// Reader reads $all forwards (infra/eventstore.Store).
type Reader interface {
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
}

// ErrClearPersonalData: the store holds personal data in clear, written before personal data was sealed.
var ErrClearPersonalData = errors.New("keys: the event store holds personal data in clear text")

// ErrUnknownKeys: the store holds personal data sealed with data keys this key store never held (not even
// destroyed): the database is not the store's ledger's, or its key store was restored from a dump older
// than the history. Nothing of it could be opened.
var ErrUnknownKeys = errors.New("keys: the event store's personal data is sealed with data keys this key store never held")

var errStop = errors.New("stop")

// CheckStore refuses a store of record that holds personal data in clear (ErrClearPersonalData, naming the
// first such event and how to migrate), and learns from the sealed objects which person each spare key
// went to and in which communities each person has data. It reads $all from where its last check ended
// (kept in the key store, with what it learnt, in one transaction), so only a first start reads the
// whole store; one check at a time runs in a process.
func (s *Store) CheckStore(ctx context.Context, store Reader) error {
	s.checking.Lock()
	defer s.checking.Unlock()
	var from string
	if err := s.pool.QueryRow(ctx, `SELECT coalesce((SELECT checked_to FROM keystore.store_check), '')`).Scan(&from); err != nil {
		return err
	}
	start := eventlog.Start
	if from != "" {
		p, err := eventlog.ParsePosition(from)
		if err != nil {
			return err
		}
		start = p
	}
	last := start
	var bad *eventlog.Recorded
	began, read := time.Now(), 0
	if from == "" {
		slog.Info("keys: checking the store for personal data in clear; this first start reads all of it, later ones only what is new")
	}
	var l learnt
	err := store.ReadAll(ctx, start, 0, func(r eventlog.Recorded) error {
		last, read = r.Position, read+1
		if eventlog.SystemStream(r.Stream) {
			return nil
		}
		fs, err := find(func(int) []byte { return r.Data }, 1, func(p kernel.PersonalData) bool { return p.IsSealed() || isClear(p) })
		if err != nil {
			return fmt.Errorf("%s@%d: %w", r.Stream, r.Revision, err)
		}
		for _, f := range fs {
			if !f.data.IsSealed() {
				bad = &r
				return errStop
			}
			l.add(f.data, r)
		}
		if len(l.keys)+len(l.holders) >= 10000 {
			return s.learn(ctx, &l, nil)
		}
		return nil
	})
	if bad != nil {
		return fmt.Errorf("%w (first: %s, stream %s revision %d, at %s). This ledger seals personal data, so that it can be erased "+
			"on a lawful request without rewriting history, and will not serve a store that holds it in clear. Migrate it once: "+
			"stop every process using it, then `ledger copy-store --encrypt --to-data NEW_DIR` (or --to-url) into a fresh store "+
			"(event ids and order are kept; the events with personal data, and those after them in their streams, get new hashes, "+
			"and the migration is recorded in the new store), and serve the new store with a fresh database (`ledger rebuild`)",
			ErrClearPersonalData, bad.Type, bad.Stream, bad.Revision, bad.Position)
	}
	if err != nil {
		return err
	}
	if last == start {
		return nil
	}
	if from == "" {
		slog.Info("keys: the store holds no personal data in clear", "events", read, "seconds", time.Since(began).Seconds())
	}
	return s.learn(ctx, &l, &last)
}

// learnt is what CheckStore read of the sealed objects: which subject each key sealed for, and the
// communities of each subject.
type learnt struct {
	keys    map[string]string            // key id → subject
	holders map[Holder]eventlog.Recorded // the latest record of each subject in each community
}

func (l *learnt) add(p kernel.PersonalData, r eventlog.Recorded) {
	if l.keys == nil {
		l.keys, l.holders = map[string]string{}, map[Holder]eventlog.Recorded{}
	}
	l.keys[p.Key] = string(p.Subject)
	if r.Meta.CommunityID != "" {
		r.Data = nil // only where it is
		l.holders[Holder{Subject: string(p.Subject), Community: r.Meta.CommunityID, Jurisdiction: r.Meta.Jurisdiction}] = r
	}
}

// learn writes what l holds — the spare keys taken move into data_keys under their subject, the
// subjects' communities are registered — and, with checked, how far the store was read, in one
// transaction; l is emptied.
func (s *Store) learn(ctx context.Context, l *learnt, checked *eventlog.Position) error {
	var keyIDs, keySubjects, subj, comm, juri, streams []string
	var revisions, commits []int64
	for k, sub := range l.keys {
		keyIDs, keySubjects = append(keyIDs, k), append(keySubjects, sub)
	}
	for h, r := range l.holders {
		subj, comm, juri = append(subj, h.Subject), append(comm, h.Community), append(juri, h.Jurisdiction)
		streams, revisions, commits = append(streams, r.Stream), append(revisions, int64(r.Revision)), append(commits, int64(r.Position.Commit))
	}
	*l = learnt{}
	batch := &pgx.Batch{}
	if len(keyIDs)+len(subj) > 0 {
		batch.Queue(`WITH reg AS (INSERT INTO keystore.subjects AS s (subject, community_id, jurisdiction, last_stream, last_revision, last_commit)
				SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[])
				ON CONFLICT (subject, community_id) DO UPDATE SET last_stream = excluded.last_stream,
					last_revision = excluded.last_revision, last_commit = excluded.last_commit
				WHERE s.last_commit IS NULL OR s.last_commit < excluded.last_commit),
			moved AS (DELETE FROM keystore.key_pool p USING unnest($1::text[], $2::text[]) AS t(k, s)
				WHERE p.key_id = t.k RETURNING p.key_id, t.s, p.kek_id, p.wrapped)
			INSERT INTO keystore.data_keys (key_id, subject, kek_id, wrapped, pooled)
				SELECT key_id, s, kek_id, wrapped, true FROM moved`, keyIDs, keySubjects, subj, comm, juri, streams, revisions, commits)
	}
	if checked != nil {
		batch.Queue(`INSERT INTO keystore.store_check (checked_to) VALUES ($1)
			ON CONFLICT (one) DO UPDATE SET checked_to = excluded.checked_to`, checked.String())
	}
	if batch.Len() == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		// Every key a sealed object names was made durable here before anything was sealed with it, and a
		// destroyed key keeps its row: one found nowhere means another ledger's key store, or an older one.
		var unknown int
		var first string
		if err := tx.QueryRow(ctx, `SELECT count(*), coalesce(min(k), '') FROM unnest($1::text[]) AS t(k)
				WHERE NOT EXISTS (SELECT 1 FROM keystore.data_keys d WHERE d.key_id = t.k)`, keyIDs).Scan(&unknown, &first); err != nil {
			return err
		}
		if unknown > 0 {
			return fmt.Errorf("%w (%d, e.g. %s). Is DATABASE_URL the database of the ledger that wrote this store? After a restore, "+
				"its key store must come from the backup's keys.dump, which `ledger backup` takes after copying the history "+
				"(`ledger restore`); a key store older than the history lacks the keys made since", ErrUnknownKeys, unknown, first)
		}
		return nil
	})
}

// Eraser is the key store as an erasure uses it (commands.PersonalKeys): before it says what a person
// holds, and again before it destroys their keys, it reads what is new in the store of record
// (CheckStore), so that a spare key taken for the person — by any process, one that crashed since
// included — is known and destroyed with the others.
type Eraser struct {
	*Store
	Records Reader
}

// Holdings is Store.Holdings after CheckStore.
func (e Eraser) Holdings(ctx context.Context, subject string) (paths, live []string, err error) {
	if err := e.CheckStore(ctx, e.Records); err != nil {
		return nil, nil, err
	}
	return e.Store.Holdings(ctx, subject)
}

// Destroy is Store.Destroy after CheckStore: every record before the erasure was read.
func (e Eraser) Destroy(ctx context.Context, subject, erasure string) (int, error) {
	if err := e.CheckStore(ctx, e.Records); err != nil {
		return 0, err
	}
	return e.Store.Destroy(ctx, subject, erasure)
}

// FollowStore runs CheckStore every interval until ctx ends, so that an erasure reads little.
func (s *Store) FollowStore(ctx context.Context, store Reader, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var out outage.Log
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch err := s.CheckStore(ctx, store); {
		case err != nil && ctx.Err() == nil:
			out.Fail(slog.Default(), time.Now(), "keys: reading the store of record for the keys taken failed", "err", err)
		case err == nil:
			out.Over(slog.Default(), time.Now(), "keys: reading the store of record for the keys taken again")
		}
	}
}
