package socialnetwork

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// service is one running, instrumented Thrift server.
type service struct {
	name     string
	tier     Tier
	w        *workers
	tracer   *thrifttracing.Tracer
	exporter *thrifttracing.Exporter // nil when the spans go to a test sink
	server   *thrift.TSimpleServer
	addr     string
	served   chan struct{}
	// pools are the service's clients of its downstream services, closed
	// after its server stops.
	pools []interface{ Close() }
}

// startService starts the server of one service: its exporter and tracer,
// registered with the App's Registerer, and its processor, built by
// processor once the tracer exists (for the clients of its calls).
func (a *App) startService(name string, tier Tier, processor func(s *service) thrift.TProcessor) (*service, error) {
	s := &service{name: name, tier: tier, w: newWorkers(a.cfg.Services[name].withDefaults(tier)), served: make(chan struct{})}
	var sink thrifttracing.SpanSink
	if a.cfg.sink != nil {
		sink = a.cfg.sink(name)
	} else {
		ecfg := a.cfg.Exporter
		ecfg.Endpoint = a.cfg.CollectorEndpoint
		ecfg.ServiceName = name
		if ecfg.Instance == "" {
			host, _ := os.Hostname()
			ecfg.Instance = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), name)
		}
		exp, err := thrifttracing.NewExporter(ecfg)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		s.exporter, sink = exp, exp
	}
	s.tracer = thrifttracing.NewTracer(name, sink)
	if err := a.register(s); err != nil {
		a.dropExporter(s)
		return nil, err
	}
	ss, err := thrift.NewTServerSocket(net.JoinHostPort(a.cfg.ListenHost, "0"))
	if err == nil {
		err = ss.Listen()
	}
	if err != nil {
		a.unregister(s)
		a.dropExporter(s)
		return nil, fmt.Errorf("listen for %s on %s: %w", name, a.cfg.ListenHost, err)
	}
	s.addr = ss.Addr().String()
	conf := &thrift.TConfiguration{}
	// THeader on the server accepts THeader, framed and unframed clients,
	// and only THeader brings the traceparent header.
	s.server = thrift.NewTSimpleServer4(s.tracer.WrapProcessor(processor(s)), ss,
		thrift.NewTHeaderTransportFactoryConf(nil, conf), thrift.NewTHeaderProtocolFactoryConf(conf))
	// AcceptLoop, not Serve: Serve listens again if Stop came first, and a
	// service stopped right after it started would then never stop.
	s.server.SetLogContext(context.Background())
	go func() {
		defer close(s.served)
		_ = s.server.AcceptLoop()
	}()
	a.services[name] = s
	a.order = append(a.order, s)
	return s, nil
}

// client returns a pool of connections from s to the service named callee,
// traced as calls of s.
func client[C any](a *App, s *service, callee string, newClient func(thrift.TClient) C) *connPool[C] {
	p := newConnPool(a.services[callee].addr, newClient, s.tracer.ClientMiddleware(callee))
	s.pools = append(s.pools, p)
	return p
}

func (a *App) register(s *service) error {
	if a.cfg.Registerer == nil {
		return nil
	}
	if s.exporter != nil {
		if err := a.cfg.Registerer.Register(s.exporter); err != nil {
			return fmt.Errorf("register metrics of %s: %w", s.name, err)
		}
	}
	if err := a.cfg.Registerer.Register(s.tracer); err != nil {
		if s.exporter != nil {
			a.cfg.Registerer.Unregister(s.exporter)
		}
		return fmt.Errorf("register metrics of %s: %w", s.name, err)
	}
	return nil
}

func (a *App) unregister(s *service) {
	if a.cfg.Registerer == nil {
		return
	}
	if s.exporter != nil {
		a.cfg.Registerer.Unregister(s.exporter)
	}
	a.cfg.Registerer.Unregister(s.tracer)
}

func (a *App) dropExporter(s *service) {
	if s.exporter == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	_ = s.exporter.Shutdown(ctx)
}

// stop stops s's server, giving up when ctx ends (TSimpleServer.Stop waits
// for every client connection to close), then closes its clients.
func (s *service) stop(ctx context.Context) error {
	stopped := make(chan struct{})
	go func() {
		_ = s.server.Stop()
		<-s.served
		close(stopped)
	}()
	defer func() {
		for _, p := range s.pools {
			p.Close()
		}
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop %s: %w", s.name, ctx.Err())
	}
}
