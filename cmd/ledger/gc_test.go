package main

import (
	"math"
	"runtime/debug"
	"testing"

	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
)

func TestServeAndRebuildTuneTheCollectorUnlessTheOperatorDid(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	const gib = int64(1) << 30
	for _, c := range []struct {
		name    string
		env     map[string]string
		total   int64
		percent int
		limit   int64
	}{
		{"a machine of 24 GiB", nil, 24 * gib, gcPercent, 6 * gib},
		{"a small container", nil, 512 << 20, gcPercent, 256 << 20},
		{"GOGC set", map[string]string{"GOGC": "100"}, 24 * gib, 0, 0},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 24 * gib, 0, 0},
		{"memory unknown", nil, 0, 0, 0},
	} {
		s := tunedGC(env(c.env), c.total)
		if s.percent != c.percent || s.limit != c.limit || s.decision == "" {
			t.Errorf("%s: %+v, want percent %d limit %d and a decision to log", c.name, s, c.percent, c.limit)
		}
	}
}

func TestMemoryAvailableOnThisMachine(t *testing.T) {
	if memoryAvailable() <= 0 {
		t.Fatal("memoryAvailable found no memory on this Linux machine")
	}
}

// The rebuild command tunes the collector as serve does, and leaves an operator's GOGC alone.
func TestRebuildTunesTheCollector(t *testing.T) {
	dir, db := t.TempDir(), pgtest.NewDatabase(t)
	t.Setenv("EVENTSTORE_URL", "")
	t.Setenv("GOMEMLIMIT", "")
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, c := range []struct {
		gogc string
		want int
	}{{"", gcPercent}, {"150", 100}} {
		t.Setenv("GOGC", c.gogc)
		debug.SetGCPercent(100)
		if out, err := runLedger(t, "rebuild", "--data", dir, "--database-url", db); err != nil {
			t.Fatalf("rebuild: %v\n%s", err, out)
		}
		if got := debug.SetGCPercent(100); got != c.want {
			t.Errorf("GOGC=%q: rebuild left the collector's target at %d%%, want %d%%", c.gogc, got, c.want)
		}
	}
}
