package threeservices

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seer-qos/seer/examples/threeservices/demothrift"
	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// Service names, as the spans carry them.
const (
	FrontendService = "frontend"
	UsersService    = "users"
	StorageService  = "storage"
)

// Config configures the three services.
type Config struct {
	// CollectorEndpoint is the host:port of the seerthrift receiver's Thrift
	// TCP listener. Default thrifttracing.DefaultEndpoint.
	CollectorEndpoint string
	// ListenHost is the address the services listen on, each on a free
	// port. Default "127.0.0.1".
	ListenHost string
	// Frontend, Users and Storage set each service's local work. Defaults:
	// 200µs, 300µs and 400µs mean work, 4 workers each.
	Frontend, Users, Storage ServiceConfig
	// Exporter is the template of the services' span exporters (buffer,
	// batch, flush interval, retries); Endpoint and ServiceName are set per
	// service.
	Exporter thrifttracing.ExporterConfig
	// Registerer, if set, gets the metrics of the three exporters and
	// tracers (seer_instrumentation_*, labelled by service).
	Registerer prometheus.Registerer

	// hooks lets tests hold requests inside a service.
	hooks hooks
}

type hooks struct {
	storageGet func(ctx context.Context, key string)
}

// App is the three running services.
type App struct {
	cfg                      Config
	frontend, users, storage *service
	usersToStorage           *connPool[*demothrift.StorageClient]
	frontendToUsers          *connPool[*demothrift.UsersClient]
	frontendToStorage        *connPool[*demothrift.StorageClient]

	mu      sync.Mutex
	clients []*Client
}

// service is one running, instrumented Thrift server.
type service struct {
	name     string
	tracer   *thrifttracing.Tracer
	exporter *thrifttracing.Exporter
	server   *thrift.TSimpleServer
	addr     string
	served   chan struct{}
}

// Start starts storage, users and frontend, in that order, each on a free
// port of cfg.ListenHost, exporting spans to cfg.CollectorEndpoint (which
// need not be up yet: exporters connect on their first batch).
func Start(ctx context.Context, cfg Config) (_ *App, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.CollectorEndpoint == "" {
		cfg.CollectorEndpoint = thrifttracing.DefaultEndpoint
	}
	if cfg.ListenHost == "" {
		cfg.ListenHost = "127.0.0.1"
	}
	cfg.Frontend = cfg.Frontend.withDefaults(200 * time.Microsecond)
	cfg.Users = cfg.Users.withDefaults(300 * time.Microsecond)
	cfg.Storage = cfg.Storage.withDefaults(400 * time.Microsecond)

	a := &App{cfg: cfg}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = a.Shutdown(sctx)
		}
	}()

	a.storage, err = a.startService(StorageService, func(t *thrifttracing.Tracer) thrift.TProcessor {
		return demothrift.NewStorageProcessor(&storageHandler{w: newWorkers(cfg.Storage), hook: cfg.hooks.storageGet})
	})
	if err != nil {
		return nil, err
	}
	a.users, err = a.startService(UsersService, func(t *thrifttracing.Tracer) thrift.TProcessor {
		a.usersToStorage = newConnPool(a.storage.addr, demothrift.NewStorageClient, t.ClientMiddleware(StorageService))
		return demothrift.NewUsersProcessor(&usersHandler{w: newWorkers(cfg.Users), storage: a.usersToStorage})
	})
	if err != nil {
		return nil, err
	}
	a.frontend, err = a.startService(FrontendService, func(t *thrifttracing.Tracer) thrift.TProcessor {
		a.frontendToUsers = newConnPool(a.users.addr, demothrift.NewUsersClient, t.ClientMiddleware(UsersService))
		a.frontendToStorage = newConnPool(a.storage.addr, demothrift.NewStorageClient, t.ClientMiddleware(StorageService))
		return demothrift.NewFrontendProcessor(&frontendHandler{
			w: newWorkers(cfg.Frontend), users: a.frontendToUsers, storage: a.frontendToStorage,
		})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

func (a *App) startService(name string, processor func(*thrifttracing.Tracer) thrift.TProcessor) (*service, error) {
	ecfg := a.cfg.Exporter
	ecfg.Endpoint = a.cfg.CollectorEndpoint
	ecfg.ServiceName = name
	exp, err := thrifttracing.NewExporter(ecfg)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if a.cfg.Registerer != nil {
		if err := a.cfg.Registerer.Register(exp); err != nil {
			_ = exp.Shutdown(context.Background())
			return nil, fmt.Errorf("register metrics of %s: %w", name, err)
		}
	}
	s := &service{name: name, exporter: exp, tracer: thrifttracing.NewTracer(name, exp), served: make(chan struct{})}
	if a.cfg.Registerer != nil {
		if err := a.cfg.Registerer.Register(s.tracer); err != nil {
			a.dropExporter(exp)
			return nil, fmt.Errorf("register metrics of %s: %w", name, err)
		}
	}
	ss, err := thrift.NewTServerSocket(net.JoinHostPort(a.cfg.ListenHost, "0"))
	if err == nil {
		err = ss.Listen()
	}
	if err != nil {
		if a.cfg.Registerer != nil {
			a.cfg.Registerer.Unregister(s.tracer)
		}
		a.dropExporter(exp)
		return nil, fmt.Errorf("listen for %s on %s: %w", name, a.cfg.ListenHost, err)
	}
	s.addr = ss.Addr().String()
	conf := &thrift.TConfiguration{}
	// THeader on the server accepts THeader, framed and unframed clients,
	// and only THeader brings the traceparent header. The
	// instrumentation's server speaks it without thrift's per-call
	// allocations.
	s.server = thrifttracing.NewTSimpleServer(s.tracer.WrapProcessor(processor(s.tracer)), ss, conf)
	go func() {
		defer close(s.served)
		_ = s.server.Serve()
	}()
	return s, nil
}

func (a *App) dropExporter(exp *thrifttracing.Exporter) {
	if a.cfg.Registerer != nil {
		a.cfg.Registerer.Unregister(exp)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = exp.Shutdown(ctx)
}

// Addr returns the host:port a service (FrontendService, UsersService or
// StorageService) listens on, or "" for another name.
func (a *App) Addr(service string) string {
	if s := a.service(service); s != nil {
		return s.addr
	}
	return ""
}

func (a *App) service(name string) *service {
	switch name {
	case FrontendService:
		return a.frontend
	case UsersService:
		return a.users
	case StorageService:
		return a.storage
	}
	return nil
}

func (a *App) services() []*service {
	var out []*service
	for _, s := range []*service{a.frontend, a.users, a.storage} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Exporter returns a service's span exporter, for its counters.
func (a *App) Exporter(service string) *thrifttracing.Exporter {
	if s := a.service(service); s != nil {
		return s.exporter
	}
	return nil
}

// Flush waits until no request is in progress in any service, then sends
// every recorded span to the collector.
func (a *App) Flush(ctx context.Context) error {
	for _, s := range a.services() {
		if err := s.tracer.WaitIdle(ctx); err != nil {
			return err
		}
	}
	var errs []error
	for _, s := range a.services() {
		if err := s.exporter.ForceFlush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush spans of %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// Shutdown closes the App's clients, stops the services from the frontend
// down (a server stops once its clients have closed their connections) and
// flushes and closes their exporters. Cancel load first: requests still in
// flight fail.
func (a *App) Shutdown(ctx context.Context) error {
	a.mu.Lock()
	clients := a.clients
	a.clients = nil
	a.mu.Unlock()
	for _, c := range clients {
		c.Close()
	}
	var errs []error
	stop := func(s *service, pools ...interface{ Close() }) {
		if s == nil {
			return
		}
		if err := stopServer(ctx, s); err != nil {
			errs = append(errs, err)
		}
		for _, p := range pools {
			p.Close()
		}
	}
	stop(a.frontend, a.frontendToUsers, a.frontendToStorage)
	stop(a.users, a.usersToStorage)
	stop(a.storage)
	for _, s := range a.services() {
		if a.cfg.Registerer != nil {
			a.cfg.Registerer.Unregister(s.exporter)
			a.cfg.Registerer.Unregister(s.tracer)
		}
		if err := s.exporter.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down exporter of %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// stopServer stops s, giving up when ctx ends (TSimpleServer.Stop waits for
// every client connection to close).
func stopServer(ctx context.Context, s *service) error {
	stopped := make(chan struct{})
	go func() {
		_ = s.server.Stop()
		<-s.served
		close(stopped)
	}()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop %s: %w", s.name, ctx.Err())
	}
}

// Client calls the frontend. It is not instrumented: each request starts a
// trace at the frontend. It is safe for concurrent use.
type Client struct {
	pool *connPool[*demothrift.FrontendClient]
}

// NewClient returns a Client of the frontend, closed by Shutdown.
func (a *App) NewClient() *Client {
	c := &Client{pool: newConnPool(a.frontend.addr, demothrift.NewFrontendClient)}
	a.mu.Lock()
	a.clients = append(a.clients, c)
	a.mu.Unlock()
	return c
}

// Home requests the home page of userID.
func (c *Client) Home(ctx context.Context, userID int64) (*demothrift.Page, error) {
	var p *demothrift.Page
	err := c.pool.Call(func(fc *demothrift.FrontendClient) (err error) {
		p, err = fc.Home(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("frontend home %d: %w", userID, err)
	}
	return p, nil
}

// Close closes the Client's connections.
func (c *Client) Close() { c.pool.Close() }
