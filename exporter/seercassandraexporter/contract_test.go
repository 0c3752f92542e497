package seercassandraexporter

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pipeline"
	"go.opentelemetry.io/collector/receiver"

	"github.com/seer-qos/seer/exporter/seercassandraexporter/internal/metadata"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
)

// TestConsumeContract runs the Collector's exporter contract with Cassandra in the loop. The
// contract sends items to an exporter and checks, at a mock receiver, that every item arrives once
// when the receiver accepts, is retried on retryable errors and dropped on permanent ones. Here
// the exporter writes each request to the real node, then reads the spans back from Cassandra
// (by trace id) and hands what it read to the mock receiver, whose verdict becomes the export's
// result. So the contract checks the exporter's retry and permanent-error handling and that what
// it stored round-trips (the contract's id attribute is read from Cassandra).
//
// The contract's items have no ids or timestamps, which seercassandra refuses as bad data; a thin
// wrapper gives each item ids derived from its contract id and the current time first.
func TestConsumeContract(t *testing.T) {
	n := cassandratest.Get(t)
	cfg := testConfig(t, n)
	withoutQueue(cfg) // the contract reads its counters when ConsumeTraces returns
	cfg.RetryConfig = configretry.BackOffConfig{Enabled: true, InitialInterval: 10 * time.Millisecond,
		MaxInterval: 50 * time.Millisecond, Multiplier: 1.5}
	openStore(t, n, cfg) // creates the schema once and drops the keyspace afterwards

	var rb readBack
	exportertest.CheckConsumeContract(exportertest.CheckConsumeContractParams{
		T:                    t,
		NumberOfTestElements: 100,
		Signal:               pipeline.SignalTraces,
		ExporterFactory:      idFillingFactory(newFactory(rb.afterWrite)),
		ExporterConfig:       cfg,
		ReceiverFactory:      rb.factory(),
		ReceiverConfig:       &struct{}{},
	})
}

// readBack is the contract's receiver side: what the exporter stored, read from Cassandra.
type readBack struct {
	mu   sync.Mutex
	next consumer.Traces
}

func (r *readBack) factory() receiver.Factory {
	return receiver.NewFactory(component.MustNewType("readback"), func() component.Config { return &struct{}{} },
		receiver.WithTraces(func(_ context.Context, _ receiver.Settings, _ component.Config, next consumer.Traces) (receiver.Traces, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.next = next
			return nopReceiver{}, nil
		}, component.StabilityLevelDevelopment))
}

func (r *readBack) afterWrite(ctx context.Context, st *cassandrastore.Store, written []seerstore.Span) error {
	var read []seerstore.Span
	for _, w := range written {
		spans, err := st.Trace(ctx, w.TraceID)
		if err != nil {
			return err
		}
		for _, s := range spans {
			if s.SpanID == w.SpanID {
				read = append(read, s)
			}
		}
	}
	td, err := seerstore.ToTraces(read)
	if err != nil {
		return err
	}
	r.mu.Lock()
	next := r.next
	r.mu.Unlock()
	return next.ConsumeTraces(ctx, td)
}

type nopReceiver struct{}

func (nopReceiver) Start(context.Context, component.Host) error { return nil }
func (nopReceiver) Shutdown(context.Context) error              { return nil }

// idFillingFactory wraps the traces exporter so that each span gets ids from its contract id
// attribute and a start and end time.
func idFillingFactory(inner exporter.Factory) exporter.Factory {
	return exporter.NewFactory(metadata.Type, inner.CreateDefaultConfig,
		exporter.WithTraces(func(ctx context.Context, set exporter.Settings, cfg component.Config) (exporter.Traces, error) {
			e, err := inner.CreateTraces(ctx, set, cfg)
			if err != nil {
				return nil, err
			}
			return idFilling{e}, nil
		}, metadata.TracesStability))
}

type idFilling struct{ exporter.Traces }

func (f idFilling) ConsumeTraces(ctx context.Context, td ptrace.Traces) error {
	now := time.Now()
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			spans := ss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				sp := spans.At(k)
				h := fnv.New64a()
				sp.Attributes().Range(func(k string, v pcommon.Value) bool {
					h.Write([]byte(k + "=" + v.AsString()))
					return true
				})
				var tid pcommon.TraceID
				var sid pcommon.SpanID
				binary.BigEndian.PutUint64(tid[:8], h.Sum64())
				binary.BigEndian.PutUint64(tid[8:], 1)
				binary.BigEndian.PutUint64(sid[:], h.Sum64()|1)
				sp.SetTraceID(tid)
				sp.SetSpanID(sid)
				sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now))
				sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now.Add(time.Millisecond)))
			}
		}
	}
	return f.Traces.ConsumeTraces(ctx, td)
}
