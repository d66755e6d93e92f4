package commands

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// Handlers has one method per command of the catalogue. Each method checks the identifiers it will put
// into a stream name and runs the one load–decide–append of its aggregate (affair, onCommunity, record):
// the command passes the executor's gate once (metadata valid, role allowed, community registered, scope
// covering its path), then its stream is loaded, the aggregate rebuilt and the decision taken. Facts a
// command needs from other streams (the rulebook in force, a community's figures, a resolution, the facts
// a notice discloses) are looked up inside the decision: after authorization, so an actor out of scope
// learns nothing from them, and only when the command id is new, so a retry returns the first result even
// if those facts moved on since.
type Handlers struct {
	x         *Executor
	log       *slog.Logger
	standings Standings
}

// NewHandlers returns the handlers running on x; logger may be nil.
func NewHandlers(x *Executor, logger *slog.Logger) *Handlers {
	if logger == nil {
		logger = slog.Default()
	}
	return &Handlers{x: x, log: logger}
}

// Facts is what a decision gets besides the aggregate: the handler's clock, the registry profile of the
// community the command is about (its path, figures and roster) and the look-up of the rulebook in force
// there. Other look-ups are the Handlers' (resolution, topic, notice, occurred). A decision runs only for
// a new command id, after the command was admitted.
type Facts struct {
	Now       time.Time
	Community *community.Community
	// Rules resolves the rulebook in force at the community's path, reading its override streams.
	Rules func() (rulebook.Params, error)
}

// decision is the domain step of a command on an aggregate A of a community.
type decision[A any] func(a A, f Facts) ([]kernel.Event, error)

// ruled is a decision that needs the rulebook in force: it is resolved when the decision runs.
func ruled[A any](decide func(a A, f Facts, p rulebook.Params) ([]kernel.Event, error)) decision[A] {
	return func(a A, f Facts) ([]kernel.Event, error) {
		p, err := f.Rules()
		if err != nil {
			return nil, err
		}
		return decide(a, f, p)
	}
}

// kind is a kind of aggregate a community has many of: the field naming one, its stream, how it is
// rebuilt from its history.
type kind[A any] struct {
	field     string
	stream    func(c kernel.CommunityID, id string) string
	rehydrate func(history []kernel.Event) A
}

// affair runs a command on aggregate id of kind k of a registered community, admitted for RecordAffairs
// on the community's path.
func affair[A any](ctx context.Context, h *Handlers, m Meta, communityID string, k kind[A], id string, decide decision[A]) (Result, error) {
	return affairAs(ctx, h, m, RecordAffairs, communityID, k, id, decide)
}

// affairAs is affair for another action than recording affairs (a resident's own input).
func affairAs[A any](ctx context.Context, h *Handlers, m Meta, action Action, communityID string, k kind[A], id string, decide decision[A]) (Result, error) {
	cm, stream, err := enterOne(ctx, h, m, action, communityID, k, id)
	if err != nil {
		return Result{}, err
	}
	return record(ctx, h, m, cm, stream, k.rehydrate, decide)
}

// enterOne is affair's gate, for handlers that take more than one step: the id is checked and the
// command admitted for action; it returns the community and the aggregate's stream.
func enterOne[A any](ctx context.Context, h *Handlers, m Meta, action Action, communityID string, k kind[A], id string) (*community.Community, string, error) {
	if err := checkID(id, k.field); err != nil {
		return nil, "", err
	}
	cm, err := h.enter(ctx, m, action, communityID)
	if err != nil {
		return nil, "", err
	}
	return cm, k.stream(cm.ID(), id), nil
}

// onCommunity runs a command on one stream of a registered community (its profile, a fiscal year's
// budget), admitted for action on the community's path.
func onCommunity[A any](ctx context.Context, h *Handlers, m Meta, action Action, communityID string,
	stream func(kernel.CommunityID) string, rehydrate func([]kernel.Event) A, decide decision[A]) (Result, error) {
	cm, err := h.enter(ctx, m, action, communityID)
	if err != nil {
		return Result{}, err
	}
	return record(ctx, h, m, cm, stream(cm.ID()), rehydrate, decide)
}

// record is the one load–decide–append of an admitted command on a stream of community cm: the
// stream's aggregate is rebuilt and decide runs with the facts (only when the command id is new).
func record[A any](ctx context.Context, h *Handlers, m Meta, cm *community.Community, stream string,
	rehydrate func([]kernel.Event) A, decide decision[A]) (Result, error) {
	t := Target{Stream: stream, CommunityID: cm.ID(), Path: cm.Path()}
	return h.x.run(ctx, m, t, func(history []kernel.Event, now time.Time) ([]kernel.Event, error) {
		rules := func() (rulebook.Params, error) { return h.params(ctx, cm.Path()) }
		return decide(rehydrate(history), Facts{Now: now, Community: cm, Rules: rules})
	})
}

// enter admits a command for action on a registered community and returns the community. A community
// that is not registered is a NotFound error naming community_id. Existence of a community is public
// (the portal lists every community), so reading its profile between the role and the scope checks
// tells an actor out of scope nothing; the command's own stream is read only after both.
func (h *Handlers) enter(ctx context.Context, m Meta, action Action, communityID string) (*community.Community, error) {
	var c *community.Community
	_, err := admit(m, action, func() (Target, error) {
		if err := checkCode(communityID, "community_id"); err != nil {
			return Target{}, err
		}
		history, err := h.x.Load(ctx, community.ProfileStream(kernel.CommunityID(communityID)))
		if err != nil {
			return Target{}, fmt.Errorf("look up community %s: %w", communityID, err)
		}
		c = community.RehydrateCommunity(history)
		if !c.Exists() {
			return Target{}, community.ErrCommunityNotFound.WithField("community_id").WithMsg("社区(村) %s 尚未登记", communityID)
		}
		return Target{CommunityID: c.ID(), Path: c.Path()}, nil
	})
	return c, err
}

// params resolves the rule parameters in force at path: the defaults, then the overrides of every
// ancestor from the root down, the most specific winning (rulebook.Rulebook.For). The override streams
// are read at decision time, so an override applies to the next command.
func (h *Handlers) params(ctx context.Context, path kernel.JurisdictionPath) (rulebook.Params, error) {
	// Every level's overrides stream is read at once (five reads for a community, one after the other
	// before), then folded from the top down.
	levels := path.Ancestors()
	histories := make([][]kernel.Event, len(levels))
	g, gctx := errgroup.WithContext(ctx)
	for i, a := range levels {
		g.Go(func() (err error) {
			histories[i], err = h.x.Load(gctx, rulebook.OverridesStream(a))
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return rulebook.Params{}, fmt.Errorf("resolve rulebook for %s: %w", path, err)
	}
	rb := rulebook.New()
	n := 0
	for _, history := range histories {
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

// requireNode is nodeRegistered as a command's precondition: a path the tree does not have is a NotFound
// naming field.
func (h *Handlers) requireNode(ctx context.Context, path kernel.JurisdictionPath, field string) error {
	ok, err := h.nodeRegistered(ctx, path)
	if err != nil {
		return err
	}
	if !ok {
		return kernel.NotFound("jurisdiction-not-found", fmt.Sprintf("辖区 %s 尚未登记", path)).WithField(field)
	}
	return nil
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
