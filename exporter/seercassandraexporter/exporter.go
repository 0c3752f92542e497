package seercassandraexporter

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/exporter/seercassandraexporter/internal/metadata"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore"
	"github.com/seer-qos/seer/internal/seerstore/tap"
)

// afterWriteFunc runs after spans were written (tests only).
type afterWriteFunc func(ctx context.Context, st *cassandrastore.Store, spans []seerstore.Span) error

// reopenBackoff is how long a failed connection attempt is reused as the answer before the next.
const reopenBackoff = time.Second

// cassandraExporter writes to one cassandrastore.Store, opened at start or, if Cassandra is not
// reachable then, at the first request after it is: a Collector must start (and keep its
// persistent queue) while Cassandra is down.
type cassandraExporter struct {
	cfg        *Config
	logger     *zap.Logger
	tb         *metadata.TelemetryBuilder
	limits     seerstore.Limits
	afterWrite afterWriteFunc
	settings   cassandrastore.Settings // TLS is loaded at start

	mu         sync.Mutex
	store      *cassandrastore.Store
	lastErr    error
	lastErrAt  time.Time
	shutDown   bool
	nowForTest func() time.Time

	// tapSeries is set on the traces exporter only, so that one tap per configuration runs.
	tapSeries bool
	tap       *tap.Tap
}

func newExporter(cfg *Config, set exporter.Settings, afterWrite afterWriteFunc) (*cassandraExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("seercassandra telemetry: %w", err)
	}
	return &cassandraExporter{
		cfg: cfg, logger: set.Logger, tb: tb, limits: cfg.Limits, afterWrite: afterWrite,
		nowForTest: time.Now,
	}, nil
}

// cassandrastoreSettings maps the configuration onto the store's settings, without TLS.
func cassandrastoreSettings(c *Config) cassandrastore.Settings {
	cons, _ := gocql.ParseConsistencyWrapper(c.Consistency)
	return cassandrastore.Settings{
		Hosts: c.Hosts, Keyspace: c.Keyspace, Replication: c.Replication.cql(),
		Username: c.Username, Password: string(c.Password), Consistency: cons,
		ConnectTimeout: c.ConnectTimeout, QueryTimeout: c.QueryTimeout, NumConns: c.NumConns,
		MaxConcurrentRequests: c.MaxConcurrentRequests, MaxBatchRows: c.CQLBatch.MaxRows, MaxBatchBytes: c.CQLBatch.MaxBytes,
		SpanTTL: c.TTL.Spans, SeriesTTL: c.TTL.Series, GraphTTL: c.TTL.Graph, CreateSchema: c.CreateSchema,
	}
}

func (e *cassandraExporter) start(ctx context.Context, _ component.Host) error {
	tlsCfg, err := e.cfg.TLS.LoadTLSConfig(ctx)
	if err != nil {
		return fmt.Errorf("seercassandra tls: %w", err)
	}
	e.settings = cassandrastoreSettings(e.cfg)
	e.settings.TLS = tlsCfg
	// The key is read at start, not created: every Collector writing to the
	// keyspace must seal with the same one.
	if e.settings.Sealer, _, err = e.cfg.Encryption.Sealer(false); err != nil {
		return fmt.Errorf("seercassandra %w", err)
	}
	e.settings.Logger = e.logger
	if _, err := e.open(ctx); err != nil {
		e.logger.Warn("Cassandra is not reachable yet; data waits in the sending queue and is written once it is",
			zap.Strings("hosts", e.cfg.Hosts), zap.Error(err))
	}
	if e.tapSeries && e.cfg.SeriesSource != "" {
		e.tap = tap.Start(e.cfg.SeriesSource, func(ctx context.Context) (seerstore.Writer, error) {
			return e.open(ctx)
		}, cassandrastore.IsPermanent, e.logger)
	}
	return nil
}

// open returns the store, connecting if needed. A failure is returned as is (retryable) and reused
// for reopenBackoff so that concurrent consumers do not all dial a node that is down.
func (e *cassandraExporter) open(ctx context.Context) (*cassandrastore.Store, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store != nil {
		return e.store, nil
	}
	if e.shutDown {
		return nil, errors.New("seercassandra exporter is shut down")
	}
	if e.lastErr != nil && time.Since(e.lastErrAt) < reopenBackoff {
		return nil, e.lastErr
	}
	st, err := cassandrastore.Open(ctx, e.settings)
	if err != nil {
		e.lastErr, e.lastErrAt = err, time.Now()
		return nil, err
	}
	e.store, e.lastErr = st, nil
	e.logger.Info("Connected to Cassandra", zap.Strings("hosts", e.cfg.Hosts), zap.String("keyspace", e.cfg.Keyspace),
		zap.Int("schema_version", cassandrastore.SchemaVersion))
	return st, nil
}

func (e *cassandraExporter) shutdown(context.Context) error {
	if e.tap != nil {
		e.tap.Stop()
		st := e.tap.Stats()
		e.logger.Info("Stopped storing the queuedepth series", zap.String("source", e.cfg.SeriesSource),
			zap.Int64("points", st.Points), zap.Int64("graphs", st.Graphs), zap.Int64("failed_writes", st.Failures),
			zap.Int64("dropped", st.Dropped), zap.Int64("dropped_points", st.DroppedPoints))
		e.tap = nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.shutDown = true
	if e.store != nil {
		err := e.store.Close()
		e.store = nil
		return err
	}
	return nil
}

// pushTraces stores a request's valid spans, then fails permanently if any span was refused: the
// refused ones are bad data that no retry can fix, and the rest are already stored.
func (e *cassandraExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	st, err := e.open(ctx)
	if err != nil {
		return e.writeError(ctx, err)
	}
	v := seerstore.FromTraces(td, e.limits, e.nowForTest())
	if len(v.Spans) > 0 {
		if err := st.WriteSpans(ctx, v.Spans); err != nil {
			return e.writeError(ctx, err)
		}
		e.tb.ExporterSeercassandraWrittenRows.Add(ctx, int64(len(v.Spans)), metric.WithAttributes(attribute.String("kind", "span")))
		if e.afterWrite != nil {
			if err := e.afterWrite(ctx, st, v.Spans); err != nil {
				return err
			}
		}
	}
	// Counted once the spans are stored: a retried request does not count twice.
	v.Repaired.AddTo(ctx, e.tb.ExporterSeercassandraRepairedSpans)
	if err := v.Err(); err != nil {
		v.Rejected.AddTo(ctx, e.tb.ExporterSeercassandraRejectedSpans)
		e.logger.Warn("Refused bad spans", zap.Int("refused", v.Rejected.Total()), zap.Int("stored", len(v.Spans)), zap.Error(err))
		return consumererror.NewPermanent(fmt.Errorf("seercassandra: %w", err))
	}
	return nil
}

// pushMetrics stores the series points of the seer.queue. metrics.
func (e *cassandraExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	points, skipped := seerstore.FromMetrics(md, e.cfg.SeriesMetricPrefix)
	if len(points) > 0 {
		st, err := e.open(ctx)
		if err != nil {
			return e.writeError(ctx, err)
		}
		if err := st.WriteSeries(ctx, points); err != nil {
			return e.writeError(ctx, err)
		}
		e.tb.ExporterSeercassandraWrittenRows.Add(ctx, int64(len(points)), metric.WithAttributes(attribute.String("kind", "series")))
	}
	// Counted once the request is done: a retried one does not count twice.
	if skipped > 0 {
		e.tb.ExporterSeercassandraSkippedPoints.Add(ctx, int64(skipped))
	}
	return nil
}

// writeError counts a failed write and marks it permanent when no retry can help.
func (e *cassandraExporter) writeError(ctx context.Context, err error) error {
	permanent := cassandrastore.IsPermanent(err)
	e.tb.ExporterSeercassandraWriteFailures.Add(ctx, 1, metric.WithAttributes(attribute.Bool("permanent", permanent)))
	if permanent {
		return consumererror.NewPermanent(fmt.Errorf("seercassandra: %w", err))
	}
	return fmt.Errorf("seercassandra: %w", err)
}
