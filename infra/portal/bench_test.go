package portal_test

import (
	"io"
	"net/http"
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
