package decode_test

import (
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/funds"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/projections/internal/decode"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

var place = decodetest.Community("33/3303/330303/330303001", "330303001001")

func published(id string) disclosure.Published {
	t := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	return disclosure.Published{NoticeID: id, Category: disclosure.Finance, Period: disclosure.Period{From: t, To: t}, Title: "t", Text: "x",
		Window: disclosure.Window{Start: t, End: t.Add(time.Hour)}, PublishedAt: t}
}

// TestBatchDecodesInOrderAndNamesTheFirstPoison decodes a batch large enough to be decoded on several
// cores: the events come back in order, other models' events are left out, and of two poison events the
// earlier one is reported, whichever core met it.
func TestBatchDecodesInOrderAndNamesTheFirstPoison(t *testing.T) {
	t.Parallel()
	d := decode.New(events.MustRegistry(), disclosure.Published{})
	h := &decodetest.History{}
	for i := range 3000 {
		if i%3 == 0 {
			h.Record(eventlog.StreamName("budget", place.ID, "2026"), place, time.Now(), funds.BudgetAllocated{FiscalYear: 2026,
				AllocationID: fmt.Sprint(i), Source: funds.Department, Category: funds.Project, Amount: 1})
			continue
		}
		h.Record(eventlog.StreamName("disclosure", place.ID, fmt.Sprint("n-", i)), place, time.Now(), published(fmt.Sprint("n-", i)))
	}
	evs, err := d.Batch(h.Events)
	if err != nil || len(evs) != 2000 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, e := range evs {
		if want := fmt.Sprint("n-", i+1+i/2); e.Payload.(disclosure.Published).NoticeID != want || e.Rec.Type != "disclosure.published" {
			t.Fatalf("event %d is %s, want %s", i, e.Payload.(disclosure.Published).NoticeID, want)
		}
	}
	bad := h.Events
	later, earlier := 2701, 400 // in different halves of the batch: decoded on different cores
	orig := bad[earlier].Data
	bad[earlier].Data = []byte(`{"notice_id": 1}`)
	bad[later].Meta.SchemaVersion = 7
	_, err = d.Batch(bad)
	var pe *runtime.PoisonError
	if !errors.As(err, &pe) || pe.Position != bad[earlier].Position || !errors.Is(err, kernel.ErrMalformedEvent) || !errors.Is(err, runtime.ErrPoison) {
		t.Fatalf("want the poison at %s (malformed), got %v", bad[earlier].Position, err)
	}
	bad[earlier].Data = orig
	if _, err = d.Batch(bad); !errors.As(err, &pe) || pe.Position != bad[later].Position || !errors.Is(err, kernel.ErrUnsupportedVersion) {
		t.Fatalf("want the poison at %s (version 7), got %v", bad[later].Position, err)
	}
}

func TestCheckStreamAndCounts(t *testing.T) {
	t.Parallel()
	h := &decodetest.History{}
	e := decode.Event{Rec: &h.Record(eventlog.StreamName("disclosure", place.ID, "n-1"), place, time.Now(), published("n-1"))[0]}
	if err := decode.CheckStream(e, "disclosure", "n-1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ kind, id string }{{"disclosure", "n-2"}, {"expenditure", "n-1"}, {"disclosure", "n-"}, {"disclosure", "1"}} {
		err := decode.CheckStream(e, c.kind, c.id)
		var pe *runtime.PoisonError
		if !errors.As(err, &pe) || pe.Position != e.Rec.Position || !errors.Is(err, decode.ErrEnvelope) {
			t.Errorf("%s-%s: want poison, got %v", c.kind, c.id, err)
		}
	}
	other := *e.Rec
	other.Meta.CommunityID = "330303001002" // an event of another community in this community's stream
	if err := decode.CheckStream(decode.Event{Rec: &other}, "disclosure", "n-1"); !errors.Is(err, runtime.ErrPoison) {
		t.Errorf("another community's event: %v", err)
	}
	if err := decode.Int32s(e, 0, -5, math.MaxInt32); err != nil {
		t.Error(err)
	}
	if err := decode.Int32s(e, 1, math.MaxInt32+1); !errors.Is(err, runtime.ErrPoison) {
		t.Errorf("a count beyond an integer: %v", err)
	}
}
