// Package logtest is the test kit for what a component logs: a slog handler that keeps every record, at
// every level, for a test to read while the component goes on logging.
package logtest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// Lines keeps the records logged through it (and through loggers derived from it with With or
// WithGroup, whose attributes it does not add). Safe for concurrent use.
type Lines struct {
	// Next, when set, is passed every record too, at the levels it takes (a test's own log, to watch).
	Next slog.Handler

	mu   sync.Mutex
	recs []slog.Record
}

// Logger is a logger writing into l.
func (l *Lines) Logger() *slog.Logger { return slog.New(l) }

// Enabled implements slog.Handler: every level is kept.
func (l *Lines) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (l *Lines) Handle(ctx context.Context, r slog.Record) error {
	l.mu.Lock()
	l.recs = append(l.recs, r.Clone())
	l.mu.Unlock()
	if l.Next != nil && l.Next.Enabled(ctx, r.Level) {
		return l.Next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (l *Lines) WithAttrs([]slog.Attr) slog.Handler { return l }

// WithGroup implements slog.Handler.
func (l *Lines) WithGroup(string) slog.Handler { return l }

// With returns the records logged with message msg, in order, each as its attributes' values by key.
func (l *Lines) With(msg string) []map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]string
	for _, r := range l.recs {
		if r.Message == msg {
			m := map[string]string{}
			r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value.String(); return true })
			out = append(out, m)
		}
	}
	return out
}

// Count is how many records' messages contain sub.
func (l *Lines) Count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.recs {
		if strings.Contains(r.Message, sub) {
			n++
		}
	}
	return n
}
