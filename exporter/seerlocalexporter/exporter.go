package seerlocalexporter

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/exporter/seerlocalexporter/internal/metadata"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/pebblestore"
	"github.com/seer-qos/seer/internal/seerstore/tap"
)

// stores shares one open store per directory between the traces and metrics exporters of a
// Collector: Pebble locks its directory.
var stores = struct {
	sync.Mutex
	m map[string]*shared
}{m: map[string]*shared{}}

type shared struct {
	st   *pebblestore.Store
	refs int
	stop chan struct{}
	done chan struct{}
}

type localExporter struct {
	cfg    *Config
	logger *zap.Logger
	tb     *metadata.TelemetryBuilder
	limits seerstore.Limits
	dir    string
	st     *pebblestore.Store

	tapSeries bool // set on the traces exporter only: one tap per configuration
	tap       *tap.Tap
}

func newExporter(cfg *Config, set exporter.Settings) (*localExporter, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("seerlocal telemetry: %w", err)
	}
	dir, err := filepath.Abs(cfg.Directory)
	if err != nil {
		return nil, fmt.Errorf("seerlocal directory: %w", err)
	}
	return &localExporter{cfg: cfg, logger: set.Logger, tb: tb, limits: cfg.Limits, dir: dir}, nil
}

func (e *localExporter) start(context.Context, component.Host) error {
	stores.Lock()
	defer stores.Unlock()
	if s, ok := stores.m[e.dir]; ok {
		s.refs++
		e.st = s.st
		e.startTap()
		return nil
	}
	enc := e.cfg.Encryption
	if enc.KeyFile == "" {
		var err error
		if enc.KeyFile, err = pebblestore.DefaultKeyFile(e.dir); err != nil {
			return err
		}
	}
	// A key is made only for a new store: one that holds data without its
	// key needs that key back (a new one would leave its spans unreadable).
	entries, _ := os.ReadDir(e.dir)
	sealer, created, err := enc.Sealer(len(entries) == 0)
	if err != nil {
		if len(entries) > 0 {
			err = fmt.Errorf("%w (the store in %s holds data: restore its key, or name it in encryption.key_file)", err, e.dir)
		}
		return fmt.Errorf("seerlocal: %w", err)
	}
	if created {
		e.logger.Warn("Created the record key of the embedded store; keep it apart from the data (spans cannot be read without it)",
			zap.String("key_file", enc.KeyFile))
	}
	st, err := pebblestore.Open(e.dir, sealer)
	if err != nil {
		return err
	}
	s := &shared{st: st, refs: 1, stop: make(chan struct{}), done: make(chan struct{})}
	stores.m[e.dir] = s
	e.st = st
	go e.retain(s)
	e.logger.Info("Embedded store open", zap.String("directory", e.dir))
	e.startTap()
	return nil
}

func (e *localExporter) startTap() {
	if !e.tapSeries || e.cfg.SeriesSource == "" {
		return
	}
	st := e.st
	e.tap = tap.Start(e.cfg.SeriesSource, func(context.Context) (seerstore.Writer, error) { return st, nil }, nil, e.logger)
}

// retain deletes data older than the retention every RetentionCheck until the store closes.
func (e *localExporter) retain(s *shared) {
	defer close(s.done)
	t := time.NewTicker(e.cfg.RetentionCheck)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case now := <-t.C:
			if err := s.st.DeleteBefore(context.Background(), now.Add(-e.cfg.Retention.Spans), now.Add(-e.cfg.Retention.Series)); err != nil {
				e.logger.Warn("Deleting old data from the embedded store failed", zap.Error(err))
			}
		}
	}
}

func (e *localExporter) shutdown(context.Context) error {
	if e.tap != nil {
		e.tap.Stop()
		e.tap = nil
	}
	if e.st == nil {
		return nil
	}
	stores.Lock()
	defer stores.Unlock()
	s := stores.m[e.dir]
	e.st = nil
	if s == nil {
		return nil
	}
	if s.refs--; s.refs > 0 {
		return nil
	}
	delete(stores.m, e.dir)
	close(s.stop)
	<-s.done
	return s.st.Close()
}

// pushTraces stores the request's valid spans, then fails permanently if any span was refused.
func (e *localExporter) pushTraces(ctx context.Context, td ptrace.Traces) error {
	v := seerstore.FromTraces(td, e.limits, time.Now())
	if len(v.Spans) > 0 {
		if err := e.st.WriteSpans(ctx, v.Spans); err != nil {
			return fmt.Errorf("seerlocal: %w", err)
		}
	}
	// Counted once the spans are stored: a retried request does not count twice.
	v.Repaired.AddTo(ctx, e.tb.ExporterSeerlocalRepairedSpans)
	if err := v.Err(); err != nil {
		v.Rejected.AddTo(ctx, e.tb.ExporterSeerlocalRejectedSpans)
		e.logger.Warn("Refused bad spans", zap.Int("refused", v.Rejected.Total()), zap.Int("stored", len(v.Spans)), zap.Error(err))
		return consumererror.NewPermanent(fmt.Errorf("seerlocal: %w", err))
	}
	return nil
}

// pushMetrics stores the series points of the selected metrics.
func (e *localExporter) pushMetrics(ctx context.Context, md pmetric.Metrics) error {
	points, skipped := seerstore.FromMetrics(md, e.cfg.SeriesMetricPrefix)
	if len(points) > 0 {
		if err := e.st.WriteSeries(ctx, points); err != nil {
			return fmt.Errorf("seerlocal: %w", err)
		}
	}
	// Counted once the request is done: a retried one does not count twice.
	if skipped > 0 {
		e.tb.ExporterSeerlocalSkippedPoints.Add(ctx, int64(skipped))
	}
	return nil
}
