package esdbnode_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"github.com/grassroots-ledger/ledger/infra/esdbnode"
	"github.com/grassroots-ledger/ledger/infra/esdbwire"
)

// importRuns is a history of interleaved streams as runs: 600 runs, up to three events each, of 40
// streams, JSON and binary, with and without metadata.
func importRuns() []esdbwire.Run {
	var runs []esdbwire.Run
	next := map[string]uint64{}
	for i := range 600 {
		stream := fmt.Sprintf("s-%02d", (i*7)%40)
		run := esdbwire.Run{Stream: stream, First: next[stream]}
		for j := range 1 + i%3 {
			e := esdbwire.RunEvent{ID: uuid.New(), Type: fmt.Sprintf("T%d", j), ContentType: "application/json",
				Data: fmt.Appendf(nil, `{"i":%d,"j":%d}`, i, j)}
			if i%5 == 0 {
				e.ContentType, e.Data = "application/octet-stream", []byte{byte(i), 0, byte(j)}
			}
			if i%2 == 0 {
				e.Metadata = fmt.Appendf(nil, `{"run":%d}`, i)
			}
			run.Events = append(run.Events, e)
		}
		next[stream] += uint64(len(run.Events))
		runs = append(runs, run)
	}
	return runs
}

// TestImportWritesWhatAppendsWould imports a history into one node and appends the same runs one by one
// through the real client into another: read back through the client, both hold the same events at the
// same revisions and $all positions, byte for byte; and what Import acknowledged survives a reopen.
func TestImportWritesWhatAppendsWould(t *testing.T) {
	ctx := ctxT(t)
	runs := importRuns()
	dir := t.TempDir()
	imported := startNode(t, dir)
	if n, err := imported.Import(ctx, runs); err != nil || n != len(runs) {
		t.Fatalf("Import: %d of %d runs, %v", n, len(runs), err)
	}
	appended := startNode(t, "")
	c := newClient(t, appended.URL())
	for _, run := range runs {
		var expected esdb.ExpectedRevision = esdb.NoStream{}
		if run.First > 0 {
			expected = esdb.Revision(run.First - 1)
		}
		var evs []esdb.EventData
		for _, e := range run.Events {
			ct := esdb.ContentTypeBinary
			if e.ContentType == "application/json" {
				ct = esdb.ContentTypeJson
			}
			evs = append(evs, esdb.EventData{EventID: e.ID, EventType: e.Type, ContentType: ct, Data: e.Data, Metadata: e.Metadata})
		}
		if _, err := c.AppendToStream(ctx, run.Stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, evs...); err != nil {
			t.Fatal(err)
		}
	}
	want := readAll(t, c, esdb.ReadAllOptions{From: esdb.Start{}}, 10_000)
	check := func(n *esdbnode.Node) {
		t.Helper()
		got := readAll(t, newClient(t, n.URL()), esdb.ReadAllOptions{From: esdb.Start{}}, 10_000)
		if len(got) != len(want) || len(got) < 1000 {
			t.Fatalf("imported %d events, appended %d", len(got), len(want))
		}
		for i, g := range got {
			w := want[i]
			if g.StreamID != w.StreamID || g.EventNumber != w.EventNumber || g.EventID != w.EventID || g.EventType != w.EventType ||
				g.ContentType != w.ContentType || !bytes.Equal(g.Data, w.Data) || !bytes.Equal(g.UserMetadata, w.UserMetadata) ||
				g.Position != w.Position {
				t.Fatalf("$all[%d]: imported %s@%d %s %s pos %v, appended %s@%d %s %s pos %v", i,
					g.StreamID, g.EventNumber, g.EventType, g.ContentType, g.Position, w.StreamID, w.EventNumber, w.EventType, w.ContentType, w.Position)
			}
		}
	}
	check(imported)
	if err := imported.Close(); err != nil {
		t.Fatal(err)
	}
	check(startNode(t, dir))
}

// TestImportStopsAtARefusedRun: a run whose stream is not at its first revision is refused with
// ErrWrongRevision, the runs before it are written, and none queued after it is — an import never leaves
// a gap; a run the Append call would refuse is refused before anything is written.
func TestImportStopsAtARefusedRun(t *testing.T) {
	ctx := ctxT(t)
	n := startNode(t, "")
	c := newClient(t, n.URL())
	one := func(stream string, first uint64) esdbwire.Run {
		return esdbwire.Run{Stream: stream, First: first, Events: []esdbwire.RunEvent{{ID: uuid.New(), Type: "T", ContentType: "application/json", Data: []byte(`{}`)}}}
	}
	runs := []esdbwire.Run{one("a", 0), one("b", 0), one("a", 1), one("b", 5), one("c", 0), one("a", 2)}
	written, err := n.Import(ctx, runs)
	if written != 3 || !errors.Is(err, esdbwire.ErrWrongRevision) || !strings.Contains(err.Error(), `"b" at revision 5`) {
		t.Fatalf("Import = %d, %v; want 3 runs written and b refused at revision 5", written, err)
	}
	all := readAll(t, c, esdb.ReadAllOptions{From: esdb.Start{}}, 100)
	var got []string
	for _, e := range all {
		got = append(got, fmt.Sprintf("%s@%d", e.StreamID, e.EventNumber))
	}
	if strings.Join(got, " ") != "a@0 b@0 a@1" {
		t.Fatalf("the store holds %v; want a@0 b@0 a@1 and nothing queued after the refused run", got)
	}

	for _, bad := range []esdbwire.Run{
		{Stream: "", Events: one("x", 0).Events},
		{Stream: "$all", Events: one("x", 0).Events},
		{Stream: "d", Events: []esdbwire.RunEvent{{ID: uuid.New()}}},
		{Stream: "d", Events: []esdbwire.RunEvent{{ID: uuid.New(), Type: "T", Data: make([]byte, 17<<20)}}},
	} {
		if written, err := n.Import(ctx, []esdbwire.Run{one("e", 0), bad}); written != 0 || err == nil {
			t.Fatalf("Import of a run the Append call refuses (%q): %d written, %v", bad.Stream, written, err)
		}
	}
	if after := readAll(t, c, esdb.ReadAllOptions{From: esdb.Start{}}, 100); len(after) != len(all) {
		t.Fatalf("a refused import wrote %d events", len(after)-len(all))
	}
}
