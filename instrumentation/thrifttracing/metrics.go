package thrifttracing

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metric names. Every metric carries the constant labels service and
// instance, so that several Exporters can share one registry.
const (
	MetricSpansDropped   = "seer_instrumentation_spans_dropped_total"
	MetricSpansExported  = "seer_instrumentation_spans_exported_total"
	MetricBatchesSent    = "seer_instrumentation_batches_exported_total"
	MetricExportRetries  = "seer_instrumentation_export_retries_total"
	MetricConnects       = "seer_instrumentation_collector_connects_total"
	MetricBufferLength   = "seer_instrumentation_buffer_spans"
	MetricBufferCapacity = "seer_instrumentation_buffer_capacity_spans"
)

type exporterMetrics struct {
	dropped, exported, batches, retries, connects, bufLen, bufCap *prometheus.Desc
}

func newExporterMetrics(service, instance string) exporterMetrics {
	l := prometheus.Labels{"service": service, "instance": instance}
	return exporterMetrics{
		dropped: prometheus.NewDesc(MetricSpansDropped,
			"Spans dropped before reaching the collector, by reason.", []string{"reason"}, l),
		exported: prometheus.NewDesc(MetricSpansExported,
			"Spans the collector accepted.", nil, l),
		batches: prometheus.NewDesc(MetricBatchesSent,
			"Span batches the collector accepted.", nil, l),
		retries: prometheus.NewDesc(MetricExportRetries,
			"Span batch retries, by the error that caused them (overloaded or transport).", []string{"reason"}, l),
		connects: prometheus.NewDesc(MetricConnects,
			"Connections opened to the collector.", nil, l),
		bufLen: prometheus.NewDesc(MetricBufferLength,
			"Spans waiting in the export buffer.", nil, l),
		bufCap: prometheus.NewDesc(MetricBufferCapacity,
			"Capacity of the export buffer, in spans.", nil, l),
	}
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	m := &e.metrics
	for _, d := range []*prometheus.Desc{m.dropped, m.exported, m.batches, m.retries, m.connects, m.bufLen, m.bufCap} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The counters are plain atomics on
// the RPC path and only become metrics here, at scrape time.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	m := &e.metrics
	for i, r := range dropReasons {
		ch <- prometheus.MustNewConstMetric(m.dropped, prometheus.CounterValue, float64(e.dropped[i].Load()), r)
	}
	ch <- prometheus.MustNewConstMetric(m.exported, prometheus.CounterValue, float64(e.exported.Load()))
	ch <- prometheus.MustNewConstMetric(m.batches, prometheus.CounterValue, float64(e.batches.Load()))
	ch <- prometheus.MustNewConstMetric(m.retries, prometheus.CounterValue, float64(e.retriesOver.Load()), "overloaded")
	ch <- prometheus.MustNewConstMetric(m.retries, prometheus.CounterValue, float64(e.retriesTrans.Load()), "transport")
	ch <- prometheus.MustNewConstMetric(m.connects, prometheus.CounterValue, float64(e.connects.Load()))
	ch <- prometheus.MustNewConstMetric(m.bufLen, prometheus.GaugeValue, float64(e.buf.len()))
	ch <- prometheus.MustNewConstMetric(m.bufCap, prometheus.GaugeValue, float64(e.buf.cap()))
}

var _ prometheus.Collector = (*Exporter)(nil)

// MetricOutstanding is the Tracer's gauge of requests in progress at the
// service instance.
const MetricOutstanding = "seer_instrumentation_outstanding_requests"

var outstandingHelp = "Requests that arrived at the service instance and have not finished processing."

// Describe implements prometheus.Collector.
func (t *Tracer) Describe(ch chan<- *prometheus.Desc) { ch <- t.outstandingDesc() }

// Collect implements prometheus.Collector.
func (t *Tracer) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(t.outstandingDesc(), prometheus.GaugeValue, float64(t.outstanding.Load()))
}

func (t *Tracer) outstandingDesc() *prometheus.Desc {
	return prometheus.NewDesc(MetricOutstanding, outstandingHelp, nil, prometheus.Labels{"service": t.service})
}

var _ prometheus.Collector = (*Tracer)(nil)
