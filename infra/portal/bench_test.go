package portal_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/workload"
)

var (
	benchOnce sync.Once
	benchD    *district
	benchErr  error
)

// benchDistrict is the district the benchmarks read, built once per process (the testing package calls
// a benchmark function several times): 13 communities over three years by default;
// PORTAL_BENCH_EVENTS=1000000 sizes it to about that many events (generating and projecting a million
// events takes minutes).
func benchDistrict(b *testing.B) *district {
	benchOnce.Do(func() {
		opts := workload.Options{Seed: 1, Communities: 13, Years: 3, Concurrency: 32}
		if v := os.Getenv("PORTAL_BENCH_EVENTS"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				benchErr = err
				return
			}
			opts = workload.Options{Seed: 1, Target: n, Concurrency: 64}
		}
		var cleanup func()
		benchD, cleanup, benchErr = buildDistrict(opts, b.Logf)
		prev := sharedCleanup
		sharedCleanup = func() { cleanup(); prev() }
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchD.with(b)
}

// BenchmarkCommunityPage requests a community page over loopback HTTP from parallel clients, as
// residents would; reports requests per second and the 99th percentile latency.
func BenchmarkCommunityPage(b *testing.B) {
	d := benchDistrict(b)
	benchGET(b, d, "/c/"+string(d.community().ID))
}

// BenchmarkCommunityJSON requests a community's summary from the JSON API.
func BenchmarkCommunityJSON(b *testing.B) {
	d := benchDistrict(b)
	benchGET(b, d, "/api/v1/public/communities/"+string(d.community().ID))
}

// BenchmarkPaymentsJSON requests the first page of a community's payments.
func BenchmarkPaymentsJSON(b *testing.B) {
	d := benchDistrict(b)
	benchGET(b, d, "/api/v1/public/communities/"+string(d.community().ID)+"/payments?limit=50")
}

func benchGET(b *testing.B, d *district, path string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	get := func() error {
		resp, err := client.Get(d.URL + path)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return &statusError{resp.StatusCode}
		}
		return nil
	}
	if err := get(); err != nil { // warm: the first request renders, the others are served from memory
		b.Fatal(err)
	}
	var mu sync.Mutex
	var all []time.Duration
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			t := time.Now()
			if err := get(); err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t))
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
}

type statusError struct{ status int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.status) }

// BenchmarkSearchCold searches the benchmark district's places over loopback HTTP, one client, each
// request a query not asked before (every substring of one to three characters of every place's name),
// so every answer is computed, not served from memory; reports the latency percentiles of those. The
// portal keeps answers in memory for the life of the process: only the first run of a process (-count 1,
// as make bench runs it) measures cold answers.
func BenchmarkSearchCold(b *testing.B) {
	d := benchDistrict(b)
	var names []string
	if err := d.Admin.QueryRow(b.Context(), `SELECT array_agg(name) FROM rm_directory.nodes`).Scan(&names); err != nil {
		b.Fatal(err)
	}
	seen := map[string]bool{}
	var queries []string
	for _, n := range names {
		rs := []rune(n)
		for i := range rs {
			for l := 1; l <= 3 && i+l <= len(rs); l++ {
				if q := string(rs[i : i+l]); !seen[q] {
					seen[q] = true
					queries = append(queries, q)
				}
			}
		}
	}
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		if i >= len(queries) {
			continue // asked before: the remaining iterations would be served from memory
		}
		t := time.Now()
		resp, err := http.Get(d.URL + "/api/v1/public/search?q=" + url.QueryEscape(queries[i]))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%q: %d", queries[i], resp.StatusCode)
		}
		lat = append(lat, time.Since(t))
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat)), "queries")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
}
