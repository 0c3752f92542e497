package seerpredictorextension

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Prometheus metrics of the extension, on its own registry.
type metrics struct {
	reg             *prometheus.Registry
	inference       prometheus.Histogram
	ticks           prometheus.Counter
	refused         prometheus.Counter
	inferenceErrors prometheus.Counter
	retrains        *prometheus.CounterVec
}

var (
	descCulprit   = prometheus.NewDesc("seer_culprit_probability", "Probability that the service initiates a QoS violation within the horizon, at the last tick.", []string{"service"}, nil)
	descViolation = prometheus.NewDesc("seer_qos_violation_probability", "Probability of an end-to-end QoS violation within the horizon, at the last tick.", nil, nil)
	descInfo      = prometheus.NewDesc("seer_model_info", "What serves predictions: version, state (trained, retraining, fallback), backend, why the heuristic serves, and the retraining under way.", []string{"version", "state", "backend", "fallback_reason", "training"}, nil)
	descFileErrs  = prometheus.NewDesc("seer_predictor_file_write_errors_total", "Ticks the predictions file could not take (the prediction was still served).", nil, nil)
	descTickEnd   = prometheus.NewDesc("seer_predictor_tick_end_timestamp_seconds", "Event time at which the last predicted tick ended.", nil, nil)
)

func newMetrics(e *predictorExtension) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		inference: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "seer_inference_duration_seconds",
			Help: "Time to run the model on one tick (with gap ticks before it).",
			// Fine under 10 ms, where XLA and small simplego models serve.
			Buckets: []float64{.0001, .00025, .0005, .00075, .001, .0015, .002, .003, .004, .005, .0075, .01, .02, .05, .1, .25, 1},
		}),
		ticks:           prometheus.NewCounter(prometheus.CounterOpts{Name: "seer_predictor_ticks_total", Help: "Series ticks predicted."}),
		refused:         prometheus.NewCounter(prometheus.CounterOpts{Name: "seer_predictor_refused_ticks_total", Help: "Ticks refused because they started before the previous one ended."}),
		inferenceErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "seer_predictor_inference_errors_total", Help: "Ticks the model failed on (the heuristic served them)."}),
		retrains:        prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seer_predictor_retrain_runs_total", Help: "Retraining runs by kind (incremental, from_scratch) and outcome (accepted, rejected, failed, stale)."}, []string{"kind", "outcome"}),
	}
	m.reg.MustRegister(m.inference, m.ticks, m.refused, m.inferenceErrors, m.retrains, liveCollector{e})
	return m
}

// liveCollector exports the last prediction and the serving state.
type liveCollector struct{ e *predictorExtension }

// Describe sends nothing: the collector is unchecked because its services
// come and go.
func (liveCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c liveCollector) Collect(ch chan<- prometheus.Metric) {
	e := c.e
	if sl := e.slot.Load(); sl != nil {
		training := ""
		if k := e.training.Load(); k != nil {
			training = *k
		}
		ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, sl.version, sl.state, e.backend, sl.reason, training)
	}
	ch <- prometheus.MustNewConstMetric(descFileErrs, prometheus.CounterValue, float64(e.out.fileErrors()))
	last, ok := e.out.latest()
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(descViolation, prometheus.GaugeValue, last.Violation)
	ch <- prometheus.MustNewConstMetric(descTickEnd, prometheus.GaugeValue, float64(last.EndNs)/1e9)
	for s, p := range last.Culprits {
		ch <- prometheus.MustNewConstMetric(descCulprit, prometheus.GaugeValue, p, s)
	}
}
