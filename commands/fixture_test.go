package commands_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/esdbnode/nodetest"
	"github.com/grassroots-ledger/ledger/infra/eventstore"
)

// The tests run the handlers against the real embedded node through the real client adapter; only the
// clock is the test's, so that rules about time can be driven.

const (
	province  = "33"
	city      = "33/3303"
	district  = "33/3303/330303"
	street    = "33/3303/330303/330303001"
	cid       = "330303001001"
	cpath     = street + "/" + cid
	otherCID  = "330303001002"
	otherPath = street + "/" + otherCID
)

var t0 = time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)

// clock is a test clock the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// ledger is a running command side: node, adapter, executor, handlers.
type ledger struct {
	t     *testing.T
	store *eventstore.Store
	x     *commands.Executor
	h     *commands.Handlers
	clock *clock
	seq   atomic.Int64
}

func newLedger(t *testing.T) *ledger {
	return newLedgerWith(t, nil)
}

// newLedgerWith runs the executor on wrap(store) when wrap is given, for tests that interpose on the
// store (to make two commands race deterministically).
func newLedgerWith(t *testing.T, wrap func(commands.EventStore) commands.EventStore) *ledger {
	t.Helper()
	logger := slog.New(slog.DiscardHandler)
	_, store := nodetest.Start(t, logger)
	var es commands.EventStore = store
	if wrap != nil {
		es = wrap(store)
	}
	c := &clock{t: t0}
	x := commands.NewExecutor(es, c, events.MustRegistry(), logger)
	return &ledger{t: t, store: store, x: x, h: commands.NewHandlers(x, logger), clock: c}
}

var (
	admin        = commands.Actor{Subject: "admin-1", Role: commands.RoleAdmin, Scope: "*"}
	clerk        = commands.Actor{Subject: "clerk-1", Role: commands.RoleClerk, Scope: cpath}
	otherClerk   = commands.Actor{Subject: "clerk-2", Role: commands.RoleClerk, Scope: otherPath}
	auditor      = commands.Actor{Subject: "auditor-1", Role: commands.RoleAuditor, Scope: "*"}
	districtAdm  = commands.Actor{Subject: "admin-d", Role: commands.RoleAdmin, Scope: district}
	otherDistAdm = commands.Actor{Subject: "admin-x", Role: commands.RoleAdmin, Scope: "33/3303/330304"}
)

// as returns the metadata of a new command by actor.
func (l *ledger) as(a commands.Actor) commands.Meta {
	return commands.Meta{CommandID: fmt.Sprintf("cmd-%d", l.seq.Add(1)), Actor: a}
}

// must fails the test on err.
func (l *ledger) must(res commands.Result, err error) commands.Result {
	l.t.Helper()
	if err != nil {
		l.t.Fatalf("command failed: %v", err)
	}
	return res
}

// registered sets up the tree down to the street and the two communities (2 400 households, 5 200
// adults each).
func (l *ledger) registered() {
	l.t.Helper()
	ctx := context.Background()
	for _, n := range []struct{ path, name string }{
		{province, "浙江省"}, {city, "温州市"}, {district, "龙湾区"}, {street, "永中街道"},
	} {
		l.must(l.h.RegisterJurisdiction(ctx, l.as(admin), commands.RegisterJurisdiction{Path: n.path, Name: n.name}))
	}
	for _, c := range []struct{ id, path, name string }{{cid, cpath, "罗西社区"}, {otherCID, otherPath, "永昌社区"}} {
		l.must(l.h.RegisterCommunity(ctx, l.as(admin), commands.RegisterCommunity{
			CommunityID: c.id, Name: c.name, Kind: "urban", Jurisdiction: c.path, Households: 2400, Adults: 5200,
		}))
		l.must(l.h.SeatCommittee(ctx, l.as(admin), commands.SeatCommittee{CommunityID: c.id, Term: "2021-2026", Members: sittingCommittee()}))
	}
}

// sittingCommittee is the committee of both communities: p-chair chairs it; only its members may approve.
func sittingCommittee() []commands.CommitteeSeat {
	var out []commands.CommitteeSeat
	for i, p := range []string{"p-chair", "p-1", "p-2", "p-3", "p-4"} {
		role := "member"
		switch i {
		case 0:
			role = "chair"
		case 1:
			role = "vice-chair"
		}
		out = append(out, commands.CommitteeSeat{Person: p, Role: community.Role(role), FullTime: i < 3, Source: "elected"})
	}
	return out
}

// stream loads a stream as recorded.
func (l *ledger) stream(name string) []eventlog.Recorded {
	l.t.Helper()
	recs, err := l.store.Load(context.Background(), name)
	if err != nil {
		l.t.Fatal(err)
	}
	return recs
}

// history decodes a stream.
func (l *ledger) history(name string) []kernel.Event {
	l.t.Helper()
	h, err := l.x.Load(context.Background(), name)
	if err != nil {
		l.t.Fatal(err)
	}
	return h
}

// head counts the events of $all.
func (l *ledger) head() int {
	l.t.Helper()
	n := 0
	if err := l.store.ReadAll(context.Background(), eventlog.Start, 0, func(eventlog.Recorded) error { n++; return nil }); err != nil {
		l.t.Fatal(err)
	}
	return n
}

// wantErr fails unless err matches want (errors.Is: domain errors match by code) and, when field is
// not "", names that field.
func wantErr(t *testing.T, err, want error, field string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("want %v, got %v", want, err)
	}
	if field == "" {
		return
	}
	var de kernel.Error
	if !errors.As(err, &de) || de.Field != field {
		t.Fatalf("want the error to name field %q, got %v", field, err)
	}
}

// wantForbidden fails unless err is an authorization refusal.
func wantForbidden(t *testing.T, err error) {
	t.Helper()
	var f *commands.Forbidden
	if !errors.As(err, &f) {
		t.Fatalf("want Forbidden, got %v", err)
	}
}

// names returns the wire names of a stream's events.
func names(recs []eventlog.Recorded) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Type
	}
	return out
}

// errCode matches any domain error with this code (kernel errors compare by code).
func errCode(code string) error { return kernel.Error{Code: code} }
