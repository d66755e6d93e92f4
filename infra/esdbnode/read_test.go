package esdbnode_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
)

func TestReadStreamDirectionsCountsAndStartPoints(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	before := time.Now()
	batch := evs(10, "Counted")
	if _, err := c.AppendToStream(ctx, "numbers", esdb.AppendToStreamOptions{}, batch...); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AppendToStream(ctx, "noise", esdb.AppendToStreamOptions{}, evs(3, "Noise")...); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		opts  esdb.ReadStreamOptions
		count uint64
		want  []uint64
	}{
		{"forwards from start", esdb.ReadStreamOptions{}, 100, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"forwards from start, count 3", esdb.ReadStreamOptions{}, 3, []uint64{0, 1, 2}},
		{"forwards from revision 7 (inclusive)", esdb.ReadStreamOptions{From: esdb.Revision(7)}, 100, []uint64{7, 8, 9}},
		{"forwards from past the end", esdb.ReadStreamOptions{From: esdb.Revision(10)}, 100, nil},
		{"forwards from end", esdb.ReadStreamOptions{From: esdb.End{}}, 100, nil},
		{"backwards from end", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 100, []uint64{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"backwards from end, count 2", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 2, []uint64{9, 8}},
		{"backwards from revision 2 (inclusive)", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Revision(2)}, 100, []uint64{2, 1, 0}},
		{"backwards from start", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.Start{}}, 100, []uint64{0}},
		{"count 0", esdb.ReadStreamOptions{}, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := readStream(t, c, "numbers", tc.opts, tc.count)
			if !slices.Equal(revisions(got), tc.want) {
				t.Errorf("revisions %v, want %v", revisions(got), tc.want)
			}
		})
	}
	got := readStream(t, c, "numbers", esdb.ReadStreamOptions{}, 100)
	for i, e := range got {
		b := batch[i]
		switch {
		case e.EventID != b.EventID, e.EventType != "Counted", e.ContentType != "application/json", e.StreamID != "numbers",
			string(e.Data) != string(b.Data), string(e.UserMetadata) != string(b.Metadata):
			t.Errorf("event %d does not round-trip: %+v", i, e)
		}
		if e.CreatedDate.Before(before.Add(-time.Second)) || e.CreatedDate.After(time.Now().Add(time.Second)) {
			t.Errorf("event %d created %v, appended at %v", i, e.CreatedDate, before)
		}
		if _, err := strconv.ParseInt(e.SystemMetadata["created"], 10, 64); err != nil {
			t.Errorf("created metadata %q is not ticks", e.SystemMetadata["created"])
		}
		if e.Position.Commit == 0 || e.Position.Commit != e.Position.Prepare {
			t.Errorf("event %d position %+v", i, e.Position)
		}
	}
}

func TestReadStreamNotFound(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	for _, opts := range []esdb.ReadStreamOptions{{}, {Direction: esdb.Backwards, From: esdb.End{}}} {
		rs, err := c.ReadStream(ctxT(t), "nobody-wrote-here", opts, 10)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rs.Recv()
		var e *esdb.Error
		if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeResourceNotFound {
			t.Errorf("want resource not found, got %v", err)
		}
		rs.Close()
	}
}

func TestReadAllOrderAcrossStreams(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	var want []esdb.EventData
	for i := range 30 {
		stream := "s-" + strconv.Itoa(i%4)
		batch := evs(1+i%3, "Ordered")
		if _, err := c.AppendToStream(ctx, stream, esdb.AppendToStreamOptions{}, batch...); err != nil {
			t.Fatal(err)
		}
		want = append(want, batch...)
	}
	all := readAll(t, c, esdb.ReadAllOptions{}, 1000)
	if len(all) != len(want) {
		t.Fatalf("read %d, want %d", len(all), len(want))
	}
	for i, e := range all {
		if e.EventID != want[i].EventID {
			t.Fatalf("$all[%d] is %s, appended %s", i, e.EventID, want[i].EventID)
		}
		if i > 0 && e.Position.Commit <= all[i-1].Position.Commit {
			t.Fatalf("$all positions not increasing at %d: %d after %d", i, e.Position.Commit, all[i-1].Position.Commit)
		}
	}
	back := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1000)
	if len(back) != len(all) || back[0].EventID != all[len(all)-1].EventID || back[len(back)-1].EventID != all[0].EventID {
		t.Errorf("backwards read is not the reverse of the forwards read")
	}
	mid := all[10].Position
	fromMid := readAll(t, c, esdb.ReadAllOptions{From: mid}, 5)
	if len(fromMid) != 5 || fromMid[0].EventID != all[10].EventID {
		t.Errorf("read from position %v: want inclusive start at event 10", mid)
	}
	backMid := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: mid}, 3)
	if len(backMid) != 3 || backMid[0].EventID != all[10].EventID || backMid[2].EventID != all[8].EventID {
		t.Errorf("backwards read from position %v: want events 10, 9, 8", mid)
	}
	if got := readAll(t, c, esdb.ReadAllOptions{From: esdb.End{}}, 10); len(got) != 0 {
		t.Errorf("forwards from end read %d events", len(got))
	}
	if got := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.Start{}}, 10); len(got) != 0 {
		t.Errorf("backwards from start read %d events", len(got))
	}
}

// Reads larger than one chunk come back complete and in order.
func TestReadAcrossChunks(t *testing.T) {
	n := startNode(t, "")
	c := newClient(t, n.URL())
	ctx := ctxT(t)
	for range 5 {
		if _, err := c.AppendToStream(ctx, "big", esdb.AppendToStreamOptions{}, evs(1000, "Bulk")...); err != nil {
			t.Fatal(err)
		}
	}
	fw := readStream(t, c, "big", esdb.ReadStreamOptions{}, 1<<62)
	bw := readStream(t, c, "big", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1<<62)
	all := readAll(t, c, esdb.ReadAllOptions{}, 1<<62)
	allBack := readAll(t, c, esdb.ReadAllOptions{Direction: esdb.Backwards, From: esdb.End{}}, 1<<62)
	if len(fw) != 5000 || len(bw) != 5000 || len(all) != 5000 || len(allBack) != 5000 {
		t.Fatalf("read %d/%d/%d/%d events, want 5000 each", len(fw), len(bw), len(all), len(allBack))
	}
	for i := range 5000 {
		if fw[i].EventNumber != uint64(i) || bw[i].EventNumber != uint64(4999-i) ||
			all[i].Position.Commit != uint64(i+1) || allBack[i].Position.Commit != uint64(5000-i) {
			t.Fatalf("order broken at %d", i)
		}
	}
}

func TestServerFeaturesAndUnsupportedCalls(t *testing.T) {
	n := startNode(t, "")
	methods, err := serverfeatures.NewServerFeaturesClient(rawConn(t, n)).GetSupportedMethods(ctxT(t), &shared.Empty{})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range strings.Split(methods.GetEventStoreServerVersion(), ".") {
		if _, err := strconv.Atoi(part); err != nil {
			t.Errorf("version %q is not dot-separated integers", methods.GetEventStoreServerVersion())
		}
	}
	// Through the client: deleting is not supported and says so.
	c := newClient(t, n.URL())
	_, err = c.DeleteStream(ctxT(t), "anything", esdb.DeleteStreamOptions{})
	var e *esdb.Error
	if !errors.As(err, &e) || e.Code() != esdb.ErrorCodeUnsupportedFeature {
		t.Errorf("delete: want unsupported feature, got %v", err)
	}
}
