package runtime

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	poison       *prometheus.CounterVec
	applied      *prometheus.CounterVec
	batches      *prometheus.CounterVec
	failures     *prometheus.CounterVec
	resyncs      *prometheus.CounterVec
	passedOver   *prometheus.CounterVec
	batchSeconds *prometheus.HistogramVec
	checkpoint   *prometheus.GaugeVec
	lastRecorded *prometheus.GaugeVec
	halted       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	l := []string{"projection"}
	m := &metrics{
		poison: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_projection_poison_events_total",
			Help: "Events a read model could not apply and recorded in rm_meta.poison_events (then halted or skipped per its policy)."}, l),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_projection_events_applied_total",
			Help: "Events applied to a read model by live projection."}, l),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_projection_batches_total",
			Help: "Batch transactions committed by live projection."}, l),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_projection_batch_failures_total",
			Help: "Batch attempts that failed and will be retried (database unreachable, serialization, handler errors)."}, l),
		resyncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_projection_resyncs_total",
			Help: "Times a read model found its checkpoint moved by someone else (another process, a rebuild swap) and resumed from it."}, l),
		passedOver: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ledger_projection_batches_passed_over_total",
			Help: "Batches the live feed went on without because a read model's queue stayed full for StuckAfter; the model then resubscribes from its checkpoint."}, l),
		batchSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ledger_projection_batch_seconds",
			Help: "Time to apply and commit one batch.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}, l),
		checkpoint: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledger_projection_checkpoint_commit_position",
			Help: "The $all commit position of the last event a read model applied."}, l),
		lastRecorded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledger_projection_last_event_recorded_timestamp_seconds",
			Help: "When the store recorded the last event a read model applied (Unix seconds)."}, l),
		halted: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ledger_projection_halted",
			Help: "1 while a read model is halted on a poison event."}, l),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.poison, m.applied, m.batches, m.failures, m.resyncs, m.passedOver, m.batchSeconds, m.checkpoint, m.lastRecorded, m.halted} {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	return m, errors.Join(errs...)
}
