package seerthriftreceiver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Benchmarks compare the spans/s of the seerthrift TCP path with the OTLP
// receiver fed the same spans (same count, attributes and batch size), all
// into a no-op consumer. Run them on one core:
//
//	go test -run '^$' -bench BenchmarkReceive -cpu 1 ./receiver/seerthriftreceiver/
//
// Client and server share the core, so each client does as little as it
// can: the thrift and OTLP/HTTP clients send pre-encoded bytes; the OTLP/gRPC
// client must marshal the request on every call (gRPC has no way to send
// pre-encoded messages through the generated client).

const benchBatchSize = 100

// cpuTime is the CPU time (user and system) of the whole process: client,
// server, and GC. On a shared machine it is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// spanTimer measures a benchmark loop in wall and CPU time.
type spanTimer struct {
	wall time.Time
	cpu  time.Duration
}

func startSpanTimer(b *testing.B) spanTimer {
	b.ReportAllocs()
	b.ResetTimer()
	return spanTimer{wall: time.Now(), cpu: cpuTime()}
}

// report reports ns/span, spans/s and cpu-ns/span for b.N batches.
func (st spanTimer) report(b *testing.B) {
	elapsed, cpu := time.Since(st.wall), cpuTime()-st.cpu
	spans := float64(b.N) * benchBatchSize
	b.ReportMetric(float64(elapsed.Nanoseconds())/spans, "ns/span")
	b.ReportMetric(spans/elapsed.Seconds(), "spans/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/spans, "cpu-ns/span")
}

// rawThriftClient writes pre-encoded framed messages and reads the framed
// reply, checking only that it is not an exception.
type rawThriftClient struct {
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

func (c *rawThriftClient) call(msg []byte) error {
	if _, err := c.conn.Write(msg); err != nil {
		return err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if cap(c.buf) < int(n) {
		c.buf = make([]byte, n)
	}
	c.buf = c.buf[:n]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return err
	}
	// The reply carries field 0 (success); an exception would carry 1 or 2.
	if bytes.Contains(c.buf, []byte("Overloaded")) {
		return fmt.Errorf("unexpected reply % x", c.buf)
	}
	return nil
}

func BenchmarkReceive(b *testing.B) {
	batch := testBatch(benchBatchSize)

	for _, protoName := range protocols {
		b.Run("seerthrift_tcp_"+protoName, func(b *testing.B) {
			r := startReceiver(b, consumertest.NewNop(), nil)
			conn, err := net.Dial("tcp", r.tcpAddr().String())
			require.NoError(b, err)
			defer conn.Close()
			c := &rawThriftClient{conn: conn, r: bufio.NewReader(conn)}
			msg := frame(submitMessage(b, protoName, batch))
			b.SetBytes(int64(len(msg)))
			st := startSpanTimer(b)
			for range b.N {
				if err := c.call(msg); err != nil {
					b.Fatal(err)
				}
			}
			st.report(b)
		})
	}

	b.Run("seerthrift_tcp_client_binary", func(b *testing.B) {
		// The generated client, which encodes the batch on every call.
		r := startReceiver(b, consumertest.NewNop(), nil)
		c := dialClient(b, r.tcpAddr(), dialects[0])
		ctx := context.Background()
		st := startSpanTimer(b)
		for range b.N {
			if _, err := c.SubmitBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		st.report(b)
	})

	b.Run("seerthrift_http_binary", func(b *testing.B) {
		r := startReceiver(b, consumertest.NewNop(), nil)
		body := serialize(b, "binary", batch)
		benchHTTP(b, r.httpURL(), contentTypeBinary, body)
	})

	// The OTLP receiver gets exactly the spans seerthrift makes.
	td, _, err := decodeBytes("binary", serialize(b, "binary", batch))
	require.NoError(b, err)

	b.Run("otlp_grpc", func(b *testing.B) {
		addr := startOTLP(b, true)
		cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(b, err)
		defer cc.Close()
		client := ptraceotlp.NewGRPCClient(cc)
		req := ptraceotlp.NewExportRequestFromTraces(td)
		ctx := context.Background()
		body, err := req.MarshalProto()
		require.NoError(b, err)
		b.SetBytes(int64(len(body)))
		st := startSpanTimer(b)
		for range b.N {
			if _, err := client.Export(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		st.report(b)
	})

	b.Run("otlp_http_proto", func(b *testing.B) {
		addr := startOTLP(b, false)
		body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(b, err)
		benchHTTP(b, "http://"+addr+"/v1/traces", "application/x-protobuf", body)
	})
}

func benchHTTP(b *testing.B, url, contentType string, body []byte) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	st := startSpanTimer(b)
	for range b.N {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	st.report(b)
}

// startOTLP starts an OTLP receiver with only gRPC or only HTTP on a free
// port, into a no-op consumer, and returns its address.
func startOTLP(b *testing.B, grpcOnly bool) string {
	ln, err := net.Listen("tcp", "localhost:0")
	require.NoError(b, err)
	addr := ln.Addr().String()
	require.NoError(b, ln.Close())

	f := otlpreceiver.NewFactory()
	cfg := f.CreateDefaultConfig().(*otlpreceiver.Config)
	if grpcOnly {
		cfg.Protocols.GRPC.GetOrInsertDefault().NetAddr.Endpoint = addr
	} else {
		cfg.Protocols.HTTP.GetOrInsertDefault().ServerConfig.NetAddr.Endpoint = addr
	}
	set := receivertest.NewNopSettings(f.Type())
	r, err := f.CreateTraces(context.Background(), set, cfg, consumertest.NewNop())
	require.NoError(b, err)
	require.NoError(b, r.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, r.Shutdown(context.Background())) })
	return addr
}

// BenchmarkDecode measures the decoder alone, per protocol.
func BenchmarkDecode(b *testing.B) {
	batch := testBatch(benchBatchSize)
	for _, protoName := range protocols {
		b.Run(protoName, func(b *testing.B) {
			data := serialize(b, protoName, batch)
			b.SetBytes(int64(len(data)))
			st := startSpanTimer(b)
			for range b.N {
				td := ptrace.NewTraces()
				if _, err := decodeBody(protoName, data, td); err != nil {
					b.Fatal(err)
				}
			}
			st.report(b)
		})
	}
	b.Run("otlp_proto_unmarshal", func(b *testing.B) {
		td, _, err := decodeBytes("binary", serialize(b, "binary", batch))
		require.NoError(b, err)
		data, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		require.NoError(b, err)
		b.SetBytes(int64(len(data)))
		st := startSpanTimer(b)
		for range b.N {
			req := ptraceotlp.NewExportRequest()
			if err := req.UnmarshalProto(data); err != nil {
				b.Fatal(err)
			}
		}
		st.report(b)
	})
}
