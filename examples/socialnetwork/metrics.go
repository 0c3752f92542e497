package socialnetwork

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names.
const (
	MetricRequestLatency = "seer_demo_request_latency_seconds"
	MetricRequests       = "seer_demo_requests_total"
	MetricWindowP99      = "seer_demo_request_p99_seconds"
	MetricQoSTarget      = "seer_demo_qos_target_seconds"
	MetricQoSViolation   = "seer_demo_qos_violation"
	MetricQoSViolations  = "seer_demo_qos_violations_total"
	MetricFaultActive    = "seer_demo_fault_active"
	MetricFaultsInjected = "seer_demo_faults_injected_total"
)

// Metrics are the demo's Prometheus metrics.
type Metrics struct {
	latency        *prometheus.HistogramVec
	requests       *prometheus.CounterVec
	p99            *prometheus.GaugeVec
	target         *prometheus.GaugeVec
	violation      *prometheus.GaugeVec
	violations     *prometheus.CounterVec
	faultActive    *prometheus.GaugeVec
	faultsInjected *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg (if not nil).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricRequestLatency,
			Help:    "End-to-end latency of the load's requests, from their scheduled send time, by request type.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 15), // 0.5ms to 8s
		}, []string{"type"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "Completed requests of the load by type and outcome (ok, error).",
		}, []string{"type", "outcome"}),
		p99: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricWindowP99,
			Help: "p99 end-to-end latency over the sliding QoS window, by request type.",
		}, []string{"type"}),
		target: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricQoSTarget,
			Help: "QoS target of the windowed p99 latency, by request type.",
		}, []string{"type"}),
		violation: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricQoSViolation,
			Help: "1 while the windowed p99 latency of the request type is above its QoS target, else 0.",
		}, []string{"type"}),
		violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricQoSViolations,
			Help: "QoS violation intervals started, by request type.",
		}, []string{"type"}),
		faultActive: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricFaultActive,
			Help: "Number of injected faults acting on the service, by kind (ground truth).",
		}, []string{"kind", "service"}),
		faultsInjected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricFaultsInjected,
			Help: "Faults injected, by kind and service.",
		}, []string{"kind", "service"}),
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		m.unregister(reg)
		return nil, fmt.Errorf("register demo metrics: %w", err)
	}
	return m, nil
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.latency, m.requests, m.p99, m.target, m.violation, m.violations, m.faultActive, m.faultsInjected}
}

func (m *Metrics) unregister(reg prometheus.Registerer) {
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}
