package commands

import (
	"context"
	"errors"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// The supervisors' actions (督查): resolving an alert, and registering, deleting or replaying a webhook.
// They are authorized by the one table (Authorize: Supervise, on the alert's or the webhook's
// jurisdiction). Resolving appends supervision.alert-cleared through the Executor. A webhook is not a
// fact of the ledger but a delivery subscription holding a signing secret, which must never enter the
// immutable, exported history: it stays in PostgreSQL (infra/supervision), behind WebhookRegistry.

// AlertBook is what resolving an alert needs to know of alerts (infra/supervision, on the alerts read model).
type AlertBook interface {
	// Alert is the alert as the read model holds it now (to find its jurisdiction); an error of kind
	// NotFound when there is none.
	Alert(ctx context.Context, alertID string) (supervision.AlertState, error)
	// Settled is the alert once the read model caught up with the store, a clear decided but not yet
	// appended counting as cleared.
	Settled(ctx context.Context, alertID string) (supervision.AlertState, error)
}

// Webhook is a supervisor's registered webhook, as its owner sees it (never its secret).
type Webhook struct {
	ID        string                  `json:"id"`
	URL       string                  `json:"url"`
	Under     kernel.JurisdictionPath `json:"under"`
	Owner     string                  `json:"owner"`
	CreatedAt time.Time               `json:"created_at"`
}

// WebhookRegistry keeps the supervisors' webhooks (infra/supervision).
type WebhookRegistry interface {
	// Register records a webhook for the alert events at or under `under`, from now on, owned by owner;
	// it checks the URL, and returns the webhook and its signing secret.
	Register(ctx context.Context, owner Actor, url string, under kernel.JurisdictionPath) (Webhook, string, error)
	// Under is the jurisdiction a webhook listens to; ErrWebhookNotFound when there is no such webhook.
	Under(ctx context.Context, id string) (kernel.JurisdictionPath, error)
	// Delete stops a webhook; its pending deliveries are dropped.
	Delete(ctx context.Context, id string) error
	// Replay puts a webhook's parked deliveries back in line and returns how many.
	Replay(ctx context.Context, id string) (int, error)
}

// ErrWebhookNotFound: no such webhook, or one of a jurisdiction outside the actor's scope (which does
// not exist for the actor).
var ErrWebhookNotFound = kernel.NotFound("webhook-not-found", "没有这个 webhook")

// Supervisors has the supervisors' commands. Alerts or Webhooks may be nil when the caller gives none
// of their commands.
type Supervisors struct {
	x        *Executor
	alerts   AlertBook
	webhooks WebhookRegistry
}

// NewSupervisors returns the supervisors' commands on x (for resolutions), alerts and webhooks.
func NewSupervisors(x *Executor, alerts AlertBook, webhooks WebhookRegistry) *Supervisors {
	return &Supervisors{x: x, alerts: alerts, webhooks: webhooks}
}

// MayTry refuses an actor whose role cannot do action anywhere (a role gate before any input is read),
// by the one table.
func MayTry(actor Actor, action Action) error { return Authorize(actor, action, actor.Scope) }

// ScopedPath is the jurisdiction an actor asks about: empty (or "*") means the actor's whole scope ("" in
// the result: everywhere); a path given is checked (a 400 naming field). Whether the actor may act there
// is Authorize's to say.
func ScopedPath(actor Actor, p kernel.JurisdictionPath, field string) (kernel.JurisdictionPath, error) {
	if p == "" || p == "*" {
		p = kernel.JurisdictionPath(actor.Scope)
		if p == "*" {
			p = ""
		}
	}
	if p != "" {
		if err := p.Validate(field); err != nil {
			return "", err
		}
	}
	return p, nil
}

// ResolveAlert closes an open alert on a supervisor's word (supervision.ResolvedBySupervisor), for
// breaches no later fact can undo.
type ResolveAlert struct {
	AlertID string `json:"-"`
	// Reason is what the supervisor found (解除理由), required.
	Reason string `json:"reason"`
}

// resolveRetries bounds the retries of a resolution whose append raced the alert engine's on the same
// district stream.
const resolveRetries = 3

// ResolveAlert handles resolve-alert: Supervise on the alert's jurisdiction, stream alerts-<district>.
// The clear's command id is the alert's (supervision.ClearCommand), whatever the request's: the engine
// clearing the same alert derives the same event id, so an alert is cleared once.
func (s *Supervisors) ResolveAlert(ctx context.Context, m Meta, c ResolveAlert) (Result, error) {
	if err := MayTry(m.Actor, Supervise); err != nil {
		return Result{}, err
	}
	reason, err := supervision.CheckReason(c.Reason)
	if err != nil {
		return Result{}, err
	}
	a, err := s.alerts.Alert(ctx, c.AlertID)
	if err != nil {
		return Result{}, err
	}
	m.CommandID, m.Command, m.RequestHash = supervision.ClearCommand(a.ID), "", ""
	t := Target{Stream: supervision.Stream(a.Jurisdiction), Path: a.Jurisdiction}
	for try := 1; ; try++ {
		res, err := s.x.Execute(ctx, m, t, Supervise, func(_ []kernel.Event, now time.Time) ([]kernel.Event, error) {
			settled, err := s.alerts.Settled(ctx, a.ID)
			if err != nil {
				return nil, err
			}
			return supervision.Resolve(settled, m.Actor.String(), reason, now)
		})
		if res.Replayed { // the alert's clear is in the stream already: the engine's, or another resolution's
			return Result{}, supervision.ErrAlreadyCleared
		}
		if !errors.Is(err, eventlog.ErrConflict) || try == resolveRetries {
			return res, err
		}
	}
}

// RegisterWebhook asks for the alert events at or under Under (the actor's scope when empty) to be
// POSTed, signed, to URL.
type RegisterWebhook struct {
	URL   string `json:"url"`
	Under string `json:"under"`
}

// RegisterWebhook handles register-webhook: Supervise on under. It returns the webhook and its signing
// secret, which is never shown again.
func (s *Supervisors) RegisterWebhook(ctx context.Context, m Meta, c RegisterWebhook) (Webhook, string, error) {
	if err := MayTry(m.Actor, Supervise); err != nil {
		return Webhook{}, "", err
	}
	under, err := ScopedPath(m.Actor, kernel.JurisdictionPath(c.Under), "under")
	if err != nil {
		return Webhook{}, "", err
	}
	if err := Authorize(m.Actor, Supervise, string(under)); err != nil {
		return Webhook{}, "", err
	}
	return s.webhooks.Register(ctx, m.Actor, c.URL, under)
}

// webhook authorizes Supervise on webhook id's jurisdiction; another jurisdiction's webhook does not
// exist for the actor.
func (s *Supervisors) webhook(ctx context.Context, m Meta, id string) error {
	if err := MayTry(m.Actor, Supervise); err != nil {
		return err
	}
	under, err := s.webhooks.Under(ctx, id)
	if err != nil {
		return err
	}
	if !m.Actor.Covers(string(under)) {
		return ErrWebhookNotFound
	}
	return Authorize(m.Actor, Supervise, string(under))
}

// DeleteWebhook handles delete-webhook: Supervise on the webhook's jurisdiction.
func (s *Supervisors) DeleteWebhook(ctx context.Context, m Meta, id string) error {
	if err := s.webhook(ctx, m, id); err != nil {
		return err
	}
	return s.webhooks.Delete(ctx, id)
}

// ReplayWebhook handles replay-webhook: Supervise on the webhook's jurisdiction. It puts the webhook's
// parked deliveries back in line and returns how many.
func (s *Supervisors) ReplayWebhook(ctx context.Context, m Meta, id string) (int, error) {
	if err := s.webhook(ctx, m, id); err != nil {
		return 0, err
	}
	return s.webhooks.Replay(ctx, id)
}
