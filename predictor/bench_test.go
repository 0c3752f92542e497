package predictor

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkInference measures one-window inference (batch 1) of the default
// shape (window 16, 8 channels, LSTM 32, depth only) for 30, 100 and 500
// services on simplego and, when the plugin loads, XLA. It reports p50 and
// p99 per window. Pin it to one core with: taskset -c 0 go test -run '^$'
// -bench Inference -benchtime 200x ./predictor
func BenchmarkInference(b *testing.B) {
	for _, backend := range []string{BackendSimpleGo, BackendXLA} {
		be, _, err := OpenBackend(backend)
		if err != nil {
			b.Logf("skip %s: %v", backend, err)
			continue
		}
		for _, n := range []int{30, 100, 500} {
			b.Run(fmt.Sprintf("%s/services=%d", backend, n), func(b *testing.B) {
				cfg := DefaultTrainConfig()
				s := Shape{Services: n, Features: len(cfg.Features), Window: cfg.Window, Kernel: 3, Channels: cfg.Channels, Hidden: cfg.Hidden}
				p, err := NewParams(s, 1)
				if err != nil {
					b.Fatal(err)
				}
				r, err := NewRunner(be, p)
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				x := randomInput(s, 1, 2)                  // default shape: window 16, 8 channels, LSTM 32, depth+latency
				if _, err := r.Predict(x, 1); err != nil { // compile
					b.Fatal(err)
				}
				lat := make([]time.Duration, 0, b.N)
				var ms runtime.MemStats
				b.ResetTimer()
				for range b.N {
					start := time.Now()
					if _, err := r.Predict(x, 1); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(start))
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
			})
		}
	}
}
