package httpapi

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// EdgeConfig tunes Edge.
type EdgeConfig struct {
	// FailedAuthLimit is how many answers 401 one address may get within FailedAuthWindow before its
	// requests that carry credentials are answered 429 until the window has passed. Default 20 a minute.
	FailedAuthLimit  int
	FailedAuthWindow time.Duration
	Logger           *slog.Logger
	// Now is the clock of the windows; default time.Now.
	Now func() time.Time
}

// Edge wraps the whole HTTP surface (command API, auditor and supervisor APIs, portal) with what every
// request must pass, whichever stack answers it:
//
//   - a path or query holding NUL, another control character or invalid UTF-8 (raw or %-encoded) is a
//     400 problem, before any handler reads it (it would reach a database that refuses it: a 500);
//   - an address whose token checks keep failing (401) is slowed down: past FailedAuthLimit failures
//     within FailedAuthWindow, its requests with an Authorization header get 429 with Retry-After. Every
//     failure is logged with the address and the path, never the token.
func Edge(h http.Handler, cfg EdgeConfig) http.Handler {
	if cfg.FailedAuthLimit <= 0 {
		cfg.FailedAuthLimit = 20
	}
	if cfg.FailedAuthWindow <= 0 {
		cfg.FailedAuthWindow = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	e := &edge{next: h, cfg: cfg, failures: map[string]*failures{}}
	return e
}

type edge struct {
	next http.Handler
	cfg  EdgeConfig

	mu       sync.Mutex
	failures map[string]*failures
	sweptAt  time.Time
}

type failures struct {
	since time.Time
	n     int
}

func (e *edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if what, ok := saneURL(r); !ok {
		WriteProblem(w, r, newProblem(http.StatusBadRequest, CodeInvalidText, "请求地址含有"+what+"，无法处理"))
		return
	}
	addr := ClientAddress(r)
	if r.Header.Get("Authorization") != "" {
		if wait := e.blocked(addr); wait > 0 {
			p := newProblem(http.StatusTooManyRequests, "too-many-failed-logins",
				"此地址的令牌验证失败次数过多，请稍后再试")
			p.headers = http.Header{"Retry-After": {strconv.Itoa(int(wait.Seconds()) + 1)}}
			WriteProblem(w, r, p)
			return
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	e.next.ServeHTTP(sw, r)
	if sw.status == http.StatusUnauthorized {
		n := e.fail(addr)
		e.cfg.Logger.LogAttrs(r.Context(), slog.LevelWarn, "authentication failed", slog.String("address", addr),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("failures_in_window", n))
	}
}

// blocked returns how long addr must wait, or 0.
func (e *edge) blocked(addr string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	f := e.failures[addr]
	if f == nil {
		return 0
	}
	left := f.since.Add(e.cfg.FailedAuthWindow).Sub(e.cfg.Now())
	if left <= 0 {
		delete(e.failures, addr)
		return 0
	}
	if f.n >= e.cfg.FailedAuthLimit {
		return left
	}
	return 0
}

// fail counts a failure of addr and returns the count in the current window. Old windows are swept now
// and then, so the map stays bounded by the addresses failing within a window.
func (e *edge) fail(addr string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now()
	if now.Sub(e.sweptAt) > e.cfg.FailedAuthWindow {
		for a, f := range e.failures {
			if now.Sub(f.since) > e.cfg.FailedAuthWindow {
				delete(e.failures, a)
			}
		}
		e.sweptAt = now
	}
	f := e.failures[addr]
	if f == nil || now.Sub(f.since) > e.cfg.FailedAuthWindow {
		f = &failures{since: now}
		e.failures[addr] = f
	}
	f.n++
	return f.n
}

// saneURL reports what is wrong with the request's path and query, if anything.
func saneURL(r *http.Request) (string, bool) {
	for _, s := range []string{r.URL.Path, r.URL.RawQuery} {
		if !utf8.ValidString(s) {
			return "无效的 UTF-8", false
		}
		if strings.ContainsFunc(s, isControl) {
			return "控制字符", false
		}
	}
	q, err := urlQueryUnescape(r.URL.RawQuery)
	if err != nil {
		return "无法解析的查询参数", false
	}
	if !utf8.ValidString(q) {
		return "无效的 UTF-8", false
	}
	if strings.ContainsFunc(q, isControl) {
		return "控制字符", false
	}
	return "", true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushes, deadlines of streams).
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// urlQueryUnescape decodes the %-escapes of a raw query (keys and values together), to look at what the
// handlers will see.
func urlQueryUnescape(raw string) (string, error) {
	return url.QueryUnescape(strings.ReplaceAll(raw, "&", " "))
}

// Flush passes a flush through (streams, NDJSON progress).
func (s *statusWriter) Flush() {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}
