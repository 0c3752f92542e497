package socialnetwork

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/prometheus/client_golang/prometheus"

	st "github.com/seer-qos/seer/examples/socialnetwork/socialthrift"
	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// shutdownGrace bounds the flush of an exporter that failed to start.
const shutdownGrace = 5 * time.Second

// AppConfig configures the services.
type AppConfig struct {
	// CollectorEndpoint is the host:port of the seerthrift receiver's
	// Thrift TCP listener. Default thrifttracing.DefaultEndpoint.
	CollectorEndpoint string
	// ListenHost is the address the services listen on, each on a free
	// port. Default "127.0.0.1".
	ListenHost string
	// Services overrides the local work of services by name; zero fields
	// take their tier's defaults.
	Services map[string]ServiceConfig
	// Exporter is the template of the span exporters (buffer, batch, flush
	// interval, retries); Endpoint, ServiceName and, unless set, Instance
	// ("<host>-<pid>-<service>") are set per service.
	Exporter thrifttracing.ExporterConfig
	// Registerer, if set, gets the metrics of the exporters and tracers
	// (seer_instrumentation_*, labelled by service).
	Registerer prometheus.Registerer

	// sink, if set, receives each service's spans instead of an exporter
	// (tests).
	sink func(service string) thrifttracing.SpanSink
}

// App is the running services.
type App struct {
	cfg      AppConfig
	services map[string]*service
	order    []*service // start order: callees first

	mu      sync.Mutex
	clients []*Client
}

// Start starts every service, callees before callers, each on a free port
// of cfg.ListenHost, exporting spans to cfg.CollectorEndpoint (which need
// not be up yet: exporters connect on their first batch).
func Start(ctx context.Context, cfg AppConfig) (_ *App, err error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg.CollectorEndpoint == "" {
		cfg.CollectorEndpoint = thrifttracing.DefaultEndpoint
	}
	if cfg.ListenHost == "" {
		cfg.ListenHost = "127.0.0.1"
	}
	for name := range cfg.Services {
		if tierOf(name) == "" {
			return nil, fmt.Errorf("social network: no service %q to configure", name)
		}
	}
	a := &App{cfg: cfg, services: make(map[string]*service)}
	defer func() {
		if err != nil {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			_ = a.Shutdown(sctx)
		}
	}()
	for _, d := range Services {
		if _, err := a.startService(d.Name, d.Tier, a.processor(d.Name)); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func tierOf(name string) Tier {
	for _, d := range Services {
		if d.Name == name {
			return d.Tier
		}
	}
	return ""
}

// processor returns the constructor of the processor of the service named
// name, wiring its clients of the services it calls.
func (a *App) processor(name string) func(s *service) thrift.TProcessor {
	cache := func(s *service, callee string) *connPool[*st.CacheClient] {
		return client(a, s, callee, st.NewCacheClient)
	}
	db := func(s *service, callee string) *connPool[*st.StorageClient] {
		return client(a, s, callee, st.NewStorageClient)
	}
	switch tierOf(name) {
	case TierCache:
		return func(s *service) thrift.TProcessor {
			return st.NewCacheProcessor(&cacheHandler{w: s.w, data: newKV(), hitRatio: s.w.cfg.HitRatio})
		}
	case TierStorage:
		return func(s *service) thrift.TProcessor {
			return st.NewStorageProcessor(&storageHandler{w: s.w, data: newKV()})
		}
	}
	switch name {
	case UniqueID:
		return func(s *service) thrift.TProcessor { return st.NewUniqueIdProcessor(&uniqueIDHandler{w: s.w}) }
	case URLShorten:
		return func(s *service) thrift.TProcessor {
			return st.NewUrlShortenProcessor(&urlShortenHandler{w: s.w, db: db(s, URLShortenDB)})
		}
	case UserMention:
		return func(s *service) thrift.TProcessor {
			return st.NewUserMentionProcessor(&userMentionHandler{w: s.w, cache: cache(s, UserMC), db: db(s, UserDB)})
		}
	case UserService:
		return func(s *service) thrift.TProcessor {
			return st.NewUserProcessor(&userHandler{w: s.w, cache: cache(s, UserMC), db: db(s, UserDB)})
		}
	case SocialGraph:
		return func(s *service) thrift.TProcessor {
			return st.NewSocialGraphProcessor(&socialGraphHandler{w: s.w, cache: cache(s, SocialGraphRD), db: db(s, SocialGraphDB)})
		}
	case PostStorage:
		return func(s *service) thrift.TProcessor {
			return st.NewPostStorageProcessor(&postStorageHandler{w: s.w, cache: cache(s, PostStorageMC), db: db(s, PostStorageDB)})
		}
	case TextService:
		return func(s *service) thrift.TProcessor {
			return st.NewTextProcessor(&textHandler{w: s.w,
				shorten: client(a, s, URLShorten, st.NewUrlShortenClient),
				mention: client(a, s, UserMention, st.NewUserMentionClient)})
		}
	case UserTimeline:
		return func(s *service) thrift.TProcessor {
			return st.NewUserTimelineProcessor(&userTimelineHandler{w: s.w, cache: cache(s, UserTimelineRD),
				db: db(s, UserTimelineDB), posts: client(a, s, PostStorage, st.NewPostStorageClient)})
		}
	case HomeTimeline:
		return func(s *service) thrift.TProcessor {
			return st.NewHomeTimelineProcessor(&homeTimelineHandler{w: s.w, cache: cache(s, HomeTimelineRD),
				graph: client(a, s, SocialGraph, st.NewSocialGraphClient), posts: client(a, s, PostStorage, st.NewPostStorageClient)})
		}
	case ComposePost:
		return func(s *service) thrift.TProcessor {
			return st.NewComposePostProcessor(&composePostHandler{w: s.w,
				text:     client(a, s, TextService, st.NewTextClient),
				user:     client(a, s, UserService, st.NewUserClient),
				uniqueID: client(a, s, UniqueID, st.NewUniqueIdClient),
				posts:    client(a, s, PostStorage, st.NewPostStorageClient),
				userTL:   client(a, s, UserTimeline, st.NewUserTimelineClient),
				homeTL:   client(a, s, HomeTimeline, st.NewHomeTimelineClient)})
		}
	case Nginx:
		return func(s *service) thrift.TProcessor {
			return st.NewNginxProcessor(&nginxHandler{w: s.w,
				compose: client(a, s, ComposePost, st.NewComposePostClient),
				homeTL:  client(a, s, HomeTimeline, st.NewHomeTimelineClient),
				userTL:  client(a, s, UserTimeline, st.NewUserTimelineClient)})
		}
	}
	panic("socialnetwork: no processor for " + name) // Services and this switch disagree
}

// Addr returns the host:port the named service listens on, or "".
func (a *App) Addr(service string) string {
	if s := a.services[service]; s != nil {
		return s.addr
	}
	return ""
}

// Outstanding returns the requests in progress at the named service.
func (a *App) Outstanding(service string) int64 {
	if s := a.services[service]; s != nil {
		return s.tracer.Outstanding()
	}
	return 0
}

// Flush waits until no request is in progress in any service, then sends
// every recorded span to the collector.
func (a *App) Flush(ctx context.Context) error {
	for _, s := range a.order {
		if err := s.tracer.WaitIdle(ctx); err != nil {
			return fmt.Errorf("wait for %s: %w", s.name, err)
		}
	}
	var errs []error
	for _, s := range a.order {
		if s.exporter == nil {
			continue
		}
		if err := s.exporter.ForceFlush(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flush spans of %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// Shutdown closes the App's clients, stops the services from the front end
// down (a server stops once its clients have closed their connections) and
// flushes and closes their exporters. Stop load first: requests still in
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
	for i := len(a.order) - 1; i >= 0; i-- {
		if err := a.order[i].stop(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range a.order {
		a.unregister(s)
		if s.exporter == nil {
			continue
		}
		if err := s.exporter.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down exporter of %s: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// Client calls nginx. It is not instrumented: each request starts a trace
// at nginx. It is safe for concurrent use.
type Client struct {
	pool *connPool[*st.NginxClient]
}

// NewClient returns a Client of nginx, closed by Shutdown.
func (a *App) NewClient() *Client {
	c := &Client{pool: newConnPool(a.services[Nginx].addr, st.NewNginxClient)}
	a.mu.Lock()
	a.clients = append(a.clients, c)
	a.mu.Unlock()
	return c
}

// Do sends one request of the given type (ReadHomeTimeline,
// ReadUserTimeline or ComposePostReq) for userID.
func (c *Client) Do(ctx context.Context, reqType string, userID int64) error {
	var err error
	switch reqType {
	case ReadHomeTimeline:
		err = c.pool.Call(func(n *st.NginxClient) error {
			_, err := n.ReadHomeTimeline(ctx, userID, 0, timelineLength)
			return err
		})
	case ReadUserTimeline:
		err = c.pool.Call(func(n *st.NginxClient) error {
			_, err := n.ReadUserTimeline(ctx, userID, 0, timelineLength)
			return err
		})
	case ComposePostReq:
		text := fmt.Sprintf("hello @user_%d, see http://example.com/%d", (userID*7)%users, userID)
		err = c.pool.Call(func(n *st.NginxClient) error { return n.ComposePost(ctx, userID, text) })
	default:
		return fmt.Errorf("unknown request type %q", reqType)
	}
	if err != nil {
		return fmt.Errorf("%s for user %d: %w", reqType, userID, err)
	}
	return nil
}

// Close closes the Client's connections.
func (c *Client) Close() { c.pool.Close() }
