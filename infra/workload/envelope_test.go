package workload_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/community"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
)

// capturingStore is an empty store that keeps what the executor appends.
type capturingStore struct{ appended []eventlog.Event }

func (s *capturingStore) Load(context.Context, string) ([]eventlog.Recorded, error) { return nil, nil }

func (s *capturingStore) Append(_ context.Context, _ string, _ eventlog.Expected, evs []eventlog.Event) (eventlog.AppendResult, error) {
	s.appended = append([]eventlog.Event(nil), evs...)
	return eventlog.AppendResult{}, nil
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// commands.Envelope, which the generator uses, wraps events exactly as the command executor does.
func TestEnvelopeMatchesExecutor(t *testing.T) {
	reg := events.MustRegistry()
	store := &capturingStore{}
	now := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	x := commands.NewExecutor(store, fixedClock(now), reg, quiet())
	path := kernel.JurisdictionPath("33/3303/330303/330303001/330303001001")
	m := commands.Meta{CommandID: "demo-1-330303001001-7", CorrelationID: "corr", Actor: commands.Actor{Subject: "demo-clerk", Role: commands.RoleClerk, Scope: string(path)}}
	target := commands.Target{Stream: "community-330303001001-profile", CommunityID: "330303001001", Path: path}
	var decided []kernel.Event
	_, err := x.Execute(context.Background(), m, target, commands.RecordAffairs, func(_ []kernel.Event, now time.Time) ([]kernel.Event, error) {
		c := community.RehydrateCommunity([]kernel.Event{community.Registered{CommunityID: "330303001001", Name: "罗西社区", Kind: kernel.Urban,
			Jurisdiction: path, Households: 2400, Adults: 5200}})
		evs, err := c.SeatCommittee("2026-2031", []community.Seat{
			{Person: "p1", Role: community.Chair, FullTime: true, Source: community.Elected, Personal: &kernel.PersonalData{Subject: "p1", Name: "陈伟"}},
			{Person: "p2", Role: community.Member, FullTime: true, Source: community.Elected},
		}, rulebook.Defaults(), now)
		decided = evs
		return evs, err
	})
	if err != nil {
		t.Fatal(err)
	}
	want, err := commands.Envelope(reg, m, target, decided, now)
	if err != nil {
		t.Fatal(err)
	}
	got := store.appended
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("executor appended %d events, Envelope made %d", len(got), len(want))
	}
	for i := range want {
		if w, g := want[i], got[i]; w.ID != g.ID || w.Type != g.Type || !bytes.Equal(w.Data, g.Data) || w.Meta != g.Meta {
			t.Errorf("event %d:\nEnvelope %+v\nexecutor %+v", i, w, g)
		}
	}
	if _, err := commands.Envelope(kernel.NewRegistry(), m, target, decided, now); err == nil {
		t.Error("Envelope accepted an event the registry does not know")
	}
}
