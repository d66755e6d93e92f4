package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Handlers has one method per command of the catalogue. Each method checks the identifiers it will put
// into a stream name, finds the jurisdiction the command is authorized against, and lets the Executor
// authorize, load, decide and append. Facts a command needs from other streams (the rulebook in force,
// a community's figures, a resolution, the facts a notice discloses) are looked up inside the decide step:
// after authorization, so an actor out of scope learns nothing from them, and only when the command id is
// new, so a retry returns the first result even if those facts moved on since.
type Handlers struct {
	x   *Executor
	log *slog.Logger
}

// NewHandlers returns the handlers running on x; logger may be nil.
func NewHandlers(x *Executor, logger *slog.Logger) *Handlers {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handlers{x: x, log: logger}
}

// mayTry refuses an actor whose role cannot do action anywhere, before anything is read: Authorize
// against the actor's own scope checks the role alone.
func mayTry(m Meta, action Action) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return Authorize(m.Actor, action, m.Actor.Scope)
}

// registeredCommunity loads a community's profile for a command on it. A community that is not
// registered is a NotFound error naming community_id. Existence of a community is public (the portal
// lists every community), so an actor out of scope learns nothing by it; the scope is checked by the
// executor against the path returned here before the command's own stream is read.
func (h *Handlers) registeredCommunity(ctx context.Context, m Meta, action Action, communityID string) (*community.Community, error) {
	if err := mayTry(m, action); err != nil {
		return nil, err
	}
	if err := checkCode(communityID, "community_id"); err != nil {
		return nil, err
	}
	history, err := h.x.Load(ctx, community.ProfileStream(kernel.CommunityID(communityID)))
	if err != nil {
		return nil, fmt.Errorf("look up community %s: %w", communityID, err)
	}
	c := community.RehydrateCommunity(history)
	if !c.Exists() {
		return nil, community.ErrCommunityNotFound.WithField("community_id").WithMsg("社区(村) %s 尚未登记", communityID)
	}
	return c, nil
}

// decideOn is the domain step of a command on a community's aggregate.
type decideOn func(c *community.Community, history []kernel.Event, now time.Time) ([]kernel.Event, error)

// onCommunity runs a command on one stream of a registered community, authorized for action against the
// community's jurisdiction path. The stream name must be built from identifiers already checked.
func (h *Handlers) onCommunity(ctx context.Context, m Meta, action Action, communityID, stream string, decide decideOn) (Result, error) {
	c, err := h.registeredCommunity(ctx, m, action, communityID)
	if err != nil {
		return Result{}, err
	}
	t := Target{Stream: stream, CommunityID: c.ID(), Path: c.Path()}
	return h.x.Execute(ctx, m, t, action, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		return decide(c, history, now)
	})
}

// params resolves the rule parameters in force at path: the defaults, then the overrides of every
// ancestor from the root down, the most specific winning (rulebook.Rulebook.For). The override streams
// are read at decision time, so an override applies to the next command.
func (h *Handlers) params(ctx context.Context, path kernel.JurisdictionPath) (rulebook.Params, error) {
	rb := rulebook.New()
	n := 0
	for _, a := range path.Ancestors() {
		history, err := h.x.Load(ctx, rulebook.OverridesStream(a))
		if err != nil {
			return rulebook.Params{}, fmt.Errorf("resolve rulebook for %s: %w", path, err)
		}
		// Events of another jurisdiction with the same last code are filed under their own path by
		// Apply and so never leak into For(path).
		for _, e := range history {
			rb.Apply(e)
		}
		n += len(history)
	}
	h.log.LogAttrs(ctx, slog.LevelDebug, "rulebook resolved", slog.String("path", string(path)), slog.Int("override_events", n))
	return rb.For(path), nil
}

// nodeRegistered reports whether path is a registered node of the tree: a community (its profile) at the
// community level, a jurisdiction node elsewhere. Codes are unique per stream, not per path, so the
// node found must have exactly this path.
func (h *Handlers) nodeRegistered(ctx context.Context, path kernel.JurisdictionPath) (bool, error) {
	if path.Depth() == kernel.LevelCommunity {
		history, err := h.x.Load(ctx, community.ProfileStream(kernel.CommunityID(path.Last())))
		if err != nil {
			return false, fmt.Errorf("look up community %s: %w", path, err)
		}
		c := community.RehydrateCommunity(history)
		return c.Exists() && c.Path() == path, nil
	}
	history, err := h.x.Load(ctx, community.JurisdictionStream(path))
	if err != nil {
		return false, fmt.Errorf("look up jurisdiction %s: %w", path, err)
	}
	j := community.RehydrateJurisdiction(history)
	return j.Exists() && j.Path() == path, nil
}
