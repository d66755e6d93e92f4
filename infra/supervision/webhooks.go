package supervision

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// Webhook delivery headers. The signature is HMAC-SHA256 of the request body with the webhook's
// secret, hex-encoded: X-Ledger-Signature: sha256=<hex>. X-Ledger-Timestamp is the Unix time of the
// attempt; X-Ledger-Event-Id the alert event's id, which a receiver uses to drop repeats (a delivery is
// at least once: a crash after the POST and before the success is recorded sends it again).
const (
	HeaderSignature = "X-Ledger-Signature"
	HeaderTimestamp = "X-Ledger-Timestamp"
	HeaderEventID   = "X-Ledger-Event-Id"
	HeaderDelivery  = "X-Ledger-Delivery"
)

// Sign returns the X-Ledger-Signature value of body under secret.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is body's signature under secret (in constant time).
func Verify(secret string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}

// SignedContent is what a delivery's signature covers: its timestamp header, a dot, and the body, so that
// a captured delivery cannot be replayed later with a fresh timestamp. Receivers check the signature over
// SignedContent(timestamp header, body), and reject timestamps too far from their clock.
func SignedContent(timestamp string, body []byte) []byte {
	return append([]byte(timestamp+"."), body...)
}

// WebhookConfig configures the webhook deliverer.
type WebhookConfig struct {
	Pool *pgxpool.Pool
	// Client sends the deliveries. Default: Policy's client (10 s timeout, no redirects, no non-public
	// addresses unless allowed).
	Client *http.Client
	// Policy says which URLs may be registered and dialled.
	Policy WebhookPolicy
	// MaxAttempts is how many failed attempts park a delivery. Default 8.
	MaxAttempts int
	// BaseBackoff is the wait after the first failure; it doubles after each (capped at MaxBackoff).
	// Defaults 2s and 1h.
	BaseBackoff, MaxBackoff time.Duration
	// Lease is how long a delivery being attempted is hidden from other attempts. Default 1 min.
	Lease time.Duration
	// PollEvery is how often the deliverer looks for due deliveries and new alert events when nothing
	// wakes it. Default 1s.
	PollEvery time.Duration
	// Workers is the number of delivery lanes; the deliveries of one webhook always take the same lane,
	// so a receiver sees its deliveries one at a time. Default 4.
	Workers    int
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

func (c *WebhookConfig) setDefaults() {
	if c.Client == nil {
		c.Client = c.Policy.client()
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.BaseBackoff == 0 {
		c.BaseBackoff = 2 * time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Hour
	}
	if c.Lease == 0 {
		c.Lease = time.Minute
	}
	if c.PollEvery == 0 {
		c.PollEvery = time.Second
	}
	if c.Workers == 0 {
		c.Workers = 4
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports a configuration the deliverer cannot use.
func (c WebhookConfig) Validate() error {
	if c.Pool == nil {
		return errors.New("webhooks config: no Pool: webhooks and their deliveries live in PostgreSQL")
	}
	if c.MaxAttempts < 0 || c.BaseBackoff < 0 || c.MaxBackoff < 0 || c.Lease < 0 || c.PollEvery < 0 || c.Workers < 0 {
		return errors.New("webhooks config: negative MaxAttempts, BaseBackoff, MaxBackoff, Lease, PollEvery or Workers")
	}
	return nil
}

// Webhooks registers supervisors' webhooks and delivers the alert events under each one's jurisdiction.
//
// Deliveries are an outbox in PostgreSQL (alerting.deliveries), one row per webhook and alert event,
// written in the same transaction that advances the webhook's cursor over the alert feed, so none is
// lost or made twice across restarts. Due rows are leased and handed to a Watermill router over an
// in-process channel; its handler POSTs the delivery, and a failure goes through Watermill's
// PoisonQueue middleware to a handler that records it: the next attempt is scheduled with exponential
// backoff, and after MaxAttempts the delivery is parked until replayed (Replay). Since the schedule is
// in the row, a restart keeps it.
type Webhooks struct {
	cfg     WebhookConfig
	metrics *webhookMetrics
	wake    chan struct{}
}

// NewWebhooks checks the configuration and registers the metrics.
func NewWebhooks(cfg WebhookConfig) (*Webhooks, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newWebhookMetrics(cfg.Registerer, cfg.Pool)
	if err != nil {
		return nil, err
	}
	return &Webhooks{cfg: cfg, metrics: m, wake: make(chan struct{}, 1)}, nil
}

// Webhook is a registered webhook, as its owner sees it (never its secret).
type Webhook = commands.Webhook

// Errors of webhooks.
var (
	ErrWebhookNotFound = commands.ErrWebhookNotFound
	ErrBadWebhookURL   = kernel.Invalid("invalid-webhook-url", "url", "webhook 地址须为 http:// 或 https:// 开头的完整网址")
)

// Webhooks is the commands' webhook registry.
var _ commands.WebhookRegistry = (*Webhooks)(nil)

func randomToken(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// Register records a webhook for the alert events at or under `under` ("" everywhere), from now on,
// owned by owner. It returns the webhook and its signing secret, which is never shown again. Who may
// register where is commands.Supervisors.RegisterWebhook's to decide.
func (w *Webhooks) Register(ctx context.Context, owner commands.Actor, rawURL string, under kernel.JurisdictionPath) (Webhook, string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(rawURL) > 2048 {
		return Webhook{}, "", ErrBadWebhookURL
	}
	if err := w.cfg.Policy.checkURL(ctx, u); err != nil {
		return Webhook{}, "", err
	}
	head, err := alerts.FeedHead(ctx, w.cfg.Pool)
	if err != nil {
		return Webhook{}, "", err
	}
	hook := Webhook{ID: randomToken("wh_", 12), URL: u.String(), Under: under, Owner: owner.String(), CreatedAt: time.Now().UTC()}
	secret := randomToken("whsec_", 32)
	_, err = w.cfg.Pool.Exec(ctx, `INSERT INTO alerting.webhooks (id, url, under, secret, owner, created_at, cursor_commit, cursor_prepare)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, hook.ID, hook.URL, string(hook.Under), secret, hook.Owner, hook.CreatedAt,
		int64(head.Commit), int64(head.Prepare))
	if err != nil {
		return Webhook{}, "", fmt.Errorf("record webhook: %w", err)
	}
	return hook, secret, nil
}

// Under implements commands.WebhookRegistry.
func (w *Webhooks) Under(ctx context.Context, id string) (kernel.JurisdictionPath, error) {
	h, err := w.get(ctx, commands.Actor{Scope: "*"}, id)
	return h.Under, err
}

// get is webhook id as actor sees it: another jurisdiction's webhook does not exist for the actor.
func (w *Webhooks) get(ctx context.Context, actor commands.Actor, id string) (Webhook, error) {
	var h Webhook
	var under string
	err := w.cfg.Pool.QueryRow(ctx, `SELECT id, url, under, owner, created_at FROM alerting.webhooks WHERE id = $1 AND deleted_at IS NULL`, id).
		Scan(&h.ID, &h.URL, &under, &h.Owner, &h.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return Webhook{}, ErrWebhookNotFound
	}
	if err != nil {
		return Webhook{}, err
	}
	h.Under = kernel.JurisdictionPath(under)
	if !actor.Covers(under) {
		return Webhook{}, ErrWebhookNotFound // another jurisdiction's webhook does not exist for this actor
	}
	return h, nil
}

// List returns the webhooks within the actor's scope.
func (w *Webhooks) List(ctx context.Context, actor commands.Actor) ([]Webhook, error) {
	rows, err := w.cfg.Pool.Query(ctx, `SELECT id, url, under, owner, created_at FROM alerting.webhooks WHERE deleted_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Webhook, error) {
		var h Webhook
		var under string
		err := r.Scan(&h.ID, &h.URL, &under, &h.Owner, &h.CreatedAt)
		h.Under = kernel.JurisdictionPath(under)
		return h, err
	})
	if err != nil {
		return nil, err
	}
	out := []Webhook{}
	for _, h := range all {
		if actor.Covers(string(h.Under)) {
			out = append(out, h)
		}
	}
	return out, nil
}

// Delete implements commands.WebhookRegistry: it stops a webhook; its pending deliveries are dropped.
func (w *Webhooks) Delete(ctx context.Context, id string) error {
	_, err := w.cfg.Pool.Exec(ctx, `WITH d AS (UPDATE alerting.webhooks SET deleted_at = now() WHERE id = $1)
		DELETE FROM alerting.deliveries WHERE webhook_id = $1 AND state = 'pending'`, id)
	return err
}

// Replay implements commands.WebhookRegistry: it puts a webhook's parked deliveries back in line, with a
// fresh count of attempts, and returns how many.
func (w *Webhooks) Replay(ctx context.Context, id string) (int, error) {
	tag, err := w.cfg.Pool.Exec(ctx, `UPDATE alerting.deliveries SET state = 'pending', attempts = 0, next_at = now(), leased_until = NULL
		WHERE webhook_id = $1 AND state = 'parked'`, id)
	if err != nil {
		return 0, fmt.Errorf("replay parked deliveries of %s: %w", id, err)
	}
	w.Wake()
	return int(tag.RowsAffected()), nil
}

// Delivery is one delivery of an alert event to a webhook.
type Delivery struct {
	ID          int64      `json:"id"`
	EventID     string     `json:"event_id"`
	Position    string     `json:"position"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAt      time.Time  `json:"next_at"`
	LastError   string     `json:"last_error,omitempty"`
	LastStatus  int        `json:"last_status,omitempty"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
}

// Deliveries lists a webhook's deliveries in a state ("" for all), newest first, at most 500.
func (w *Webhooks) Deliveries(ctx context.Context, actor commands.Actor, id, state string) ([]Delivery, error) {
	if _, err := w.get(ctx, actor, id); err != nil {
		return nil, err
	}
	rows, err := w.cfg.Pool.Query(ctx, `SELECT id, event_id, commit_pos, prepare_pos, state, attempts, next_at, coalesce(last_error, ''),
			coalesce(last_status, 0), delivered_at
		FROM alerting.deliveries WHERE webhook_id = $1 AND ($2 = '' OR state = $2) ORDER BY id DESC LIMIT 500`, id, state)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		var ev pgtype.UUID
		var c, p int64
		err := r.Scan(&d.ID, &ev, &c, &p, &d.State, &d.Attempts, &d.NextAt, &d.LastError, &d.LastStatus, &d.DeliveredAt)
		d.EventID = eventlog.ID(ev.Bytes).String()
		d.Position = eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}.String()
		return d, err
	})
}

// Wake makes the deliverer look for work at once.
func (w *Webhooks) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run fans alert events out into deliveries and delivers them until ctx ends.
func (w *Webhooks) Run(ctx context.Context) error {
	logger := watermill.NewSlogLoggerWithLevelMapping(w.cfg.Logger.With("component", "webhooks"),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	pubsub := gochannel.NewGoChannel(gochannel.Config{OutputChannelBuffer: 64}, logger)
	defer pubsub.Close()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second}, logger)
	if err != nil {
		return err
	}
	poison, err := middleware.PoisonQueue(pubsub, failuresTopic)
	if err != nil {
		return err
	}
	router.AddMiddleware(middleware.Recoverer)
	for i := range w.cfg.Workers {
		h := router.AddConsumerHandler(fmt.Sprintf("deliver-%d", i), laneTopic(i), pubsub, w.deliver)
		h.AddMiddleware(poison)
	}
	router.AddConsumerHandler("record-failure", failuresTopic, pubsub, w.recordFailure)

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	routerDone := make(chan error, 1)
	go func() { routerDone <- router.Run(rctx) }()
	select {
	case <-router.Running():
	case err := <-routerDone:
		return fmt.Errorf("webhook router: %w", err)
	}

	feedNotes := make(chan struct{}, 1)
	go listen(rctx, w.cfg.Pool, alerts.FeedChannel, feedNotes, w.cfg.Logger)
	tick := time.NewTicker(w.cfg.PollEvery)
	defer tick.Stop()
	for {
		if err := w.fanOut(rctx); err != nil && rctx.Err() == nil {
			w.cfg.Logger.WarnContext(ctx, "webhooks: fan-out failed", "err", err)
		}
		if err := w.dispatch(rctx, pubsub); err != nil && rctx.Err() == nil {
			w.cfg.Logger.WarnContext(ctx, "webhooks: dispatch failed", "err", err)
		}
		select {
		case <-ctx.Done():
			cancel()
			<-routerDone
			return ctx.Err()
		case err := <-routerDone:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil {
				err = errors.New("stopped")
			}
			return fmt.Errorf("webhook router: %w", err)
		case <-feedNotes:
		case <-w.wake:
		case <-tick.C:
		}
	}
}

const failuresTopic = "webhook.failures"

func laneTopic(i int) string { return "webhook.deliveries." + strconv.Itoa(i) }

func (w *Webhooks) lane(webhookID string) int {
	h := fnv.New32a()
	h.Write([]byte(webhookID))
	return int(h.Sum32() % uint32(w.cfg.Workers))
}

// body is what a webhook receives: one alert event of the feed, as an SSE subscriber gets it, and the
// webhook's id.
type body struct {
	WebhookID string `json:"webhook_id"`
	StreamItem
}

// fanOut turns the alert events each webhook has not seen into deliveries, advancing its cursor in the
// same transaction.
func (w *Webhooks) fanOut(ctx context.Context) error {
	rows, err := w.cfg.Pool.Query(ctx, `SELECT id FROM alerting.webhooks WHERE deleted_at IS NULL ORDER BY id`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	for _, id := range ids {
		for {
			n, err := w.fanOutOne(ctx, id)
			if err != nil {
				return fmt.Errorf("fan out to %s: %w", id, err)
			}
			if n < 500 {
				break
			}
		}
	}
	return nil
}

func (w *Webhooks) fanOutOne(ctx context.Context, id string) (int, error) {
	tx, err := w.cfg.Pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var under string
	var c, p int64
	err = tx.QueryRow(ctx, `SELECT under, cursor_commit, cursor_prepare FROM alerting.webhooks WHERE id = $1 AND deleted_at IS NULL FOR UPDATE SKIP LOCKED`, id).
		Scan(&under, &c, &p)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil // deleted, or another process is at it
	}
	if err != nil {
		return 0, err
	}
	items, err := alerts.Feed(ctx, tx, kernel.JurisdictionPath(under), eventlog.Position{Commit: uint64(c), Prepare: uint64(p)}, 500)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	b := &pgx.Batch{}
	for _, it := range items {
		data, err := json.Marshal(body{WebhookID: id, StreamItem: streamItem(it)})
		if err != nil {
			return 0, err
		}
		ev, _ := eventlog.ParseID(it.EventID)
		b.Queue(`INSERT INTO alerting.deliveries (webhook_id, event_id, commit_pos, prepare_pos, body, state, next_at)
			VALUES ($1, $2, $3, $4, $5, 'pending', now()) ON CONFLICT (webhook_id, event_id) DO NOTHING`,
			id, pgtype.UUID{Bytes: ev, Valid: true}, int64(it.Position.Commit), int64(it.Position.Prepare), string(data))
	}
	last := items[len(items)-1].Position
	b.Queue(`UPDATE alerting.webhooks SET cursor_commit = $2, cursor_prepare = $3 WHERE id = $1`, id, int64(last.Commit), int64(last.Prepare))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, err
	}
	return len(items), tx.Commit(ctx)
}

// dispatch leases the due deliveries and hands them to the router's lanes.
func (w *Webhooks) dispatch(ctx context.Context, pub message.Publisher) error {
	for {
		rows, err := w.cfg.Pool.Query(ctx, `UPDATE alerting.deliveries d SET leased_until = now() + $1::interval
			FROM alerting.webhooks h
			WHERE d.id IN (SELECT id FROM alerting.deliveries WHERE state = 'pending' AND next_at <= now()
				AND (leased_until IS NULL OR leased_until < now()) ORDER BY next_at, id LIMIT 100 FOR UPDATE SKIP LOCKED)
			AND h.id = d.webhook_id
			RETURNING d.id, d.webhook_id, d.event_id, d.body, d.attempts, h.url, h.secret`, w.cfg.Lease.String())
		if err != nil {
			return err
		}
		type leased struct {
			id                      int64
			hook, url, secret, body string
			event                   pgtype.UUID
			attempts                int
		}
		got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (leased, error) {
			var l leased
			err := r.Scan(&l.id, &l.hook, &l.event, &l.body, &l.attempts, &l.url, &l.secret)
			return l, err
		})
		if err != nil {
			return err
		}
		for _, l := range got {
			msg := message.NewMessage(watermill.NewUUID(), []byte(l.body))
			msg.Metadata.Set("delivery", strconv.FormatInt(l.id, 10))
			msg.Metadata.Set("webhook", l.hook)
			msg.Metadata.Set("url", l.url)
			msg.Metadata.Set("secret", l.secret)
			msg.Metadata.Set("event", eventlog.ID(l.event.Bytes).String())
			msg.Metadata.Set("attempts", strconv.Itoa(l.attempts))
			if err := pub.Publish(laneTopic(w.lane(l.hook)), msg); err != nil {
				return err
			}
		}
		if len(got) < 100 {
			return nil
		}
	}
}

// deliver is the router handler of a lane: one POST. An error sends the message to the failures topic
// (PoisonQueue), whose handler schedules the retry or parks the delivery.
func (w *Webhooks) deliver(msg *message.Message) error {
	ctx := msg.Context()
	start := time.Now()
	status, err := w.post(ctx, msg)
	w.metrics.seconds.Observe(time.Since(start).Seconds())
	if err != nil {
		msg.Metadata.Set("status", strconv.Itoa(status))
		return err
	}
	id, _ := strconv.ParseInt(msg.Metadata.Get("delivery"), 10, 64)
	if _, err := w.cfg.Pool.Exec(ctx, `UPDATE alerting.deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = now(),
		leased_until = NULL, last_status = $2, last_error = NULL WHERE id = $1 AND state = 'pending'`, id, status); err != nil {
		// Delivered but not recorded: the lease runs out and the receiver gets it again (at least once).
		w.cfg.Logger.WarnContext(ctx, "webhooks: record delivery", "delivery", id, "err", err)
		return nil
	}
	w.metrics.outcomes.WithLabelValues("delivered").Inc()
	return nil
}

func (w *Webhooks) post(ctx context.Context, msg *message.Message) (int, error) {
	payload := []byte(msg.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, msg.Metadata.Get("url"), bytes.NewReader(payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "grassroots-ledger-webhooks/1")
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set(HeaderSignature, Sign(msg.Metadata.Get("secret"), SignedContent(ts, payload)))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderEventID, msg.Metadata.Get("event"))
	req.Header.Set(HeaderDelivery, msg.Metadata.Get("delivery"))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// recordFailure handles the failures topic: the next attempt after an exponential backoff, or parked.
func (w *Webhooks) recordFailure(msg *message.Message) error {
	ctx := msg.Context()
	id, _ := strconv.ParseInt(msg.Metadata.Get("delivery"), 10, 64)
	attempts, _ := strconv.Atoi(msg.Metadata.Get("attempts"))
	attempts++
	status, _ := strconv.Atoi(msg.Metadata.Get("status"))
	reason := msg.Metadata.Get(middleware.ReasonForPoisonedKey)
	state, outcome := "pending", "failed"
	if attempts >= w.cfg.MaxAttempts {
		state, outcome = "parked", "parked"
	}
	backoff := w.backoff(attempts)
	_, err := w.cfg.Pool.Exec(ctx, `UPDATE alerting.deliveries SET attempts = $2, state = $3, next_at = now() + $4::interval,
		leased_until = NULL, last_error = $5, last_status = nullif($6, 0) WHERE id = $1 AND state = 'pending'`,
		id, attempts, state, backoff.String(), truncate(reason, 500), status)
	if err != nil {
		return err // retried by the router; the lease hides the delivery meanwhile
	}
	w.metrics.outcomes.WithLabelValues(outcome).Inc()
	if state == "parked" {
		w.cfg.Logger.WarnContext(ctx, "webhooks: delivery parked after repeated failures", "delivery", id,
			"webhook", msg.Metadata.Get("webhook"), "attempts", attempts, "err", reason)
	}
	return nil
}

// backoff is the wait after the n-th failed attempt: BaseBackoff·2^(n-1), capped.
func (w *Webhooks) backoff(n int) time.Duration {
	d := float64(w.cfg.BaseBackoff) * math.Pow(2, float64(n-1))
	if d > float64(w.cfg.MaxBackoff) {
		return w.cfg.MaxBackoff
	}
	return time.Duration(d)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

type webhookMetrics struct {
	outcomes *prometheus.CounterVec
	seconds  prometheus.Histogram
}

func newWebhookMetrics(reg prometheus.Registerer, pool *pgxpool.Pool) (*webhookMetrics, error) {
	m := &webhookMetrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: delivered, failed (will retry), parked (gave up until replayed)."}, []string{"outcome"}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "ledger_webhook_delivery_seconds",
			Help: "Time of one webhook POST.", Buckets: prometheus.ExponentialBuckets(0.005, 2, 12)}),
	}
	for _, o := range []string{"delivered", "failed", "parked"} {
		m.outcomes.WithLabelValues(o)
	}
	if reg == nil {
		return m, nil
	}
	return m, errors.Join(reg.Register(m.outcomes), reg.Register(m.seconds), reg.Register(&deliveryStates{pool: pool,
		desc: prometheus.NewDesc("ledger_webhook_deliveries", "Webhook deliveries in the outbox by state (pending, parked).", []string{"state"}, nil)}))
}

// deliveryStates reports the outbox's pending and parked deliveries at scrape time.
type deliveryStates struct {
	pool *pgxpool.Pool
	desc *prometheus.Desc
}

func (d *deliveryStates) Describe(ch chan<- *prometheus.Desc) { ch <- d.desc }

func (d *deliveryStates) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts := map[string]float64{"pending": 0, "parked": 0}
	rows, err := d.pool.Query(ctx, `SELECT state, count(*) FROM alerting.deliveries WHERE state <> 'delivered' GROUP BY state`)
	if err == nil {
		for rows.Next() {
			var s string
			var n int64
			if rows.Scan(&s, &n) == nil {
				counts[s] = float64(n)
			}
		}
		rows.Close()
	}
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(d.desc, prometheus.GaugeValue, n, s)
	}
}

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

// streamItem is a webhook's body (the SSE event's data) of a feed item.
func streamItem(it alerts.FeedItem) StreamItem {
	return StreamItem{EventID: it.EventID, Type: it.Type, Stream: it.Stream, Position: it.Position.String(),
		RecordedAt: it.RecordedAt, Alert: it.Alert}
}
