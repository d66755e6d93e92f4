package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/rating"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/metrics"
	"github.com/grassroots-ledger/ledger/infra/supervision/supervisiontest"
	alerts "github.com/grassroots-ledger/ledger/projections/supervision"
)

// TestHTTPRoutesAndCommandResults: requests are timed by the mux pattern that served them (not the raw
// path, whose ids would explode the label set), commands are counted by name and outcome, and a
// streaming route is not timed.
func TestHTTPRoutesAndCommandResults(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := metrics.NewHTTP(reg, "GET /stream")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/things/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) })
	mux.HandleFunc("POST /api/v1/commands/pay-expenditure", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Fail") != "" {
			w.WriteHeader(422)
			return
		}
		_, _ = w.Write([]byte("{}"))
	})
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("the instrumented writer must let a stream flush: %v", err)
		}
	})
	srv := httptest.NewServer(h.Wrap(mux))
	defer srv.Close()
	do := func(method, path string, fail bool) {
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		if fail {
			req.Header.Set("X-Fail", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do("GET", "/api/v1/things/1", false)
	do("GET", "/api/v1/things/2", false)
	do("POST", "/api/v1/commands/pay-expenditure", false)
	do("POST", "/api/v1/commands/pay-expenditure", true)
	do("GET", "/stream", false)
	do("GET", "/nowhere", false)
	if n := testutil.CollectAndCount(reg, "ledger_http_request_duration_seconds"); n != 4 {
		t.Fatalf("%d duration series, want things, commands ok and 422, unmatched", n)
	}
	want := `
# HELP ledger_command_results_total Commands by name and outcome: ok, invalid, unauthenticated, forbidden, not-found, conflict, rejected, too-large, error.
# TYPE ledger_command_results_total counter
ledger_command_results_total{command="pay-expenditure",outcome="ok"} 1
ledger_command_results_total{command="pay-expenditure",outcome="rejected"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ledger_command_results_total"); err != nil {
		t.Fatal(err)
	}
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && strings.Contains(l.GetValue(), "/1") {
					t.Fatalf("raw path as route label: %s", l.GetValue())
				}
			}
		}
	}
}

type stubStore struct{ err error }

func (s stubStore) Load(context.Context, string) ([]eventlog.Recorded, error) { return nil, s.err }
func (s stubStore) Append(context.Context, string, eventlog.Expected, []eventlog.Event) (eventlog.AppendResult, error) {
	return eventlog.AppendResult{}, s.err
}

func TestStoreTimesAppendsByOutcome(t *testing.T) {
	reg := prometheus.NewRegistry()
	ok, err := metrics.InstrumentStore(stubStore{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "ledger_store_append_seconds"); n != 3 {
		t.Fatalf("%d append series, want ok, conflict and error from the start", n)
	}
	conflicted, _ := metrics.InstrumentStore(stubStore{&eventlog.ConflictError{Stream: "s", Actual: 1}}, nil)
	failing, _ := metrics.InstrumentStore(stubStore{errors.New("down")}, nil)
	for _, s := range []*metrics.Store{ok, ok, conflicted, failing} {
		_, _ = s.Append(context.Background(), "s", eventlog.Any(), nil)
	}
	_, _ = ok.Load(context.Background(), "s")
	if got := appends(t, reg); got["ok"] != 2 || got["conflict"] != 0 || got["error"] != 0 {
		t.Fatalf("appends by outcome %v (only the registered store counts here)", got)
	}
	reg2 := prometheus.NewRegistry()
	c2, _ := metrics.InstrumentStore(stubStore{fmt.Errorf("append: %w", &eventlog.ConflictError{Stream: "s", Actual: 1})}, reg2)
	_, _ = c2.Append(context.Background(), "s", eventlog.Any(), nil)
	if got := appends(t, reg2); got["conflict"] != 1 {
		t.Fatalf("a wrapped conflict is a conflict: %v", got)
	}
}

// appends returns the sample counts of the append histogram by outcome.
func appends(t *testing.T, reg *prometheus.Registry) map[string]uint64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "ledger_store_append_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetHistogram().GetSampleCount()
		}
	}
	return out
}

// TestLagAndSupervisionGauges: with the projector stopped the alerts model falls behind by exactly the
// events appended meanwhile; caught up, its lag is zero. The supervision gauges read the read model.
func TestLagAndSupervisionGauges(t *testing.T) {
	h := supervisiontest.New(t, supervisiontest.Options{})
	reg := prometheus.NewRegistry()
	lag, err := metrics.NewLag(h.Server.Pool, h.Server.Store, []string{alerts.Name}, reg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := metrics.NewSupervision(h.Server.Pool, reg); err != nil {
		t.Fatal(err)
	}
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 1)
	h.Record(c, c.Stream("expenditure", "1"), stubPaid())
	h.Quiesce()
	h.StopEngine()
	h.StopRuntime()
	for i := range 3 {
		h.Record(c, c.Stream("meeting", string(rune('a'+i))), stubMotion())
	}
	time.Sleep(20 * time.Millisecond)
	if err := lag.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(gauge(t, reg, "ledger_projection_lag_events")); got != 3 {
		t.Fatalf("lag events %v, want 3", got)
	}
	if got := testutil.ToFloat64(gauge(t, reg, "ledger_projection_lag_seconds")); got <= 0 {
		t.Fatalf("lag seconds %v", got)
	}
	h.StartRuntime()
	h.StartEngine()
	h.Quiesce()
	if err := lag.Update(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(gauge(t, reg, "ledger_projection_lag_events")); got != 0 {
		t.Fatalf("caught up, lag events %v", got)
	}
	// One open red alert (major-matter-resolution), rated red.
	want := `
# HELP ledger_communities_by_rating Communities by red/yellow/green rating.
# TYPE ledger_communities_by_rating gauge
ledger_communities_by_rating{rating="green"} 0
ledger_communities_by_rating{rating="red"} 1
ledger_communities_by_rating{rating="yellow"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ledger_communities_by_rating"); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(reg, "ledger_alerts_open"); n < 24 {
		t.Fatalf("%d open-alert series: every watch rule reports both severities", n)
	}
}

// gauge returns the one sample of a gauge family as a collector for ToFloat64.
func gauge(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			v := mf.GetMetric()[0].GetGauge().GetValue()
			g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
			g.Set(v)
			return g
		}
	}
	t.Fatalf("no single-sample gauge %s", name)
	return nil
}

// TestCaseworkAndRecordedRatingGauges: by street, this year's casework with its deliberation, and the
// ratings recorded for the latest month.
func TestCaseworkAndRecordedRatingGauges(t *testing.T) {
	h := supervisiontest.New(t, supervisiontest.Options{})
	h.StartDirectory()
	reg := prometheus.NewRegistry()
	if _, err := metrics.NewSupervision(h.Server.Pool, reg); err != nil {
		t.Fatal(err)
	}
	c := supervisiontest.NewCommunity(supervisiontest.DistrictX, 2)
	h.Register(c, kernel.Urban, 1200, 3000)
	now := time.Now()
	h.Record(c, c.Stream("topic", "t-1"), meeting.TopicCollected{TopicID: "t-1", Channel: meeting.HomeVisit, Summary: "楼道堆物", CollectedAt: now},
		meeting.TopicDeliberationHeld{TopicID: "t-1", MeetingID: "m-1", Outcome: "清理", HeldAt: now},
		meeting.TopicFeedbackRecorded{TopicID: "t-1", Feedback: "已清理", Closed: true, RecordedAt: now})
	h.Record(c, rating.Stream(c.ID), rating.Recorded{Period: "2026-05", Rating: "yellow", Inputs: rating.Inputs{OpenYellow: 1}, TakenAt: now})
	street, _ := c.Path.Parent()
	want := fmt.Sprintf(`
# HELP ledger_recorded_ratings Communities by the red/yellow/green rating recorded for the latest month that ended (the rating history: open alerts, satisfaction and assessment score), by street.
# TYPE ledger_recorded_ratings gauge
ledger_recorded_ratings{district=%[1]q,rating="green",street=%[2]q} 0
ledger_recorded_ratings{district=%[1]q,rating="red",street=%[2]q} 0
ledger_recorded_ratings{district=%[1]q,rating="yellow",street=%[2]q} 1
`, supervisiontest.DistrictX, street)
	// The ratings and the topics are projected by different models, each at its own pace: wait for both.
	h.Wait("the gauges", 10*time.Second, func() (bool, string) {
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "ledger_recorded_ratings"); err != nil {
			return false, err.Error()
		}
		got := casework(t, reg, supervisiontest.DistrictX, street)
		ok := got["communities"] == 1 && got["deliberating"] == 1 && got["topics_closed"] == 1 && got["topics_closed_in_time"] == 1
		return ok, fmt.Sprintf("casework of %s: %v", street, got)
	})
}

// casework returns the ledger_casework measures of one street.
func casework(t *testing.T, reg *prometheus.Registry, district, street kernel.JurisdictionPath) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "ledger_casework" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["street"] == string(street) && labels["district"] == string(district) {
				got[labels["measure"]] = m.GetGauge().GetValue()
			}
		}
	}
	return got
}
