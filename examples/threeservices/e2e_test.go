package threeservices

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver/receivertest"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/receiver/seerthriftreceiver"
)

// waitTimeout bounds every wait: reaching it is a failure, never how the
// test synchronises.
const waitTimeout = 20 * time.Second

// startReceiver runs the real seerthrift receiver on a free loopback port,
// Thrift TCP only, feeding sink.
func startReceiver(t *testing.T, sink *consumertest.TracesSink) string {
	t.Helper()
	f := seerthriftreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*seerthriftreceiver.Config)
	endpoint := freeLoopbackAddr(t)
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

// freeLoopbackAddr returns a loopback address that was free a moment ago
// (the receiver does not tell which port it bound).
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// rxSpan is a span as the receiver delivered it.
type rxSpan struct {
	service     string
	kind        ptrace.SpanKind
	method      string
	peer        string
	trace       pcommon.TraceID
	id, parent  pcommon.SpanID
	status      ptrace.StatusCode
	start, end  int64
	ts          map[string]int64
	outstanding int64
	hasOut      bool
}

func collectSpans(t *testing.T, sink *consumertest.TracesSink) []rxSpan {
	t.Helper()
	var out []rxSpan
	for _, td := range sink.AllTraces() {
		for _, rs := range td.ResourceSpans().All() {
			svc, _ := rs.Resource().Attributes().Get("service.name")
			for _, ss := range rs.ScopeSpans().All() {
				for _, sp := range ss.Spans().All() {
					s := rxSpan{
						service: svc.Str(), kind: sp.Kind(), trace: sp.TraceID(), id: sp.SpanID(), parent: sp.ParentSpanID(),
						status: sp.Status().Code(), start: int64(sp.StartTimestamp()), end: int64(sp.EndTimestamp()),
						ts: map[string]int64{},
					}
					attrs := sp.Attributes()
					if v, ok := attrs.Get(seerattr.RPCMethod); ok {
						s.method = v.Str()
					}
					if v, ok := attrs.Get(seerattr.PeerService); ok {
						s.peer = v.Str()
					}
					for _, k := range []string{seerattr.ClientSend, seerattr.ServerReceive, seerattr.AppReceive,
						seerattr.ProcessingStart, seerattr.ProcessingEnd, seerattr.ClientReceive} {
						if v, ok := attrs.Get(k); ok {
							s.ts[k] = v.Int()
						}
					}
					if v, ok := attrs.Get(seerattr.OutstandingRequests); ok {
						s.outstanding, s.hasOut = v.Int(), true
					}
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// traceShape is one request's trace, its spans by role.
type traceShape struct {
	frontend, users, storageFromUsers, storageFromFrontend rxSpan // SERVER
	toUsers, usersToStorage, toStorage                     rxSpan // CLIENT
}

// shapeOf checks that spans form exactly the expected trace and names them.
func shapeOf(spans []rxSpan) (traceShape, error) {
	var sh traceShape
	if len(spans) != 7 {
		return sh, fmt.Errorf("%d spans, want 7", len(spans))
	}
	byID := map[pcommon.SpanID]rxSpan{}
	for _, s := range spans {
		byID[s.id] = s
	}
	var roots []rxSpan
	for _, s := range spans {
		if s.parent.IsEmpty() {
			roots = append(roots, s)
		} else if _, ok := byID[s.parent]; !ok {
			return sh, fmt.Errorf("span %v of %s has a parent not in the trace", s.id, s.service)
		}
	}
	if len(roots) != 1 || roots[0].service != FrontendService || roots[0].kind != ptrace.SpanKindServer || roots[0].method != "home" {
		return sh, fmt.Errorf("roots %+v, want one frontend SERVER home span", roots)
	}
	sh.frontend = roots[0]
	children := func(p rxSpan) []rxSpan {
		var c []rxSpan
		for _, s := range spans {
			if s.parent == p.id {
				c = append(c, s)
			}
		}
		return c
	}
	one := func(parent rxSpan, service string, kind ptrace.SpanKind, method, peer string) (rxSpan, error) {
		var found []rxSpan
		for _, c := range children(parent) {
			if c.service == service && c.kind == kind && c.method == method && c.peer == peer {
				found = append(found, c)
			}
		}
		if len(found) != 1 {
			return rxSpan{}, fmt.Errorf("%d %s %v %s→%q children of %s %s, want 1", len(found), service, kind, method, peer, parent.service, parent.method)
		}
		return found[0], nil
	}
	var err error
	steps := []struct {
		dst                  *rxSpan
		parent               *rxSpan
		service              string
		kind                 ptrace.SpanKind
		method, peer         string
		wantChildrenOfParent int
	}{
		{&sh.toUsers, &sh.frontend, FrontendService, ptrace.SpanKindClient, "getUser", UsersService, 2},
		{&sh.toStorage, &sh.frontend, FrontendService, ptrace.SpanKindClient, "get", StorageService, 2},
		{&sh.users, &sh.toUsers, UsersService, ptrace.SpanKindServer, "getUser", "", 1},
		{&sh.usersToStorage, &sh.users, UsersService, ptrace.SpanKindClient, "get", StorageService, 1},
		{&sh.storageFromUsers, &sh.usersToStorage, StorageService, ptrace.SpanKindServer, "get", "", 1},
		{&sh.storageFromFrontend, &sh.toStorage, StorageService, ptrace.SpanKindServer, "get", "", 1},
	}
	for _, st := range steps {
		if n := len(children(*st.parent)); n != st.wantChildrenOfParent {
			return sh, fmt.Errorf("%s %s has %d children, want %d", st.parent.service, st.parent.method, n, st.wantChildrenOfParent)
		}
		if *st.dst, err = one(*st.parent, st.service, st.kind, st.method, st.peer); err != nil {
			return sh, err
		}
	}
	return sh, nil
}

// checkTimes checks the order of timestamps within each span and along each
// call. Every service runs in this process on thrifttracing's clock, so the
// order is exact, with no slack for clock skew.
func checkTimes(sh traceShape) error {
	for _, s := range []rxSpan{sh.frontend, sh.users, sh.storageFromUsers, sh.storageFromFrontend} {
		sr, ar, ps, pe := s.ts[seerattr.ServerReceive], s.ts[seerattr.AppReceive], s.ts[seerattr.ProcessingStart], s.ts[seerattr.ProcessingEnd]
		if !(0 < sr && sr <= ar && ar <= ps && ps <= pe) || s.start != sr || s.end != pe {
			return fmt.Errorf("%s server span: receive %d app %d start %d end %d (span %d..%d)", s.service, sr, ar, ps, pe, s.start, s.end)
		}
		if !s.hasOut {
			return fmt.Errorf("%s server span without outstanding requests", s.service)
		}
	}
	calls := []struct{ caller, client, callee rxSpan }{
		{sh.frontend, sh.toUsers, sh.users},
		{sh.frontend, sh.toStorage, sh.storageFromFrontend},
		{sh.users, sh.usersToStorage, sh.storageFromUsers},
	}
	for _, c := range calls {
		cs, cr := c.client.ts[seerattr.ClientSend], c.client.ts[seerattr.ClientReceive]
		// The caller calls after its own work started and before it ends;
		// the callee serves within the call.
		if !(c.caller.ts[seerattr.ProcessingStart] <= cs && cs <= c.callee.ts[seerattr.ServerReceive] &&
			c.callee.ts[seerattr.ProcessingEnd] <= cr && cr <= c.caller.ts[seerattr.ProcessingEnd]) {
			return fmt.Errorf("%s→%s: caller work from %d to %d, call %d..%d, callee %d..%d", c.caller.service, c.callee.service,
				c.caller.ts[seerattr.ProcessingStart], c.caller.ts[seerattr.ProcessingEnd], cs, cr,
				c.callee.ts[seerattr.ServerReceive], c.callee.ts[seerattr.ProcessingEnd])
		}
		if c.client.start != cs || c.client.end != cr {
			return fmt.Errorf("client span %d..%d is not client send..receive %d..%d", c.client.start, c.client.end, cs, cr)
		}
	}
	return nil
}

// TestEndToEnd drives N requests through the three services into a real
// seerthrift receiver. The first C are held at a barrier in storage until all
// 2C storage calls have arrived, so the outstanding counts at arrival are
// known exactly; the rest run closed-loop.
func TestEndToEnd(t *testing.T) {
	const (
		C         = 4  // requests held together
		N         = 40 // requests in all
		loopConc  = 3  // concurrency of the closed loop after the barrier
		spansEach = 7
	)
	sink := new(consumertest.TracesSink)
	endpoint := startReceiver(t, sink)

	var holding atomic.Bool
	holding.Store(true)
	arrived := make(chan struct{})
	release := make(chan struct{})
	reg := prometheus.NewPedanticRegistry()
	work := ServiceConfig{Work: 50 * time.Microsecond, Workers: 2}
	cfg := Config{
		CollectorEndpoint: endpoint,
		Frontend:          work, Users: work, Storage: work,
		Exporter:   thrifttracing.ExporterConfig{FlushInterval: time.Hour, MaxBatchSize: 16}, // Flush sends
		Registerer: reg,
	}
	cfg.hooks.storageGet = func(ctx context.Context, key string) {
		if holding.Load() {
			arrived <- struct{}{}
			<-release
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	app, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), waitTimeout)
		defer scancel()
		if err := app.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	// Phase 1: C requests, all held until the 2C storage calls are in.
	client := app.NewClient()
	errs := make(chan error, C)
	for i := range C {
		go func() {
			_, err := client.Home(ctx, int64(i+1))
			errs <- err
		}()
	}
	for i := range 2 * C {
		select {
		case <-arrived:
		case <-ctx.Done():
			t.Fatalf("%d of %d storage calls arrived", i, 2*C)
		}
	}
	holding.Store(false)
	close(release)
	for range C {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	phase2 := thrifttracing.Now()

	// Phase 2: the rest, closed loop.
	stats, err := app.RunClosedLoop(ctx, N-C, loopConc)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Requests != N-C || stats.Errors != 0 {
		t.Fatalf("closed loop: %v (first error %v)", stats, stats.FirstError)
	}
	if err := app.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Nothing dropped, everything accepted.
	wantExported := map[string]float64{FrontendService: 3 * N, UsersService: 2 * N, StorageService: 2 * N}
	for svc, want := range wantExported {
		if got := metric(t, reg, thrifttracing.MetricSpansExported, svc, ""); got != want {
			t.Errorf("%s exported %v spans, want %v", svc, got, want)
		}
		for _, reason := range []string{thrifttracing.DropBufferFull, thrifttracing.DropInvalidBatch, thrifttracing.DropRetriesExhausted, thrifttracing.DropShutdown} {
			if got := metric(t, reg, thrifttracing.MetricSpansDropped, svc, reason); got != 0 {
				t.Errorf("%s dropped %v spans (%s)", svc, got, reason)
			}
		}
	}

	spans := collectSpans(t, sink)
	if len(spans) != spansEach*N {
		t.Errorf("receiver got %d spans, want %d", len(spans), spansEach*N)
	}
	traces := map[pcommon.TraceID][]rxSpan{}
	for _, s := range spans {
		if s.status != ptrace.StatusCodeOk {
			t.Errorf("%s %v %s span status %v", s.service, s.kind, s.method, s.status)
		}
		traces[s.trace] = append(traces[s.trace], s)
	}
	if len(traces) != N {
		t.Fatalf("receiver got %d traces, want exactly %d", len(traces), N)
	}
	var held []traceShape
	var heldOut = map[string][]int64{}
	for id, ts := range traces {
		sh, err := shapeOf(ts)
		if err != nil {
			t.Fatalf("trace %v: %v", id, err)
		}
		if err := checkTimes(sh); err != nil {
			t.Errorf("trace %v: %v", id, err)
		}
		if sh.frontend.ts[seerattr.ServerReceive] < phase2 {
			held = append(held, sh)
			heldOut[FrontendService] = append(heldOut[FrontendService], sh.frontend.outstanding)
			heldOut[UsersService] = append(heldOut[UsersService], sh.users.outstanding)
			heldOut[StorageService] = append(heldOut[StorageService], sh.storageFromUsers.outstanding, sh.storageFromFrontend.outstanding)
			continue
		}
		// Closed loop of loopConc: at most loopConc-1 others in frontend
		// and users, and two storage calls per request.
		if sh.frontend.outstanding >= loopConc || sh.users.outstanding >= loopConc ||
			sh.storageFromUsers.outstanding >= 2*loopConc || sh.storageFromFrontend.outstanding >= 2*loopConc {
			t.Errorf("trace %v: outstanding %d/%d/%d/%d above the closed loop's concurrency %d", id,
				sh.frontend.outstanding, sh.users.outstanding, sh.storageFromUsers.outstanding, sh.storageFromFrontend.outstanding, loopConc)
		}
	}
	if len(held) != C {
		t.Fatalf("%d traces arrived before the closed loop, want %d", len(held), C)
	}
	// The held requests overlapped completely: the i-th arrival at each
	// service saw exactly i requests outstanding.
	for svc, n := range map[string]int{FrontendService: C, UsersService: C, StorageService: 2 * C} {
		got := slices.Sorted(slices.Values(heldOut[svc]))
		want := make([]int64, n)
		for i := range want {
			want[i] = int64(i)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: outstanding at arrival %v, want %v", svc, got, want)
		}
	}
}

// metric returns the value of a metric of service's exporter (with reason,
// if given).
func metric(t *testing.T, g prometheus.Gatherer, name, service, reason string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if (lp.GetName() == "service" && lp.GetValue() != service) || (lp.GetName() == "reason" && lp.GetValue() != reason) {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s{service=%q,reason=%q}", name, service, reason)
	return 0
}
