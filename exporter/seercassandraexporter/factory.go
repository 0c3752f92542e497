package seercassandraexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/seer-qos/seer/exporter/seercassandraexporter/internal/metadata"
	"github.com/seer-qos/seer/internal/seerstore"
)

// NewFactory returns the seercassandra exporter factory.
func NewFactory() exporter.Factory {
	return newFactory(nil)
}

// newFactory builds the factory; afterWrite, when set, runs after each successful write of spans
// (the contract test reads the spans back from Cassandra there).
func newFactory(afterWrite afterWriteFunc) exporter.Factory {
	return exporter.NewFactory(
		metadata.Type,
		createDefaultConfig,
		exporter.WithTraces(func(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
			return createTraces(ctx, set, cfg, afterWrite)
		}, metadata.TracesStability),
		exporter.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	queue := exporterhelper.NewDefaultQueueConfig()
	// Eight requests in flight, each cut into partition batches sent concurrently.
	queue.NumConsumers = 8
	// Merge small requests so that batches by partition fill up: the fewer CQL requests, the faster.
	batch := exporterhelper.NewDefaultBatchConfig()
	batch.FlushTimeout = 200 * time.Millisecond
	batch.Sizer = exporterhelper.RequestSizerTypeItems
	batch.MinSize = 2048
	batch.MaxSize = 8192
	queue.Batch = configoptional.Some(batch)
	retry := configretry.NewDefaultBackOffConfig()
	// Retry until Cassandra is back: an outage must not lose data. What cannot be queued is refused
	// upstream and counted by the queue (otelcol_exporter_enqueue_failed_spans).
	retry.MaxElapsedTime = 0
	return &Config{
		TimeoutConfig: exporterhelper.TimeoutConfig{Timeout: 30 * time.Second}, // whole request
		QueueConfig:   configoptional.Some(queue),
		RetryConfig:   retry,

		Hosts:        []string{"127.0.0.1:9042"},
		Keyspace:     "seer",
		Replication:  ReplicationConfig{Class: "SimpleStrategy", ReplicationFactor: 1}, // a single node
		CreateSchema: true,
		Consistency:  "LOCAL_QUORUM",
		// TLS is on: traces carry request data and stay encrypted in transit.
		TLS: configtls.NewDefaultClientConfig(),

		ConnectTimeout:        5 * time.Second,
		QueryTimeout:          10 * time.Second,
		NumConns:              1,                                                // per host; measured on one node: 1 -> 15-20k spans/s, 2 -> 8-15k, 8 -> 14k
		MaxConcurrentRequests: 256,                                              // measured best on one node: 64 -> 12k spans/s, 256 -> 20k, 1024 -> 18k
		CQLBatch:              CQLBatchConfig{MaxRows: 100, MaxBytes: 40 << 10}, // under the 50 KiB fail threshold

		TTL: TTLConfig{
			Spans:  30 * 24 * time.Hour, // a month of traces to train on
			Series: 90 * 24 * time.Hour, // series are small: keep a season
			Graph:  0,                   // graph snapshots are rare: keep them
		},
		Limits:             seerstore.DefaultLimits(),
		SeriesMetricPrefix: "seer.queue.",
		SeriesSource:       "", // set to the queuedepth processor's ID to store its series and graph
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config, afterWrite afterWriteFunc) (exporter.Traces, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set, afterWrite)
	if err != nil {
		return nil, err
	}
	e.tapSeries = true
	return exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces, helperOptions(c, e)...)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	c := cfg.(*Config)
	e, err := newExporter(c, set, nil)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, e.pushMetrics, helperOptions(c, e)...)
}

func helperOptions(c *Config, e *cassandraExporter) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.RetryConfig),
	}
}
