package seerlocalexporter

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/seer-qos/seer/exporter/seerlocalexporter/internal/metadata"
	"github.com/seer-qos/seer/internal/seerstore"
)

// NewFactory returns the seerlocal exporter factory.
func NewFactory() exporter.Factory {
	return exporter.NewFactory(metadata.Type, createDefaultConfig,
		exporter.WithTraces(createTraces, metadata.TracesStability),
		exporter.WithMetrics(createMetrics, metadata.MetricsStability))
}

func createDefaultConfig() component.Config {
	queue := exporterhelper.NewDefaultQueueConfig()
	// One writer: Pebble commits one batch at a time, so more consumers only contend.
	queue.NumConsumers = 2
	retry := configretry.NewDefaultBackOffConfig()
	return &Config{
		TimeoutConfig:  exporterhelper.NewDefaultTimeoutConfig(),
		QueueConfig:    configoptional.Some(queue),
		RetryConfig:    retry,
		Directory:      "seer-data",                                                             // relative to the Collector's working directory
		Retention:      RetentionConfig{Spans: 7 * 24 * time.Hour, Series: 30 * 24 * time.Hour}, // a trial's week
		RetentionCheck: 10 * time.Minute,

		Limits:             seerstore.DefaultLimits(),
		SeriesMetricPrefix: "seer.queue.",
		SeriesSource:       "", // the queuedepth processor's ID to store its series and graph
	}
}

func createTraces(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
	e, err := newExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	e.tapSeries = true
	return exporterhelper.NewTraces(ctx, set, cfg, e.pushTraces, options(cfg.(*Config), e)...)
}

func createMetrics(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Metrics, error) {
	e, err := newExporter(cfg.(*Config), set)
	if err != nil {
		return nil, err
	}
	return exporterhelper.NewMetrics(ctx, set, cfg, e.pushMetrics, options(cfg.(*Config), e)...)
}

func options(c *Config, e *localExporter) []exporterhelper.Option {
	return []exporterhelper.Option{
		exporterhelper.WithStart(e.start),
		exporterhelper.WithShutdown(e.shutdown),
		exporterhelper.WithCapabilities(consumer.Capabilities{MutatesData: false}),
		exporterhelper.WithTimeout(c.TimeoutConfig),
		exporterhelper.WithQueue(c.QueueConfig),
		exporterhelper.WithRetry(c.RetryConfig),
	}
}
