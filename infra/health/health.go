// Package health answers what an operator, a load balancer or an orchestrator asks of a running ledger:
// GET /healthz — can it do its job (the event store and PostgreSQL answer, no read model is halted) — and
// GET /readyz — is it also current (no read model lags). Both answer a JSON report naming every
// component and every read model's state (running, lagging, halted with the poison event), with 200 when
// the answer is yes and 503 when it is no. GET /livez — is it serving — is a load balancer's: 200 while
// the process answers, whatever its dependencies say, because a serve with PostgreSQL away still serves
// the portal's pages from memory and records commands, and one with the store away still serves the
// portal; taking every serve out of a pool then would turn a degraded portal into none.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/grassroots-ledger/ledger/domain/eventlog"
	"github.com/grassroots-ledger/ledger/infra/metrics"
	"github.com/grassroots-ledger/ledger/projections/runtime"
)

// Model states.
const (
	Running = "running"
	Lagging = "lagging"
	Halted  = "halted"
)

// Config is what the checks read.
type Config struct {
	// Store is pinged for its head.
	Store interface {
		Head(ctx context.Context) (eventlog.Position, error)
	}
	// Refusing, when set, says why the store refuses every append (the embedded node after a failed
	// commit: esdbnode.Node.Failed), or nil while it takes them. nil: the store's own answer only.
	Refusing func() error
	// Database is pinged.
	Database interface {
		Ping(ctx context.Context) error
	}
	// Models reports the runtime's read models (runtime.Runtime.Status).
	Models func() []runtime.Status
	// Lag is the last lag measurement (metrics.Lag.Last); nil: no model is ever lagging.
	Lag func() metrics.LagReading
	// Starting reports whether the projections this process runs have not yet caught up since they
	// started (runtime.Runtime.Started): not ready until they have. nil: never starting.
	Starting func() bool
	// LagSeconds: a model whose oldest unapplied event is older than this is lagging. Default 60 (the
	// LedgerProjectionLagging alert's threshold).
	LagSeconds float64
	// Timeout bounds each ping. Default 2 s.
	Timeout time.Duration
}

// Checker runs the checks; at most one at a time reaches the dependencies, the others share its answer.
type Checker struct {
	cfg Config

	mu   sync.Mutex
	last *Report
}

// New returns a checker.
func New(cfg Config) *Checker {
	if cfg.LagSeconds == 0 {
		cfg.LagSeconds = 60
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	return &Checker{cfg: cfg}
}

// Component is the state of a dependency.
type Component struct {
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	Head      string `json:"head,omitempty"`
	// Refusing is why the store refuses every append though it answers reads ("" when it takes them).
	Refusing string `json:"refusing_appends,omitempty"`
}

// Model is the state of a read model.
type Model struct {
	Name  string `json:"name"`
	State string `json:"state"`
	// Checkpoint is the newest the process knows: what its projections applied, or what the model's
	// checkpoint row said at the last lag reading (a serve that has applied nothing since it started, or
	// a standby that does not project, shows the database's).
	Checkpoint string  `json:"checkpoint"`
	LagEvents  int     `json:"lag_events"`
	LagSeconds float64 `json:"lag_seconds"`
	HaltReason string  `json:"halt_reason,omitempty"`
}

// Report is the answer of both endpoints.
type Report struct {
	// Healthy: the store and the database answer, the store takes appends, and no read model is halted.
	Healthy bool `json:"healthy"`
	// Ready: healthy, no read model lags, and the projections this process runs have started.
	Ready    bool      `json:"ready"`
	Store    Component `json:"store"`
	Database Component `json:"database"`
	Models   []Model   `json:"models"`
	Problems []string  `json:"problems,omitempty"`
	At       time.Time `json:"at"`
}

// Check runs the checks now; concurrent callers wait for one run and share it, and a run less than a
// second old is reused, so that a flood of probes does not become a flood of pings.
func (c *Checker) Check(ctx context.Context) Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && time.Since(c.last.At) < time.Second {
		return *c.last
	}
	r := c.check(ctx)
	c.last = &r
	return r
}

func (c *Checker) check(ctx context.Context) Report {
	r := Report{At: time.Now().UTC(), Models: []Model{}}
	var wg sync.WaitGroup
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		head, err := c.cfg.Store.Head(ctx)
		r.Store = component(err)
		if err == nil {
			r.Store.Head = head.String()
		}
	})
	wg.Go(func() {
		ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
		r.Database = component(c.cfg.Database.Ping(ctx))
	})
	wg.Wait()
	if !r.Store.Reachable {
		r.Problems = append(r.Problems, "the event store does not answer: "+r.Store.Error)
	}
	if c.cfg.Refusing != nil {
		if err := c.cfg.Refusing(); err != nil {
			r.Store.Refusing = err.Error()
			r.Problems = append(r.Problems, "the event store refuses every append (reads go on): "+err.Error())
		}
	}
	if !r.Database.Reachable {
		r.Problems = append(r.Problems, "PostgreSQL does not answer: "+r.Database.Error)
	}
	var lag metrics.LagReading
	if c.cfg.Lag != nil {
		lag = c.cfg.Lag()
	}
	ready := true
	for _, st := range c.cfg.Models() {
		cp := st.Checkpoint
		l, ok := lag.Models[st.Name]
		if ok && cp.Less(l.Checkpoint) {
			cp = l.Checkpoint
		}
		m := Model{Name: st.Name, State: Running, Checkpoint: cp.String(), LagEvents: l.Events, LagSeconds: l.Seconds}
		switch {
		case st.Halted:
			m.State, m.HaltReason = Halted, st.HaltReason
			r.Problems = append(r.Problems, "read model "+st.Name+" is halted: "+st.HaltReason)
		case m.LagSeconds > c.cfg.LagSeconds:
			m.State = Lagging
			ready = false
			r.Problems = append(r.Problems, "read model "+st.Name+" lags behind the store")
		}
		r.Models = append(r.Models, m)
	}
	r.Healthy = r.Store.Reachable && r.Store.Refusing == "" && r.Database.Reachable
	for _, m := range r.Models {
		if m.State == Halted {
			r.Healthy = false
		}
	}
	if c.cfg.Starting != nil && c.cfg.Starting() {
		ready = false
		r.Problems = append(r.Problems, "the read models are starting: catching up with the store before taking traffic")
	}
	if c.cfg.Lag != nil && lag.At.IsZero() {
		// The first reading counts the events behind every model; until it has, a serve just started on a
		// database far behind its store (restored, new) would look current for a second or two.
		ready = false
		r.Problems = append(r.Problems, "the read models' lag behind the store is not measured yet")
	}
	r.Ready = r.Healthy && ready
	return r
}

func component(err error) Component {
	if err != nil {
		return Component{Error: err.Error()}
	}
	return Component{Reachable: true}
}

// Healthz answers GET /healthz: 200 when healthy, else 503; the report in either case.
func (c *Checker) Healthz(w http.ResponseWriter, r *http.Request) {
	rep := c.Check(r.Context())
	write(w, rep, rep.Healthy)
}

// Readyz answers GET /readyz: 200 when ready, else 503; the report in either case.
func (c *Checker) Readyz(w http.ResponseWriter, r *http.Request) {
	rep := c.Check(r.Context())
	write(w, rep, rep.Ready)
}

// Livez answers GET /livez: 200 while the process serves, without asking its dependencies (see the
// package comment); /healthz says what is wrong.
func Livez(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"serving":true,"details":"/healthz"}` + "\n"))
}

func write(w http.ResponseWriter, rep Report, ok bool) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if ok {
		w.WriteHeader(http.StatusOK)
	} else {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(rep)
}
