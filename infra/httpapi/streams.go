package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"sync"
	"time"
)

// StreamLimits caps the long-lived streams (server-sent events) a server holds open: per key (a token's
// subject, or a client address where there is no token) and in total. Streams are exempt from the write
// timeout, so without a cap one client could hold every file descriptor.
type StreamLimits struct {
	// PerKey and Total are the caps; zero means the defaults (8 and 1000).
	PerKey, Total int

	mu    sync.Mutex
	open  map[string]int
	total int
}

// Acquire takes a stream for key and returns its release, or false when a cap is reached.
func (l *StreamLimits) Acquire(key string) (release func(), ok bool) {
	per, total := l.PerKey, l.Total
	if per <= 0 {
		per = 8
	}
	if total <= 0 {
		total = 1000
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open == nil {
		l.open = map[string]int{}
	}
	if l.total >= total || l.open[key] >= per {
		return nil, false
	}
	l.open[key]++
	l.total++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.total--
			if l.open[key]--; l.open[key] <= 0 {
				delete(l.open, key)
			}
		})
	}, true
}

// TokenKey is the key of a stream opened with a bearer token: a digest of the token (never the token
// itself), so that each token has its own cap.
func TokenKey(r *http.Request) string {
	sum := sha256.Sum256([]byte(r.Header.Get("Authorization")))
	return "token:" + hex.EncodeToString(sum[:12])
}

// ClientAddress is the address a request came from, without its port: the key of a stream without a
// token.
func ClientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// StartEventStream answers 200 with the headers of a stream of server-sent events (not cached, not
// buffered by a proxy) and lifts the server's write deadline, which a stream outlives. It returns the
// controller to flush with.
func StartEventStream(w http.ResponseWriter) *http.ResponseController {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	return rc
}
