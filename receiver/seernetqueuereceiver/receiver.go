package seernetqueuereceiver

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/series"
)

const scopeName = "github.com/seer-qos/seer/receiver/seernetqueuereceiver"

type netQueueReceiver struct {
	set      receiver.Settings
	cfg      *Config
	instance string
	next     consumer.Metrics

	sampler *sampler
	hub     *series.Hub
	cancel  context.CancelFunc
	done    sync.WaitGroup

	// Counted failures, reported as metrics on the next tick; only the run
	// goroutine touches them.
	readErrors  uint64
	refused     uint64
	lastReadErr error
}

func newReceiver(set receiver.Settings, cfg *Config, instance string, next consumer.Metrics) *netQueueReceiver {
	return &netQueueReceiver{set: set, cfg: cfg, instance: instance, next: next}
}

func (r *netQueueReceiver) Start(_ context.Context, _ component.Host) error {
	s, err := newSampler(r.cfg.ProcRoot, r.cfg.Services)
	if err != nil {
		return fmt.Errorf("seernetqueue %s: %w", r.set.ID, err)
	}
	r.sampler = s
	if r.cfg.Hub != "" {
		r.hub = series.DefaultRegistry.Acquire(r.cfg.Hub)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.done.Add(1)
	go r.run(ctx)
	return nil
}

func (r *netQueueReceiver) Shutdown(context.Context) error {
	if r.cancel != nil {
		r.cancel()
		r.done.Wait()
	}
	if r.hub != nil {
		series.DefaultRegistry.Release(r.cfg.Hub)
		r.hub = nil
	}
	return nil
}

// run samples at every multiple of the tick (wall clock, which is the event
// time of a live reading).
func (r *netQueueReceiver) run(ctx context.Context) {
	defer r.done.Done()
	tick := r.cfg.Tick
	for {
		now := time.Now()
		next := now.Truncate(tick).Add(tick)
		timer := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
		r.collect(ctx, next)
	}
}

// collect takes one sample stamped at the tick end `at`.
func (r *netQueueReceiver) collect(ctx context.Context, at time.Time) {
	qs, err := r.sampler.sample()
	if err != nil {
		r.readErrors++
		if r.lastReadErr == nil || r.lastReadErr.Error() != err.Error() {
			r.set.Logger.Warn("Cannot read socket queues", zap.Error(err))
		}
		r.lastReadErr = err
	}

	md := r.metrics(qs, at, r.readErrors, r.refused)
	if err == nil && r.hub != nil {
		r.hub.Publish(r.batch(qs, at))
	}
	if cerr := r.next.ConsumeMetrics(ctx, md); cerr != nil {
		r.refused++
	}
}

func (r *netQueueReceiver) batch(qs []queues, at time.Time) series.Batch {
	b := series.Batch{Origin: series.OriginNetQueue, Start: at.Add(-r.cfg.Tick), End: at, Samples: make([]series.Sample, len(qs))}
	nan := math.NaN()
	for i, q := range qs {
		b.Samples[i] = series.Sample{
			Key:           series.Key{Service: r.sampler.services[i], Instance: r.instance},
			Depth:         nan,
			MeanDepth:     nan,
			InstantDepth:  nan,
			ReportedDepth: nan,
			NICDepth:      float64(q.ReceiveBytes),
			ListenBacklog: float64(q.ListenBacklog),
			Sources:       series.SourceNIC,
		}
	}
	return b
}

func (r *netQueueReceiver) metrics(qs []queues, at time.Time, readErrors, refused uint64) pmetric.Metrics {
	md := pmetric.NewMetrics()
	ts := pcommon.NewTimestampFromTime(at)
	for i, q := range qs {
		rm := md.ResourceMetrics().AppendEmpty()
		rm.Resource().Attributes().PutStr("service.name", r.sampler.services[i])
		rm.Resource().Attributes().PutStr("service.instance.id", r.instance)
		ms := rm.ScopeMetrics().AppendEmpty()
		ms.Scope().SetName(scopeName)
		gauge(ms, "seer_netqueue_listen_backlog", "Connections completed by the kernel and not yet accepted by the service.", "{connection}", ts, q.ListenBacklog)
		gauge(ms, "seer_netqueue_receive_queue", "Bytes received on the service's connections and not yet read by it.", "By", ts, q.ReceiveBytes)
		gauge(ms, "seer_netqueue_connections", "Connections on the service's listening ports.", "{connection}", ts, q.Connections)
		gauge(ms, "seer_netqueue_listening_sockets", "Listening sockets of the service found (0: not running on this node).", "{socket}", ts, q.Listening)
	}
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.instance.id", r.instance)
	ms := rm.ScopeMetrics().AppendEmpty()
	ms.Scope().SetName(scopeName)
	sum(ms, "seer_netqueue_read_errors", "Ticks whose socket tables could not be read.", ts, readErrors)
	sum(ms, "seer_netqueue_refused", "Ticks whose metrics the next consumer refused.", ts, refused)
	return md
}

func gauge(ms pmetric.ScopeMetrics, name, desc, unit string, ts pcommon.Timestamp, v uint64) {
	m := ms.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetDescription(desc)
	m.SetUnit(unit)
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetIntValue(int64(v))
}

func sum(ms pmetric.ScopeMetrics, name, desc string, ts pcommon.Timestamp, v uint64) {
	m := ms.Metrics().AppendEmpty()
	m.SetName(name)
	m.SetDescription(desc)
	m.SetUnit("1")
	s := m.SetEmptySum()
	s.SetIsMonotonic(true)
	s.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	dp := s.DataPoints().AppendEmpty()
	dp.SetTimestamp(ts)
	dp.SetIntValue(int64(v))
}
