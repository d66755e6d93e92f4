package main

import (
	"testing"
)

func TestServeTunesTheCollectorUnlessTheOperatorDid(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	const gib = int64(1) << 30
	for _, c := range []struct {
		name    string
		env     map[string]string
		total   int64
		percent int
		limit   int64
	}{
		{"a machine of 24 GiB", nil, 24 * gib, serveGCPercent, 6 * gib},
		{"a small container", nil, 512 << 20, serveGCPercent, 256 << 20},
		{"GOGC set", map[string]string{"GOGC": "100"}, 24 * gib, 0, 0},
		{"GOMEMLIMIT set", map[string]string{"GOMEMLIMIT": "1GiB"}, 24 * gib, 0, 0},
		{"memory unknown", nil, 0, 0, 0},
	} {
		s := serveGC(env(c.env), c.total)
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
