package keys

import (
	"context"
	"errors"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
)

// Record is a person's personal data as last recorded in one community, opened for a clerk's look-up
// (or erased).
type Record struct {
	Community    string              `json:"community_id"`
	Jurisdiction string              `json:"jurisdiction"`
	Stream       string              `json:"stream"`
	Event        string              `json:"event_id"`
	Type         string              `json:"event_type"`
	RecordedAt   time.Time           `json:"recorded_at"`
	Personal     kernel.PersonalData `json:"personal"`
}

// StreamReader reads the store of record (infra/eventstore.Store).
type StreamReader interface {
	Reader
	ReadStream(ctx context.Context, stream string, from uint64, count int, backwards bool) ([]eventlog.Recorded, error)
}

// ErrNoRecords: no personal data of the person is recorded in any community.
var ErrNoRecords = errors.New("keys: no personal data of this person is recorded")

// LookUp returns the personal data of subject as last recorded in each community whose jurisdiction
// path covered admits, opened (or erased), after reading what is new in the store of record, so that
// what a clerk has just recorded is there. outside counts the communities holding the person's data that
// covered does not admit; with none anywhere it is ErrNoRecords.
func (s *Store) LookUp(ctx context.Context, store StreamReader, subject string, covered func(path string) bool) (recs []Record, outside int, err error) {
	if err := s.CheckStore(ctx, store); err != nil {
		return nil, 0, err
	}
	rows, err := s.pool.Query(ctx, `SELECT community_id, jurisdiction, last_stream, last_revision FROM keystore.subjects
		WHERE subject = $1 AND last_stream IS NOT NULL ORDER BY community_id`, subject)
	if err != nil {
		return nil, 0, err
	}
	type where struct {
		community, path, stream string
		revision                int64
	}
	var at []where
	for rows.Next() {
		var w where
		if err := rows.Scan(&w.community, &w.path, &w.stream, &w.revision); err != nil {
			rows.Close()
			return nil, 0, err
		}
		at = append(at, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if len(at) == 0 {
		return nil, 0, ErrNoRecords
	}
	for _, w := range at {
		if !covered(w.path) {
			outside++
			continue
		}
		evs, err := store.ReadStream(ctx, w.stream, uint64(w.revision), 1, false)
		if err != nil {
			return nil, 0, err
		}
		if len(evs) == 0 {
			continue
		}
		ev := evs[0]
		fs, err := find(func(int) []byte { return ev.Data }, 1, func(p kernel.PersonalData) bool {
			return p.IsSealed() && string(p.Subject) == subject
		})
		if err != nil {
			return nil, 0, err
		}
		if len(fs) == 0 {
			continue
		}
		opened, err := s.open(ctx, []kernel.PersonalData{fs[0].data}, []eventlog.ID{ev.ID})
		if err != nil {
			return nil, 0, err
		}
		recs = append(recs, Record{Community: w.community, Jurisdiction: w.path, Stream: ev.Stream, Event: ev.ID.String(),
			Type: ev.Type, RecordedAt: ev.Created, Personal: opened[0]})
	}
	return recs, outside, nil
}
