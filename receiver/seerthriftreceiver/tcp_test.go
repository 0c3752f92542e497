package seerthriftreceiver

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/trace"

	"github.com/seer-qos/seer/idl/seerthrift"
)

const (
	malformedMetric = "otelcol_receiver_seerthrift_malformed_requests"
	droppedMetric   = "otelcol_receiver_seerthrift_sender_dropped_spans"
	acceptedMetric  = "otelcol_receiver_accepted_spans"
)

func TestTCPDialects(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, nil)
	ctx := context.Background()
	for i, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			c := dialClient(t, r.tcpAddr(), d)
			batch := testBatch(5)
			batch.DroppedSpans = i64(3)
			// Two calls on one connection: the server answers both.
			for range 2 {
				res, err := c.SubmitBatch(ctx, batch)
				require.NoError(t, err)
				assert.Equal(t, int32(5), res.AcceptedSpans)
			}
			assert.Equal(t, 10*(i+1), sink.SpanCount())
			assert.Equal(t, int64(6*(i+1)), r.metricSum(t, droppedMetric, "transport=tcp"))
			assert.Equal(t, int64(10*(i+1)), r.metricSum(t, acceptedMetric, "transport=tcp"))
		})
	}
	// The decoded spans are those of the HTTP/bare decoder (mapping tests).
	want, _, err := decodeBytes("binary", serialize(t, "binary", testBatch(5)))
	require.NoError(t, err)
	for _, got := range sink.AllTraces() {
		assert.Equal(t, want.ResourceSpans().At(0).Resource().Attributes().AsRaw(),
			got.ResourceSpans().At(0).Resource().Attributes().AsRaw())
		assertSameSpans(t, want, got)
	}
}

func assertSameSpans(t *testing.T, want, got ptrace.Traces) {
	ws := want.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	gs := got.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	require.Equal(t, ws.Len(), gs.Len())
	for i := range ws.Len() {
		w, g := ws.At(i), gs.At(i)
		assert.Equal(t, w.TraceID(), g.TraceID())
		assert.Equal(t, w.SpanID(), g.SpanID())
		assert.Equal(t, w.StartTimestamp(), g.StartTimestamp())
		assert.Equal(t, w.Attributes().AsRaw(), g.Attributes().AsRaw())
	}
}

func TestTCPTraceparentFromTHeader(t *testing.T) {
	got := make(chan trace.SpanContext, 1)
	next, err := consumer.NewTraces(func(ctx context.Context, _ ptrace.Traces) error {
		got <- trace.SpanContextFromContext(ctx)
		return nil
	})
	require.NoError(t, err)
	r := startReceiver(t, next, nil)
	c := dialClient(t, r.tcpAddr(), dialects[2]) // header_binary

	const parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx := thrift.SetHeader(context.Background(), "traceparent", parent)
	ctx = thrift.SetWriteHeaderList(ctx, []string{"traceparent"})
	_, err = c.SubmitBatch(ctx, testBatch(1))
	require.NoError(t, err)

	sc := <-got
	assert.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", sc.TraceID().String())
	// The receiver's own span is a child of the sender's.
	var found bool
	for _, s := range r.tel.SpanRecorder.Ended() {
		if s.Parent().SpanID().String() == "00f067aa0ba902b7" {
			found = true
			assert.Equal(t, sc.TraceID(), s.SpanContext().TraceID())
		}
	}
	assert.True(t, found, "no receiver span with the sender's parent")
}

// TestTCPBackpressure checks that the sender learns whether to retry.
func TestTCPBackpressure(t *testing.T) {
	tests := []struct {
		name  string
		err   error
		check func(t *testing.T, res *seerthrift.SubmitResult_, err error)
	}{
		{
			name: "permanent error is InvalidBatch",
			err:  consumererror.NewPermanent(errors.New("bad data downstream")),
			check: func(t *testing.T, res *seerthrift.SubmitResult_, err error) {
				var inv *seerthrift.InvalidBatch
				require.ErrorAs(t, err, &inv)
				assert.Contains(t, inv.Message, "bad data downstream")
				assert.Nil(t, res)
			},
		},
		{
			name: "other error is Overloaded with a retry hint",
			err:  errors.New("queue is full"),
			check: func(t *testing.T, res *seerthrift.SubmitResult_, err error) {
				var ovl *seerthrift.Overloaded
				require.ErrorAs(t, err, &ovl)
				assert.Contains(t, ovl.Message, "queue is full")
				require.NotNil(t, ovl.RetryAfterMs)
				assert.Equal(t, int32(1500), *ovl.RetryAfterMs)
				assert.Nil(t, res)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startReceiver(t, consumertest.NewErr(tt.err), func(cfg *Config) { cfg.RetryAfter = 1500 * time.Millisecond })
			for _, d := range dialects {
				c := dialClient(t, r.tcpAddr(), d)
				res, err := c.SubmitBatch(context.Background(), testBatch(2))
				tt.check(t, res, err)
				// The connection stays usable after a refused batch.
				res, err = c.SubmitBatch(context.Background(), testBatch(1))
				tt.check(t, res, err)
			}
		})
	}
}

func TestTCPInvalidBatchKeepsConnection(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, nil)
	for _, d := range dialects {
		c := dialClient(t, r.tcpAddr(), d)
		for _, tt := range invalidBatches {
			b := testBatch(2)
			tt.edit(b)
			_, err := c.SubmitBatch(context.Background(), b)
			var inv *seerthrift.InvalidBatch
			require.ErrorAs(t, err, &inv, "%s/%s", d.name, tt.name)
			assert.Contains(t, inv.Message, tt.want)
		}
		res, err := c.SubmitBatch(context.Background(), testBatch(1))
		require.NoError(t, err, d.name)
		assert.Equal(t, int32(1), res.AcceptedSpans)
	}
	assert.Equal(t, 1*len(dialects), sink.SpanCount())
	assert.Equal(t, int64(len(invalidBatches)*len(dialects)),
		r.metricSum(t, malformedMetric, "transport=tcp", "reason=invalid_batch"))
}

func TestTCPUnknownMethodKeepsConnection(t *testing.T) {
	r := startReceiver(t, consumertest.NewNop(), nil)
	conn, err := net.Dial("tcp", r.tcpAddr().String())
	require.NoError(t, err)
	defer conn.Close()
	sock := thrift.NewTSocketFromConnConf(conn, &thrift.TConfiguration{SocketTimeout: 10 * time.Second})
	trans := thrift.NewTFramedTransportConf(sock, &thrift.TConfiguration{})
	p := thrift.NewTBinaryProtocolConf(trans, &thrift.TConfiguration{})
	ctx := context.Background()

	client := thrift.NewTStandardClient(p, p)
	var res seerthrift.CollectorSubmitBatchResult
	_, err = client.Call(ctx, "getSpans", &seerthrift.CollectorSubmitBatchArgs{Batch: testBatch(1)}, &res)
	var appErr thrift.TApplicationException
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, int32(thrift.UNKNOWN_METHOD), appErr.TypeId())

	c := seerthrift.NewCollectorClient(client)
	got, err := c.SubmitBatch(ctx, testBatch(1))
	require.NoError(t, err)
	assert.Equal(t, int32(1), got.AcceptedSpans)
	assert.Equal(t, int64(1), r.metricSum(t, malformedMetric, "reason=unknown_method"))
}

// badInputs are byte streams that must close their connection.
func badInputs(t *testing.T, maxFrame int) []struct {
	name, reason string
	data         []byte
} {
	good := submitMessage(t, "binary", testBatch(3))
	hugeListArgs := message(t, "compact", submitBatchMethod, thrift.CALL, func(p thrift.TProtocol) error {
		ctx := context.Background()
		_ = p.WriteStructBegin(ctx, "args")
		_ = p.WriteFieldBegin(ctx, "batch", thrift.STRUCT, 1)
		_ = p.WriteStructBegin(ctx, "SpanBatch")
		_ = p.WriteFieldBegin(ctx, "spans", thrift.LIST, 2)
		return p.WriteListBegin(ctx, thrift.STRUCT, 1<<30)
	})
	wrongType := message(t, "binary", submitBatchMethod, thrift.CALL, func(p thrift.TProtocol) error {
		ctx := context.Background()
		_ = p.WriteStructBegin(ctx, "args")
		_ = p.WriteFieldBegin(ctx, "batch", thrift.STRUCT, 1)
		_ = p.WriteStructBegin(ctx, "SpanBatch")
		_ = p.WriteFieldBegin(ctx, "spans", thrift.STRING, 2)
		_ = p.WriteString(ctx, "not a list")
		_ = p.WriteFieldStop(ctx)
		_ = p.WriteFieldStop(ctx)
		return p.WriteStructEnd(ctx)
	})
	// An unframed binary message larger than a frame may be.
	unframed := submitMessage(t, "binary", testBatch(maxFrame/100))
	require.Greater(t, len(unframed), maxFrame+readAhead)

	return []struct {
		name, reason string
		data         []byte
	}{
		{"http request", reasonTooLarge, []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")},
		{"garbage frame", reasonDecode, frame([]byte("\x10\x20\x30\x40 random garbage bytes"))},
		{"tiny frame", reasonDecode, frame([]byte{1})},
		{"truncated message", reasonDecode, frame(good[:len(good)/2])},
		{"oversized frame", reasonTooLarge, binary.BigEndian.AppendUint32(nil, uint32(maxFrame+1))},
		{"huge list length", reasonDecode, frame(hugeListArgs)},
		{"wrong field type", reasonDecode, frame(wrongType)},
		{"reply instead of call", reasonDecode, frame(message(t, "binary", submitBatchMethod, thrift.REPLY,
			func(p thrift.TProtocol) error {
				return (&seerthrift.CollectorSubmitBatchResult{}).Write(context.Background(), p)
			}))},
		{"unframed message over the size limit", reasonTooLarge, unframed},
	}
}

// TestTCPBadInputClosesOnlyThatConnection sends each bad input on its own
// connection while a good connection stays open, and checks that the bad
// connection is closed, the error counted and the good one still served.
func TestTCPBadInputClosesOnlyThatConnection(t *testing.T) {
	const maxFrame = 64 << 10
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, func(cfg *Config) { cfg.Protocols.TCP.Get().MaxFrameSize = maxFrame })
	ctx := context.Background()
	goods := make([]*testClient, len(dialects))
	for i, d := range dialects {
		goods[i] = dialClient(t, r.tcpAddr(), d)
		_, err := goods[i].SubmitBatch(ctx, testBatch(1))
		require.NoError(t, err)
	}

	for _, in := range badInputs(t, maxFrame) {
		t.Run(in.name, func(t *testing.T) {
			before := r.metricSum(t, malformedMetric, "transport=tcp", "reason="+in.reason)
			conn, err := net.Dial("tcp", r.tcpAddr().String())
			require.NoError(t, err)
			defer conn.Close()
			// The server may close before all is written; that is fine.
			_, _ = conn.Write(in.data)
			// The server must close the connection: reading ends with EOF
			// (after any TApplicationException) or a reset, well before
			// the bound.
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			_, err = io.Copy(io.Discard, conn)
			var ne net.Error
			if errors.As(err, &ne) {
				require.False(t, ne.Timeout(), "connection was not closed by the server")
			}
			assert.Equal(t, before+1, r.metricSum(t, malformedMetric, "transport=tcp", "reason="+in.reason))

			for i, c := range goods {
				res, err := c.SubmitBatch(ctx, testBatch(2))
				require.NoError(t, err, dialects[i].name)
				assert.Equal(t, int32(2), res.AcceptedSpans)
			}
		})
	}
}

// TestTCPBadFrameGetsException checks that a bad frame whose message
// header was readable is answered with a TApplicationException.
func TestTCPBadFrameGetsException(t *testing.T) {
	r := startReceiver(t, consumertest.NewNop(), nil)
	conn, err := net.Dial("tcp", r.tcpAddr().String())
	require.NoError(t, err)
	defer conn.Close()
	good := submitMessage(t, "binary", testBatch(3))
	_, err = conn.Write(frame(good[:len(good)-20]))
	require.NoError(t, err)

	sock := thrift.NewTSocketFromConnConf(conn, &thrift.TConfiguration{SocketTimeout: 10 * time.Second})
	p := thrift.NewTBinaryProtocolConf(thrift.NewTFramedTransportConf(sock, &thrift.TConfiguration{}), &thrift.TConfiguration{})
	ctx := context.Background()
	name, typ, _, err := p.ReadMessageBegin(ctx)
	require.NoError(t, err)
	assert.Equal(t, submitBatchMethod, name)
	assert.Equal(t, thrift.EXCEPTION, typ)
	exc := thrift.NewTApplicationException(0, "")
	require.NoError(t, exc.Read(ctx, p))
	assert.Equal(t, int32(thrift.PROTOCOL_ERROR), exc.TypeId())
	assert.Contains(t, exc.Error(), "malformed thrift data")
}

// TestTCPIdleTimeout checks that a connection stalled inside a frame is
// closed and counted, and an idle one closed without counting.
func TestTCPIdleTimeout(t *testing.T) {
	r := startReceiver(t, consumertest.NewNop(), func(cfg *Config) {
		cfg.Protocols.TCP.Get().IdleTimeout = 100 * time.Millisecond
	})
	for _, tt := range []struct {
		name    string
		data    []byte
		counted int64
	}{
		{"idle", nil, 0},
		{"stalled in a frame", binary.BigEndian.AppendUint32(nil, 100), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.counted, sendUntilClosed(t, r, tt.data, false))
		})
	}
}

// sendUntilClosed writes data on a new connection, closing its write side
// after it when closeWrite, waits for the server to close the connection
// (by then it has counted what it refused) and returns how many malformed
// requests that counted.
func sendUntilClosed(t *testing.T, r *testReceiver, data []byte, closeWrite bool) int64 {
	t.Helper()
	before := r.metricSum(t, malformedMetric, "transport=tcp")
	conn, err := net.Dial("tcp", r.tcpAddr().String())
	require.NoError(t, err)
	defer conn.Close()
	_, err = conn.Write(data)
	require.NoError(t, err)
	if closeWrite {
		require.NoError(t, conn.(*net.TCPConn).CloseWrite())
	}
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) {
		require.False(t, ne.Timeout(), "connection was not closed by the server")
	}
	return r.metricSum(t, malformedMetric, "transport=tcp") - before
}

func TestTCPOneway(t *testing.T) {
	sink := new(consumertest.TracesSink)
	r := startReceiver(t, sink, nil)
	conn, err := net.Dial("tcp", r.tcpAddr().String())
	require.NoError(t, err)
	defer conn.Close()
	oneway := message(t, "binary", submitBatchMethod, thrift.ONEWAY, func(p thrift.TProtocol) error {
		return (&seerthrift.CollectorSubmitBatchArgs{Batch: testBatch(2)}).Write(context.Background(), p)
	})
	_, err = conn.Write(frame(oneway))
	require.NoError(t, err)
	// A call after the oneway message gets the first reply on the wire.
	sock := thrift.NewTSocketFromConnConf(conn, &thrift.TConfiguration{SocketTimeout: 10 * time.Second})
	p := thrift.NewTBinaryProtocolConf(thrift.NewTFramedTransportConf(sock, &thrift.TConfiguration{}), &thrift.TConfiguration{})
	res, err := seerthrift.NewCollectorClient(thrift.NewTStandardClient(p, p)).SubmitBatch(context.Background(), testBatch(1))
	require.NoError(t, err)
	assert.Equal(t, int32(1), res.AcceptedSpans)
	assert.Equal(t, 3, sink.SpanCount())
}

func TestShutdownClosesConnections(t *testing.T) {
	r := startReceiver(t, consumertest.NewNop(), nil)
	conn, err := net.Dial("tcp", r.tcpAddr().String())
	require.NoError(t, err)
	defer conn.Close()
	// Make sure the server has accepted the connection.
	c := dialClient(t, r.tcpAddr(), dialects[0])
	_, err = c.SubmitBatch(context.Background(), testBatch(1))
	require.NoError(t, err)
	require.NoError(t, r.Shutdown(context.Background()))
	require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	_, err = io.Copy(io.Discard, c.conn)
	require.NoError(t, err)
}

// TestTCPDroppedSpansCountedOnce checks that the sender-reported drops are
// counted when the batch is taken, not when it is refused: the sender
// reports them again with its next batch.
func TestTCPDroppedSpansCountedOnce(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int64
	}{
		{"accepted", nil, 5},
		{"permanent error", consumererror.NewPermanent(errors.New("no")), 0},
		{"retryable error", errors.New("busy"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startReceiver(t, consumertest.NewErr(tt.err), nil)
			c := dialClient(t, r.tcpAddr(), dialects[1])
			b := testBatch(2)
			b.DroppedSpans = i64(5)
			_, _ = c.SubmitBatch(context.Background(), b)
			assert.Equal(t, tt.want, r.metricSum(t, droppedMetric, "transport=tcp"))
			wantAccepted := int64(2)
			if tt.err != nil {
				wantAccepted = 0
			}
			assert.Equal(t, wantAccepted, r.metricSum(t, acceptedMetric, "transport=tcp"))
			if tt.err != nil {
				refusedOrFailed := r.metricSum(t, "otelcol_receiver_refused_spans", "transport=tcp") +
					r.metricSum(t, "otelcol_receiver_failed_spans", "transport=tcp")
				assert.Equal(t, int64(2), refusedOrFailed)
			}
		})
	}
}

// TestTCPFrameCutShortIsCounted: a client that closes in the middle of a
// frame sent a bad request (counted); one that closes between messages did
// not.
func TestTCPFrameCutShortIsCounted(t *testing.T) {
	r := startReceiver(t, consumertest.NewNop(), nil)
	good := submitMessage(t, "binary", testBatch(3))
	for _, tt := range []struct {
		name    string
		data    []byte
		counted int64
	}{
		{"closed between messages", frame(good), 0},
		{"closed inside a frame", binary.BigEndian.AppendUint32(nil, uint32(len(good))), 1},
		{"closed inside a frame's payload", append(binary.BigEndian.AppendUint32(nil, uint32(len(good))), good[:len(good)/2]...), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.counted, sendUntilClosed(t, r, tt.data, true))
		})
	}
}
