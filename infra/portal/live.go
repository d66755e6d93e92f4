package portal

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
)

// Live updates (server-sent events). An open community page holds one stream, /c/{id}/live. Run polls the
// models' checkpoints; when they moved, the hub fingerprints each community someone is watching (one
// indexed statement per community, shared with the page cache) and tells its streams which sections
// changed. The page's small script then fetches those sections' HTML (/c/{id}/s/{section}) and swaps them
// in: no reload, and without JavaScript the page is simply static.

// heartbeat keeps proxies from closing an idle stream.
const heartbeat = 25 * time.Second

type hub struct {
	p    *Portal
	mu   sync.Mutex
	subs map[string]map[*subscriber]struct{}
	last map[string]fingerprint
}

type subscriber struct {
	notify chan struct{} // capacity 1: a pending update
	mu     sync.Mutex
	upd    update
}

// update is the data of an "update" event.
type update struct {
	Sections  []string `json:"sections"`
	Freshness string   `json:"freshness"`
	FP        string   `json:"fp"`
}

func newHub(p *Portal) *hub {
	return &hub{p: p, subs: map[string]map[*subscriber]struct{}{}, last: map[string]fingerprint{}}
}

func (h *hub) subscribe(id string, fp fingerprint) *subscriber {
	s := &subscriber{notify: make(chan struct{}, 1)}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.subs[id] == nil {
		h.subs[id] = map[*subscriber]struct{}{}
		h.last[id] = fp
	}
	h.subs[id][s] = struct{}{}
	return s
}

func (h *hub) unsubscribe(id string, s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs[id], s)
	if len(h.subs[id]) == 0 {
		delete(h.subs, id)
		delete(h.last, id)
	}
}

// Watching is how many live streams are open, for tests and metrics.
func (p *Portal) Watching() int {
	h := p.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, s := range h.subs {
		n += len(s)
	}
	return n
}

// changed is called by Run when the snapshot's version moved.
func (h *hub) changed(ctx context.Context, s *snapshot) {
	h.mu.Lock()
	ids := make([]string, 0, len(h.subs))
	for id := range h.subs {
		ids = append(ids, id)
	}
	h.mu.Unlock()
	fresh := s.FreshnessText()
	for _, id := range ids {
		fp, exists, err := h.p.fingerprint(ctx, s, id)
		if err != nil || !exists {
			continue
		}
		h.mu.Lock()
		prev, watched := h.last[id]
		if !watched {
			h.mu.Unlock()
			continue
		}
		h.last[id] = fp
		var secs []string
		for i := range fp {
			if fp[i] != prev[i] {
				secs = append(secs, sectionNames[i])
			}
		}
		subs := make([]*subscriber, 0, len(h.subs[id]))
		for sub := range h.subs[id] {
			subs = append(subs, sub)
		}
		h.mu.Unlock()
		for _, sub := range subs {
			sub.push(secs, fresh, fp.short())
		}
	}
}

// push merges an update into the subscriber's pending one and wakes its stream.
func (s *subscriber) push(secs []string, fresh, fp string) {
	s.mu.Lock()
	for _, sec := range secs {
		if !contains(s.upd.Sections, sec) {
			s.upd.Sections = append(s.upd.Sections, sec)
		}
	}
	changed := len(secs) > 0 || s.upd.Freshness != fresh
	s.upd.Freshness, s.upd.FP = fresh, fp
	s.mu.Unlock()
	if changed {
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

func (s *subscriber) take() update {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.upd
	s.upd.Sections = nil
	return u
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// staleSections lists the sections whose short hash in since (a page's data-fp, or the stream's last
// event id) differs from fp's: what a page loaded earlier must fetch again.
func staleSections(since string, fp fingerprint) []string {
	have := strings.Split(since, ".")
	now := strings.Split(fp.short(), ".")
	var out []string
	for i := range now {
		if i >= len(have) || have[i] != now[i] {
			out = append(out, sectionNames[i])
		}
	}
	return out
}

// live is the SSE stream of a community page.
func (p *Portal) live(w http.ResponseWriter, r *http.Request) {
	s, fp, ok := p.communityState(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	release, ok := p.streams.Acquire(httpapi.ClientAddress(r))
	if !ok {
		w.Header().Set("Retry-After", "30")
		p.errorPage(w, r, http.StatusTooManyRequests, "连接过多", "同时打开的实时更新页面过多，请关闭一些页面后再试。")
		return
	}
	defer release()
	rc := httpapi.StartEventStream(w)

	sub := p.hub.subscribe(id, fp)
	defer p.hub.unsubscribe(id, sub)
	since := r.Header.Get("Last-Event-ID")
	if since == "" {
		since = r.URL.Query().Get("since")
	}
	if _, err := fmt.Fprint(w, "retry: 3000\n\n"); err != nil {
		return
	}
	if since != "" {
		if secs := staleSections(since, fp); len(secs) > 0 {
			sub.push(secs, s.FreshnessText(), fp.short())
		}
	}
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-p.stopping:
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		case <-sub.notify:
			u := sub.take()
			if u.Sections == nil {
				u.Sections = []string{}
			}
			data, _ := json.Marshal(u)
			if _, err := fmt.Fprintf(w, "id: %s\nevent: update\ndata: %s\n\n", u.FP, data); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
