package portal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/commands"
	"github.com/grassroots-ledger/ledger/domain/audit"
	"github.com/grassroots-ledger/ledger/domain/disclosure"
	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/domain/events"
	"github.com/grassroots-ledger/ledger/domain/kernel"
	"github.com/grassroots-ledger/ledger/domain/meeting"
	"github.com/grassroots-ledger/ledger/domain/supervision"
	infraudit "github.com/grassroots-ledger/ledger/infra/audit"
	"github.com/grassroots-ledger/ledger/infra/pg"
	infrasup "github.com/grassroots-ledger/ledger/infra/supervision"
	"github.com/grassroots-ledger/ledger/projections/all"
	"github.com/grassroots-ledger/ledger/projections/directory"
	"github.com/grassroots-ledger/ledger/projections/standing"
)

// handCount is what a community's year holds by the assessment's measures, counted by hand from the
// events in the store — not through any read model.
type handCount struct {
	disclosures, meetings, audits, topics, openAlerts, lateClears int
}

// countByHand reads $all and counts each community's facts of year: notices first published in it and
// never withdrawn; meetings held in it whose attendance was recorded; audits closed in it; topics whose
// feedback closed them in it within 60 days of their collection; alerts (by due, else raised, time in it) still open, or cleared more than 30
// days after they were raised.
func countByHand(t *testing.T, d *district, year int) map[string]*handCount {
	t.Helper()
	reg := events.MustRegistry()
	from, to := time.Date(year, 1, 1, 0, 0, 0, 0, kernel.ChinaTime()), time.Date(year+1, 1, 1, 0, 0, 0, 0, kernel.ChinaTime())
	in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
	type alert struct {
		community       string
		at              time.Time
		raised, cleared time.Time
	}
	published, withdrawn := map[string]time.Time{}, map[string]bool{}
	held, attended := map[string]time.Time{}, map[string]bool{}
	collected := map[string]time.Time{}
	alerts := map[string]*alert{}
	out := map[string]*handCount{}
	count := func(c string) *handCount {
		if out[c] == nil {
			out[c] = &handCount{}
		}
		return out[c]
	}
	err := d.Store.ReadAll(context.Background(), eventlog.Start, 0, func(r eventlog.Recorded) error {
		ev, err := reg.Decode(r.Type, r.Meta.SchemaVersion, r.Data)
		if err != nil {
			return err
		}
		c := r.Meta.CommunityID
		switch e := ev.(type) {
		case disclosure.Published:
			if _, dup := published[c+"/"+e.NoticeID]; !dup {
				published[c+"/"+e.NoticeID] = e.PublishedAt
			}
		case disclosure.Withdrawn:
			withdrawn[c+"/"+e.NoticeID] = true
		case meeting.Convened:
			held[c+"/"+e.MeetingID] = e.HeldAt
		case meeting.AttendanceRecorded:
			attended[c+"/"+e.MeetingID] = true
		case meeting.TopicCollected:
			collected[c+"/"+e.TopicID] = e.CollectedAt
		case meeting.TopicFeedbackRecorded:
			if e.Closed && in(e.RecordedAt) && !e.RecordedAt.After(collected[c+"/"+e.TopicID].AddDate(0, 0, 60)) {
				count(c).topics++
			}
		case audit.Closed:
			if in(e.ClosedAt) {
				count(c).audits++
			}
		case supervision.AlertRaised:
			if alerts[e.AlertID] == nil {
				a := &alert{community: string(e.Community), at: e.RaisedAt, raised: e.RaisedAt}
				if e.DueAt != nil {
					a.at = *e.DueAt
				}
				alerts[e.AlertID] = a
			}
		case supervision.AlertCleared:
			if a := alerts[e.AlertID]; a != nil && a.cleared.IsZero() {
				a.cleared = e.ClearedAt
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, at := range published {
		if in(at) && !withdrawn[key] {
			count(strings.SplitN(key, "/", 2)[0]).disclosures++
		}
	}
	for key, at := range held {
		if in(at) && attended[key] {
			count(strings.SplitN(key, "/", 2)[0]).meetings++
		}
	}
	for _, a := range alerts {
		switch {
		case !in(a.at):
		case a.cleared.IsZero():
			count(a.community).openAlerts++
		case a.cleared.Sub(a.raised) > 30*24*time.Hour:
			count(a.community).lateClears++
		}
	}
	return out
}

// handTotal applies the workload's items (A1 disclosures ≤20, A2 meetings ≤10, A3 audits ≤10, A4 topics
// ≤10, B1 open alerts ≤20, B2 late clears ≤10, C1 the assessor's) at the rulebook's default points per fact
// (1, 1, 5, 2, −2, −1) to the base of 100, written out by hand.
func handTotal(h handCount, assessor int) (lines [7]int, total int) {
	lines = [7]int{min(h.disclosures*1, 20), min(h.meetings*1, 10), min(h.audits*5, 10), min(h.topics*2, 10),
		-min(h.openAlerts*2, 20), -min(h.lateClears*1, 10), assessor}
	total = 100
	for _, l := range lines {
		total += l
	}
	return lines, total
}

// TestAssessmentYearMatchesAHandComputedTable: the demo district's 2025 (half a year of history: July to
// December) is assessed by the district's items; the standing job freezes each community's year once it
// ended, and the frozen lines and totals of all three communities equal the table counted by hand from
// the events and scored by hand. The community's page shows the frozen year and explains this year's
// points with links to the facts.
func TestAssessmentYearMatchesAHandComputedTable(t *testing.T) {
	d := newDistrict(t, demoOptions())
	ctx := context.Background()
	const year = 2025
	job := infrasup.NewStandingJob(infrasup.StandingConfig{Pool: d.Admin, Handlers: d.Handlers, Clock: d.Clock})
	if n, err := job.Once(ctx); err != nil || n != 3*3 { // per community: June's and Q2's ratings, and 2025 frozen
		t.Fatalf("standing job recorded %d events (want 9): %v", n, err)
	}
	if err := d.waitCaughtUp(time.Minute); err != nil {
		t.Fatal(err)
	}
	hand := countByHand(t, d, year)
	var communities []string
	for _, di := range d.Stats.Districts {
		for _, st := range di.Streets {
			for _, c := range st.Communities {
				communities = append(communities, string(c.ID))
			}
		}
	}
	if len(communities) != 3 {
		t.Fatalf("%d communities", len(communities))
	}
	table := &strings.Builder{}
	fmt.Fprintf(table, "%-14s %5s %5s %5s %5s %5s %5s %5s %6s\n", "community", "A1", "A2", "A3", "A4", "B1", "B2", "C1", "total")
	someFacts := 0
	for _, c := range communities {
		h := hand[c]
		if h == nil {
			h = &handCount{}
		}
		scores, err := directory.Scores(ctx, d.Admin, c, year)
		if err != nil {
			t.Fatal(err)
		}
		c1, ok := scores["C1"]
		if !ok || c1.Reason == "" {
			t.Fatalf("%s: the assessors did not score C1 of %d: %+v", c, year, scores)
		}
		want, wantTotal := handTotal(*h, c1.Points)
		fmt.Fprintf(table, "%-14s %5d %5d %5d %5d %5d %5d %5d %6d   facts %+v\n", c, want[0], want[1], want[2], want[3], want[4], want[5], want[6], wantTotal, *h)
		someFacts += h.disclosures + h.meetings + h.audits + h.topics + h.openAlerts + h.lateClears
		frozen, err := directory.FrozenYears(ctx, d.Admin, c)
		if err != nil {
			t.Fatal(err)
		}
		if len(frozen) != 1 || frozen[0].Year != year || len(frozen[0].Lines) != 7 {
			t.Fatalf("%s: frozen years %+v", c, frozen)
		}
		for i, l := range frozen[0].Lines {
			if l.Points != want[i] {
				t.Errorf("%s %d: item %s (%s, %d facts) frozen with %d points, by hand %d", c, year, l.Code, l.Measure, l.Facts, l.Points, want[i])
			}
		}
		if frozen[0].Total != wantTotal {
			t.Errorf("%s %d: frozen total %d, by hand %d", c, year, frozen[0].Total, wantTotal)
		}
		// Live, the same year reads the same.
		path := d.pathOf(c)
		live, ok, err := standing.Assess(ctx, d.Admin, kernel.CommunityID(c), path, year)
		if err != nil || !ok || live.Result.Total != wantTotal {
			t.Errorf("%s %d: live assessment %v %v %+v, by hand %d", c, year, ok, err, live.Result, wantTotal)
		}
	}
	t.Logf("the hand-computed table of %d:\n%s", year, table)
	if someFacts < 30 {
		t.Fatalf("only %d facts in the three communities' year: the table proves little", someFacts)
	}

	// Frozen is frozen: a second run appends nothing, and a score after the freeze is refused.
	if n, err := job.Once(ctx); err != nil || n != 0 {
		t.Fatalf("second run recorded %d: %v", n, err)
	}
	sup := d.API.Token(t, commands.RoleSupervisor, "*")
	d.API.Post(t, "score-assessment", sup, "late-score", commands.ScoreAssessment{CommunityID: communities[0], Year: year, ItemCode: "C1", Points: 5, Reason: "补评"}).
		WantProblem(t, http.StatusConflict, "assessment-frozen")

	// The page: the frozen year with its total, this year's points explained with links to the events.
	page := string(d.getOK("/c/" + communities[0] + "/assessment"))
	frozen, _ := directory.FrozenYears(ctx, d.Admin, communities[0])
	for _, want := range []string{"年度考核与评级", fmt.Sprintf("%d年度：%d 分", year, frozen[0].Total), "本年度考核（进行中）", `href="/events/`, "评级记录"} {
		if !strings.Contains(page, want) {
			t.Errorf("the assessment page lacks %q", want)
		}
	}
	var js struct {
		Current *struct {
			Total int `json:"total"`
			Lines []struct {
				Code     string `json:"code"`
				Facts    int    `json:"facts"`
				Evidence []struct {
					Href string `json:"href"`
				} `json:"evidence"`
			} `json:"lines"`
		} `json:"current"`
		Ratings []struct {
			Period string `json:"period"`
			Rating string `json:"rating"`
		} `json:"ratings"`
	}
	d.getJSON("/api/v1/public/communities/"+communities[0]+"/assessment", &js)
	if js.Current == nil || len(js.Current.Lines) != 7 || len(js.Ratings) != 2 {
		t.Fatalf("assessment JSON: %+v", js)
	}
	for _, l := range js.Current.Lines {
		if l.Code != "C1" && len(l.Evidence) != l.Facts {
			t.Errorf("item %s: %d facts, %d explained", l.Code, l.Facts, len(l.Evidence))
		}
	}
}

// TestRatingSnapshotsAreWhatTheyWere: the month's and the quarter's ratings recorded at their end stay
// what they were when more happens afterwards (a survey with a low satisfaction changes the rating as it
// stands, not the recorded one), and a replay as of a moment between shows the rating of that moment.
func TestRatingSnapshotsAreWhatTheyWere(t *testing.T) {
	d := newDistrict(t, demoOptions())
	ctx := context.Background()
	c := string(d.community().ID)
	job := infrasup.NewStandingJob(infrasup.StandingConfig{Pool: d.Admin, Handlers: d.Handlers, Clock: d.Clock})
	if _, err := job.Once(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.waitCaughtUp(time.Minute); err != nil {
		t.Fatal(err)
	}
	before, err := directory.RatingHistory(ctx, d.Admin, c)
	if err != nil || len(before) != 2 {
		t.Fatalf("rating history %+v %v", before, err)
	}
	taken, err := d.Store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The district opens a survey in all its communities at once (a retry opens nothing twice); the
	// community's closes with 40 % satisfied: an alert, and the rating as it stands is red.
	district, _ := d.streetOf(c).Parent()
	districtClerk := d.API.Token(t, commands.RoleClerk, string(district))
	street := map[string]any{"jurisdiction": district, "survey_id": "after", "title": "补充测评", "audience": []string{"residents"},
		"questions": []map[string]any{{"question_id": "q1", "text": "总体评价", "scale": "satisfaction"}}}
	if res := d.API.Post(t, "open-street-survey", districtClerk, "low-open", street).Result(t); len(res.Events) != 3 || res.Replayed {
		t.Fatalf("the district's survey opened %d surveys: %+v", len(res.Events), res)
	}
	if res := d.API.Post(t, "open-street-survey", districtClerk, "low-open", street).Result(t); !res.Replayed {
		t.Fatalf("a retry of the district's survey: %+v", res)
	}
	clerk := d.API.Token(t, commands.RoleClerk, string(d.pathOf(c)))
	d.API.Post(t, "close-survey", clerk, "low-close", map[string]any{"community_id": c, "survey_id": "after", "respondents": 100,
		"tallies": []map[string]any{{"question_id": "q1", "counts": []int{20, 20, 60}}}}).Result(t)
	if err := d.waitCaughtUp(time.Minute); err != nil {
		t.Fatal(err)
	}
	in, err := standing.Inputs(ctx, d.Admin, kernel.CommunityID(c), d.pathOf(c), 2026)
	if err != nil || in.Satisfied == nil || *in.Satisfied != 400 || in.OpenYellow+in.OpenRed == 0 {
		t.Fatalf("inputs as they stand: %+v %v", in, err)
	}
	after, err := directory.RatingHistory(ctx, d.Admin, c)
	if err != nil {
		t.Fatal(err)
	}
	b1, _ := json.Marshal(before)
	b2, _ := json.Marshal(after)
	if string(b1) != string(b2) {
		t.Fatalf("the recorded ratings changed:\nbefore %s\nafter  %s", b1, b2)
	}
	if n, err := job.Once(ctx); err != nil || n != 0 {
		t.Fatalf("the job recorded the periods again: %d %v", n, err)
	}

	// A replay up to the snapshot shows the ratings recorded then, and the open alerts of then are those
	// the snapshot recorded; a replay to the end has the survey's alert too, and the same two ratings.
	a, err := infraudit.New(infraudit.Config{Store: d.Store, Pool: d.Admin, Migrate: pg.FreshMigrator(d.Admin), Models: all.Models(nil), Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	type replayed struct {
		Rating struct {
			OpenRed    int `json:"open_red"`
			OpenYellow int `json:"open_yellow"`
		} `json:"rating"`
		Ratings []struct {
			Period string `json:"period"`
			Rating string `json:"rating"`
		} `json:"ratings"`
	}
	replay := func(until eventlog.Position) replayed {
		t.Helper()
		snap, err := a.Replay(ctx, infraudit.ReplayRequest{Community: c, AsOf: time.Now().Add(time.Hour), Until: until})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(snap.Summary)
		if os.Getenv("STANDING_DEBUG") != "" {
			m, _ := json.Marshal(snap.Models)
			t.Logf("summary %.3000s\nmodels %s", b, m)
		}
		var r replayed
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	then, end := replay(taken), replay(eventlog.Position{})
	if len(then.Ratings) != 2 || len(end.Ratings) != 2 {
		t.Fatalf("replayed ratings: then %+v, at the end %+v", then.Ratings, end.Ratings)
	}
	for _, r := range before {
		if r.Inputs.OpenRed != then.Rating.OpenRed || r.Inputs.OpenYellow != then.Rating.OpenYellow {
			t.Errorf("%s recorded %d red and %d yellow alerts open; the replay of then shows %+v", r.Period, r.Inputs.OpenRed, r.Inputs.OpenYellow, then.Rating)
		}
	}
	if end.Rating.OpenRed+end.Rating.OpenYellow != then.Rating.OpenRed+then.Rating.OpenYellow+1 {
		t.Errorf("the replay to the end shows %+v open, then %+v: want the survey's alert more", end.Rating, then.Rating)
	}
	// The street's table shows both periods for every community.
	page := string(d.getOK("/ratings/" + string(d.streetOf(c))))
	for _, want := range []string{"2026年6月", "2026年第2季度", "badge rating-"} {
		if !strings.Contains(page, want) {
			t.Errorf("the street's ratings page lacks %q", want)
		}
	}
}

// pathOf is a community's jurisdiction path.
func (d *district) pathOf(c string) kernel.JurisdictionPath {
	d.t.Helper()
	cm, err := directory.CommunityByID(context.Background(), d.Admin, c)
	if err != nil {
		d.t.Fatal(err)
	}
	return kernel.JurisdictionPath(cm.Path)
}

// streetOf is the path of a community's street.
func (d *district) streetOf(c string) kernel.JurisdictionPath {
	p, _ := d.pathOf(c).Parent()
	return p
}
