package socialnetwork

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
	"github.com/seer-qos/seer/receiver/seerthriftreceiver"
)

// startReceiver runs the real seerthrift receiver on a free loopback port,
// Thrift TCP only, feeding sink.
func startReceiver(t *testing.T, sink *consumertest.TracesSink) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := ln.Addr().String() // free a moment ago: the receiver does not say which port it bound
	_ = ln.Close()
	f := seerthriftreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*seerthriftreceiver.Config)
	cfg.Protocols.TCP.GetOrInsertDefault().Endpoint = endpoint
	r, err := f.CreateTraces(context.Background(), receivertest.NewNopSettings(f.Type()), cfg, sink)
	if err != nil {
		t.Fatalf("create seerthrift receiver: %v", err)
	}
	if err := r.Start(context.Background(), componenttest.NewNopHost()); err != nil {
		t.Fatalf("start seerthrift receiver on %s: %v", endpoint, err)
	}
	t.Cleanup(func() { _ = r.Shutdown(context.Background()) })
	return endpoint
}

// TestRun runs the demo as `seer demo` does, against a real seerthrift
// receiver, with a schedule whose first fault (a 30ms delay in
// post-storage-service) comes at once: the scheduler's fault shows in GET
// /faults and in seer_demo_fault_active, the reads go into violation, and
// when the context ends Run shuts down cleanly, every service having sent
// its spans.
func TestRun(t *testing.T) {
	sink := new(consumertest.TracesSink)
	endpoint := startReceiver(t, sink)
	reg := prometheus.NewPedanticRegistry()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	started := make(chan string, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- Run(ctx, Config{
			AppConfig: AppConfig{
				CollectorEndpoint: endpoint,
				Registerer:        reg,
				Exporter:          thrifttracing.ExporterConfig{FlushInterval: 50 * time.Millisecond},
			},
			Load: LoadConfig{Rate: 100},
			QoS:  QoSConfig{Targets: map[string]time.Duration{ReadHomeTimeline: 25 * time.Millisecond, ReadUserTimeline: 25 * time.Millisecond}},
			Faults: SchedulerConfig{Every: time.Hour, First: time.Millisecond, Duration: time.Minute,
				Services: []string{PostStorage}, Kinds: []string{FaultDelay}, Magnitudes: map[string]float64{FaultDelay: 30}},
			AdminAddr: "127.0.0.1:0",
			Logger:    quiet,
			OnStart:   func(addr string) { started <- addr },
		})
	}()
	var admin string
	select {
	case admin = <-started:
	case err := <-errc:
		t.Fatalf("Run: %v", err)
	}
	violated := func() bool {
		return gaugeValue(t, reg, MetricQoSViolation, map[string]string{"type": ReadHomeTimeline}) == 1 &&
			gaugeValue(t, reg, MetricQoSViolation, map[string]string{"type": ReadUserTimeline}) == 1
	}
	for !violated() {
		if ctx.Err() != nil {
			t.Fatal("the reads never went into violation")
		}
		time.Sleep(10 * time.Millisecond) // polling an observable condition
	}
	if got := gaugeValue(t, reg, MetricFaultActive, map[string]string{"kind": FaultDelay, "service": PostStorage}); got != 1 {
		t.Errorf("%s = %v, want 1", MetricFaultActive, got)
	}
	resp, err := http.Get("http://" + admin + "/faults")
	if err != nil {
		t.Fatal(err)
	}
	var faults []Fault
	err = json.NewDecoder(resp.Body).Decode(&faults)
	resp.Body.Close()
	if err != nil || len(faults) != 1 || faults[0].Source != "scheduler" || faults[0].Service != PostStorage || !faults[0].Active {
		t.Errorf("GET /faults: %+v (%v)", faults, err)
	}
	resp, err = http.Get("http://" + admin + "/violations")
	if err != nil {
		t.Fatal(err)
	}
	var violations []struct {
		RequestType string   `json:"request_type"`
		FaultIDs    []string `json:"fault_ids"`
	}
	err = json.NewDecoder(resp.Body).Decode(&violations)
	resp.Body.Close()
	if err != nil || len(violations) < 2 || len(violations[0].FaultIDs) == 0 {
		t.Errorf("GET /violations: %+v (%v)", violations, err)
	}

	// The violation can come before the rarer request types (compose-post
	// is 10% of the load) have reached every service: let each service
	// have sent spans before ending the run.
	for len(tracedServices(sink)) < len(Services) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond) // polling an observable condition
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if services := tracedServices(sink); len(services) != len(Services) {
		t.Errorf("spans from %d services, want %d: %v", len(services), len(Services), services)
	}
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Errorf("%d metric families still registered after Run", len(mfs))
	}
}

// tracedServices is the set of service names the sink has spans from.
func tracedServices(sink *consumertest.TracesSink) map[string]bool {
	services := map[string]bool{}
	for _, td := range sink.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			if v, ok := rs.Resource().Attributes().Get("service.name"); ok {
				services[v.Str()] = true
			}
		}
	}
	return services
}
