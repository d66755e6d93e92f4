// Package portal is the 24/7 public disclosure portal (村务公开/居务公开): server-rendered Chinese HTML
// pages for residents on any phone, the same data as a JSON API under /api/v1/public/ (in the OpenAPI
// document), and live updates of an open community page over server-sent events.
//
// It reads nothing but the public read models in PostgreSQL, as a role that can read nothing else
// (EnsureRole, OpenPool), so it keeps serving while the event store is down, and every page says how
// fresh its data is. Personal data never reaches a response: the models hold none (masked payee names,
// opaque person ids, objections by counts), every public shape is built field by field, and free texts
// are redacted (Redact) on the way out.
//
// Speed comes from not asking the database: one poll of the models' checkpoints a few times a second
// tells whether anything changed anywhere; when it did, a community being read is fingerprinted with one
// indexed statement, and only the sections whose fingerprint moved are rendered again. Everything else
// is served from memory, with strong ETags derived from the fingerprints (If-None-Match → 304).
package portal

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"errors"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/singleflight"

	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/projections/directory"
)

// schemaMismatch reports an undefined column, table or function: a read model's schema is not what a
// statement of the portal's own expects.
// unavailable reports an error that says the database cannot be reached or is not serving (down,
// restarting, shutting down, timed out): the portal then serves what it last rendered, marked stale.
func unavailable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03" || pe.Code == "57014"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded)
}

// staleNote is what a page served from memory during a database outage says beside its freshness line.
const staleNote = "数据库暂时无法访问，本页为此前保存的内容，可能不是最新数据。"

func schemaMismatch(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "42703" || pe.Code == "42P01" || pe.Code == "42883")
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the portal needs.
type Config struct {
	// DB is the portal's pool, connected as its read-only role (OpenPool).
	DB Querier
	// API receives the JSON operations under /api/v1/public/ so they appear in the OpenAPI document (the
	// command API's huma API, httpapi.Commands.API()). Nil: the JSON API is not mounted.
	API huma.API
	// Logger receives operational logs (never personal data). Default slog.Default().
	Logger *slog.Logger
	// PollInterval is how often the models' checkpoints are polled: the latency of live updates and of
	// cache invalidation. Default 250ms.
	PollInterval time.Duration
	// Regrant, when set, is called (at most every 5 s) when the role is denied a model or a model's table
	// is missing — what a rebuild swap does until the grants are renewed. serve passes EnsureRole with its
	// administrative pool.
	Regrant func(ctx context.Context) error
	// Now is the portal's clock: "publicity window open", the age of its snapshot of the models; default time.Now.
	Now func() time.Time
	// PublicURL is the portal's address as the public reaches it (https://portal.example), printed in the
	// QR codes of notices; empty: the address each request came to.
	PublicURL string
	// CacheEntries bounds the rendered pages and JSON kept in memory. Default 20000.
	CacheEntries int
	// Streams caps the live update streams per client address and in total (defaults 8 and 1000).
	Streams *httpapi.StreamLimits
	// Residents records what residents submit (objections, topics); nil: the forms say the portal does not
	// take submissions.
	Residents Submitter
	// Submissions bounds what one address may submit (see SubmissionLimits).
	Submissions SubmissionLimits
	// Documents holds the documents the records name by hash; nil: none are served.
	Documents Documents
	// Events reads an event from the store of record, for the public part of its payload on its 来源 page
	// (audittrail.PublicContent); nil: those pages show the record's envelope only. The rest of the
	// portal never reads the store, and an event page says so when it cannot.
	Events EventReader
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.PollInterval == 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.CacheEntries == 0 {
		c.CacheEntries = 20000
	}
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	if c.DB == nil {
		return errors.New("portal config: no DB: the portal reads the public read models (OpenPool)")
	}
	if c.PollInterval < 0 || c.CacheEntries < 0 {
		return errors.New("portal config: negative PollInterval or CacheEntries")
	}
	return nil
}

// Portal serves the public pages and JSON. Create it with New, mount it with Mount, and run Run for
// live updates and prompt cache invalidation (without Run the checkpoints are polled on demand).
type Portal struct {
	cfg   Config
	db    Querier
	w     *watcher
	tmpl  *template.Template
	log   *slog.Logger
	cache *cache
	hub   *hub
	// streams caps the live update streams (Config.Streams)
	streams *httpapi.StreamLimits
	// staticTag versions the static files' URLs so they can be cached for a year.
	staticTag string
	mismatch  sync.Once
	// stopping is closed when Run returns, so that the live streams end and the server can shut down.
	stopping     chan struct{}
	stoppingOnce sync.Once
	static       http.Handler
	// limits is the submissions' token bucket per address (Config.Submissions).
	limits *limiter
}

// New checks the configuration and parses the embedded templates. It does not touch the database.
func New(cfg Config) (*Portal, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	p := &Portal{cfg: cfg, db: cfg.DB, tmpl: t, log: cfg.Logger, cache: newCache(cfg.CacheEntries), staticTag: staticTag(sub),
		stopping: make(chan struct{})}
	p.static = staticHandler(sub)
	p.limits = newLimiter(cfg.Submissions, cfg.Now)
	p.w = &watcher{db: cfg.DB, interval: cfg.PollInterval, regrant: cfg.Regrant, now: cfg.Now,
		log: cfg.Logger}
	p.hub = newHub(p)
	p.streams = cfg.Streams
	if p.streams == nil {
		p.streams = &httpapi.StreamLimits{}
	}
	return p, nil
}

// Run polls the models' checkpoints every PollInterval and tells the live pages what changed, until ctx
// ends. It returns ctx's error; the live streams end with it (an http.Server's Shutdown waits for them).
func (p *Portal) Run(ctx context.Context) error {
	t := time.NewTicker(p.cfg.PollInterval)
	defer t.Stop()
	defer p.stoppingOnce.Do(func() { close(p.stopping) })
	var last uint64
	for {
		p.w.poll(ctx)
		if s := p.w.snapshot(); s.version != last {
			last = s.version
			p.hub.changed(ctx, &s)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Mount registers the pages, the static files, the live stream and (with Config.API) the JSON API. The
// portal takes "/" for its pages and its 404 page; paths registered more specifically elsewhere (the
// command API under /api/v1/, /metrics) keep theirs.
func (p *Portal) Mount(mux *http.ServeMux) {
	p.mountPages(mux)
	if p.cfg.API != nil {
		p.registerAPI(p.cfg.API)
	}
}

// ---- cache --------------------------------------------------------------------------------------------

// cache holds rendered bytes by key, each valid for one "validity" string (a fingerprint, a snapshot
// version); and each community's fingerprint for one snapshot version.
type cache struct {
	max int
	mu  sync.Mutex
	m   map[string]entry
	fps map[string]fpEntry
	sf  singleflight.Group
}

type entry struct {
	// stale: built for an earlier validity, served because the database cannot be reached (stale-if-error)
	stale bool
	valid string
	body  []byte
	gz    []byte // body gzipped, when that is worth it (cheap phones on slow links)
	etag  string
	link  string // the next page of a JSON list, for the Link header
}

// gzipFrom is the size from which a body is also kept gzipped.
const gzipFrom = 1024

func gzipped(b []byte) []byte {
	if len(b) < gzipFrom {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.DefaultCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip (and does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if _, q, ok := strings.Cut(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// representation picks the body and the entity tag for the request's Accept-Encoding: the gzipped body
// has a tag of its own, as strong tags must differ between codings.
func (e entry) representation(acceptEncoding string) (body []byte, etag string, gz bool) {
	if e.gz != nil && acceptsGzip(acceptEncoding) {
		return e.gz, strings.TrimSuffix(e.etag, `"`) + `-gz"`, true
	}
	return e.body, e.etag, false
}

type fpEntry struct {
	version uint64
	fp      fingerprint
	exists  bool
}

func newCache(max int) *cache {
	return &cache{max: max, m: map[string]entry{}, fps: map[string]fpEntry{}}
}

// get returns the entry for key when it is valid for valid; otherwise build makes it, once for all the
// callers asking at the same time.
func (c *cache) get(key, valid string, build func() ([]byte, error)) (entry, error) {
	return c.getLinked(key, valid, func() ([]byte, string, error) {
		b, err := build()
		return b, "", err
	})
}

// getLinked is get for JSON lists, whose entries remember their next page.
func (c *cache) getLinked(key, valid string, build func() ([]byte, string, error)) (entry, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && e.valid == valid {
		return e, nil
	}
	v, err, _ := c.sf.Do(key+"\x00"+valid, func() (any, error) {
		body, link, err := build()
		if err != nil {
			if ok && unavailable(err) {
				e.stale = true
				return e, nil // the last good one, marked stale, rather than an error page
			}
			return entry{}, err
		}
		e := entry{valid: valid, body: body, gz: gzipped(body), etag: `"` + hashString(key, valid) + `"`, link: link}
		c.mu.Lock()
		if len(c.m) >= c.max {
			c.evictLocked()
		}
		c.m[key] = e
		c.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return entry{}, err
	}
	return v.(entry), nil
}

// evictLocked drops about a tenth of the entries, at random (map order): cheap, and a hot page comes
// back at its next request.
func (c *cache) evictLocked() {
	n := len(c.m) / 10
	for k := range c.m {
		if n <= 0 {
			break
		}
		delete(c.m, k)
		n--
	}
	if len(c.fps) > c.max {
		clear(c.fps)
	}
}

// fingerprint returns a community's fingerprint as of snapshot s, reading it at most once per version.
func (p *Portal) fingerprint(ctx context.Context, s *snapshot, id string) (fingerprint, bool, error) {
	c := p.cache
	c.mu.Lock()
	e, ok := c.fps[id]
	c.mu.Unlock()
	if ok && e.version == s.version {
		return e.fp, e.exists, nil
	}
	v, err, _ := c.sf.Do("fp\x00"+id, func() (any, error) {
		fp, exists, err := fingerprintOf(ctx, p.db, s, id)
		if err != nil && schemaMismatch(err) {
			// A model's tables changed under the fingerprint's statement (a newer model version): fall back
			// to the snapshot's version, which changes with every batch anywhere — correct, only less
			// cached — and say so once.
			p.mismatch.Do(func() { p.log.Warn("portal: fingerprints fall back to the global version", "error", err.Error()) })
			_, err = directory.CommunityByID(ctx, p.db, id)
			exists = err == nil
			if notFound(err) {
				err = nil
			}
			for i := range fp {
				fp[i] = "v" + strconv.FormatUint(s.version, 10)
			}
		}
		if err != nil {
			if ok && unavailable(err) {
				return e, nil // the last known fingerprint: the pages cached for it are served
			}
			return fpEntry{}, err
		}
		e := fpEntry{version: s.version, fp: fp, exists: exists}
		c.mu.Lock()
		if cur, ok := c.fps[id]; !ok || cur.version <= s.version {
			c.fps[id] = e
		}
		c.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return fingerprint{}, false, err
	}
	e = v.(fpEntry)
	return e.fp, e.exists, nil
}

// snapshot returns the current snapshot (polling when Run is not running) and, when a read failed for
// lack of a grant, asks for the grants again.
func (p *Portal) snapshot(ctx context.Context) snapshot {
	return p.w.current(ctx)
}

// queryFailed logs a failed read and asks for grants again when the role was denied.
func (p *Portal) queryFailed(ctx context.Context, err error) {
	p.w.mu.Lock()
	p.w.maybeRegrant(ctx, err)
	p.w.mu.Unlock()
}
