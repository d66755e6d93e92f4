package keys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// Appender is the append half of a store of record.
type Appender interface {
	Append(ctx context.Context, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error)
}

// Append seals the personal data of events (a copy: the caller's slice is not changed) and appends them
// to inner, which seals them into the stream's hash chain: the chain covers the ciphertext.
func (s *Store) Append(ctx context.Context, inner Appender, stream string, expected eventlog.Expected, events []eventlog.Event) (eventlog.AppendResult, error) {
	evs := slices.Clone(events)
	if err := s.Seal(ctx, evs); err != nil {
		return eventlog.AppendResult{}, err
	}
	return inner.Append(ctx, stream, expected, evs)
}

// Reader reads $all forwards (infra/eventstore.Store).
type Reader interface {
	ReadAll(ctx context.Context, from eventlog.Position, max int, fn func(eventlog.Recorded) error) error
}

// ErrClearPersonalData: the store holds personal data in clear, written before personal data was sealed.
var ErrClearPersonalData = errors.New("keys: the event store holds personal data in clear text")

var errStop = errors.New("stop")

// CheckStore refuses a store of record that holds personal data in clear (ErrClearPersonalData, naming the
// first such event and how to migrate). It reads $all from where its last check ended (kept in the key
// store), so only a first start reads the whole store.
func (s *Store) CheckStore(ctx context.Context, store Reader) error {
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
	err := store.ReadAll(ctx, start, 0, func(r eventlog.Recorded) error {
		last, read = r.Position, read+1
		if eventlog.SystemStream(r.Stream) {
			return nil
		}
		clear, err := HasClearPersonalData(r.Data)
		if err != nil {
			return fmt.Errorf("%s@%d: %w", r.Stream, r.Revision, err)
		}
		if clear {
			bad = &r
			return errStop
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
	_, err = s.pool.Exec(ctx, `INSERT INTO keystore.store_check (checked_to) VALUES ($1)
		ON CONFLICT (one) DO UPDATE SET checked_to = excluded.checked_to`, last.String())
	return err
}
