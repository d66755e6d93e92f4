package eventstore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
)

// ReadAllFiltered returns exactly the matching events in $all order and ends at the head, also when the
// last events do not match (it must not wait for live events).
func TestReadAllFiltered(t *testing.T) {
	node := openNode(t, t.TempDir())
	t.Cleanup(func() { node.Close() })
	st := dial(t, node.URL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	read := func(after eventlog.Position, f eventlog.Filter) []string {
		t.Helper()
		var got []string
		if err := st.ReadAllFiltered(ctx, after, f, func(r eventlog.Recorded) error {
			got = append(got, fmt.Sprintf("%s@%d", r.Stream, r.Revision))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := read(eventlog.Start, eventlog.Filter{StreamRegex: "^x-"}); len(got) != 0 {
		t.Fatalf("empty store: %v", got)
	}
	var want []string
	var mid eventlog.Position
	for i := range 100 {
		stream := fmt.Sprintf("disclosure-c%d-%d", i%3, i/3)
		res, err := st.Append(ctx, stream, eventlog.Any(), []eventlog.Event{{ID: eventlog.DeriveID(stream, i), Type: "t", Data: []byte(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if i%3 == 1 {
			want = append(want, fmt.Sprintf("%s@%d", stream, res.Revision))
		}
		if i == 49 {
			mid = res.Position
		}
	}
	// Many non-matching events after the last match: the read still ends.
	for i := range 200 {
		if _, err := st.Append(ctx, "other-c9-1", eventlog.Any(), []eventlog.Event{{ID: eventlog.DeriveID("other", i), Type: "t", Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := read(eventlog.Start, eventlog.Filter{StreamRegex: `^[a-z]+-c1-`}); !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	if got := read(mid, eventlog.Filter{StreamPrefixes: []string{"disclosure-c1-"}}); !slices.Equal(got, want[len(want)-16:]) {
		t.Fatalf("after %s: got %v", mid, got)
	}
	if got := read(eventlog.Start, eventlog.Filter{StreamRegex: "^nothing-"}); len(got) != 0 {
		t.Fatalf("no match: %v", got)
	}
	if err := st.ReadAllFiltered(ctx, eventlog.Start, eventlog.Filter{StreamRegex: "x", TypeRegex: "y"}, func(eventlog.Recorded) error { return nil }); err == nil {
		t.Fatal("a filter by stream and type was accepted")
	}
}
