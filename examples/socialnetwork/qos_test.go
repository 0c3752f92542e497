package socialnetwork

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// gaugeValue returns the value of the gauge or counter name{labels}, or -1
// if there is none.
func gaugeValue(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return value(m)
		}
	}
	return -1
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Histogram != nil:
		return float64(m.GetHistogram().GetSampleCount())
	}
	return -1
}

// TestMonitorWindow feeds a Monitor synthetic completions and checks the
// windowed p99, the violation intervals and their metrics.
func TestMonitorWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	target := 10 * time.Millisecond
	fault := Fault{ID: "f1", FaultSpec: FaultSpec{Kind: FaultDelay, Service: PostStorage}, Start: t0.Add(1500 * time.Millisecond), End: t0.Add(3 * time.Second)}
	// late starts after the violation has begun (at 2.5 s): it did not cause it.
	late := Fault{ID: "f2", FaultSpec: FaultSpec{Kind: FaultCPUHog, Service: PostStorage}, Start: t0.Add(3 * time.Second), End: t0.Add(4 * time.Second)}
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := NewMonitor(QoSConfig{Targets: map[string]time.Duration{ReadHomeTimeline: target}, Window: time.Second},
		m, quiet, func() []Fault { return []Fault{fault, late} })
	if err != nil {
		t.Fatal(err)
	}
	// 100 requests a second for 5s; from 2s to 3s one in ten takes 50ms.
	for i := range 500 {
		done := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		lat := 2 * time.Millisecond
		if done.Sub(t0) >= 2*time.Second && done.Sub(t0) < 3*time.Second && i%10 == 0 {
			lat = 50 * time.Millisecond
		}
		mon.Observe(Result{Type: ReadHomeTimeline, Scheduled: done.Add(-lat), Sent: done.Add(-lat), Done: done})
		mon.Observe(Result{Type: "other", Done: done}) // no target: not kept
	}
	tests := []struct {
		at       time.Duration // after t0
		count    int64
		p99      time.Duration
		violated bool
	}{
		{1500 * time.Millisecond, 100, 2 * time.Millisecond, false}, // (0.5s, 1.5s]
		{2500 * time.Millisecond, 100, 50 * time.Millisecond, true}, // 5 slow of 100
		{3500 * time.Millisecond, 100, 50 * time.Millisecond, true}, // (2.5s, 3.5s]: 5 slow still
		{3995 * time.Millisecond, 100, 2 * time.Millisecond, false}, // (2.995s, 3.995s]: none
		{10 * time.Second, 0, 0, false},                             // empty window
	}
	for _, tt := range tests {
		pts := mon.Evaluate(t0.Add(tt.at))
		if len(pts) != 1 {
			t.Fatalf("%d points, want 1 (types without a target are not evaluated)", len(pts))
		}
		p := pts[0]
		if p.WindowCount != tt.count || time.Duration(p.P99Ns) != tt.p99 || p.Violated != tt.violated || time.Duration(p.TargetNs) != target {
			t.Errorf("at +%v: %+v, want %d requests, p99 %v, violated %v", tt.at, p, tt.count, tt.p99, tt.violated)
		}
		want := 0.0
		if tt.violated {
			want = 1
		}
		if got := gaugeValue(t, reg, MetricQoSViolation, map[string]string{"type": ReadHomeTimeline}); got != want {
			t.Errorf("at +%v: %s = %v, want %v", tt.at, MetricQoSViolation, got, want)
		}
	}
	vs := mon.Violations()
	if len(vs) != 1 {
		t.Fatalf("violations %+v, want one", vs)
	}
	v := vs[0]
	if v.StartNs != t0.Add(2500*time.Millisecond).UnixNano() || v.EndNs != t0.Add(3995*time.Millisecond).UnixNano() ||
		time.Duration(v.PeakP99Ns) != 50*time.Millisecond || v.Cause != "fault" || !slices.Equal(v.FaultIDs, []string{"f1"}) ||
		len(v.Culprits) != 1 || v.Culprits[0].Service != PostStorage {
		t.Errorf("violation %+v", v)
	}
	if got := gaugeValue(t, reg, MetricQoSViolations, map[string]string{"type": ReadHomeTimeline}); got != 1 {
		t.Errorf("%s = %v, want 1", MetricQoSViolations, got)
	}
	if got := gaugeValue(t, reg, MetricRequestLatency, map[string]string{"type": ReadHomeTimeline}); got != 500 {
		t.Errorf("%s has %v samples, want 500", MetricRequestLatency, got)
	}
}

func TestMonitorRejectsBadTarget(t *testing.T) {
	if _, err := NewMonitor(QoSConfig{Targets: map[string]time.Duration{ReadHomeTimeline: 0}}, nil, quiet, nil); err == nil {
		t.Error("zero target accepted")
	}
}

// TestMidGraphFaultViolatesQoS delays post-storage-service, in the middle
// of both read paths, under open-loop load: the reads' end-to-end p99 goes
// above target, the Monitor opens violations for both, and once the window
// has moved past the fault it closes them with post-storage-service as the
// culprit.
func TestMidGraphFaultViolatesQoS(t *testing.T) {
	const (
		target = 25 * time.Millisecond
		delay  = 30 // ms, above the target: every read passes post-storage once
	)
	app, _ := startTestApp(t, AppConfig{})
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	in := NewInjector(app, m, quiet)
	t.Cleanup(in.Close)
	targets := map[string]time.Duration{ReadHomeTimeline: target, ReadUserTimeline: target, ComposePostReq: 4 * target}
	mon, err := NewMonitor(QoSConfig{Targets: targets}, m, quiet, in.Faults)
	if err != nil {
		t.Fatal(err)
	}
	base := load(t, app, 60, 60, mon.Observe)
	var lat []time.Duration
	for _, r := range base {
		lat = append(lat, r.Latency())
	}
	if p50 := quantile(lat, 0.5); p50 >= target {
		t.Fatalf("median latency %v without a fault, target %v: the machine is too slow for this test", p50, target)
	}

	f, err := in.Inject(FaultSpec{Kind: FaultDelay, Service: PostStorage, Duration: Duration(time.Minute), Magnitude: delay}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, reg, MetricFaultActive, map[string]string{"kind": FaultDelay, "service": PostStorage}); got != 1 {
		t.Errorf("%s = %v during the fault, want 1", MetricFaultActive, got)
	}
	load(t, app, 60, 60, mon.Observe)
	pts := mon.Evaluate(time.Now())
	for _, p := range pts {
		t.Logf("%s: window p99 %v over %d requests (target %v)", p.RequestType, time.Duration(p.P99Ns), p.WindowCount, time.Duration(p.TargetNs))
		if p.RequestType != ComposePostReq && !p.Violated {
			t.Errorf("%s not in violation with post-storage-service delayed by %dms", p.RequestType, delay)
		}
	}
	for _, typ := range []string{ReadHomeTimeline, ReadUserTimeline} {
		if got := gaugeValue(t, reg, MetricQoSViolation, map[string]string{"type": typ}); got != 1 {
			t.Errorf("%s{type=%q} = %v, want 1", MetricQoSViolation, typ, got)
		}
	}
	if _, err := in.Remove(f.ID); err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, reg, MetricFaultActive, map[string]string{"kind": FaultDelay, "service": PostStorage}); got != 0 {
		t.Errorf("%s = %v after the fault, want 0", MetricFaultActive, got)
	}
	mon.Evaluate(time.Now().Add(2 * time.Second)) // the window has moved past the fault
	closed := map[string]bool{}
	for _, v := range mon.Violations() {
		if v.EndNs == 0 || !slices.Equal(v.FaultIDs, []string{f.ID}) || len(v.Culprits) != 1 || v.Culprits[0].Service != PostStorage {
			t.Errorf("violation %+v, want closed and explained by %s on %s", v, f.ID, PostStorage)
		}
		closed[v.RequestType] = true
	}
	if !closed[ReadHomeTimeline] || !closed[ReadUserTimeline] {
		t.Errorf("closed violations %v, want both read types", closed)
	}
}

// TestMonitorCalibration checks that a calibrating Monitor reports no
// violation, then raises the target to CalibrationHeadroom times what it
// saw, and judges by that.
func TestMonitorCalibration(t *testing.T) {
	t0 := time.Unix(1000, 0)
	reg := prometheus.NewPedanticRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	mon, err := NewMonitor(QoSConfig{Targets: map[string]time.Duration{ReadUserTimeline: 10 * time.Millisecond}, Calibrate: 2 * time.Second},
		m, quiet, nil)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"type": ReadUserTimeline}
	// The latency of the requests completing in each phase.
	phases := []struct {
		from, to time.Duration
		latency  time.Duration
		violated bool
	}{
		{0, 2 * time.Second, 20 * time.Millisecond, false},               // calibration: above 10ms, not judged
		{2 * time.Second, 4 * time.Second, 50 * time.Millisecond, false}, // below the calibrated 60ms
		{4 * time.Second, 5 * time.Second, 70 * time.Millisecond, true},  // above it
	}
	for _, ph := range phases {
		for at := ph.from; at < ph.to; at += 10 * time.Millisecond {
			done := t0.Add(at)
			mon.Observe(Result{Type: ReadUserTimeline, Scheduled: done.Add(-ph.latency), Sent: done.Add(-ph.latency), Done: done})
			if at%(100*time.Millisecond) == 0 {
				mon.Evaluate(done)
			}
		}
		p := mon.Evaluate(t0.Add(ph.to - time.Millisecond))[0]
		if p.Violated != ph.violated {
			t.Errorf("up to +%v: violated %v, want %v (p99 %v)", ph.to, p.Violated, ph.violated, time.Duration(p.P99Ns))
		}
	}
	if got := gaugeValue(t, reg, MetricQoSTarget, labels); got != 0.06 {
		t.Errorf("%s = %v after calibration, want 0.06", MetricQoSTarget, got)
	}
	if vs := mon.Violations(); len(vs) != 1 || vs[0].StartNs < t0.Add(4*time.Second).UnixNano() {
		t.Errorf("violations %+v, want one, after +4s", vs)
	}
}
