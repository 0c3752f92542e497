package nezha

import (
	"testing"
)

// BenchmarkReplay replays the three minutes around a fault (about 48,000
// spans) into the series engine and the graph, and reports spans per
// second of wall time.
func BenchmarkReplay(b *testing.B) {
	cfg := aroundReturn
	cfg.Dir = day(b, "2022-08-22")
	var spans int64
	for b.Loop() {
		res, err := Replay(cfg)
		if err != nil {
			b.Fatal(err)
		}
		spans += res.Stats.Spans
	}
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
}
