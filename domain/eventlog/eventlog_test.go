package eventlog_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

func sampleEvents(n int) []eventlog.Event {
	at := time.Date(2026, 3, 1, 2, 3, 4, 5, time.FixedZone("CST", 8*3600))
	evs := make([]eventlog.Event, n)
	for i := range evs {
		evs[i] = eventlog.Event{
			ID:   eventlog.DeriveID("cmd-1", i),
			Type: "funds.expenditure-requested",
			Data: []byte(fmt.Sprintf(`{"amount_fen":%d}`, 100+i)),
			Meta: eventlog.Metadata{SchemaVersion: 2, CommunityID: "330303001001", Jurisdiction: "33/3303/330303/330303001/330303001001",
				Actor: "clerk:1", CommandID: "cmd-1", OccurredAt: at},
		}
	}
	return evs
}

func record(stream string, evs []eventlog.Event) []eventlog.Recorded {
	out := make([]eventlog.Recorded, len(evs))
	for i, e := range evs {
		out[i] = eventlog.Recorded{Event: e, Stream: stream, Revision: uint64(i), Position: eventlog.Position{Commit: uint64(10 + i), Prepare: uint64(10 + i)}}
	}
	return out
}

func TestSealThenVerify(t *testing.T) {
	evs := sampleEvents(5)
	tail := eventlog.Seal("disbursement-1-2", "", evs)
	if tail != evs[4].Meta.Hash || evs[0].Meta.PrevHash != "" || evs[1].Meta.PrevHash != evs[0].Meta.Hash {
		t.Fatalf("chain not linked: %+v", evs)
	}
	if evs[0].Meta.OccurredAt.Location() != time.UTC {
		t.Fatalf("occurred_at not normalised to UTC")
	}
	if err := eventlog.VerifyStream(record("disbursement-1-2", evs)); err != nil {
		t.Fatalf("intact chain reported broken: %v", err)
	}
}

func TestVerifyFindsFirstBreak(t *testing.T) {
	type mutation func(r []eventlog.Recorded) []eventlog.Recorded
	cases := map[string]struct {
		mutate  mutation
		wantRev uint64
	}{
		"payload altered":  {func(r []eventlog.Recorded) []eventlog.Recorded { r[2].Data = []byte(`{"amount_fen":1}`); return r }, 2},
		"metadata altered": {func(r []eventlog.Recorded) []eventlog.Recorded { r[2].Meta.Actor = "clerk:2"; return r }, 2},
		"wrong stream":     {func(r []eventlog.Recorded) []eventlog.Recorded { r[2].Stream = "disbursement-1-3"; return r }, 2},
		// The gap shows at the first event after it: revision 3 arrives where 2 was due.
		"event removed": {func(r []eventlog.Recorded) []eventlog.Recorded { return append(r[:2], r[3:]...) }, 3},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			evs := sampleEvents(5)
			eventlog.Seal("disbursement-1-2", "", evs)
			err := eventlog.VerifyStream(c.mutate(record("disbursement-1-2", evs)))
			var brk *eventlog.Break
			if !errors.As(err, &brk) || !errors.Is(err, eventlog.ErrChainBroken) {
				t.Fatalf("want a chain break, got %v", err)
			}
			if brk.Revision != c.wantRev {
				t.Fatalf("break reported at revision %d, want %d (%v)", brk.Revision, c.wantRev, err)
			}
		})
	}
}

func TestHashCoversOccurredAtInstantNotZone(t *testing.T) {
	a, b := sampleEvents(1), sampleEvents(1)
	b[0].Meta.OccurredAt = b[0].Meta.OccurredAt.UTC()
	if eventlog.HashOf("s-1-1", a[0]) != eventlog.HashOf("s-1-1", b[0]) {
		t.Fatal("the same instant in two zones hashes differently")
	}
	b[0].Meta.OccurredAt = b[0].Meta.OccurredAt.Add(time.Nanosecond)
	if eventlog.HashOf("s-1-1", a[0]) == eventlog.HashOf("s-1-1", b[0]) {
		t.Fatal("a different instant hashes the same")
	}
}

func TestDeriveIDDeterministicVersion5(t *testing.T) {
	a, b := eventlog.DeriveID("cmd-1", 0), eventlog.DeriveID("cmd-1", 0)
	if a != b {
		t.Fatal("same command and index gave different ids")
	}
	if a == eventlog.DeriveID("cmd-1", 1) || a == eventlog.DeriveID("cmd-10", 0) {
		t.Fatal("different inputs gave the same id")
	}
	if a[6]>>4 != 5 || a[8]>>6 != 2 {
		t.Fatalf("not an RFC UUIDv5: %s", a)
	}
	back, err := eventlog.ParseID(a.String())
	if err != nil || back != a {
		t.Fatalf("round trip %s: %v %s", a, err, back)
	}
	if _, err := eventlog.ParseID("not-a-uuid"); err == nil {
		t.Fatal("garbage parsed as an id")
	}
}

func TestConflictErrorIs(t *testing.T) {
	var err error = &eventlog.ConflictError{Stream: "s-1-1", Expected: eventlog.At(3, "h"), Actual: 5}
	if !errors.Is(err, eventlog.ErrConflict) {
		t.Fatal("ConflictError is not ErrConflict")
	}
	if got := err.Error(); got == "" {
		t.Fatal("empty message")
	}
}

func TestPositionOrderAndParse(t *testing.T) {
	p, q := eventlog.Position{Commit: 5, Prepare: 5}, eventlog.Position{Commit: 6, Prepare: 1}
	if !p.Less(q) || q.Less(p) || p.Less(p) {
		t.Fatal("position order wrong")
	}
	back, err := eventlog.ParsePosition(q.String())
	if err != nil || back != q {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if _, err := eventlog.ParsePosition("12"); err == nil {
		t.Fatal("malformed position accepted")
	}
}

func TestStreamNames(t *testing.T) {
	s := eventlog.StreamName("disbursement", "330303001001", "2026-0042")
	if s != "disbursement-330303001001-2026-0042" {
		t.Fatal(s)
	}
	k, c, id, err := eventlog.SplitStreamName(s)
	if err != nil || k != "disbursement" || c != "330303001001" || id != "2026-0042" {
		t.Fatal(k, c, id, err)
	}
	if _, _, _, err := eventlog.SplitStreamName("alerts"); err == nil {
		t.Fatal("malformed stream accepted")
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("6ba7b810-9dad-11d1-80b4-00c04fd430c8")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := eventlog.ParseID(s)
		if err == nil && id.String() != s && id.String() != toLower(s) {
			t.Fatalf("parsed %q into %s", s, id)
		}
	})
}

func toLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

// TestHashBytesReadsWhatHashOfWrites: the bytes of a chain hash are the SHA-256 HashOf wrote in hex, and
// nothing else is taken for a hash: not upper-case digits, not a digit too many or too few, not "".
func TestHashBytesReadsWhatHashOfWrites(t *testing.T) {
	e := eventlog.Event{ID: eventlog.DeriveID("cmd-1", 0), Type: "funds.expenditure-requested", Data: []byte(`{}`)}
	h := eventlog.HashOf("s-1-1", e)
	b, ok := eventlog.HashBytes(h)
	if !ok || hex.EncodeToString(b[:]) != h {
		t.Fatalf("HashBytes(%q) = %x, %v", h, b, ok)
	}
	for _, s := range []string{"", strings.ToUpper(h), h[:63], h + "0", h[:62] + "g0", h[:63] + " "} {
		if _, ok := eventlog.HashBytes(s); ok {
			t.Errorf("HashBytes(%q) took it for a hash", s)
		}
	}
}
