package queuedepthprocessor

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/seer-qos/seer/internal/seerattr"
	"github.com/seer-qos/seer/processor/queuedepthprocessor/internal/metadata"
)

// benchBatches builds n batches of about spansPerBatch spans of the
// three-service example (4 SERVER and 3 CLIENT spans per trace), spread over
// instancesPerService instances, as OTLP exporters send them: one resource
// per service instance. Traces start every gap.
type benchData struct {
	batches []ptrace.Traces
	spans   int
	period  time.Duration // event time the batches cover
}

func newBenchData(n, tracesPerBatch, instancesPerService int, gap time.Duration) *benchData {
	d := &benchData{}
	services := []string{"frontend", "user", "storage"}
	traceN := uint64(0)
	at := base
	for range n {
		td := ptrace.NewTraces()
		res := map[string]ptrace.SpanSlice{}
		slice := func(svc string, inst int) ptrace.SpanSlice {
			k := fmt.Sprintf("%s-%d", svc, inst)
			if s, ok := res[k]; ok {
				return s
			}
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", svc)
			rs.Resource().Attributes().PutStr("service.instance.id", k)
			s := rs.ScopeSpans().AppendEmpty().Spans()
			res[k] = s
			return s
		}
		for range tracesPerBatch {
			traceN++
			inst := int(traceN) % instancesPerService
			for _, ts := range exampleTraceAt(traceN, at) {
				svcIdx := 0
				for i, s := range services {
					if s == ts.service {
						svcIdx = i
					}
				}
				sp := slice(services[svcIdx], inst).AppendEmpty()
				sp.SetName(ts.name)
				sp.SetKind(ts.kind)
				sp.SetTraceID(randomTraceID(ts.trace))
				sp.SetSpanID(spanID(ts.id))
				if ts.parent != 0 {
					sp.SetParentSpanID(spanID(ts.parent))
				}
				sp.SetStartTimestamp(pcommon.Timestamp(ts.startNS))
				sp.SetEndTimestamp(pcommon.Timestamp(ts.endNS))
				sp.Attributes().PutStr(seerattr.RPCSystem, "thrift")
				if ts.attrs != nil {
					sp.Attributes().PutStr(seerattr.PeerService, ts.attrs[seerattr.PeerService].(string))
				}
				d.spans++
			}
			at += int64(gap)
		}
		d.batches = append(d.batches, td)
	}
	d.period = time.Duration(at-base) + time.Second
	return d
}

// randomTraceID is a W3C-style random trace ID, derived from n.
func randomTraceID(n uint64) pcommon.TraceID {
	var id [16]byte
	z := n
	for i := range 16 {
		// splitmix64 steps
		z += 0x9E3779B97F4A7C15
		x := z
		x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
		x = (x ^ x>>27) * 0x94d049bb133111eb
		id[i] = byte(x ^ x>>31)
	}
	return id
}

// exampleTraceAt is exampleTrace starting at an absolute time.
func exampleTraceAt(n uint64, at int64) []testSpan {
	spans := exampleTrace(n, 0)
	for i := range spans {
		spans[i].startNS += at - base
		spans[i].endNS += at - base
	}
	return spans
}

// shift moves every span of the data by the period, so the next round is
// new traffic (not late, not duplicate) to the processor.
func (d *benchData) shift() {
	delta := pcommon.Timestamp(d.period)
	for _, td := range d.batches {
		rss := td.ResourceSpans()
		for i := 0; i < rss.Len(); i++ {
			spans := rss.At(i).ScopeSpans().At(0).Spans()
			for j := 0; j < spans.Len(); j++ {
				sp := spans.At(j)
				sp.SetStartTimestamp(sp.StartTimestamp() + delta)
				sp.SetEndTimestamp(sp.EndTimestamp() + delta)
			}
		}
	}
}

func newBenchProcessor(b *testing.B, next consumer.Traces, graphRatio float64) consumer.Traces {
	cfg := createDefaultConfig().(*Config)
	cfg.Graph.SampleRatio = graphRatio
	cfg.HTTP.Get().NetAddr.Endpoint = "localhost:0"
	set := processortest.NewNopSettings(metadata.Type)
	p, err := NewFactory().CreateTraces(context.Background(), set, cfg, next)
	require.NoError(b, err)
	require.NoError(b, p.Start(context.Background(), componenttest.NewNopHost()))
	b.Cleanup(func() { require.NoError(b, p.Shutdown(context.Background())) })
	return p
}

// cpuClock measures the process's CPU time (user + system, all threads,
// GC included) while the benchmark timer runs: on a shared machine wall time
// also counts the time other processes had the core.
type cpuClock struct {
	total, since time.Duration
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (c *cpuClock) start() { c.since = cpuNow() }
func (c *cpuClock) stop()  { c.total += cpuNow() - c.since }

func reportPerSpan(b *testing.B, spans int, cpu *cpuClock) {
	nsPerSpan := float64(b.Elapsed().Nanoseconds()) / float64(spans)
	b.ReportMetric(nsPerSpan, "ns/span")
	b.ReportMetric(1e9/nsPerSpan, "spans/s")
	cpuPerSpan := float64(cpu.total.Nanoseconds()) / float64(spans)
	b.ReportMetric(cpuPerSpan, "cpu-ns/span")
	b.ReportMetric(1e9/cpuPerSpan, "spans/cpu-s")
}

// BenchmarkProcessor measures the queuedepth processor alone: 1000-span
// batches (20k spans/s of event time, 30 instances) into a no-op consumer.
func BenchmarkProcessor(b *testing.B) {
	d := newBenchData(200, 143, 10, 350*time.Microsecond)
	p := newBenchProcessor(b, consumertest.NewNop(), 1)
	ctx := context.Background()
	spans := 0
	var cpu cpuClock
	b.ReportAllocs()
	b.ResetTimer()
	cpu.start()
	for i := 0; b.Loop(); i++ {
		k := i % len(d.batches)
		if k == 0 && i > 0 {
			b.StopTimer()
			cpu.stop()
			d.shift()
			cpu.start()
			b.StartTimer()
		}
		if err := p.ConsumeTraces(ctx, d.batches[k]); err != nil {
			b.Fatal(err)
		}
		spans += d.batches[k].SpanCount()
	}
	cpu.stop()
	reportPerSpan(b, spans, &cpu)
}

// encodeSink stands for an OTLP exporter: it serialises what it gets and,
// like the OTLP exporters by default, compresses it with gzip.
type encodeSink struct {
	m     ptrace.ProtoMarshaler
	gz    bool
	zw    *gzip.Writer
	bytes int
}

func (*encodeSink) Capabilities() consumer.Capabilities { return consumer.Capabilities{} }
func (s *encodeSink) ConsumeTraces(_ context.Context, td ptrace.Traces) error {
	buf, err := s.m.MarshalTraces(td)
	if err != nil {
		return err
	}
	s.bytes += len(buf)
	if s.gz {
		if s.zw == nil {
			s.zw = gzip.NewWriter(io.Discard)
		}
		s.zw.Reset(io.Discard)
		if _, err := s.zw.Write(buf); err != nil {
			return err
		}
		return s.zw.Close()
	}
	return nil
}

// BenchmarkPipeline compares an OTLP pipeline (decode the request, encode it
// for export) with and without queuedepth in the middle: "bare" is protobuf
// only, "gzip" adds the compression that OTLP senders and the OTLP exporter
// use by default (the receiver inflates, the exporter deflates).
func BenchmarkPipeline(b *testing.B) {
	for _, gz := range []bool{false, true} {
		// 0: without queuedepth; else with it, the graph analysing this share
		// of the traces.
		for _, graph := range []float64{0, 1, 0.1} {
			name := "bare"
			if gz {
				name = "gzip"
			}
			if graph == 0 {
				name += "/without"
			} else {
				name += fmt.Sprintf("/queuedepth-graph%v", graph)
			}
			b.Run(name, func(b *testing.B) { benchPipeline(b, gz, graph) })
		}
	}
}

func benchPipeline(b *testing.B, gz bool, graph float64) {
	d := newBenchData(200, 143, 10, 350*time.Microsecond)
	encode := func() [][]byte {
		var m ptrace.ProtoMarshaler
		out := make([][]byte, len(d.batches))
		for i, td := range d.batches {
			buf, err := m.MarshalTraces(td)
			require.NoError(b, err)
			if gz {
				var zb bytes.Buffer
				zw := gzip.NewWriter(&zb)
				_, err = zw.Write(buf)
				require.NoError(b, err)
				require.NoError(b, zw.Close())
				buf = zb.Bytes()
			}
			out[i] = buf
		}
		return out
	}
	reqs := encode()
	var next consumer.Traces = &encodeSink{gz: gz}
	if graph > 0 {
		next = newBenchProcessor(b, next, graph)
	}
	var u ptrace.ProtoUnmarshaler
	var zr *gzip.Reader
	var raw bytes.Buffer
	ctx := context.Background()
	spans := 0
	var cpu cpuClock
	b.ReportAllocs()
	b.ResetTimer()
	cpu.start()
	for i := 0; b.Loop(); i++ {
		k := i % len(reqs)
		if k == 0 && i > 0 {
			b.StopTimer()
			cpu.stop()
			d.shift()
			reqs = encode()
			cpu.start()
			b.StartTimer()
		}
		body := reqs[k]
		if gz {
			var err error
			if zr == nil {
				zr, err = gzip.NewReader(bytes.NewReader(body))
			} else {
				err = zr.Reset(bytes.NewReader(body))
			}
			if err != nil {
				b.Fatal(err)
			}
			raw.Reset()
			if _, err := raw.ReadFrom(zr); err != nil {
				b.Fatal(err)
			}
			body = raw.Bytes()
		}
		td, err := u.UnmarshalTraces(body)
		if err != nil {
			b.Fatal(err)
		}
		spans += td.SpanCount()
		if err := next.ConsumeTraces(ctx, td); err != nil {
			b.Fatal(err)
		}
	}
	cpu.stop()
	reportPerSpan(b, spans, &cpu)
}
