package decode_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/pg"
	"github.com/grassroots-ledger/ledger/projections/board"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/elections"
	"github.com/grassroots-ledger/ledger/projections/finances"
	"github.com/grassroots-ledger/ledger/projections/internal/decode/decodetest"
	"github.com/grassroots-ledger/ledger/projections/meetings"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// models are the five public read models, fresh.
func models() []runtime.ReadModel {
	return []runtime.ReadModel{directory.New(), board.New(), finances.New(), elections.New(), meetings.New()}
}

func schemas() []string {
	var out []string
	for _, m := range models() {
		out = append(out, runtime.SchemaOf(m.Name()))
	}
	return out
}

// personalData is what the events of a history say about people, collected from every "personal"
// object of every payload (however deep), and the person ids whose identity must never be public: the
// subjects of objections and of topics raised, and individual payees.
type personalData struct {
	values  map[string]string // value → what it is (name, national_id, phone, address)
	secrets map[string]bool   // person ids that must not appear at all
	names   []string
}

// cpuTime is the CPU time this process has used (user and system), to tell the Go side's share of a
// rebuild from PostgreSQL's.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var secretSubjects = map[string]bool{
	"disclosure.objection-raised": true, "election.objection-raised": true, "meeting.topic-collected": true,
	"funds.expenditure-requested": true,
}

func collectPersonal(tb testing.TB, evs []eventlog.Recorded) personalData {
	tb.Helper()
	pd := personalData{values: map[string]string{}, secrets: map[string]bool{}}
	var walk func(typ string, v any, personal bool)
	walk = func(typ string, v any, personal bool) {
		switch v := v.(type) {
		case map[string]any:
			if personal {
				for _, f := range []string{"name", "national_id", "phone", "address"} {
					if s, _ := v[f].(string); s != "" {
						pd.values[s] = f
						if f == "name" {
							pd.names = append(pd.names, s)
						}
					}
				}
				if s, _ := v["subject"].(string); s != "" && secretSubjects[typ] {
					pd.secrets[s] = true
				}
			}
			for k, x := range v {
				walk(typ, x, k == "personal")
			}
		case []any:
			for _, x := range v {
				walk(typ, x, personal)
			}
		}
	}
	for _, e := range evs {
		var v any
		if err := json.Unmarshal(e.Data, &v); err != nil {
			tb.Fatal(err)
		}
		walk(e.Type, v, false)
	}
	return pd
}

// scan reports the rows that hold a personal value or a secret person id. It looks every substring of
// the lengths the needles have up in a set, so it stays fast with thousands of people.
func (pd personalData) scan(rows []string) []string {
	needles := map[string]string{}
	for v, what := range pd.values {
		needles[v] = what
	}
	for s := range pd.secrets {
		needles[s] = "objector, topic raiser or payee person id"
	}
	lengths := map[int]bool{}
	for n := range needles {
		lengths[len(n)] = true
	}
	var bad []string
	for _, r := range rows {
		for l := range lengths {
			for i := 0; i+l <= len(r); i++ {
				if what, ok := needles[r[i:i+l]]; ok {
					// A person id is a whole token: "p-0000012" must not match inside "p-00000123".
					if strings.HasPrefix(what, "objector") && i+l < len(r) && r[i+l] >= '0' && r[i+l] <= '9' {
						continue
					}
					bad = append(bad, fmt.Sprintf("%s %q in %s", what, r[i:i+l], r))
				}
			}
		}
	}
	return bad
}

// TestNoPersonalDataInAnyModel projects a generated history full of personal data (names, national ID
// numbers, phones, addresses of committee members, candidates, payees, objectors and topic raisers) into
// the five models and scans every column of every table: no ID number, phone, address or full name is
// there, nor the person id of an objector, topic raiser or individual payee; individual payees appear
// masked.
func TestNoPersonalDataInAnyModel(t *testing.T) {
	t.Parallel()
	pool := decodetest.NewPool(t)
	h := decodetest.Generate(decodetest.GenConfig{Events: 12_000, Seed: 7})
	pd := collectPersonal(t, h.Events)
	if len(pd.names) < 1000 || len(pd.secrets) < 300 {
		t.Fatalf("the history carries too little personal data to test: %d names, %d secret subjects", len(pd.names), len(pd.secrets))
	}
	for _, m := range models() {
		decodetest.Migrate(t, pg.Migrator(pool), m)
		decodetest.MustApply(t, pool, m, h.Events, 1000)
	}
	rows := decodetest.RowText(t, pool, schemas()...)
	// The scanner itself finds what it looks for.
	for v := range pd.values {
		if len(pd.scan([]string{"rm_x.t (1," + v + ",2)"})) != 1 {
			t.Fatalf("the scan misses %q", v)
		}
		break
	}
	if bad := pd.scan(rows); len(bad) > 0 {
		for _, b := range bad[:min(len(bad), 10)] {
			t.Error(b)
		}
		t.Fatalf("%d rows hold personal data", len(bad))
	}
	// Individual payees are there, masked.
	masked := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE paid_at IS NOT NULL AND payee_kind = 'individual'`)
	stars := decodetest.Count(t, pool, `SELECT count(*) FROM rm_finances.expenditures WHERE paid_at IS NOT NULL AND payee_kind = 'individual' AND payee_name ~ '^.\*+$'`)
	if masked == 0 || stars != masked {
		t.Fatalf("%d individual payments, %d of them with a masked payee name", masked, stars)
	}
	t.Logf("%d rows scanned for %d personal values and %d secret person ids", len(rows), len(pd.values), len(pd.secrets))
}

// TestRebuildEqualsLive projects a generated history live through the runtime (batches of up to 1000 as
// events arrive), rebuilds every model from scratch (batches of 5000, shadow schema, swap), and applies
// it again in odd-sized batches elsewhere: all three give the same rows in every table of every model.
func TestRebuildEqualsLive(t *testing.T) {
	t.Parallel()
	h := decodetest.Generate(decodetest.GenConfig{Events: 15_000, Seed: 11})
	src := decodetest.NewMemSource(h.Events[:6000])
	pool := decodetest.NewPool(t)
	rt := decodetest.NewRuntime(t, pool, src, pg.Migrator(pool), models(), func(c *runtime.Config) { c.MaxBatch = 1000 })
	decodetest.Start(t, rt)
	// The rest arrives while the runtime follows, in appends of 500.
	for i := 6000; i < len(h.Events); i += 500 {
		src.Append(h.Events[i:min(i+500, len(h.Events))]...)
		time.Sleep(5 * time.Millisecond)
	}
	decodetest.WaitFor(t, 60*time.Second, "every model to reach the head", func() (bool, string) {
		for _, st := range rt.Status() {
			if st.Checkpoint != h.Head() || st.Halted {
				return false, fmt.Sprintf("%+v", st)
			}
		}
		return true, ""
	})
	live := map[string]string{}
	for _, s := range schemas() {
		live[s] = decodetest.Checksum(t, pool, s)
	}

	for _, m := range models() {
		if err := rt.Rebuild(context.Background(), m, nil); err != nil {
			t.Fatalf("rebuild %s: %v", m.Name(), err)
		}
	}
	other := decodetest.NewPool(t)
	for _, m := range models() {
		decodetest.Migrate(t, pg.Migrator(other), m)
		decodetest.MustApply(t, other, m, h.Events, 137)
	}
	for _, s := range schemas() {
		if got := decodetest.Checksum(t, pool, s); got != live[s] {
			t.Errorf("%s rebuilt differs from live:\n rebuilt %s\n    live %s", s, got, live[s])
		}
		if got := decodetest.Checksum(t, other, s); got != live[s] {
			t.Errorf("%s in batches of 137 differs from live:\n%s\n%s", s, got, live[s])
		}
	}
}

// BenchmarkRebuildAll rebuilds the five models from a generated history of LEDGER_BENCH_EVENTS events
// (default 1 000 000; ~1 600 communities acting interleaved, so an aggregate's events are thousands of
// positions apart, as in a real district) held in memory outside the scanned heap, through the real
// runtime: Runtime.Rebuild reads $all in pages of RebuildBatch, applies each page in one transaction,
// writes a shadow schema and swaps it in. "all/sequential" rebuilds the models one after the other,
// "all/concurrent" all five at once; both for the runtime's default page (5000) and a larger one (20000),
// since an aggregate whose events fall into fewer pages is loaded and rewritten fewer times. The per-model
// runs show where the time goes.
//
// events/s counts the history's events once per rebuild of all models. go-cpu-s/op is this process's CPU
// time (decoding, encoding, the runtime): PostgreSQL's is the rest, which matters on a shared machine.
// Reading the event store is left out (projections/runtime BenchmarkRebuild measures the embedded node).
// LEDGER_BENCH_CPUPROFILE=file profiles the timed part of each sub-benchmark into file.<name>.
func BenchmarkRebuildAll(b *testing.B) {
	n := 1_000_000
	if s := os.Getenv("LEDGER_BENCH_EVENTS"); s != "" {
		if v, err := strconv.Atoi(s); err == nil && v > 0 {
			n = v
		}
	}
	began := time.Now()
	h := decodetest.Generate(decodetest.GenConfig{Events: n, Seed: 1})
	src := decodetest.NewMemSource(h.Events)
	counts := map[string]int{}
	for _, e := range h.Events {
		counts[strings.SplitN(e.Type, ".", 2)[0]]++
	}
	events, head := len(h.Events), h.Head()
	h = nil // the source holds the history outside the scanned heap, as a store would
	goruntime.GC()
	b.Logf("history: %d events generated in %s, by kind %v", events, time.Since(began).Round(time.Millisecond), counts)
	rebuild := func(b *testing.B, ms []runtime.ReadModel, concurrent bool, batch int) {
		pool := decodetest.NewPool(b)
		rt := decodetest.NewRuntime(b, pool, src, pg.Migrator(pool), models(), func(c *runtime.Config) { c.RebuildBatch = batch })
		var total time.Duration
		if f := os.Getenv("LEDGER_BENCH_CPUPROFILE"); f != "" { // the timed part only, one file per sub-benchmark
			out, err := os.Create(f + "." + strings.NewReplacer("/", "_", "=", "").Replace(b.Name()))
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.StartCPUProfile(out); err != nil {
				b.Fatal(err)
			}
			defer func() { pprof.StopCPUProfile(); _ = out.Close() }()
		}
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			start := time.Now()
			errs := make(chan error, len(ms))
			for _, m := range ms {
				if concurrent {
					go func() { errs <- rt.Rebuild(context.Background(), m, nil) }()
				} else {
					errs <- rt.Rebuild(context.Background(), m, nil)
				}
			}
			for range ms {
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
			total += time.Since(start)
		}
		b.ReportMetric(float64(events)*float64(b.N)/total.Seconds(), "events/s")
		b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "go-cpu-s/op")
		for _, m := range ms {
			if cp := decodetest.Checkpoint(b, pool, runtime.SchemaOf(m.Name())); cp != head {
				b.Fatalf("%s rebuilt up to %s, want %s", m.Name(), cp, head)
			}
		}
		var sizes []string
		for _, m := range ms {
			var size string
			if err := pool.QueryRow(context.Background(), `SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))
				FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
				runtime.SchemaOf(m.Name())).Scan(&size); err == nil {
				sizes = append(sizes, m.Name()+"="+size)
			}
		}
		sort.Strings(sizes)
		b.Logf("table sizes: %s", strings.Join(sizes, " "))
	}
	for _, batch := range []int{5000, 20000} {
		b.Run(fmt.Sprintf("all/sequential/batch=%d", batch), func(b *testing.B) { rebuild(b, models(), false, batch) })
		b.Run(fmt.Sprintf("all/concurrent/batch=%d", batch), func(b *testing.B) { rebuild(b, models(), true, batch) })
	}
	for _, m := range models() {
		b.Run("model/"+m.Name(), func(b *testing.B) { rebuild(b, []runtime.ReadModel{m}, false, 5000) })
	}
}
