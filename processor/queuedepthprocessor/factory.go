package queuedepthprocessor

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/processor/queuedepthprocessor/internal/metadata"
)

// NewFactory returns the factory of the queuedepth processor.
func NewFactory() processor.Factory {
	return processor.NewFactory(
		metadata.Type,
		createDefaultConfig,
		processor.WithTraces(createTraces, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultServerConfig()
	// Next to the Collector's own telemetry (8888) and the Prometheus
	// exporter's usual 8889; localhost like every Collector default.
	httpCfg.NetAddr.Endpoint = "localhost:9470"
	return &Config{
		// The Seer paper samples queues every 100 ms.
		Tick: 100 * time.Millisecond,
		// Batch delays of seerthrift senders and the batch processor (200 ms)
		// plus typical request durations; raise with the OTel SDK default
		// export delay of 5 s.
		AllowedLateness: 2 * time.Second,
		// Instances are "gone" after 5 minutes without a request, as in the graph.
		SeriesExpiry: 5 * time.Minute,
		// Large enough for a big deployment, small enough to bound memory
		// (a few KB per quiet instance with the defaults, tens of KB at
		// hundreds of requests/s; see the README).
		MaxServices:  1_000,
		MaxInstances: 20_000,
		// NTP keeps hosts within milliseconds; a minute only catches broken clocks.
		MaxClockSkew: time.Minute,
		Graph:        depgraph.DefaultConfig(),
		HTTP:         configoptional.Some(httpCfg),
	}
}

func createTraces(ctx context.Context, set processor.Settings, cfg component.Config, next consumer.Traces) (processor.Traces, error) {
	c := cfg.(*Config)
	sh, err := acquireShared(set, c)
	if err != nil {
		return nil, fmt.Errorf("queuedepth processor %s: %w", set.ID, err)
	}
	p := &tracesProcessor{shared: sh}
	proc, err := processorhelper.NewTraces(ctx, set, cfg, next, p.processTraces,
		processorhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		processorhelper.WithStart(sh.start),
		processorhelper.WithShutdown(sh.shutdown),
	)
	if err != nil {
		_ = sh.shutdown(ctx)
		return nil, fmt.Errorf("queuedepth processor %s: %w", set.ID, err)
	}
	return proc, nil
}
