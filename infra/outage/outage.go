// Package outage keeps the log readable while PostgreSQL or the event store is away: a failure that
// repeats at every poll or retry is logged once a minute, not at every attempt.
package outage

import (
	"log/slog"
	"time"
)

// Log is the log of one thing that fails over and over while something it needs is away: the first
// failure is logged, then one line every Every (default a minute) saying how many attempts have failed
// and for how long, and one line when an attempt succeeds again. Without it a poller that retries four
// times a second writes 14 400 lines an hour of the same error. The zero value is ready; it is not safe
// for concurrent use (each poller keeps its own, under its own lock).
type Log struct {
	Every time.Duration

	since, last, logged time.Time // the outage's first failure, its last, the last line logged
	failures            int
}

// Fail records a failed attempt at now and logs msg with args at warning level if it is the first of an
// outage or Every has passed since the last line (which then says how many failed, for how long).
func (o *Log) Fail(log *slog.Logger, now time.Time, msg string, args ...any) {
	every := o.Every
	if every <= 0 {
		every = time.Minute
	}
	if o.failures > 0 && now.Sub(o.last) > every {
		// Nothing failed for longer than Every: the last outage ended without an attempt saying so (a
		// subscription that came back but has delivered nothing yet); this failure starts a new one.
		*o = Log{Every: o.Every}
	}
	if o.failures == 0 {
		o.since = now
	}
	o.failures++
	o.last = now
	if o.failures > 1 && now.Sub(o.logged) < every {
		return
	}
	o.logged = now
	if o.failures == 1 {
		log.Warn(msg, args...)
		return
	}
	log.Warn(msg+" (still failing)", append(args, "failures", o.failures, "for", now.Sub(o.since).Round(time.Second).String())...)
}

// Over records a successful attempt at now: when it ends an outage, one line at info level says so (msg
// with args), with how many attempts failed and for how long.
func (o *Log) Over(log *slog.Logger, now time.Time, msg string, args ...any) {
	if o.failures == 0 {
		return
	}
	log.Info(msg, append(args, "failures", o.failures, "for", now.Sub(o.since).Round(time.Second).String())...)
	*o = Log{Every: o.Every}
}
