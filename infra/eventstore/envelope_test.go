package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

func fullMeta() eventlog.Metadata {
	return eventlog.Metadata{
		SchemaVersion: 3,
		CommunityID:   "330303001001",
		Jurisdiction:  "33/3303/330303/330303001/330303001001",
		Actor:         "clerk:王小明",
		CommandID:     "cmd-2026-0042",
		CorrelationID: "req-7",
		CausationID:   "evt-6",
		OccurredAt:    time.Date(2026, 3, 1, 1, 2, 3, 456789012, time.UTC),
		PrevHash:      strings.Repeat("ab", 32),
		Hash:          strings.Repeat("cd", 32),
	}
}

// sameMeta compares metadata, times by instant and zone offset (a parsed fixed zone is a new pointer).
func sameMeta(a, b eventlog.Metadata) bool {
	_, ao := a.OccurredAt.Zone()
	_, bo := b.OccurredAt.Zone()
	if !a.OccurredAt.Equal(b.OccurredAt) || ao != bo {
		return false
	}
	a.OccurredAt, b.OccurredAt = time.Time{}, time.Time{}
	return a == b
}

func TestMetadataRoundTrip(t *testing.T) {
	cases := map[string]func(*eventlog.Metadata){
		"full":              func(*eventlog.Metadata) {},
		"omitted optionals": func(m *eventlog.Metadata) { m.CommunityID, m.CorrelationID, m.CausationID = "", "", "" },
		"first of a stream": func(m *eventlog.Metadata) { m.PrevHash = "" },
		"needs escapes": func(m *eventlog.Metadata) {
			m.Actor = `clerk:"quoted" \back\ <html> & tab` + "\t" + " line\u2028sep"
		},
		"zero": func(m *eventlog.Metadata) { *m = eventlog.Metadata{} },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			m := fullMeta()
			mutate(&m)
			b, err := encodeMeta(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeMeta(b); !sameMeta(got, m) {
				t.Fatalf("round trip of %s\n got %+v\nwant %+v", b, got, m)
			}
		})
	}
}

func TestMetadataWrittenIsScannedFast(t *testing.T) {
	b, _ := encodeMeta(fullMeta())
	m, ok := scanMeta(b)
	if !ok || !sameMeta(m, fullMeta()) {
		t.Fatalf("the plain scanner does not take the documents Append writes (%s): ok=%v %+v", b, ok, m)
	}
	if n := testing.AllocsPerRun(100, func() { decodeMeta(b) }); n > 1 {
		t.Errorf("decodeMeta allocates %.0f times per event, want 1", n)
	}
}

func TestForeignMetadataTolerated(t *testing.T) {
	for name, raw := range map[string]string{
		"none":              "",
		"not json":          "\x00\x01binary",
		"a real server's":   `{"$correlationId":"9b1c","$causationId":"77aa"}`,
		"wrong field types": `{"schema_version":"two","actor":5}`,
		"array":             `[1,2,3]`,
		"truncated":         `{"actor":"clerk:1","hash":"ab`,
		"nulls":             `{"hash":null,"occurred_at":null}`,
		"bad time":          `{"occurred_at":"yesterday"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if got := decodeMeta([]byte(raw)); got != (eventlog.Metadata{}) {
				t.Fatalf("metadata %q decoded to %+v, want zero", raw, got)
			}
		})
	}
}

func TestRecordedMapping(t *testing.T) {
	id := uuid.MustParse("3f0b6c2e-9d4a-5b1c-8e7f-0a1b2c3d4e5f")
	created := time.Date(2026, 3, 1, 2, 0, 0, 100, time.UTC)
	meta, _ := encodeMeta(fullMeta())
	ev := &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID: id, EventType: "funds.disbursement-approved", ContentType: "application/json",
		StreamID: "disbursement-330303001001-2026-0042", EventNumber: 7,
		Position: esdb.Position{Commit: 1234, Prepare: 1230}, CreatedDate: created,
		Data: []byte(`{"amount_fen":100}`), UserMetadata: meta,
	}}
	r := recorded(ev)
	wantID, _ := eventlog.ParseID(id.String())
	if r.ID != wantID || r.Type != "funds.disbursement-approved" || string(r.Data) != `{"amount_fen":100}` ||
		r.Stream != "disbursement-330303001001-2026-0042" || r.Revision != 7 ||
		r.Position != (eventlog.Position{Commit: 1234, Prepare: 1230}) || !r.Created.Equal(created) || !sameMeta(r.Meta, fullMeta()) {
		t.Fatalf("recorded = %+v", r)
	}

	ev.Event.StreamID, ev.Event.EventType, ev.Event.UserMetadata = "$stats-127.0.0.1:2113", "$statsCollected", []byte(`{"$v":"1:-1:1:3"}`)
	r = recorded(ev)
	if r.Meta != (eventlog.Metadata{}) || r.Stream != "$stats-127.0.0.1:2113" || !eventlog.SystemStream(r.Stream) || r.Revision != 7 {
		t.Fatalf("foreign event recorded as %+v", r)
	}
}

func TestActualRevisionFromClientError(t *testing.T) {
	for msg, want := range map[string]int64{
		"wrong expected version: expecting '3' but got 'no_stream'": -1,
		"wrong expected version: expecting 'no_stream' but got '7'": 7,
		"wrong expected version: expecting 'any' but got '0'":       0,
	} {
		got, ok := actualRevision(fmt.Errorf("[ErrorCodeWrongExpectedVersion]: %w", errors.New(msg)))
		if !ok || got != want {
			t.Errorf("%q: actual %d ok %v, want %d", msg, got, ok, want)
		}
	}
	if _, ok := actualRevision(errors.New("wrong expected version")); ok {
		t.Error("a message without the current revision parsed")
	}
}

func TestConfig(t *testing.T) {
	for url, wantErr := range map[string]bool{
		"":                                    true,
		"http://127.0.0.1:2113":               true,
		"esdb://127.0.0.1:2113?tls=false":     false,
		"esdb+discover://cluster.local:2113":  false,
		"esdb://admin:s3cret@127.0.0.1:2113":  false,
		"esdb://admin:s3cret@:bad:port?x=%zz": true,
	} {
		err := Config{URL: url}.Validate()
		if (err != nil) != wantErr {
			t.Errorf("Validate(%q) = %v, want error %v", url, err, wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Validate(%q) leaks the password: %v", url, err)
		}
	}
}

func TestDialFailsClearly(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := Dial(ctx, Config{URL: "http://127.0.0.1:2113"})
	if err == nil || !strings.Contains(err.Error(), "esdb://") {
		t.Fatalf("Dial with a bad URL: %v, want an error naming the expected form", err)
	}
	// Nothing listens on port 1: the probe fails instead of the first append.
	started := time.Now()
	_, err = Dial(ctx, Config{URL: "esdb://u:s3cret@127.0.0.1:1?tls=false", Logger: nil})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("Dial to a closed port: %v", err)
	}
	t.Logf("Dial to a closed port failed after %s: %v", time.Since(started).Round(time.Millisecond), err)
}

func FuzzScanMeta(f *testing.F) {
	full, _ := json.Marshal(fullMeta())
	f.Add(full)
	f.Add([]byte(`{}`))
	f.Add([]byte(` { "schema_version" : -12 , "actor":"a" } `))
	f.Add([]byte(`{"schema_version":1.5}`))
	f.Add([]byte(`{"occurred_at":"2026-03-01T09:30:00.1+08:00","hash":"x"}`))
	f.Add([]byte(`{"Actor":"case"}`))
	f.Add([]byte(`{"actor":"\u00e9"}`))
	f.Add([]byte("{\"actor\":\"\xff\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fast, ok := scanMeta(b)
		if !ok {
			return
		}
		var slow eventlog.Metadata
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("scanner accepted %q, encoding/json refuses it: %v", b, err)
		}
		if !sameMeta(fast, slow) {
			t.Fatalf("%q: scanner %+v, encoding/json %+v", b, fast, slow)
		}
	})
}

func BenchmarkRecorded(b *testing.B) {
	meta, _ := encodeMeta(fullMeta())
	ev := &esdb.ResolvedEvent{Event: &esdb.RecordedEvent{
		EventID: uuid.New(), EventType: "funds.disbursement-approved", StreamID: "disbursement-330303001001-2026-0042",
		EventNumber: 7, Position: esdb.Position{Commit: 1234, Prepare: 1234}, CreatedDate: time.Now(),
		Data: []byte(`{"amount_fen":100}`), UserMetadata: meta,
	}}
	b.ReportAllocs()
	for b.Loop() {
		_ = recorded(ev)
	}
}

func BenchmarkDecodeMetaEncodingJSON(b *testing.B) {
	meta, _ := encodeMeta(fullMeta())
	b.ReportAllocs()
	for b.Loop() {
		var m eventlog.Metadata
		_ = json.Unmarshal(meta, &m)
	}
}
