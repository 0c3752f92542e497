package socialnetwork

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/seer-qos/seer/dataset"
)

// QoSConfig configures a Monitor.
type QoSConfig struct {
	// Targets are the QoS targets of the windowed p99 latency by request
	// type; default DefaultTargets.
	Targets map[string]time.Duration
	// Window is the sliding window of the p99. Default 1s.
	Window time.Duration
	// Tick is how often Run evaluates the window. Default 100ms.
	Tick time.Duration
	// Calibrate, if positive, is how long the Monitor watches the load
	// before it judges it: meanwhile it reports no violation, and at the
	// end it raises each type's target to CalibrationHeadroom times the
	// median of the windowed p99s it saw, if that is higher. On a busy or
	// slow machine the targets then sit above its usual noise, so that
	// most violations that remain are the faults'. Faults must not act
	// during calibration.
	Calibrate time.Duration
}

// CalibrationHeadroom is how far above the calibration's windowed p99 a
// calibrated target sits.
const CalibrationHeadroom = 3

// DefaultTargets are the demo's QoS targets: the simulator's topology's
// (10ms, 10ms, 30ms) with headroom for a small shared machine running 21
// services in one process.
var DefaultTargets = map[string]time.Duration{
	ReadHomeTimeline: 25 * time.Millisecond,
	ReadUserTimeline: 25 * time.Millisecond,
	ComposePostReq:   50 * time.Millisecond,
}

// maxViolationHistory bounds the ended violations a Monitor remembers.
const maxViolationHistory = 1024

// Monitor keeps the end-to-end latency of each request type over a sliding
// window, compares its p99 with the type's QoS target and records the
// intervals in which it was above: the violations. Event time is the
// requests' completion time, as in the dataset's qos.csv.
type Monitor struct {
	cfg     QoSConfig
	metrics *Metrics
	log     *slog.Logger
	faults  func() []Fault

	// types are the request types with a target; fixed, unlike the
	// targets, which calibration changes under mu.
	types map[string]bool

	mu      sync.Mutex
	samples map[string][]sample // by type, in completion order
	open    map[string]*dataset.Violation
	ended   []dataset.Violation
	// calibrateEnd is the end of calibration, set by the first Evaluate;
	// calib holds the windowed p99s seen until then.
	calibrateEnd time.Time
	calib        map[string][]int64
}

type sample struct {
	done    time.Time
	latency time.Duration
}

// NewMonitor returns a Monitor that reports to m (may be nil), logs
// violations to log (nil: slog.Default()) and explains them with the faults
// faults returns (may be nil).
func NewMonitor(cfg QoSConfig, m *Metrics, log *slog.Logger, faults func() []Fault) (*Monitor, error) {
	if cfg.Targets == nil {
		cfg.Targets = DefaultTargets
	}
	for t, d := range cfg.Targets {
		if d <= 0 {
			return nil, fmt.Errorf("qos: target of %q must be positive, got %v", t, d)
		}
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Second
	}
	if cfg.Tick <= 0 {
		cfg.Tick = 100 * time.Millisecond
	}
	if log == nil {
		log = slog.Default()
	}
	cfg.Targets = maps.Clone(cfg.Targets)
	types := make(map[string]bool)
	for t := range cfg.Targets {
		types[t] = true
	}
	mon := &Monitor{cfg: cfg, metrics: m, log: log, faults: faults, types: types,
		samples: make(map[string][]sample), open: make(map[string]*dataset.Violation), calib: make(map[string][]int64)}
	if m != nil {
		for t, d := range cfg.Targets {
			m.target.WithLabelValues(t).Set(d.Seconds())
			m.violation.WithLabelValues(t).Set(0)
		}
	}
	return mon, nil
}

// Observe records a completed request.
func (m *Monitor) Observe(r Result) {
	lat := r.Latency()
	if m.metrics != nil {
		m.metrics.latency.WithLabelValues(r.Type).Observe(lat.Seconds())
		outcome := "ok"
		if r.Err != nil {
			outcome = "error"
		}
		m.metrics.requests.WithLabelValues(r.Type, outcome).Inc()
	}
	if !m.types[r.Type] {
		return
	}
	m.mu.Lock()
	m.samples[r.Type] = append(m.samples[r.Type], sample{done: r.Done, latency: lat})
	m.mu.Unlock()
}

// Evaluate computes every request type's window ending at now, updates the
// violation state and returns the window's points, in RequestTypes order
// for the known types.
func (m *Monitor) Evaluate(now time.Time) []dataset.QoSPoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.calibrateEnd.IsZero() {
		m.calibrateEnd = now.Add(m.cfg.Calibrate)
	}
	calibrating := now.Before(m.calibrateEnd)
	if !calibrating && len(m.calib) > 0 {
		m.calibrated()
	}
	cutoff := now.Add(-m.cfg.Window)
	var points []dataset.QoSPoint
	for _, t := range slices.Sorted(maps.Keys(m.cfg.Targets)) {
		ss := m.samples[t]
		i := 0
		for i < len(ss) && !ss[i].done.After(cutoff) {
			i++
		}
		ss = ss[i:]
		m.samples[t] = ss
		lat := make([]time.Duration, 0, len(ss))
		for _, s := range ss {
			if !s.done.After(now) {
				lat = append(lat, s.latency)
			}
		}
		slices.Sort(lat)
		p := dataset.QoSPoint{EndNs: now.UnixNano(), RequestType: t, WindowCount: int64(len(lat)), TargetNs: int64(m.cfg.Targets[t])}
		if n := len(lat); n > 0 {
			p.P50Ns, p.P99Ns = int64(lat[rank(n, 0.50)]), int64(lat[rank(n, 0.99)])
		}
		if calibrating {
			if p.WindowCount > 0 {
				m.calib[t] = append(m.calib[t], p.P99Ns)
			}
			if m.metrics != nil {
				m.metrics.p99.WithLabelValues(t).Set(float64(p.P99Ns) / 1e9)
			}
			points = append(points, p)
			continue
		}
		p.Violated = p.P99Ns > p.TargetNs
		m.transition(p)
		points = append(points, p)
	}
	return points
}

// calibrated sets the targets from the calibration's p99s.
func (m *Monitor) calibrated() {
	for _, t := range slices.Sorted(maps.Keys(m.calib)) {
		p99s := slices.Sorted(slices.Values(m.calib[t]))
		seen := time.Duration(p99s[rank(len(p99s), 0.5)])
		target := max(m.cfg.Targets[t], CalibrationHeadroom*seen)
		m.cfg.Targets[t] = target
		if m.metrics != nil {
			m.metrics.target.WithLabelValues(t).Set(target.Seconds())
		}
		m.log.Info("QoS target calibrated", "type", t, "median_p99", seen, "target", target)
	}
	clear(m.calib)
}

// rank is the index of the nearest-rank q-quantile of n sorted values.
func rank(n int, q float64) int {
	r := int(q*float64(n)+0.999999999) - 1
	return min(max(r, 0), n-1)
}

// transition opens, extends or closes the violation of p's type.
func (m *Monitor) transition(p dataset.QoSPoint) {
	if m.metrics != nil {
		m.metrics.p99.WithLabelValues(p.RequestType).Set(float64(p.P99Ns) / 1e9)
	}
	v := m.open[p.RequestType]
	switch {
	case p.Violated && v == nil:
		m.open[p.RequestType] = &dataset.Violation{RequestType: p.RequestType, StartNs: p.EndNs,
			TargetNs: p.TargetNs, PeakP99Ns: p.P99Ns, Cause: "unknown"}
		if m.metrics != nil {
			m.metrics.violation.WithLabelValues(p.RequestType).Set(1)
			m.metrics.violations.WithLabelValues(p.RequestType).Inc()
		}
		m.log.Warn("QoS violation started", "type", p.RequestType, "p99", time.Duration(p.P99Ns),
			"target", time.Duration(p.TargetNs), "window_requests", p.WindowCount, "active_faults", m.activeFaults())
	case p.Violated:
		v.PeakP99Ns = max(v.PeakP99Ns, p.P99Ns)
	case v != nil:
		v.EndNs = p.EndNs
		m.explain(v)
		delete(m.open, p.RequestType)
		m.ended = append(m.ended, *v)
		if len(m.ended) > maxViolationHistory {
			m.ended = m.ended[1:]
		}
		if m.metrics != nil {
			m.metrics.violation.WithLabelValues(p.RequestType).Set(0)
		}
		m.log.Warn("QoS violation ended", "type", v.RequestType, "duration", time.Duration(v.EndNs-v.StartNs),
			"peak_p99", time.Duration(v.PeakP99Ns), "target", time.Duration(v.TargetNs), "cause", v.Cause,
			"faults", v.FaultIDs, "culprits", culpritNames(v.Culprits))
	}
}

func (m *Monitor) activeFaults() []string {
	if m.faults == nil {
		return nil
	}
	var out []string
	for _, f := range m.faults() {
		if f.Active {
			out = append(out, fmt.Sprintf("%s %s@%s", f.ID, f.Kind, f.Service))
		}
	}
	return out
}

// faultSlack is how long before a violation a fault still explains it: the
// window and the queues it left take that long to clear.
func (m *Monitor) faultSlack() time.Duration { return m.cfg.Window + time.Second }

// explain fills the faults behind v: those that had started by its start
// and still acted shortly before it (the simulator's rule, see
// dataset/FORMAT.md). A fault that starts after a violation has begun did
// not cause it.
func (m *Monitor) explain(v *dataset.Violation) {
	v.FaultIDs, v.Culprits, v.Cause = []string{}, []dataset.SeriesKey{}, "unknown"
	if m.faults == nil {
		return
	}
	start := time.Unix(0, v.StartNs)
	from := start.Add(-m.faultSlack())
	for _, f := range m.faults() {
		if !f.Start.After(start) && f.End.After(from) {
			v.FaultIDs = append(v.FaultIDs, f.ID)
			v.Culprits = append(v.Culprits, dataset.SeriesKey{Service: f.Service})
			v.Cause = "fault"
		}
	}
}

func culpritNames(ks []dataset.SeriesKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Service
	}
	return out
}

// Violations returns the ended violations and the open ones (EndNs 0), with
// the faults that explain them.
func (m *Monitor) Violations() []dataset.Violation {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.ended)
	for _, t := range slices.Sorted(maps.Keys(m.open)) {
		v := *m.open[t]
		m.explain(&v)
		out = append(out, v)
	}
	return out
}

// Run evaluates the window every tick until ctx ends.
func (m *Monitor) Run(ctx context.Context) {
	t := time.NewTicker(m.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			m.Evaluate(now)
		}
	}
}
