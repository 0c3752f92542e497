package seerthriftreceiver

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/instrumentation/thrifttracing"
	"github.com/seer-qos/seer/internal/seerattr"
)

// TestInteropThrifttracingExporter sends spans with the real sender, the
// thrifttracing exporter (its own compact encoder, framed), and checks what
// reaches the pipeline.
func TestInteropThrifttracingExporter(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, nil)
	exp, err := thrifttracing.NewExporter(thrifttracing.ExporterConfig{
		Endpoint:    r.tcpAddr().String(),
		ServiceName: "compose-post-service",
		Instance:    "pod-1",
		Host:        "node-3",
	})
	require.NoError(t, err)
	ctx := context.Background()
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()

	server := thrifttracing.SpanData{
		TraceID:             trace.TraceID(traceID(0)),
		SpanID:              trace.SpanID(spanID(0)),
		ParentSpanID:        trace.SpanID(parentID(0)),
		Operation:           "ComposePost",
		Kind:                seerthrift.SpanKind_SERVER,
		ServerReceiveNs:     baseTime,
		AppReceiveNs:        baseTime + 10,
		ProcessingStartNs:   baseTime + 20,
		ProcessingEndNs:     baseTime + 900,
		OutstandingRequests: 3,
		Status:              seerthrift.StatusCode_OK,
	}
	client := thrifttracing.SpanData{
		TraceID:         trace.TraceID(traceID(0)),
		SpanID:          trace.SpanID(spanID(1)),
		ParentSpanID:    trace.SpanID(spanID(0)),
		Operation:       "GetUser",
		Kind:            seerthrift.SpanKind_CLIENT,
		ClientSendNs:    baseTime + 100,
		ClientReceiveNs: baseTime + 500,
		Status:          seerthrift.StatusCode_ERROR,
		StatusMessage:   "timeout",
		PeerService:     "user-service",
	}
	exp.Record(&server)
	exp.Record(&client)
	require.NoError(t, exp.ForceFlush(ctx))
	require.Equal(t, int64(2), exp.Exported())
	require.Equal(t, 2, sink.SpanCount())

	rs := sink.AllTraces()[0].ResourceSpans().At(0)
	res := rs.Resource().Attributes().AsRaw()
	assert.Equal(t, "compose-post-service", res["service.name"])
	assert.Equal(t, "pod-1", res["service.instance.id"])
	assert.Equal(t, "node-3", res["host.name"])

	spans := map[string]ptrace.Span{}
	for _, td := range sink.AllTraces() {
		ss := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		for i := range ss.Len() {
			spans[ss.At(i).Name()] = ss.At(i)
		}
	}
	s := spans["ComposePost"]
	assert.Equal(t, ptrace.SpanKindServer, s.Kind())
	assert.Equal(t, uint64(baseTime), uint64(s.StartTimestamp()))
	assert.Equal(t, uint64(baseTime+900), uint64(s.EndTimestamp()))
	v, ok := s.Attributes().Get(seerattr.OutstandingRequests)
	require.True(t, ok)
	assert.Equal(t, int64(3), v.Int())

	c := spans["GetUser"]
	assert.Equal(t, ptrace.SpanKindClient, c.Kind())
	assert.Equal(t, "timeout", c.Status().Message())
	assert.Equal(t, s.SpanID(), c.ParentSpanID())
	v, ok = c.Attributes().Get(seerattr.PeerService)
	require.True(t, ok)
	assert.Equal(t, "user-service", v.Str())
}

// TestSenderDropsCountedOnce: the exporter's drops reach the collector's
// sender_dropped_spans exactly once, also when the pipeline refuses a batch
// for good (the exporter drops that batch and reports the drops again).
func TestSenderDropsCountedOnce(t *testing.T) {
	var calls atomic.Int32
	next, err := consumer.NewTraces(func(context.Context, ptrace.Traces) error {
		if calls.Add(1) == 1 {
			return consumererror.NewPermanent(errors.New("refused downstream"))
		}
		return nil
	})
	require.NoError(t, err)
	r := startReceiver(t, next, nil)
	exp, err := thrifttracing.NewExporter(thrifttracing.ExporterConfig{
		Endpoint: r.tcpAddr().String(), ServiceName: "s", Instance: "i", BufferSize: 2, FlushInterval: time.Hour,
	})
	require.NoError(t, err)
	ctx := context.Background()
	defer func() { require.NoError(t, exp.Shutdown(ctx)) }()
	s := thrifttracing.SpanData{TraceID: trace.TraceID(traceID(0)), SpanID: trace.SpanID(spanID(0)), Operation: "op",
		Kind: seerthrift.SpanKind_SERVER, ServerReceiveNs: baseTime, ProcessingEndNs: baseTime + 5, Status: seerthrift.StatusCode_OK}
	for range 3 { // a buffer of 2: the third is dropped
		exp.Record(&s)
	}
	require.Error(t, exp.ForceFlush(ctx), "the pipeline refused the first batch")
	exp.Record(&s)
	require.NoError(t, exp.ForceFlush(ctx))
	var dropped int64
	for _, reason := range []string{thrifttracing.DropBufferFull, thrifttracing.DropInvalidBatch, thrifttracing.DropRetriesExhausted, thrifttracing.DropShutdown} {
		dropped += exp.Dropped(reason)
	}
	assert.Equal(t, int64(3), dropped, "one for the full buffer, two in the refused batch")
	assert.Equal(t, dropped, r.metricSum(t, droppedMetric, "transport=tcp"))
}
