package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports long work: a bar with rate and ETA on a terminal, a plain line every few seconds
// otherwise (logs, CI), and a final line either way.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	what    string
	bar     *progressbar.ProgressBar
	started time.Time
	last    time.Time
	done    uint64
	total   uint64
	note    string // what the bar says beside the count (a rebuild: which models are behind)
}

// newProgress starts reporting on w (a command's ErrOrStderr): a bar when w is a terminal, lines otherwise.
// total may be 0 when unknown, and may change later.
func newProgress(w io.Writer, what string, total uint64) *progress {
	p := &progress{w: w, what: what, started: time.Now(), total: total}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(int64(max(total, 1)),
			progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription(what),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("events"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// Set records that done of total are finished (total 0: unchanged).
func (p *progress) Set(done, total uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = done
	if total > 0 {
		p.total = total
	}
	if p.bar != nil {
		if int64(p.total) != p.bar.GetMax64() && p.total > 0 {
			p.bar.ChangeMax64(int64(p.total))
		}
		_ = p.bar.Set64(int64(done))
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 2*time.Second {
		p.last = now
		fmt.Fprintf(p.w, "%s: %s\n", p.what, p.line(now))
	}
}

// Note sets what is said beside the count, until the next Note ("" for nothing).
func (p *progress) Note(note string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if note == p.note {
		return
	}
	p.note = note
	if p.bar != nil {
		d := p.what
		if note != "" {
			d += " [" + note + "]"
		}
		p.bar.Describe(d)
	}
}

// Finish prints the final line.
func (p *progress) Finish() { p.end("done") }

// Stopped prints the final line of work that ended before it was done, saying why.
func (p *progress) Stopped(why string) { p.end("stopped " + why) }

func (p *progress) end(how string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	fmt.Fprintf(p.w, "%s: %s, %s\n", p.what, how, p.line(time.Now()))
}

func (p *progress) line(now time.Time) string {
	el := now.Sub(p.started)
	rate := 0.0
	if el > 0 {
		rate = float64(p.done) / el.Seconds()
	}
	s := fmt.Sprintf("%d events in %s (%.0f events/s)", p.done, el.Round(100*time.Millisecond), rate)
	if p.total > p.done && rate > 0 {
		eta := time.Duration(float64(p.total-p.done) / rate * float64(time.Second))
		s += fmt.Sprintf(", %d of %d, ETA %s", p.done, p.total, eta.Round(time.Second))
	}
	if p.note != "" {
		s += "; " + p.note
	}
	return s
}
