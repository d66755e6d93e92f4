package workload_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/infra/workload"
)

// recordKinds are the kinds of record (stream kinds) every community kind's history holds, whatever the
// day the history ends. Elections are held every five years, so they are required only when the span
// holds the start of one (see electionInSpan).
var recordKinds = []string{"community", "budget", "expenditure", "meeting", "topic", "disclosure", "audit"}

// electionInSpan reports whether the history [until-years, until) holds the start of the general election
// every community holds in years ≡ 1 mod 5 (the process starts 50 days before a vote between 1 March and
// mid-April; the earliest starts in January, the latest by the end of February).
func electionInSpan(until time.Time, years int) bool {
	from := until.AddDate(-years, 0, 0)
	for y := from.Year(); y <= until.Year(); y++ {
		if y%5 != 1 {
			continue
		}
		first, last := time.Date(y, time.January, 11, 0, 0, 0, 0, cst), time.Date(y, time.February, 28, 0, 0, 0, 0, cst)
		if !last.Before(from) && first.Before(until) && !first.Before(from) && last.Before(until) {
			return true
		}
	}
	return false
}

// TestInvariantsOnAnyDay: the small demo district the portal tests read holds, for a history ending on
// any month start of 2026–2027, at least one corrected and one withdrawn notice and every kind of record
// for each community kind — so no test depends on the day it runs.
func TestInvariantsOnAnyDay(t *testing.T) {
	for year := 2026; year <= 2027; year++ {
		for m := time.January; m <= time.December; m++ {
			until := time.Date(year, m, 1, 0, 0, 0, 0, cst)
			t.Run(until.Format("2006-01"), func(t *testing.T) {
				t.Parallel()
				var (
					mu                   sync.Mutex
					corrected, withdrawn int
					kinds                = map[string]map[string]int{}
					kindOf               = map[string]kernel.CommunityKind{}
				)
				sink := newMemSink(func(stream string, _ eventlog.Event, ev kernel.Event) {
					mu.Lock()
					defer mu.Unlock()
					switch ev.(type) {
					case disclosure.Corrected:
						corrected++
					case disclosure.Withdrawn:
						withdrawn++
					}
					kind, cid, _, err := eventlog.SplitStreamName(stream)
					if err != nil {
						return
					}
					if kinds[cid] == nil {
						kinds[cid] = map[string]int{}
					}
					kinds[cid][kind]++
				})
				opts := workload.Options{Seed: 7, Communities: 3, Years: 1, Until: until, Concurrency: 4}
				st := generate(t, opts, sink)
				for _, d := range st.Districts {
					for _, s := range d.Streets {
						for _, c := range s.Communities {
							kindOf[string(c.ID)] = c.Kind
						}
					}
				}
				if corrected == 0 || withdrawn == 0 {
					t.Errorf("%d corrected and %d withdrawn notices; want at least one of each", corrected, withdrawn)
				}
				byKind := map[kernel.CommunityKind]map[string]int{}
				for cid, ks := range kinds {
					k, ok := kindOf[cid]
					if !ok {
						continue
					}
					if byKind[k] == nil {
						byKind[k] = map[string]int{}
					}
					for kind, n := range ks {
						byKind[k][kind] += n
					}
				}
				want := recordKinds
				if electionInSpan(until, opts.Years) {
					want = append(want[:len(want):len(want)], "election")
				}
				for _, ck := range []kernel.CommunityKind{kernel.Rural, kernel.Urban} {
					if byKind[ck] == nil {
						t.Errorf("no %s community in the district", ck)
						continue
					}
					for _, rk := range want {
						if byKind[ck][rk] == 0 {
							t.Errorf("%s communities: no %s record", ck, rk)
						}
					}
				}
				if testing.Verbose() {
					t.Log(fmt.Sprint(st.Events, " events; ", corrected, " corrected, ", withdrawn, " withdrawn; ", byKind))
				}
			})
		}
	}
}
