package main

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/survey"
	"github.com/grassroots-ledger/ledger/infra/pg/pgtest"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// BenchmarkCommandLatency is a clerk recording, one command after another, through the command executor
// on the embedded node, as serve runs it (without HTTP): each op opens a survey and closes it, two
// commands that each load the streams they decide on and append durably. It reports the median, p99 and
// maximum of one command.
func BenchmarkCommandLatency(b *testing.B) {
	ctx := context.Background()
	b.Setenv("EVENTSTORE_URL", "")
	s, err := openSession(ctx, b.TempDir(), pgtest.NewDatabase(b), true)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	stats, err := workload.Generate(ctx, workload.Options{Seed: 3, Communities: 1, Target: 300}, s.Store)
	if err != nil {
		b.Fatal(err)
	}
	c := string(stats.Districts[0].Streets[0].Communities[0].ID)
	quiet := slog.New(slog.DiscardHandler)
	h := commands.NewHandlers(commands.NewExecutor(s.Store, commands.SystemClock{}, events.MustRegistry(), quiet), quiet)
	clerk := commands.Actor{Subject: "bench-clerk", Role: commands.RoleClerk, Scope: "33"}
	lat := make([]time.Duration, 0, 2*b.N)
	b.ResetTimer()
	for i := range b.N {
		id := fmt.Sprintf("bench-survey-%d", i)
		t0 := time.Now()
		if _, err := h.OpenSurvey(ctx, commands.Meta{CommandID: id + "-open", Actor: clerk}, commands.OpenSurvey{CommunityID: c, SurveyID: id,
			Title: "服务满意度", Audience: []survey.Audience{survey.Residents},
			Questions: []commands.SurveyQuestion{{QuestionID: "q1", Text: "您对社区服务是否满意？", Scale: survey.Satisfaction}}}); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if _, err := h.CloseSurvey(ctx, commands.Meta{CommandID: id + "-close", Actor: clerk}, commands.CloseSurvey{CommunityID: c, SurveyID: id,
			Respondents: 100, Tallies: []commands.SurveyTally{{QuestionID: "q1", Counts: []int{10, 10, 80}}}}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, t1.Sub(t0), time.Since(t1))
	}
	b.StopTimer()
	reportLatencies(b, lat, "")
}
