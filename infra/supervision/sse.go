package supervision

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	policy "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

// StreamItem is the data of one SSE event: an alert event with where it sits in $all.
type StreamItem struct {
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	Stream     string          `json:"stream"`
	Position   string          `json:"position"`
	RecordedAt time.Time       `json:"recorded_at"`
	Alert      json.RawMessage `json:"alert"`
}

// AlertSource is the event store the alert streams read: the districts' alert streams
// (eventlog.AlertsStreamPrefix) in $all from a position, live once caught up, and the head of $all.
type AlertSource interface {
	SubscribeAll(ctx context.Context, from eventlog.Position, filter eventlog.Filter, fn func(eventlog.Delivery) error) error
	Head(ctx context.Context) (eventlog.Position, error)
}

// alertOf is the part of an alert event's payload a stream selects by: AlertRaised's and AlertCleared's
// jurisdiction (the feed's, too).
type alertOf struct {
	Jurisdiction kernel.JurisdictionPath `json:"jurisdiction"`
}

var raisedType, clearedType = policy.AlertRaised{}.EventName(), policy.AlertCleared{}.EventName()

// streamed reports whether r is an alert event under `under` ("*": anywhere), and its item.
func streamed(r *eventlog.Recorded, under kernel.JurisdictionPath) (StreamItem, bool) {
	if r.Type != raisedType && r.Type != clearedType {
		return StreamItem{}, false
	}
	var a alertOf
	if err := json.Unmarshal(r.Data, &a); err != nil {
		return StreamItem{}, false
	}
	if under != "*" && !under.Contains(a.Jurisdiction) {
		return StreamItem{}, false
	}
	return StreamItem{EventID: r.ID.String(), Type: r.Type, Stream: r.Stream, Position: r.Position.String(),
		RecordedAt: r.Created, Alert: json.RawMessage(r.Data)}, true
}

// stream serves one SSE subscriber: the alert events under `under` after `after`, then live ones, read
// from the store as they are appended (a subscription to $all filtered to the alert streams), not from the
// alerts model's feed a projection later: an alert reaches its subscribers once durable. Every event's id
// is its $all position, so a reconnect with Last-Event-ID resumes exactly after it.
func (a *API) stream(w http.ResponseWriter, r *http.Request, under kernel.JurisdictionPath, after eventlog.Position) {
	rc := httpapi.StartEventStream(w)
	if _, err := w.Write([]byte("retry: 2000\n: alerts under " + string(under) + " after " + after.String() + "\n\n")); err != nil {
		return
	}
	_ = rc.Flush()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	events := make(chan eventlog.Recorded, 256)
	ended := make(chan error, 1)
	go func() {
		ended <- a.cfg.Store.SubscribeAll(ctx, after, eventlog.Filter{StreamPrefixes: []string{eventlog.AlertsStreamPrefix}},
			func(d eventlog.Delivery) error {
				if d.Event == nil {
					return nil
				}
				select {
				case events <- *d.Event:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
	}()
	heartbeat := time.NewTicker(a.cfg.Heartbeat)
	defer heartbeat.Stop()
	send := func(ev eventlog.Recorded) bool {
		it, ok := streamed(&ev, under)
		if !ok {
			return true
		}
		data, err := json.Marshal(it)
		if err != nil {
			return false
		}
		if _, err := w.Write([]byte("id: " + it.Position + "\nevent: " + it.Type + "\ndata: " + string(data) + "\n\n")); err != nil {
			return false
		}
		a.metrics.sseEvents.Inc()
		return true
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.stop:
			return
		case err := <-ended:
			if ctx.Err() == nil {
				a.cfg.Logger.WarnContext(ctx, "alerting: SSE subscription ended", "err", err)
			}
			return // the client reconnects with Last-Event-ID
		case ev := <-events:
			if !send(ev) {
				return
			}
			for more := true; more; { // what else has come, in the same flush
				select {
				case ev := <-events:
					if !send(ev) {
						return
					}
				default:
					more = false
				}
			}
			if err := rc.Flush(); err != nil {
				return
			}
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
