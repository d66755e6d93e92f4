package eventstore

import (
	"context"
	"fmt"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ReadAllFiltered calls fn for each event of $all after position after (excluded; eventlog.Start: from
// the first event) that passes filter, in $all order, up to the end of $all as it was when the read
// started, then returns nil. The filter runs on the server, so a read of one community's streams
// (eventlog.Filter{StreamRegex: "^[a-z]+-<cid>-"}) transfers only their events, however large $all is.
// An error of fn stops the read and is returned as is.
//
// The client's plain $all read takes no filter, so this is a filtered catch-up subscription that ends
// when the server says it has caught up (or, for a server that does not say so, when an event or a
// checkpoint reaches the head read at the start): events appended while it runs may or may not be
// delivered, like a plain read racing with writers.
func (s *Store) ReadAllFiltered(ctx context.Context, after eventlog.Position, filter eventlog.Filter, fn func(eventlog.Recorded) error) error {
	what := "read $all (filtered) after " + after.String()
	if err := filter.Validate(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	head, err := s.Head(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if head.IsZero() || !after.Less(head) {
		return nil // nothing after `after`
	}
	c, callCtx, end, err := s.begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer end()
	subCtx, cancel := context.WithCancel(callCtx)
	defer cancel()
	sub, err := s.subscribeAll(ctx, subCtx, c, what, after, filter)
	if err != nil {
		return err
	}
	defer sub.Close()
	reached := func(p eventlog.Position) bool { return !p.Less(head) }
	for {
		msg := sub.Recv()
		switch {
		case msg.EventAppeared != nil:
			r := recorded(msg.EventAppeared)
			if r.Position.Less(head) || r.Position == head {
				if err := fn(r); err != nil {
					return err
				}
			}
			if reached(r.Position) {
				return nil
			}
		case msg.CheckPointReached != nil:
			if reached(eventlog.Position{Commit: msg.CheckPointReached.Commit, Prepare: msg.CheckPointReached.Prepare}) {
				return nil
			}
		case msg.CaughtUp != nil:
			return nil
		case msg.SubscriptionDropped != nil:
			return s.dropped(ctx, c, what, msg.SubscriptionDropped.Error)
		}
	}
}

// subscribeAll opens a subscription to $all after from on client c (callCtx bounds the call, ctx is the
// caller's), server-side filtered by filter. Its errors are the adapter's: ctx's own when the caller gave
// up, wrapped and classified otherwise.
func (s *Store) subscribeAll(ctx, callCtx context.Context, c *esdb.Client, what string, from eventlog.Position, filter eventlog.Filter) (*esdb.Subscription, error) {
	opts := esdb.SubscribeToAllOptions{From: allPosition(from), Filter: subscriptionFilter(filter)}
	if opts.Filter != nil {
		opts.MaxSearchWindow = searchWindow
		opts.CheckpointInterval = checkpointMultiplier
	}
	sub, err := guard(s, callCtx, c, what, func() (*esdb.Subscription, error) { return c.SubscribeToAll(callCtx, opts) })
	if err != nil {
		s.check(c, err)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.wrap(ctx, what, err)
	}
	return sub, nil
}
