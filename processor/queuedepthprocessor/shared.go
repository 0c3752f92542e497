package queuedepthprocessor

import (
	"context"
	"fmt"
	"net"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/processor"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/httpserve"
	"github.com/seer-qos/seer/internal/series"
)

// shared is the state of one queuedepth component ID, shared by the
// processors the Collector builds for it in each pipeline.
type shared struct {
	id     component.ID
	cfg    *Config
	set    processor.Settings
	logger *zap.Logger

	refs    int // guarded by sharedMu
	started int // guarded by sharedMu

	mu     sync.Mutex // serialises the engine
	engine *series.Engine
	other  uint64 // spans that were not requests, guarded by mu
	future uint64 // spans refused by max_clock_skew, guarded by mu

	graph *depgraph.Graph
	hub   *series.Hub
	feed  *depgraph.Feed
	view  *view

	server *httpserve.Server
}

var (
	sharedMu sync.Mutex
	shareds  = map[component.ID]*shared{}
)

func acquireShared(set processor.Settings, cfg *Config) (*shared, error) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if sh, ok := shareds[set.ID]; ok {
		sh.refs++
		return sh, nil
	}
	sh := &shared{id: set.ID, cfg: cfg, set: set, logger: set.Logger, view: newView()}
	engine, err := series.NewEngine(cfg.engineConfig(), sh.onBatch)
	if err != nil {
		return nil, err
	}
	sh.engine = engine
	sh.feed = depgraph.DefaultRegistry.Acquire(set.ID.String())
	g, err := depgraph.New(cfg.Graph, sh.feed)
	if err != nil {
		depgraph.DefaultRegistry.Release(set.ID.String())
		return nil, err
	}
	sh.graph = g
	sh.feed.Attach(g)
	sh.hub = series.DefaultRegistry.Acquire(set.ID.String())
	sh.refs = 1
	shareds[set.ID] = sh
	return sh, nil
}

// onBatch runs under sh.mu for every final tick.
func (sh *shared) onBatch(b series.Batch) {
	sh.view.update(b)
	sh.hub.Publish(b)
}

// observe feeds one extracted batch to the engine and the graph.
func (sh *shared) observe(b *batch) {
	sh.mu.Lock()
	for i := range b.requests {
		sh.engine.Add(&b.requests[i])
	}
	sh.other += b.other
	sh.future += b.future
	sh.mu.Unlock()
	sh.graph.Add(b.graph)
}

func (sh *shared) start(ctx context.Context, host component.Host) error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	sh.started++
	if sh.started > 1 || !sh.cfg.HTTP.HasValue() {
		return nil
	}
	srv, err := httpserve.Start(ctx, sh.cfg.HTTP.Get(), host, sh.set.TelemetrySettings, sh.handler())
	if err != nil {
		return fmt.Errorf("queuedepth %s: %w", sh.id, err)
	}
	sh.server = srv
	sh.logger.Info("Serving queue depth metrics and the dependency graph", zap.String("endpoint", srv.Addr().String()))
	return nil
}

func (sh *shared) shutdown(ctx context.Context) error {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	sh.refs--
	if sh.refs > 0 {
		return nil
	}
	delete(shareds, sh.id)
	// Everything buffered is final now.
	sh.mu.Lock()
	sh.engine.Flush()
	sh.mu.Unlock()
	sh.graph.Flush()
	var err error
	if sh.server != nil {
		err = sh.server.Shutdown(ctx)
	}
	sh.feed.Attach(nil)
	depgraph.DefaultRegistry.Release(sh.id.String())
	series.DefaultRegistry.Release(sh.id.String())
	if err != nil {
		return fmt.Errorf("queuedepth %s: shutdown: %w", sh.id, err)
	}
	return nil
}

// addr is where the HTTP server listens (tests use port 0).
func (sh *shared) Addr() net.Addr {
	if sh.server == nil {
		return nil
	}
	return sh.server.Addr()
}
