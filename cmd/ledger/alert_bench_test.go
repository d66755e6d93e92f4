package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	sup "github.com/grassroots-ledger/ledger/domain/supervision"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/infra/auth"
	"github.com/grassroots-ledger/ledger/infra/httpapi"
	"github.com/grassroots-ledger/ledger/infra/supervision"
)

// BenchmarkLiveAlertLatency runs what serve runs behind the supervisors' alert stream — every read model
// on serve's pool, the alert engine, the stream hub and its HTTP route — while the demo's generator
// records a district history at 500 and at 2 000 events/s (ten seconds each), the anomalies it plants
// among it, and a clerk closes a satisfaction survey with most residents dissatisfied (a satisfaction
// breach) through the command executor for every tenth event more. A supervisor's client holds the
// stream open; for every alert raised by a breach (the rule broken by the event itself) it reports the
// time from the acknowledgement of the append or command that carried the breaching event to the
// alert's arrival on the stream. alerts is how many were timed. Run with -benchtime 1x.
//
// Each rate runs twice: history=past records the demo's history up to 1 December 2026 in compressed
// time, whose years of deadlines all fall due at once (thousands of alerts in ten seconds: a stress far
// above a real district's); history=present records the same district's history dated from today on,
// as a district recording today would, where alerts come from what the events break.
func BenchmarkLiveAlertLatency(b *testing.B) {
	atLiveRates(b, func(b *testing.B, perSecond int, span time.Duration) {
		for _, h := range []history{pastHistory, presentHistory} {
			b.Run("history="+h.String(), func(b *testing.B) { liveAlertLatency(b, h, perSecond, span) })
		}
	})
}

func liveAlertLatency(b *testing.B, h history, perSecond int, span time.Duration) {
	r := newLiveRig(b)
	quiet := slog.New(slog.DiscardHandler)
	tokens, err := auth.Open(r.ctx, r.pool)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	api, err := httpapi.New(httpapi.Config{Mux: mux, Tokens: tokens, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	executor := commands.NewExecutor(r.s.Store, commands.SystemClock{}, events.MustRegistry(), quiet)
	supCtx, stopSupervision := context.WithCancel(r.ctx) // the stream hub stops before the pool closes
	sv, err := startSupervision(supCtx, r.pool, r.s.Store, executor, mux, api.API(), tokens, prometheus.NewRegistry(), r.models,
		supervision.WebhookPolicy{})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	b.Cleanup(stopSupervision)
	secret, _, err := tokens.Create(r.ctx, auth.NewToken{Subject: "bench", Role: commands.RoleSupervisor, Scope: "33", CreatedBy: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	r.start(b, sv.Work)
	handlers := commands.NewHandlers(executor, quiet)

	var mu sync.Mutex
	ackedAt := map[string]time.Time{}           // event id → acknowledgement of its append
	var lat, decided, delivered []time.Duration // in all; to the alert's append; from it to the stream
	arrived := streamAlerts(b, supCtx, srv.URL, secret, func(a alertOnStream, recorded, at time.Time) {
		if a.Trigger != sup.ByBreach || a.Source == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if t, ok := ackedAt[a.Source.EventID]; ok {
			lat, decided, delivered = append(lat, at.Sub(t)), append(decided, recorded.Sub(t)), append(delivered, at.Sub(recorded))
		}
	})
	var communities []string // as the generator registers them
	known := map[string]bool{}
	injecting, stopInjecting := context.WithCancel(r.ctx)
	injected := make(chan int)
	go func() { injected <- injectBreaches(injecting, handlers, perSecond/10, &mu, &communities, ackedAt) }()
	r.generate(b, h, perSecond, span, func(_ eventlog.AppendResult, evs []eventlog.Event, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			ackedAt[e.ID.String()] = at
			if c := e.Meta.CommunityID; c != "" && !known[c] {
				known[c] = true
				communities = append(communities, c)
			}
		}
	})
	stopInjecting()
	b.Logf("%d surveys closed with a breach", <-injected)
	// The stream is quiet for a second once the engine has raised what the history breaks.
	for last := arrived(); ; {
		time.Sleep(time.Second)
		if now := arrived(); now == last {
			break
		} else {
			last = now
		}
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	b.Logf("%d alert events on the stream in all", arrived())
	b.ReportMetric(float64(len(lat)), "alerts")
	reportLatencies(b, lat, "")
	reportLatencies(b, decided, "to-alert-append-")
	reportLatencies(b, delivered, "to-stream-")
}

// injectBreaches closes, perSecond times a second until ctx ends, a survey of the next of the communities
// (opened just before, in a stream of its own) with most residents dissatisfied, and notes when each
// close was acknowledged. It returns how many it closed.
func injectBreaches(ctx context.Context, h *commands.Handlers, perSecond int, mu *sync.Mutex, communities *[]string,
	ackedAt map[string]time.Time) int {
	clerk := commands.Actor{Subject: "bench-clerk", Role: commands.RoleClerk, Scope: "33"}
	tick := time.NewTicker(time.Second / time.Duration(max(1, perSecond)))
	defer tick.Stop()
	n := 0
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return n
		case <-tick.C:
		}
		mu.Lock()
		if len(*communities) == 0 {
			mu.Unlock()
			continue
		}
		c := (*communities)[i%len(*communities)]
		mu.Unlock()
		id := fmt.Sprintf("bench-survey-%d", i)
		if _, err := h.OpenSurvey(ctx, commands.Meta{CommandID: id + "-open", Actor: clerk}, commands.OpenSurvey{CommunityID: c, SurveyID: id,
			Title: "服务满意度", Audience: []survey.Audience{survey.Residents},
			Questions: []commands.SurveyQuestion{{QuestionID: "q1", Text: "您对社区服务是否满意？", Scale: survey.Satisfaction}}}); err != nil {
			continue // a community not yet registered in full
		}
		res, err := h.CloseSurvey(ctx, commands.Meta{CommandID: id + "-close", Actor: clerk}, commands.CloseSurvey{CommunityID: c, SurveyID: id,
			Respondents: 100, Tallies: []commands.SurveyTally{{QuestionID: "q1", Counts: []int{10, 10, 80}}}})
		at := time.Now()
		if err != nil {
			continue
		}
		n++
		mu.Lock()
		for _, e := range res.Events {
			ackedAt[e.ID] = at
		}
		mu.Unlock()
	}
}

// alertOnStream is the part of an alert on the stream the benchmark reads.
type alertOnStream struct {
	Trigger sup.Trigger `json:"trigger"`
	Source  *sup.Source `json:"source"`
}

// streamAlerts holds the supervisors' alert stream open and calls got with each raised alert, when its
// event was recorded and when it arrived; arrived says how many items have come.
func streamAlerts(b *testing.B, ctx context.Context, base, token string, got func(a alertOnStream, recorded, at time.Time)) (arrived func() int) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+supervision.StreamPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("alert stream: %s", resp.Status)
	}
	var mu sync.Mutex
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			at := time.Now()
			var it supervision.StreamItem
			if json.Unmarshal([]byte(data), &it) != nil {
				continue
			}
			mu.Lock()
			n++
			mu.Unlock()
			var a alertOnStream
			if it.Type == (sup.AlertRaised{}).EventName() && json.Unmarshal(it.Alert, &a) == nil {
				got(a, it.RecordedAt, at)
			}
		}
	}()
	b.Cleanup(func() { cancel(); <-done })
	return func() int { mu.Lock(); defer mu.Unlock(); return n }
}
