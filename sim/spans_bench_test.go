package sim

import (
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkSocialNetworkOTLP adds the conversion of every span to OTLP and
// its protobuf encoding (what --spans and --otlp cost).
func BenchmarkSocialNetworkOTLP(b *testing.B) {
	var m ptrace.ProtoMarshaler
	var spans int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		sink := newOTLPSpans(func(td ptrace.Traces) error {
			spans += int64(td.SpanCount())
			_, err := m.MarshalTraces(td)
			return err
		}, 4096, nil)
		if _, err := Run(Config{Topology: socialNetwork(b), Seed: 1, Duration: 2 * time.Second, Load: Load{Rate: 2000}, Spans: sink}); err != nil {
			b.Fatal(err)
		}
		if err := sink.Flush(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(spans)/time.Since(start).Seconds(), "spans/s")
}
