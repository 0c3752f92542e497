package seerthriftreceiver

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/receiver/seerthriftreceiver/internal/metadata"
)

// baseTime is a realistic span timestamp (2026-01-01T00:00:00Z).
const baseTime = int64(1_767_225_600_000_000_000)

func i64(v int64) *int64   { return &v }
func i32(v int32) *int32   { return &v }
func str(v string) *string { return &v }
func traceID(i int) []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[8:], uint64(i)+1)
	b[0] = 0xab
	return b
}
func spanID(i int) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, uint64(i)+1)
	b[0] = 0xcd
	return b
}
func parentID(i int) []byte { b := spanID(i); b[1] = 0xef; return b }

// testSpan returns a realistic span: even i SERVER, odd i CLIENT, with
// three attributes, like the benchmarks send.
func testSpan(i int) *seerthrift.Span {
	t0 := baseTime + int64(i)*1000
	s := &seerthrift.Span{
		TraceID:      traceID(i),
		SpanID:       spanID(i),
		ParentSpanID: parentID(i),
		Operation:    "ComposePost",
		Status:       seerthrift.StatusCode_OK,
		Attributes: []*seerthrift.KeyValue{
			{Key: "thrift.service", Value: "ComposePostService"},
			{Key: "net.peer.name", Value: "compose-post-7d9c"},
			{Key: "request.id", Value: fmt.Sprintf("req-%d", i)},
		},
	}
	if i%2 == 0 {
		s.Kind = seerthrift.SpanKind_SERVER
		s.ServerReceiveNs = i64(t0)
		s.AppReceiveNs = i64(t0 + 20_000)
		s.ProcessingStartNs = i64(t0 + 50_000)
		s.ProcessingEndNs = i64(t0 + 900_000)
		s.OutstandingRequests = i32(int32(i % 7))
		s.NicQueueDepth = i32(128)
	} else {
		s.Kind = seerthrift.SpanKind_CLIENT
		s.ClientSendNs = i64(t0)
		s.ClientReceiveNs = i64(t0 + 1_200_000)
		s.PeerService = str("user-service")
	}
	return s
}

// testBatch returns a batch of n spans.
func testBatch(n int) *seerthrift.SpanBatch {
	b := &seerthrift.SpanBatch{
		Process: &seerthrift.Process{
			ServiceName: "compose-post-service",
			Instance:    "compose-post-7d9c-x2",
			Host:        str("node-3"),
			Tags:        []*seerthrift.KeyValue{{Key: "deployment.environment", Value: "bench"}},
		},
		SeqNo:        i64(42),
		DroppedSpans: i64(0),
	}
	for i := range n {
		b.Spans = append(b.Spans, testSpan(i))
	}
	return b
}

// protocols names the two wire protocols.
var protocols = []string{"binary", "compact"}

func newTestProtocol(name string, trans thrift.TTransport) thrift.TProtocol {
	conf := &thrift.TConfiguration{}
	if name == "compact" {
		return thrift.NewTCompactProtocolConf(trans, conf)
	}
	return thrift.NewTBinaryProtocolConf(trans, conf)
}

// serialize encodes a struct (a bare SpanBatch for HTTP) with protocol name.
func serialize(t testing.TB, name string, s thrift.TStruct) []byte {
	buf := thrift.NewTMemoryBufferLen(1024)
	require.NoError(t, s.Write(context.Background(), newTestProtocol(name, buf)))
	return buf.Bytes()
}

// message encodes a whole Thrift message whose arguments write writes.
func message(t testing.TB, protoName, method string, typ thrift.TMessageType, write func(p thrift.TProtocol) error) []byte {
	ctx := context.Background()
	buf := thrift.NewTMemoryBufferLen(1024)
	p := newTestProtocol(protoName, buf)
	require.NoError(t, p.WriteMessageBegin(ctx, method, typ, 1))
	require.NoError(t, write(p))
	require.NoError(t, p.WriteMessageEnd(ctx))
	return buf.Bytes()
}

// submitMessage encodes a submitBatch call of b.
func submitMessage(t testing.TB, protoName string, b *seerthrift.SpanBatch) []byte {
	return message(t, protoName, submitBatchMethod, thrift.CALL, func(p thrift.TProtocol) error {
		return (&seerthrift.CollectorSubmitBatchArgs{Batch: b}).Write(context.Background(), p)
	})
}

// frame prepends the 4-byte frame length.
func frame(msg []byte) []byte {
	out := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	return append(out, msg...)
}

// dialect is how a client talks to the TCP server.
type dialect struct {
	name string
	wrap func(sock thrift.TTransport) thrift.TProtocol
}

func headerDialect(id thrift.THeaderProtocolID) func(thrift.TTransport) thrift.TProtocol {
	return func(sock thrift.TTransport) thrift.TProtocol {
		conf := &thrift.TConfiguration{THeaderProtocolID: &id}
		return thrift.NewTHeaderProtocolConf(thrift.NewTHeaderTransportConf(sock, conf), conf)
	}
}

var dialects = []dialect{
	{"framed_binary", func(sock thrift.TTransport) thrift.TProtocol {
		conf := &thrift.TConfiguration{}
		return thrift.NewTBinaryProtocolConf(thrift.NewTFramedTransportConf(sock, conf), conf)
	}},
	{"framed_compact", func(sock thrift.TTransport) thrift.TProtocol {
		conf := &thrift.TConfiguration{}
		return thrift.NewTCompactProtocolConf(thrift.NewTFramedTransportConf(sock, conf), conf)
	}},
	{"header_binary", headerDialect(thrift.THeaderProtocolBinary)},
	{"header_compact", headerDialect(thrift.THeaderProtocolCompact)},
	// The next two take the stream path (protoWire) on the server.
	{"header_compact_zlib", func(sock thrift.TTransport) thrift.TProtocol {
		id := thrift.THeaderProtocolCompact
		conf := &thrift.TConfiguration{THeaderProtocolID: &id, THeaderTransforms: []thrift.THeaderTransformID{thrift.TransformZlib}}
		return thrift.NewTHeaderProtocolConf(thrift.NewTHeaderTransportConf(sock, conf), conf)
	}},
	{"unframed_binary", func(sock thrift.TTransport) thrift.TProtocol {
		conf := &thrift.TConfiguration{}
		return thrift.NewTBinaryProtocolConf(thrift.NewTBufferedTransport(sock, 4096), conf)
	}},
}

// testClient is a Collector client over one TCP connection.
type testClient struct {
	*seerthrift.CollectorClient
	conn net.Conn
}

func dialClient(t testing.TB, addr net.Addr, d dialect) *testClient {
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	sock := thrift.NewTSocketFromConnConf(conn, &thrift.TConfiguration{SocketTimeout: 10 * time.Second})
	p := d.wrap(sock)
	return &testClient{CollectorClient: seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p)), conn: conn}
}

// testReceiver is a started receiver with test telemetry.
type testReceiver struct {
	*seerReceiver
	tel      *componenttest.Telemetry
	httpAddr string
}

// startReceiver starts a receiver on free ports with both protocols, after
// edit changed its configuration.
func startReceiver(t testing.TB, next consumer.Traces, edit func(*Config)) *testReceiver {
	cfg := createDefaultConfig().(*Config)
	cfg.Protocols.TCP.GetOrInsertDefault().Endpoint = "localhost:0"
	httpCfg := cfg.Protocols.HTTP.GetOrInsertDefault()
	httpCfg.NetAddr.Endpoint = "localhost:0"
	if edit != nil {
		edit(cfg)
	}
	require.NoError(t, cfg.Validate())
	tel := componenttest.NewTelemetry()
	set := receivertest.NewNopSettings(metadata.Type)
	set.TelemetrySettings = tel.NewTelemetrySettings()
	r, err := newReceiver(cfg, set, next)
	require.NoError(t, err)

	require.NoError(t, r.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, r.Shutdown(context.Background()))
		require.NoError(t, tel.Shutdown(context.Background()))
	})
	tr := &testReceiver{seerReceiver: r, tel: tel}
	if r.httpAddr != nil {
		tr.httpAddr = r.httpAddr.String()
	}
	return tr
}

// httpURL is the URL of the batch path.
func (r *testReceiver) httpURL() string {
	return "http://" + r.httpAddr + r.cfg.Protocols.HTTP.Get().Path
}

// metricSum returns the sum of the data points of an int counter whose
// attributes include all of attrs ("key=value").
func (r *testReceiver) metricSum(t testing.TB, name string, attrs ...string) int64 {
	m, err := r.tel.GetMetric(name)
	if err != nil {
		return 0
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.Truef(t, ok, "metric %s is %T, not an int sum", name, m.Data)
	var total int64
	for _, dp := range sum.DataPoints {
		if hasAttrs(dp.Attributes, attrs) {
			total += dp.Value
		}
	}
	return total
}

func hasAttrs(set attribute.Set, attrs []string) bool {
	for _, kv := range attrs {
		k, v, _ := strings.Cut(kv, "=")
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != v {
			return false
		}
	}
	return true
}

// memBuffer wraps b as a thrift transport.
func memBuffer(b []byte) *thrift.TMemoryBuffer {
	buf := thrift.NewTMemoryBufferLen(len(b))
	_, _ = buf.Write(b)
	return buf
}
