package seerthriftreceiver

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/internal/seerattr"
)

// decodeBytes decodes a bare SpanBatch as the HTTP path does.
func decodeBytes(protoName string, b []byte) (ptrace.Traces, batchMeta, error) {
	td := ptrace.NewTraces()
	meta, err := decodeBody(protoName, b, td)
	return td, meta, err
}

// decodeProto decodes a bare SpanBatch through the thrift library's
// protocol, as the TCP path does for unframed clients.
func decodeProto(protoName string, b []byte) (ptrace.Traces, batchMeta, error) {
	td := ptrace.NewTraces()
	buf := memBuffer(b)
	meta, err := decodeBatch(protoWire{ctx: context.Background(), p: newTestProtocol(protoName, buf)}, td)
	if err == nil && buf.Len() > 0 {
		err = malformedf("%d bytes after the SpanBatch", buf.Len())
	}
	return td, meta, err
}

// decoders are the two wire readers; every decode test runs with both.
var decoders = []struct {
	name   string
	decode func(string, []byte) (ptrace.Traces, batchMeta, error)
}{
	{"bytes", decodeBytes},
	{"tprotocol", decodeProto},
}

func TestDecodeMapping(t *testing.T) {
	batch := testBatch(2)
	batch.DroppedSpans = i64(7)
	batch.Process.Tags = append(batch.Process.Tags,
		&seerthrift.KeyValue{Key: "service.name", Value: "tags must not win"})
	// A sender attribute named like a receiver one loses to the receiver's.
	batch.Spans[0].Attributes = append(batch.Spans[0].Attributes,
		&seerthrift.KeyValue{Key: "rpc.system", Value: "grpc"})
	batch.Spans[1].Status = seerthrift.StatusCode_ERROR
	batch.Spans[1].StatusMessage = str("timeout")
	batch.Spans[1].ParentSpanID = nil

	for _, dec := range decoders {
		for _, protoName := range protocols {
			t.Run(dec.name+"/"+protoName, func(t *testing.T) {
				td, meta, err := dec.decode(protoName, serialize(t, protoName, batch))
				require.NoError(t, err)
				assert.Equal(t, batchMeta{spans: 2, droppedSpans: 7}, meta)
				require.Equal(t, 1, td.ResourceSpans().Len())
				rs := td.ResourceSpans().At(0)
				assert.Equal(t, map[string]any{
					"service.name":           "compose-post-service",
					"service.instance.id":    "compose-post-7d9c-x2",
					"host.name":              "node-3",
					"deployment.environment": "bench",
					seerattr.BatchSeqNo:      int64(42),
				}, rs.Resource().Attributes().AsRaw())
				require.Equal(t, 1, rs.ScopeSpans().Len())
				ss := rs.ScopeSpans().At(0)
				assert.Equal(t, scopeName, ss.Scope().Name())
				require.Equal(t, 2, ss.Spans().Len())

				server := ss.Spans().At(0)
				assert.Equal(t, pcommon.TraceID(traceID(0)), server.TraceID())
				assert.Equal(t, pcommon.SpanID(spanID(0)), server.SpanID())
				assert.Equal(t, pcommon.SpanID(parentID(0)), server.ParentSpanID())
				assert.Equal(t, "ComposePost", server.Name())
				assert.Equal(t, ptrace.SpanKindServer, server.Kind())
				assert.Equal(t, pcommon.Timestamp(baseTime), server.StartTimestamp())
				assert.Equal(t, pcommon.Timestamp(baseTime+900_000), server.EndTimestamp())
				assert.Equal(t, ptrace.StatusCodeOk, server.Status().Code())
				assert.Equal(t, map[string]any{
					"thrift.service":             "ComposePostService",
					"net.peer.name":              "compose-post-7d9c",
					"request.id":                 "req-0",
					seerattr.RPCSystem:           "thrift",
					seerattr.RPCMethod:           "ComposePost",
					seerattr.ServerReceive:       baseTime,
					seerattr.AppReceive:          baseTime + 20_000,
					seerattr.ProcessingStart:     baseTime + 50_000,
					seerattr.ProcessingEnd:       baseTime + 900_000,
					seerattr.OutstandingRequests: int64(0),
					seerattr.NICQueueDepth:       int64(128),
				}, server.Attributes().AsRaw())

				client := ss.Spans().At(1)
				assert.True(t, client.ParentSpanID().IsEmpty())
				assert.Equal(t, ptrace.SpanKindClient, client.Kind())
				assert.Equal(t, pcommon.Timestamp(baseTime+1000), client.StartTimestamp())
				assert.Equal(t, pcommon.Timestamp(baseTime+1000+1_200_000), client.EndTimestamp())
				assert.Equal(t, ptrace.StatusCodeError, client.Status().Code())
				assert.Equal(t, "timeout", client.Status().Message())
				assert.Equal(t, map[string]any{
					"thrift.service":       "ComposePostService",
					"net.peer.name":        "compose-post-7d9c",
					"request.id":           "req-1",
					seerattr.RPCSystem:     "thrift",
					seerattr.RPCMethod:     "ComposePost",
					seerattr.PeerService:   "user-service",
					seerattr.ClientSend:    baseTime + 1000,
					seerattr.ClientReceive: baseTime + 1000 + 1_200_000,
				}, client.Attributes().AsRaw())
			})
		}
	}
}

func TestDecodeTimeFallbacks(t *testing.T) {
	tests := []struct {
		name       string
		edit       func(*seerthrift.Span)
		start, end int64
	}{
		{
			name:  "server without server_receive starts at app_receive",
			edit:  func(s *seerthrift.Span) { s.ServerReceiveNs = nil },
			start: baseTime + 20_000, end: baseTime + 900_000,
		},
		{
			name: "server with processing_start only",
			edit: func(s *seerthrift.Span) {
				s.ServerReceiveNs, s.AppReceiveNs = nil, i64(0)
			},
			start: baseTime + 50_000, end: baseTime + 900_000,
		},
		{
			name:  "server without end is zero-length",
			edit:  func(s *seerthrift.Span) { s.ProcessingEndNs = nil },
			start: baseTime, end: baseTime,
		},
		{
			name:  "internal uses processing times",
			edit:  func(s *seerthrift.Span) { s.Kind = seerthrift.SpanKind_INTERNAL },
			start: baseTime + 50_000, end: baseTime + 900_000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBatch(1)
			tt.edit(b.Spans[0])
			td, _, err := decodeBytes("binary", serialize(t, "binary", b))
			require.NoError(t, err)
			span := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
			assert.Equal(t, pcommon.Timestamp(tt.start), span.StartTimestamp())
			assert.Equal(t, pcommon.Timestamp(tt.end), span.EndTimestamp())
		})
	}
}

// invalidBatches are batches that decode but break the rules; each must be
// refused with the message given.
var invalidBatches = []struct {
	name string
	edit func(*seerthrift.SpanBatch)
	want string
}{
	{"short trace id", func(b *seerthrift.SpanBatch) { b.Spans[1].TraceID = []byte{1, 2, 3} }, "span 1: trace_id has 3 bytes, want 16"},
	{"zero trace id", func(b *seerthrift.SpanBatch) { b.Spans[0].TraceID = make([]byte, 16) }, "span 0: trace_id is all zeros"},
	{"long span id", func(b *seerthrift.SpanBatch) { b.Spans[0].SpanID = make([]byte, 9) }, "span 0: span_id has 9 bytes, want 8"},
	{"zero span id", func(b *seerthrift.SpanBatch) { b.Spans[0].SpanID = make([]byte, 8) }, "span 0: span_id is all zeros"},
	{"bad parent", func(b *seerthrift.SpanBatch) { b.Spans[0].ParentSpanID = []byte{1} }, "span 0: parent_span_id has 1 bytes, want 8"},
	{"unknown kind", func(b *seerthrift.SpanBatch) { b.Spans[0].Kind = 9 }, "span 0: unknown kind 9"},
	{"unknown status", func(b *seerthrift.SpanBatch) { b.Spans[0].Status = -1 }, "span 0: unknown status -1"},
	{"seconds not nanoseconds", func(b *seerthrift.SpanBatch) { b.Spans[1].ClientSendNs = i64(1_767_225_600) }, "span 1: seer.client_send_time_unix_nano is 1767225600, not Unix nanoseconds after 2000"},
	{"negative timestamp", func(b *seerthrift.SpanBatch) { b.Spans[0].ProcessingEndNs = i64(-5) }, "span 0: seer.processing_end_time_unix_nano is -5"},
	{"end before start", func(b *seerthrift.SpanBatch) { b.Spans[1].ClientReceiveNs = i64(baseTime - 1) }, "span 1: end 1767225599999999999 is before start"},
	{"no start", func(b *seerthrift.SpanBatch) { b.Spans[1].ClientSendNs = nil }, "span 1: no start timestamp for a CLIENT span"},
	{"negative queue depth", func(b *seerthrift.SpanBatch) { b.Spans[0].OutstandingRequests = i32(-1) }, "span 0: queue depth field 12 is negative (-1)"},
	{"empty service name", func(b *seerthrift.SpanBatch) { b.Process.ServiceName = "" }, "Process.service_name is empty"},
	{"empty attribute key", func(b *seerthrift.SpanBatch) { b.Spans[0].Attributes[0].Key = "" }, "Span.attributes[0]: key is empty"},
	{"negative dropped spans", func(b *seerthrift.SpanBatch) { b.DroppedSpans = i64(-3) }, "dropped_spans is negative (-3)"},
}

func TestDecodeInvalid(t *testing.T) {
	for _, tt := range invalidBatches {
		for _, protoName := range protocols {
			for _, dec := range decoders {
				t.Run(tt.name+"/"+protoName+"/"+dec.name, func(t *testing.T) {
					b := testBatch(2)
					tt.edit(b)
					_, meta, err := dec.decode(protoName, serialize(t, protoName, b))
					require.ErrorIs(t, err, errInvalidBatch)
					assert.NotErrorIs(t, err, errMalformed)
					assert.ErrorContains(t, err, tt.want)
					assert.Equal(t, 2, meta.spans)
				})
			}
		}
	}
}

// rawStruct writes a struct field by field; a helper for batches the
// generated code cannot write (missing required fields, wrong types).
type rawStruct func(ctx context.Context, p thrift.TProtocol) error

// Write calls w.
func (w rawStruct) Write(ctx context.Context, p thrift.TProtocol) error { return w(ctx, p) }

// Read fails: rawStruct is write-only.
func (rawStruct) Read(context.Context, thrift.TProtocol) error { return errors.New("write only") }

func TestDecodeMissingRequired(t *testing.T) {
	ctx := context.Background()
	// A batch whose only span has no span_id and no status, and no process.
	b := rawStruct(func(ctx context.Context, p thrift.TProtocol) error {
		_ = p.WriteStructBegin(ctx, "SpanBatch")
		_ = p.WriteFieldBegin(ctx, "spans", thrift.LIST, 2)
		_ = p.WriteListBegin(ctx, thrift.STRUCT, 1)
		_ = p.WriteStructBegin(ctx, "Span")
		_ = p.WriteFieldBegin(ctx, "trace_id", thrift.STRING, 1)
		_ = p.WriteBinary(ctx, traceID(0))
		_ = p.WriteFieldBegin(ctx, "operation", thrift.STRING, 4)
		_ = p.WriteString(ctx, "op")
		_ = p.WriteFieldBegin(ctx, "kind", thrift.I32, 5)
		_ = p.WriteI32(ctx, 2)
		_ = p.WriteFieldBegin(ctx, "client_send_ns", thrift.I64, 6)
		_ = p.WriteI64(ctx, baseTime)
		_ = p.WriteFieldStop(ctx)
		_ = p.WriteListEnd(ctx)
		_ = p.WriteFieldStop(ctx)
		return p.WriteStructEnd(ctx)
	})
	for _, protoName := range protocols {
		for _, dec := range decoders {
			_, _, err := dec.decode(protoName, serialize(t, protoName, b))
			require.ErrorIs(t, err, errInvalidBatch, protoName)
			assert.ErrorContains(t, err, "span 0: required field span_id is missing", protoName)
		}
	}
	_ = ctx
}

// hugeList returns a SpanBatch whose spans list declares n elements and
// holds none.
func hugeList(t testing.TB, protoName string, n int) []byte {
	return serialize(t, protoName, rawStruct(func(ctx context.Context, p thrift.TProtocol) error {
		_ = p.WriteStructBegin(ctx, "SpanBatch")
		_ = p.WriteFieldBegin(ctx, "spans", thrift.LIST, 2)
		return p.WriteListBegin(ctx, thrift.STRUCT, n)
	}))
}

// hugeString returns a SpanBatch whose Process.service_name declares n
// bytes and holds none.
func hugeString(t testing.TB, protoName string, n int32) []byte {
	return serialize(t, protoName, rawStruct(func(ctx context.Context, p thrift.TProtocol) error {
		_ = p.WriteStructBegin(ctx, "SpanBatch")
		_ = p.WriteFieldBegin(ctx, "process", thrift.STRUCT, 1)
		_ = p.WriteStructBegin(ctx, "Process")
		_ = p.WriteFieldBegin(ctx, "service_name", thrift.STRING, 1)
		if protoName == "compact" {
			// A varint length of n.
			return p.WriteI32(ctx, 0) // placeholder, patched below
		}
		return p.WriteI32(ctx, n)
	}))
}

func TestDecodeMalformed(t *testing.T) {
	valid := map[string][]byte{}
	for _, protoName := range protocols {
		valid[protoName] = serialize(t, protoName, testBatch(3))
	}
	tests := []struct {
		name  string
		input func(protoName string) []byte
		want  string
	}{
		{"empty", func(string) []byte { return nil }, "reading SpanBatch field"},
		{"truncated", func(p string) []byte { return valid[p][:len(valid[p])/2] }, "malformed thrift data"},
		{"trailing bytes", func(p string) []byte { return append(bytes.Clone(valid[p]), 0, 0) }, "2 bytes after the SpanBatch"},
		{"huge list", func(p string) []byte { return hugeList(t, p, 1<<30) }, "reading SpanBatch.spans"},
		{"wrong field type", func(p string) []byte {
			return serialize(t, p, rawStruct(func(ctx context.Context, pr thrift.TProtocol) error {
				_ = pr.WriteStructBegin(ctx, "SpanBatch")
				_ = pr.WriteFieldBegin(ctx, "process", thrift.I64, 1)
				_ = pr.WriteI64(ctx, 1)
				_ = pr.WriteFieldStop(ctx)
				return pr.WriteStructEnd(ctx)
			}))
		}, "field SpanBatch.process has type I64, want STRUCT"},
		{"wrong list element type", func(p string) []byte {
			return serialize(t, p, rawStruct(func(ctx context.Context, pr thrift.TProtocol) error {
				_ = pr.WriteStructBegin(ctx, "SpanBatch")
				_ = pr.WriteFieldBegin(ctx, "spans", thrift.LIST, 2)
				_ = pr.WriteListBegin(ctx, thrift.I32, 1)
				_ = pr.WriteI32(ctx, 1)
				_ = pr.WriteListEnd(ctx)
				_ = pr.WriteFieldStop(ctx)
				return pr.WriteStructEnd(ctx)
			}))
		}, "SpanBatch.spans is a list of I32, want struct"},
	}
	for _, tt := range tests {
		for _, protoName := range protocols {
			for _, dec := range decoders {
				t.Run(tt.name+"/"+protoName+"/"+dec.name, func(t *testing.T) {
					_, _, err := dec.decode(protoName, tt.input(protoName))
					require.ErrorIs(t, err, errMalformed)
					assert.ErrorContains(t, err, tt.want)
				})
			}
		}
	}
}

// TestDecodeHugeDeclaredSizesDoNotAllocate checks that a batch declaring a
// billion spans, or a 2 GiB string, fails without allocating for it.
func TestDecodeHugeDeclaredSizesDoNotAllocate(t *testing.T) {
	compact := hugeString(t, "compact", 0)
	tests := []struct {
		name, proto string
		input       []byte
	}{
		{"list", "binary", hugeList(t, "binary", 1<<30)},
		{"list", "compact", hugeList(t, "compact", 1<<30)},
		{"string", "binary", hugeString(t, "binary", 1<<31-1)},
		// The compact length is an unsigned varint: 0xffffffff07 = 2^31-1.
		{"string", "compact", append(compact[:len(compact)-1], 0xff, 0xff, 0xff, 0xff, 0x07)},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.proto, func(t *testing.T) {
			for _, dec := range decoders {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				_, _, err := dec.decode(tt.proto, tt.input)
				runtime.ReadMemStats(&after)
				require.ErrorIs(t, err, errMalformed, dec.name)
				assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "allocated bytes, %s", dec.name)
			}
		})
	}
}

// TestDecodeInvalidIsCheap: a body of one-byte elements (empty spans, empty
// attributes) is refused without mapping every element: the memory it
// takes stays a small multiple of its size, and the refusal names the fault.
func TestDecodeInvalidIsCheap(t *testing.T) {
	list := func(field int16, n int) []byte {
		b := []byte{15} // list
		b = binary.BigEndian.AppendUint16(b, uint16(field))
		b = append(b, 12) // of struct
		b = binary.BigEndian.AppendUint32(b, uint32(n))
		for range n {
			b = append(b, 0) // an empty struct
		}
		return b
	}
	const n = 1 << 20
	emptySpans := append(list(2, n), 0)
	// One span whose attributes are n empty key-values.
	oneSpan := []byte{15, 0, 2, 12, 0, 0, 0, 1}
	oneSpan = append(oneSpan, list(17, n)...)
	oneSpan = append(oneSpan, 0, 0)
	for name, body := range map[string][]byte{"empty spans": emptySpans, "empty attributes": oneSpan} {
		t.Run(name, func(t *testing.T) {
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			_, err := decodeBody("binary", body, ptrace.NewTraces())
			runtime.ReadMemStats(&m1)
			require.ErrorIs(t, err, errInvalidBatch)
			assert.Less(t, m1.TotalAlloc-m0.TotalAlloc, uint64(8*len(body)), "bytes allocated for a %d-byte body", len(body))
		})
	}
}
