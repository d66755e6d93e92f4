package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// TestRebuildProgressCountsHistoryEventsAndNamesTheModelsBehind: the rebuild's line counts events of the
// history (the slowest model's), not events times models, and names the three models furthest behind the
// reader with how far; none once all have caught up.
func TestRebuildProgressCountsHistoryEventsAndNamesTheModelsBehind(t *testing.T) {
	r := runtime.RebuildProgress{Done: 100, Total: 1000, Read: 400, Models: []runtime.ModelProgress{
		{Name: "audittrail", Done: 400}, {Name: "alerts", Done: 100}, {Name: "finances", Done: 250},
		{Name: "board", Done: 390}, {Name: "tlog", Done: 300},
	}}
	if got, want := lagNote(r), "behind the reader: alerts 300, finances 150, tlog 100"; got != want {
		t.Errorf("note %q, want %q", got, want)
	}
	var out bytes.Buffer
	p := newProgress(&out, "rebuild", 0)
	p.Set(r.Done, r.Total)
	p.Note(lagNote(r))
	p.Finish()
	if line := out.String(); !strings.Contains(line, "100 events in") || !strings.Contains(line, "alerts 300") {
		t.Errorf("progress line %q, want the slowest model's 100 events and the models behind", line)
	}
	for i := range r.Models {
		r.Models[i].Done = 400
	}
	if got := lagNote(r); got != "" {
		t.Errorf("note %q once every model caught up, want none", got)
	}
}
