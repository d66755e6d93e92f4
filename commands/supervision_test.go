package commands_test

import (
	"context"
	"errors"
	"testing"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/rulebook"
	"github.com/grassroots-ledger/ledger/domain/supervision"
)

// alertBook is an AlertBook of one alert; settled is what the read model says once caught up.
type alertBook struct {
	alert   supervision.AlertState
	settled func() (supervision.AlertState, error)
}

func (b *alertBook) Alert(_ context.Context, id string) (supervision.AlertState, error) {
	if id != b.alert.ID {
		return supervision.AlertState{}, kernel.NotFound("alert-not-found", "没有这条预警")
	}
	return b.alert, nil
}

func (b *alertBook) Settled(ctx context.Context, id string) (supervision.AlertState, error) {
	if b.settled != nil {
		return b.settled()
	}
	return b.Alert(ctx, id)
}

// webhookBook is a WebhookRegistry in memory.
type webhookBook struct{ hooks map[string]commands.Webhook }

func (w *webhookBook) Register(_ context.Context, owner commands.Actor, url string, under kernel.JurisdictionPath) (commands.Webhook, string, error) {
	h := commands.Webhook{ID: "wh-" + string(rune('a'+len(w.hooks))), URL: url, Under: under, Owner: owner.String()}
	w.hooks[h.ID] = h
	return h, "secret", nil
}

func (w *webhookBook) Under(_ context.Context, id string) (kernel.JurisdictionPath, error) {
	h, ok := w.hooks[id]
	if !ok {
		return "", commands.ErrWebhookNotFound
	}
	return h.Under, nil
}

func (w *webhookBook) Delete(_ context.Context, id string) error { delete(w.hooks, id); return nil }

func (w *webhookBook) Replay(context.Context, string) (int, error) { return 1, nil }

// TestSupervisorsAuthorization: the supervisors' actions follow the one table (Supervise: supervisors
// and admins, in their scope); clerks, committees and auditors may do none of them, and a webhook of
// another jurisdiction does not exist for the actor.
func TestSupervisorsAuthorization(t *testing.T) {
	l := newLedger(t)
	a := supervision.AlertState{ID: supervision.AlertID(rulebook.MajorMatterResolution, "expenditure-x", "e1"), Rule: rulebook.MajorMatterResolution,
		Community: cid, Jurisdiction: cpath, Subject: "expenditure-x", Open: true}
	hooks := &webhookBook{hooks: map[string]commands.Webhook{"wh-x": {ID: "wh-x", Under: district}}}
	s := commands.NewSupervisors(l.x, &alertBook{alert: a}, hooks)
	ctx := context.Background()
	for _, role := range []commands.Role{commands.RoleClerk, commands.RoleCommittee, commands.RoleAuditor} {
		m := commands.Meta{Actor: commands.Actor{Subject: "x", Role: role, Scope: "*"}}
		_, err := s.ResolveAlert(ctx, m, commands.ResolveAlert{AlertID: a.ID, Reason: "r"})
		wantForbidden(t, err)
		_, _, err = s.RegisterWebhook(ctx, m, commands.RegisterWebhook{URL: "https://x"})
		wantForbidden(t, err)
		wantForbidden(t, s.DeleteWebhook(ctx, m, "wh-x"))
		_, err = s.ReplayWebhook(ctx, m, "wh-x")
		wantForbidden(t, err)
	}
	elsewhere := commands.Meta{Actor: commands.Actor{Subject: "y", Role: commands.RoleSupervisor, Scope: "33/3303/330304"}}
	_, err := s.ResolveAlert(ctx, elsewhere, commands.ResolveAlert{AlertID: a.ID, Reason: "r"})
	wantForbidden(t, err)
	_, _, err = s.RegisterWebhook(ctx, elsewhere, commands.RegisterWebhook{URL: "https://x", Under: district})
	wantForbidden(t, err)
	_, err = s.ReplayWebhook(ctx, elsewhere, "wh-x")
	wantErr(t, err, commands.ErrWebhookNotFound, "")
	_, _, err = s.RegisterWebhook(ctx, elsewhere, commands.RegisterWebhook{URL: "https://x", Under: "33//x"})
	wantErr(t, err, kernel.Error{Code: "invalid-jurisdiction-path"}, "under")

	sup := commands.Meta{Actor: commands.Actor{Subject: "s", Role: commands.RoleSupervisor, Scope: district}}
	hook, _, err := s.RegisterWebhook(ctx, sup, commands.RegisterWebhook{URL: "https://x"})
	if err != nil || hook.Under != district || hook.Owner != "supervisor:s" {
		t.Fatalf("registered %+v %v: under defaults to the token's scope", hook, err)
	}
	if n, err := s.ReplayWebhook(ctx, sup, hook.ID); err != nil || n != 1 {
		t.Fatalf("replay: %d %v", n, err)
	}
	if err := s.DeleteWebhook(ctx, sup, hook.ID); err != nil {
		t.Fatal(err)
	}
	admin := commands.Meta{Actor: commands.Actor{Subject: "a", Role: commands.RoleAdmin, Scope: "*"}}
	if err := s.DeleteWebhook(ctx, admin, "wh-x"); err != nil {
		t.Fatal(err)
	}
}

// TestResolveAlert: a supervisor's resolution appends the alert's clear to its district's stream with the
// clear's own event id (the one the engine would give it), once; a reason is required; an alert cleared
// meanwhile is a conflict.
func TestResolveAlert(t *testing.T) {
	l := newLedger(t)
	a := supervision.AlertState{ID: supervision.AlertID(rulebook.LateRecording, "expenditure-y", "e2"), Rule: rulebook.LateRecording,
		Community: cid, Jurisdiction: cpath, Subject: "expenditure-y", Open: true}
	book := &alertBook{alert: a}
	s := commands.NewSupervisors(l.x, book, nil)
	ctx := context.Background()
	sup := commands.Meta{CommandID: "ignored", Actor: commands.Actor{Subject: "s", Role: commands.RoleSupervisor, Scope: district}}

	_, err := s.ResolveAlert(ctx, sup, commands.ResolveAlert{AlertID: a.ID, Reason: "  "})
	wantErr(t, err, supervision.ErrReasonRequired, "reason")
	_, err = s.ResolveAlert(ctx, sup, commands.ResolveAlert{AlertID: "nope", Reason: "r"})
	wantErr(t, err, kernel.Error{Code: "alert-not-found"}, "")

	res := l.must(s.ResolveAlert(ctx, sup, commands.ResolveAlert{AlertID: a.ID, Reason: " 已核实 "}))
	recs := l.stream(supervision.Stream(cpath))
	if res.Stream != supervision.Stream(cpath) || len(recs) != 1 || recs[0].ID != supervision.ClearedEventID(a.ID) ||
		recs[0].Meta.Actor != "supervisor:s" || recs[0].Meta.Jurisdiction != cpath {
		t.Fatalf("appended %+v: %+v", res, recs)
	}
	cl, ok := l.history(supervision.Stream(cpath))[0].(supervision.AlertCleared)
	if !ok || cl.Reason != supervision.ResolvedBySupervisor || cl.Detail != "已核实" || cl.By != "supervisor:s" || !cl.ClearedAt.Equal(t0) {
		t.Fatalf("cleared %+v", cl)
	}
	// Again: the clear is in the stream.
	_, err = s.ResolveAlert(ctx, sup, commands.ResolveAlert{AlertID: a.ID, Reason: "r"})
	wantErr(t, err, supervision.ErrAlreadyCleared, "")

	// Cleared by the engine while the supervisor was deciding.
	b := supervision.AlertState{ID: supervision.AlertID(rulebook.LateRecording, "expenditure-z", "e3"), Rule: rulebook.LateRecording,
		Community: cid, Jurisdiction: cpath, Subject: "expenditure-z", Open: true}
	book.alert, book.settled = b, func() (supervision.AlertState, error) { c := b; c.Open = false; return c, nil }
	_, err = s.ResolveAlert(ctx, sup, commands.ResolveAlert{AlertID: b.ID, Reason: "r"})
	wantErr(t, err, supervision.ErrAlreadyCleared, "")
	// The engine behind: nothing appended, the caller retries.
	behind := errors.New("behind")
	book.settled = func() (supervision.AlertState, error) { return supervision.AlertState{}, behind }
	if _, err := s.ResolveAlert(ctx, sup, commands.ResolveAlert{AlertID: b.ID, Reason: "r"}); !errors.Is(err, behind) {
		t.Fatalf("want the look-up's error, got %v", err)
	}
	if n := len(l.stream(supervision.Stream(cpath))); n != 1 {
		t.Fatalf("%d events, want the one clear", n)
	}
}
