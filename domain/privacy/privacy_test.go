package privacy_test

import (
	"errors"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/privacy"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	ok := privacy.Erase{Subject: "p-1", LegalBasis: "个人信息保护法第四十七条", Request: "R-1", Reason: "本人申请"}
	erased := []kernel.Event{privacy.PersonalDataErased{Subject: "p-1"}}
	for _, tc := range []struct {
		name    string
		history []kernel.Event
		cmd     privacy.Erase
		live    []string
		held    bool
		field   string // the field a refusal names
		events  int
	}{
		{name: "first erasure", cmd: ok, live: []string{"dk-1", "dk-2"}, held: true, events: 1},
		{name: "already erased: nothing to do", history: erased, cmd: ok, live: nil, held: true},
		{name: "new data since the last erasure", history: erased, cmd: ok, live: []string{"dk-3"}, held: true, events: 1},
		{name: "held, nothing live, never erased: recorded", history: nil, cmd: ok, live: nil, held: true, events: 1},
		{name: "nothing ever recorded", cmd: ok, field: "subject"},
		{name: "no subject", cmd: privacy.Erase{LegalBasis: "x", Request: "r", Reason: "y"}, held: true, field: "subject"},
		{name: "no legal basis", cmd: privacy.Erase{Subject: "p-1", Request: "r", Reason: "y"}, held: true, field: "legal_basis"},
		{name: "no request", cmd: privacy.Erase{Subject: "p-1", LegalBasis: "x", Reason: "y"}, held: true, field: "request_reference"},
		{name: "blank reason", cmd: privacy.Erase{Subject: "p-1", LegalBasis: "x", Request: "r", Reason: "  "}, held: true, field: "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := privacy.Decide(tc.history, tc.cmd, tc.live, tc.held, now)
			if tc.field != "" {
				var de kernel.Error
				if !errors.As(err, &de) || de.Field != tc.field {
					t.Fatalf("err %v, want a refusal naming %s", err, tc.field)
				}
				return
			}
			if err != nil || len(evs) != tc.events {
				t.Fatalf("%d events, %v; want %d", len(evs), err, tc.events)
			}
			if tc.events == 1 {
				e := evs[0].(privacy.PersonalDataErased)
				if e.Subject != "p-1" || e.Request != "R-1" || !e.ErasedAt.Equal(now) {
					t.Fatalf("event %+v", e)
				}
			}
		})
	}
}
