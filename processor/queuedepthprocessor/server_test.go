package queuedepthprocessor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/seerattr"
)

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, url)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return body
}

// exampleTrace is the three-service example as seerthrift would deliver it:
// frontend calls user, then storage; user calls storage.
func exampleTrace(n uint64, startMS int64) []testSpan {
	id := n << 8
	sp := func(k uint64, parent uint64, svc, op string, kind ptrace.SpanKind, s, e int64, peer string) testSpan {
		ts := testSpan{service: svc, instance: svc + "-0", name: op, kind: kind, trace: n, id: id + k,
			startNS: base + (startMS+s)*msNS, endNS: base + (startMS+e)*msNS}
		if parent != 0 {
			ts.parent = id + parent
		}
		if peer != "" {
			ts.attrs = map[string]any{seerattr.PeerService: peer}
		}
		return ts
	}
	return []testSpan{
		sp(5, 4, "storage", "read", ptrace.SpanKindServer, 16, 34, ""),
		sp(4, 3, "user", "read", ptrace.SpanKindClient, 15, 35, "storage"),
		sp(3, 2, "user", "getUser", ptrace.SpanKindServer, 10, 40, ""),
		sp(2, 1, "frontend", "getUser", ptrace.SpanKindClient, 5, 45, "user"),
		sp(7, 6, "storage", "read", ptrace.SpanKindServer, 51, 89, ""),
		sp(6, 1, "frontend", "read", ptrace.SpanKindClient, 50, 90, "storage"),
		sp(1, 0, "frontend", "ComposePage", ptrace.SpanKindServer, 0, 100, ""),
	}
}

func TestHTTPEndpoint(t *testing.T) {
	h := newHarness(t, "http", nil)
	for i := range uint64(30) {
		tr := exampleTrace(i+1, int64(i)*200)
		if i%3 == 0 && i < 15 {
			// frontend's call to storage is lost: an error CLIENT span, no SERVER span.
			tr = slices.DeleteFunc(tr, func(s testSpan) bool { return s.id&0xff == 7 })
			tr[4].err = true
		}
		h.consume(tr)
	}
	url := "http://" + h.sh.Addr().String()

	// The graph of the example, learned from its spans.
	var snap depgraph.Snapshot
	h.sh.graph.Flush()
	require.NoError(t, json.Unmarshal(get(t, url+GraphPath), &snap))
	var edges []string
	for _, e := range snap.Edges {
		edges = append(edges, e.From+">"+e.To)
		assert.Equal(t, uint64(30), e.Calls)
	}
	assert.Equal(t, []string{"frontend>storage", "frontend>user", "user>storage"}, edges)

	var report depgraph.Report
	require.NoError(t, json.Unmarshal(get(t, url+HotspotsPath), &report))
	require.NotNil(t, report.HighestFanOut)
	assert.Equal(t, "frontend", report.HighestFanOut.Service)

	// Prometheus: the series and the caps.
	body := get(t, url+MetricsPath)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	require.NoError(t, err)
	for _, name := range []string{"seer_queue_depth", "seer_queue_arrivals_total", "seer_queue_latency_seconds",
		"seer_queuedepth_spans_total", "seer_queuedepth_series_limit", "seer_graph_limit", "seer_queuedepth_overflow_spans_total"} {
		assert.Contains(t, fams, name)
	}
	depth := fams["seer_queue_depth"]
	var series []string
	for _, m := range depth.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+"="+l.GetValue())
		}
		series = append(series, strings.Join(labels, ","))
	}
	assert.ElementsMatch(t, []string{"instance=frontend-0,service=frontend", "instance=storage-0,service=storage", "instance=user-0,service=user"}, series)
	limits := map[string]float64{}
	for _, m := range fams["seer_queuedepth_series_limit"].GetMetric() {
		limits[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
	}
	assert.Equal(t, map[string]float64{"service": 1000, "instance": 20000}, limits)
	outcomes := map[string]float64{}
	for _, m := range fams["seer_queuedepth_spans_total"].GetMetric() {
		outcomes[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	assert.Equal(t, 30.0*4-5, outcomes["accepted"], "four server spans per trace, but for the five lost calls")
	assert.Zero(t, outcomes["not_request"], "client spans are calls")
	calls := map[string]float64{}
	for _, m := range fams["seer_queuedepth_calls_total"].GetMetric() {
		calls[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	assert.Equal(t, map[string]float64{"matched": 30*3 - 5, "failed": 5, "failed_no_peer": 0, "late": 0, "unmatched": 0, "invalid": 0, "duplicate": 0}, calls,
		"three calls per trace, each joined with its server span but for the lost ones")
	failed := map[string]float64{}
	for _, m := range fams["seer_queue_calls_failed_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "service" {
				failed[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	assert.Equal(t, map[string]float64{"frontend": 0, "storage": 5, "user": 0}, failed, "the lost calls, in their callee, all in final ticks")
	var networked uint64
	for _, m := range fams["seer_queue_network_seconds"].GetMetric() {
		networked += m.GetSummary().GetSampleCount()
	}
	assert.Positive(t, networked, "joined calls in the final ticks' network time")

	resp, err := http.Post(url+GraphPath, "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	h.stop()
}

// Two pipelines feed the shared engine while Prometheus and a graph client
// read it (run with -race).
func TestConcurrentPipelinesAndReaders(t *testing.T) {
	h := newHarness(t, "concurrent", nil)
	url := "http://" + h.sh.Addr().String()
	done := make(chan struct{})
	errs := make(chan error, 3)
	for g := range 2 {
		go func() {
			for i := range uint64(100) {
				n := uint64(g)<<32 | (i + 1)
				if err := h.proc.ConsumeTraces(context.Background(), buildTraces(exampleTrace(n, int64(i)*50))); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	go func() {
		for {
			select {
			case <-done:
				errs <- nil
				return
			default:
			}
			for _, p := range []string{MetricsPath, GraphPath, HotspotsPath} {
				resp, err := http.Get(url + p)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	}()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	close(done)
	require.NoError(t, <-errs)
	h.stop()
	// The two senders race in event time, so some spans may be late; none
	// is lost without being counted.
	st := h.sh.engine.Stats()
	assert.Equal(t, uint64(2*100*4), st.Accepted+st.LateDropped)
}
