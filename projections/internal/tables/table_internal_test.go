package tables

import (
	"testing"
	"time"
)

// TestSentRowsAreReused: once a Writer has sent a table's rows, the next Rows of that table writes into
// their buffers (a batch of a hundred rows, encoded for COPY, allocates nothing more once warm), starts
// empty, and rows queued twice are handed out once.
func TestSentRowsAreReused(t *testing.T) {
	tbl := New("reuse", []string{"k"}, "", "k text", "n int8", "at timestamptz")
	at := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	batch := func() {
		r := tbl.Rows()
		if r.Len() != 0 {
			t.Fatalf("rows taken again start with %d rows", r.Len())
		}
		for i := range 100 {
			r.Row().Text("村务公开-0042").Int8(int64(i)).Time(at)
		}
		var w Writer
		w.Copy(r)
		if len(r.copyData()) == 0 {
			t.Fatal("no COPY data")
		}
		w.release()
	}
	batch()
	if allocs := testing.AllocsPerRun(20, batch); allocs > 2 {
		t.Fatalf("a batch allocated %.0f times with the last batch's rows to reuse", allocs)
	}

	// Rows queued twice are given back once: the next two Rows are two.
	r := tbl.Rows()
	r.Row().Text("a").Int8(1).Time(at)
	var w Writer
	w.Upsert(r)
	w.Copy(r)
	w.release()
	if a, b := tbl.Rows(), tbl.Rows(); a == b {
		t.Fatal("rows queued twice were handed out twice")
	}
}
