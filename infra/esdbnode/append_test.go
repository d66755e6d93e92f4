package esdbnode_test

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

func TestAppendExpectedRevision(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)

	// Seed "existing" with revisions 0 and 1.
	if _, err := c.AppendToStream(ctx, "existing", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, evs(2, "Seeded")...); err != nil {
		t.Fatalf("seed: %v", err)
	}
	cases := []struct {
		name     string
		stream   string
		expected esdb.ExpectedRevision
		wantErr  bool
		wantRev  uint64
	}{
		{"any on a new stream", "new-any", esdb.Any{}, false, 0},
		{"any on an existing stream", "existing", esdb.Any{}, false, 2},
		{"no_stream on a new stream", "new-nostream", esdb.NoStream{}, false, 0},
		{"no_stream on an existing stream", "existing", esdb.NoStream{}, true, 0},
		{"stream_exists on a new stream", "new-exists", esdb.StreamExists{}, true, 0},
		{"stream_exists on an existing stream", "existing", esdb.StreamExists{}, false, 3},
		{"exact on a new stream", "new-exact", esdb.Revision(0), true, 0},
		{"exact current revision", "existing", esdb.Revision(3), false, 4},
		{"exact stale revision", "existing", esdb.Revision(3), true, 0},
		{"exact future revision", "existing", esdb.Revision(9), true, 0},
		{"exact max revision", "existing", esdb.Revision(math.MaxUint64), true, 0},
	}
	var lastPos uint64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.AppendToStream(ctx, tc.stream, esdb.AppendToStreamOptions{ExpectedRevision: tc.expected}, ev("Tested", `{}`))
			if tc.wantErr {
				if !isWrongExpectedVersion(err) {
					t.Fatalf("want wrong expected version, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("append: %v", err)
			}
			if res.NextExpectedVersion != tc.wantRev {
				t.Errorf("revision %d, want %d", res.NextExpectedVersion, tc.wantRev)
			}
			if res.CommitPosition == 0 || res.CommitPosition != res.PreparePosition || res.CommitPosition <= lastPos {
				t.Errorf("position commit=%d prepare=%d after %d: want equal, non-zero, increasing",
					res.CommitPosition, res.PreparePosition, lastPos)
			}
			lastPos = res.CommitPosition
		})
	}
	// A rejected append wrote nothing.
	if got := revisions(readStream(t, c, "existing", esdb.ReadStreamOptions{}, 100)); !slices.Equal(got, []uint64{0, 1, 2, 3, 4}) {
		t.Errorf("existing stream revisions %v", got)
	}
	if rs, err := c.ReadStream(ctx, "new-exists", esdb.ReadStreamOptions{}, 10); err == nil {
		if _, err := rs.Recv(); err == nil {
			t.Errorf("rejected append created stream new-exists")
		}
		rs.Close()
	}
}

func TestAppendIdempotent(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)

	first := evs(3, "Happened")
	for _, tc := range []struct {
		name     string
		expected esdb.ExpectedRevision
	}{{"no_stream", esdb.NoStream{}}, {"any", esdb.Any{}}} {
		t.Run(tc.name, func(t *testing.T) {
			stream := "idem-" + tc.name
			want, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: tc.expected}, first...)
			if err != nil {
				t.Fatalf("first append: %v", err)
			}
			// Something else is appended in between: the retry must still find the original.
			if _, err := c.AppendToStream(ctx, "other", esdb.AppendToStreamOptions{}, ev("Other", `{}`)); err != nil {
				t.Fatal(err)
			}
			got, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{ExpectedRevision: tc.expected}, first...)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if *got != *want {
				t.Errorf("retry result %+v, want original %+v", *got, *want)
			}
			if es := readStream(t, c, stream, esdb.ReadStreamOptions{}, 100); len(es) != 3 {
				t.Errorf("stream holds %d events after retry, want 3", len(es))
			}
		})
		first = evs(3, "Happened")
	}

	t.Run("exact revision retry", func(t *testing.T) {
		if _, err := c.AppendToStream(ctx, "idem-exact", esdb.AppendToStreamOptions{}, evs(2, "Seed")...); err != nil {
			t.Fatal(err)
		}
		batch := evs(2, "Next")
		want, err := c.AppendToStream(ctx, "idem-exact", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, batch...)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.AppendToStream(ctx, "idem-exact", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, batch...)
		if err != nil || *got != *want {
			t.Fatalf("retry got %+v, %v; want %+v", got, err, *want)
		}
		// The same ids at a different expected revision: refused, nothing written.
		if _, err := c.AppendToStream(ctx, "idem-exact", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(3)}, batch...); !isWrongExpectedVersion(err) {
			t.Errorf("retry at another revision: want wrong expected version, got %v", err)
		}
		// Partly reused ids: refused.
		mixed := []esdb.EventData{batch[1], ev("New", `{}`)}
		if _, err := c.AppendToStream(ctx, "idem-exact", esdb.AppendToStreamOptions{}, mixed...); !isWrongExpectedVersion(err) {
			t.Errorf("partial reuse: want wrong expected version, got %v", err)
		}
		// Ids of this stream appended to another stream: refused.
		if _, err := c.AppendToStream(ctx, "idem-elsewhere", esdb.AppendToStreamOptions{}, batch...); !isWrongExpectedVersion(err) {
			t.Errorf("reuse in another stream: want wrong expected version, got %v", err)
		}
		// The same id twice in one append: refused.
		e := ev("Twice", `{}`)
		if _, err := c.AppendToStream(ctx, "idem-twice", esdb.AppendToStreamOptions{}, e, e); !isWrongExpectedVersion(err) {
			t.Errorf("repeated id in one append: want wrong expected version, got %v", err)
		}
		if es := readStream(t, c, "idem-exact", esdb.ReadStreamOptions{}, 100); len(es) != 4 {
			t.Errorf("stream holds %d events, want 4", len(es))
		}
	})
}

func TestAppendMultiEventIsAtomicAndContiguous(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)

	if _, err := c.AppendToStream(ctx, "interleave", esdb.AppendToStreamOptions{}, ev("X", `{}`)); err != nil {
		t.Fatal(err)
	}
	batch := evs(50, "Part")
	res, err := c.AppendToStream(ctx, "atomic", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, batch...)
	if err != nil {
		t.Fatal(err)
	}
	if res.NextExpectedVersion != 49 {
		t.Errorf("revision %d, want 49", res.NextExpectedVersion)
	}
	got := readStream(t, c, "atomic", esdb.ReadStreamOptions{}, 1000)
	if len(got) != 50 {
		t.Fatalf("read %d events, want 50", len(got))
	}
	for i, e := range got {
		if e.EventNumber != uint64(i) || e.EventID != batch[i].EventID || !bytes.Equal(e.Data, batch[i].Data) {
			t.Errorf("event %d: revision %d id %s", i, e.EventNumber, e.EventID)
		}
		if e.Position.Commit != got[0].Position.Commit+uint64(i) {
			t.Errorf("event %d at position %d: positions of one append must be contiguous from %d", i, e.Position.Commit, got[0].Position.Commit)
		}
	}
	if got[49].Position.Commit != res.CommitPosition {
		t.Errorf("append reported position %d, last event is at %d", res.CommitPosition, got[49].Position.Commit)
	}
	// A rejected multi-event append writes none of its events.
	if _, err := c.AppendToStream(ctx, "atomic", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(3)}, evs(5, "Rejected")...); !isWrongExpectedVersion(err) {
		t.Fatalf("want wrong expected version, got %v", err)
	}
	if got := readAll(t, c, esdb.ReadAllOptions{}, 1000); len(got) != 51 {
		t.Errorf("$all holds %d events, want 51", len(got))
	}
}

// Event ids move from the writer's recent set into the ids bucket when the writer is idle; retries must be
// recognised on both sides of that move.
func TestIdempotencyAcrossIndexFlush(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	a := evs(2, "A")
	resA, err := c.AppendToStream(ctx, "flush", esdb.AppendToStreamOptions{ExpectedRevision: esdb.NoStream{}}, a...)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // idle: the writer indexes A's ids in the bucket
	b := evs(2, "B")
	resB, err := c.AppendToStream(ctx, "flush", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Revision(1)}, b...)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		events   []esdb.EventData
		expected esdb.ExpectedRevision
		want     *esdb.WriteResult
	}{
		"indexed": {a, esdb.NoStream{}, resA},
		"recent":  {b, esdb.Revision(1), resB},
		"both":    {append(slices.Clone(a), b...), esdb.NoStream{}, resB},
	} {
		got, err := c.AppendToStream(ctx, "flush", esdb.AppendToStreamOptions{ExpectedRevision: tc.expected}, tc.events...)
		if err != nil || *got != *tc.want {
			t.Errorf("%s retry: got %+v, %v; want %+v", name, got, err, *tc.want)
		}
	}
	if _, err := c.AppendToStream(ctx, "flush", esdb.AppendToStreamOptions{}, a[0], b[0]); !isWrongExpectedVersion(err) {
		t.Errorf("scattered ids: want wrong expected version, got %v", err)
	}
	if es := readStream(t, c, "flush", esdb.ReadStreamOptions{}, 100); len(es) != 4 {
		t.Errorf("stream holds %d events, want 4", len(es))
	}
}
