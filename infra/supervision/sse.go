package supervision

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// listen forwards the notifications of channel to notes (coalesced) until ctx ends, reconnecting after
// errors. A missed notification only delays the listener until its next poll.
func listen(ctx context.Context, pool *pgxpool.Pool, channel string, notes chan<- struct{}, log *slog.Logger) {
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pool.Acquire(ctx)
			if err != nil {
				return err
			}
			defer conn.Release()
			if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
				return err
			}
			defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), "UNLISTEN *") }()
			poke(notes) // anything that happened while not listening
			for {
				if _, err := conn.Conn().WaitForNotification(ctx); err != nil {
					return err
				}
				poke(notes)
			}
		}()
		if ctx.Err() != nil {
			return
		}
		log.WarnContext(ctx, "alerting: listening for notifications failed, retrying", "channel", channel, "err", err)
		if !sleep(ctx, time.Second) {
			return
		}
	}
}

func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// Hub wakes the SSE streams when the alert feed grows: one LISTEN connection for the whole process,
// fanned out to every open stream.
type Hub struct {
	pool *pgxpool.Pool
	log  *slog.Logger

	mu   sync.Mutex
	subs map[chan struct{}]struct{}
}

// NewHub returns a hub; Run it.
func NewHub(pool *pgxpool.Pool, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.Default()
	}
	return &Hub{pool: pool, log: log, subs: map[chan struct{}]struct{}{}}
}

// Run listens for the feed's notifications until ctx ends.
func (h *Hub) Run(ctx context.Context) error {
	notes := make(chan struct{}, 1)
	go listen(ctx, h.pool, alerts.FeedChannel, notes, h.log)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-notes:
			h.mu.Lock()
			for c := range h.subs {
				poke(c)
			}
			h.mu.Unlock()
		}
	}
}

func (h *Hub) subscribe() chan struct{} {
	c := make(chan struct{}, 1)
	h.mu.Lock()
	h.subs[c] = struct{}{}
	h.mu.Unlock()
	return c
}

func (h *Hub) unsubscribe(c chan struct{}) {
	h.mu.Lock()
	delete(h.subs, c)
	h.mu.Unlock()
}

// StreamItem is the data of one SSE event: an alert event with where it sits in $all.
type StreamItem struct {
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Stream     string          `json:"stream"`
	Position   string          `json:"position"`
	RecordedAt time.Time       `json:"recorded_at"`
	Alert      json.RawMessage `json:"alert"`
}

// streamItem is the SSE data (and the webhook body) of a feed item.
func streamItem(it alerts.FeedItem) StreamItem {
	return StreamItem{EventID: it.EventID, Type: it.Type, Stream: it.Stream, Position: it.Position.String(),
		RecordedAt: it.RecordedAt, Alert: it.Alert}
}

// stream serves one SSE subscriber: the alert events under `under` after `after`, then live ones as the
// feed grows. Every event's id is its $all position, so a reconnect with Last-Event-ID resumes exactly
// after it.
func (a *API) stream(w http.ResponseWriter, r *http.Request, under kernel.JurisdictionPath, after eventlog.Position) {
	rc := httpapi.StartEventStream(w)
	if _, err := w.Write([]byte("retry: 2000\n: alerts under " + string(under) + " after " + after.String() + "\n\n")); err != nil {
		return
	}
	_ = rc.Flush()
	wake := a.hub.subscribe()
	defer a.hub.unsubscribe(wake)
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	poll := time.NewTicker(a.cfg.Poll)
	defer poll.Stop()
	ctx := r.Context()
	for {
		items, err := alerts.Feed(ctx, a.cfg.Pool, under, after, 500)
		if err != nil {
			if ctx.Err() == nil {
				a.cfg.Logger.WarnContext(ctx, "alerting: SSE feed read failed", "err", err)
			}
			return // the client reconnects with Last-Event-ID
		}
		for _, it := range items {
			data, err := json.Marshal(streamItem(it))
			if err != nil {
				return
			}
			if _, err := w.Write([]byte("id: " + it.Position.String() + "\nevent: " + it.Type + "\ndata: " + string(data) + "\n\n")); err != nil {
				return
			}
			after = it.Position
		}
		if len(items) > 0 {
			if err := rc.Flush(); err != nil {
				return
			}
			a.metrics.sseEvents.Add(float64(len(items)))
		}
		if len(items) == 500 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-a.stop:
			return
		case <-wake:
		case <-poll.C:
		case <-heartbeat.C:
			if _, err := w.Write([]byte(": keep-alive\n\n")); err != nil {
				return
			}
			if err := rc.Flush(); err != nil {
				return
			}
		}
	}
}
