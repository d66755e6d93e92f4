package pg

import (
	"log/slog"
	"time"
)

// Outage keeps the log of a failure that repeats on every poll or retry while PostgreSQL is away
// readable: the first failure is logged, then one line every Every (default a minute) saying how many
// attempts have failed and for how long, and one line when it ends. Without it a poller that retries four
// times a second writes 14 400 lines an hour of the same error. The zero value is ready; it is not safe
// for concurrent use (each poller keeps its own, under its own lock).
type Outage struct {
	Every time.Duration

	since, logged time.Time
	failures      int
}

// Fail records a failed attempt at now and logs it at warning level if it is the first of an outage or
// Every has passed since the last line.
func (o *Outage) Fail(log *slog.Logger, now time.Time, msg string, err error) {
	if o.failures == 0 {
		o.since = now
	}
	o.failures++
	every := o.Every
	if every <= 0 {
		every = time.Minute
	}
	if o.failures > 1 && now.Sub(o.logged) < every {
		return
	}
	o.logged = now
	if o.failures == 1 {
		log.Warn(msg, "error", err.Error())
		return
	}
	log.Warn(msg+" (still failing)", "error", err.Error(), "failures", o.failures, "for", now.Sub(o.since).Round(time.Second).String())
}

// Over records a successful attempt at now: when it ends an outage, one line at info level says so, with
// how many attempts failed and for how long.
func (o *Outage) Over(log *slog.Logger, now time.Time, msg string) {
	if o.failures == 0 {
		return
	}
	log.Info(msg, "failures", o.failures, "for", now.Sub(o.since).Round(time.Second).String())
	*o = Outage{Every: o.Every}
}
