package outage_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/grassroots-ledger/ledger/infra/outage"
)

// A poller failing four times a second for two minutes logs three lines, not 481: the first failure, and
// one a minute saying how many failed and for how long; then one when the database answers again. The
// next failure starts a new outage and is logged at once; so is a failure an hour after the last one,
// though nothing said the outage had ended.
func TestOutageIsLoggedOnceAMinute(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&b, nil))
	var o outage.Log
	t0 := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	refused := errors.New("connect: connection refused")
	for i := range 481 {
		o.Fail(log, t0.Add(time.Duration(i)*250*time.Millisecond), "portal: polling failed", "error", refused.Error())
	}
	o.Over(log, t0.Add(121*time.Second), "portal: polling again")
	o.Fail(log, t0.Add(122*time.Second), "portal: polling failed", "error", refused.Error())
	// An hour later, with no success said in between: a new outage, logged as such.
	o.Fail(log, t0.Add(time.Hour), "portal: polling failed", "error", refused.Error())
	type line struct{ level, msg, failures, dur string }
	var got []line
	for s := range strings.Lines(b.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		l := line{level: m["level"].(string), msg: m["msg"].(string)}
		if f, ok := m["failures"]; ok {
			l.failures, l.dur = fmt.Sprint(f), fmt.Sprint(m["for"])
		}
		if m["msg"] != "portal: polling again" && m["error"] != refused.Error() {
			t.Errorf("line %v does not carry the error", m)
		}
		got = append(got, l)
	}
	want := []line{
		{"WARN", "portal: polling failed", "", ""},
		{"WARN", "portal: polling failed (still failing)", "241", "1m0s"},
		{"WARN", "portal: polling failed (still failing)", "481", "2m0s"},
		{"INFO", "portal: polling again", "481", "2m1s"},
		{"WARN", "portal: polling failed", "", ""},
		{"WARN", "portal: polling failed", "", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("logged %d lines, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
