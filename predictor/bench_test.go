package predictor

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/seer-qos/seer/dataset"
)

// BenchmarkInference measures one-window inference (batch 1) of the default
// shape (window 16, 8 channels, LSTM 32, the default features) for 30, 100
// and 500 services, each calling two others (so the Go-side widening along
// the call graph is counted), on simplego and, when the plugin loads, XLA.
// It reports p50 and p99 per window and the network's floating-point
// operations per window (MFLOP); BenchmarkPeakMatMul gives the rate that
// turns those into the arithmetic floor. Pin it to one core with:
// taskset -c 0 go test -run '^$' -bench 'Inference|PeakMatMul' -benchtime 1000x ./predictor
// SEER_BENCH_BACKENDS (comma-separated, e.g. xla,xla:cuda) picks the backends;
// SEER_BENCH_MEMBERS (e.g. 1,4,4s) the ensemble sizes (seer combine), 1 by
// default; a trailing s makes members with their own feature scaling
// (seer combine --calibration: the inputs laid out once per member).
func BenchmarkInference(b *testing.B) {
	backendNames := []string{BackendSimpleGo, BackendXLA}
	if v := os.Getenv("SEER_BENCH_BACKENDS"); v != "" {
		backendNames = strings.Split(v, ",") // e.g. xla,xla:cuda on a GPU machine
	}
	type ensemble struct {
		k          int
		ownScaling bool
	}
	members := []ensemble{{1, false}}
	if v := os.Getenv("SEER_BENCH_MEMBERS"); v != "" {
		members = members[:0]
		for _, f := range strings.Split(v, ",") {
			own := strings.HasSuffix(f, "s")
			k, err := strconv.Atoi(strings.TrimSuffix(f, "s"))
			if err != nil || k < 1 || (own && k < 2) {
				b.Fatalf("SEER_BENCH_MEMBERS: %q is not a positive count (at least 2 with s)", f)
			}
			members = append(members, ensemble{k, own})
		}
	}
	for _, backend := range backendNames {
		be, _, err := OpenBackend(backend)
		if err != nil {
			b.Logf("skip %s: %v", backend, err)
			continue
		}
		for _, e := range members {
			for _, n := range []int{30, 100, 500} {
				name := fmt.Sprintf("%s/services=%d", backend, n)
				if e.k > 1 {
					name += fmt.Sprintf("/members=%d", e.k)
				}
				if e.ownScaling {
					name += "/own-scaling"
				}
				benchInference(b, be, name, n, e.k, e.ownScaling)
			}
		}
	}
}

func benchInference(b *testing.B, be backends.Backend, name string, n, members int, ownScaling bool) {
	b.Run(name, func(b *testing.B) {
		cfg := DefaultTrainConfig()
		s := Shape{Services: n, Features: len(cfg.Features), Window: cfg.Window, Kernel: 3, Channels: cfg.Channels, Hidden: cfg.Hidden, Members: members}
		p, err := NewParams(s, 1)
		if err != nil {
			b.Fatal(err)
		}
		p.Graph = benchCallGraph(n)
		if ownScaling {
			p.Scales = make([]memberScale, members)
			for k := 1; k < members; k++ {
				sc := &p.Scales[k]
				for range n * s.Features {
					sc.a, sc.b = append(sc.a, 1.1), append(sc.b, 0.1)
				}
			}
		}
		r, err := NewRunner(be, p)
		if err != nil {
			b.Fatal(err)
		}
		defer r.Close()
		x := randomInput(s, 1, 2)                  // default shape: window 16, 8 channels, LSTM 32, the default features
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
		b.ReportMetric(inferenceFLOPs(s)/1e6, "MFLOP")
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.Sys)/(1<<20), "sys-MiB")
	})
}

// benchCallGraph is a call graph over n services in which service i calls
// 2i+1 and 2i+2 (a binary tree: every service but the root has one caller).
func benchCallGraph(n int) *CallGraph {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("s%d", i)
	}
	var edges []dataset.Edge
	for i := range n {
		for _, j := range []int{2*i + 1, 2*i + 2} {
			if j < n {
				edges = append(edges, dataset.Edge{Caller: names[i], Callee: names[j]})
			}
		}
	}
	return NewCallGraph(names, edges)
}

// inferenceFLOPs counts the multiply-adds (2 FLOP each) of one window's
// forward pass: per member, step and service, the graph convolution and the
// LSTM's four gates; element-wise ops and read-outs are left out (a few percent).
func inferenceFLOPs(s Shape) float64 {
	perRow := s.convInputs()*s.Channels + 4*(s.Channels*s.Hidden+s.Hidden*s.Hidden)
	return 2 * float64(s.Steps()*s.Services*perRow*s.members())
}

// BenchmarkPeakMatMul measures the floating-point rate XLA reaches on this
// machine on a 1024x1024 by 1024x1024 float32 product (GFLOP/s): the rate
// against which BenchmarkInference's MFLOP give the arithmetic floor of a
// window. The model's small products cannot reach it, so the floor is a
// lower bound.
func BenchmarkPeakMatMul(b *testing.B) {
	be, _, err := OpenBackend(BackendXLA)
	if err != nil {
		b.Skipf("skip xla: %v", err)
	}
	const n = 1024
	exec, err := graph.NewExec(be, func(x, y *graph.Node) *graph.Node { return graph.MatMul(x, y) })
	if err != nil {
		b.Fatal(err)
	}
	defer exec.Finalize()
	x := tensors.FromFlatDataAndDimensions(make([]float32, n*n), n, n)
	y := tensors.FromFlatDataAndDimensions(make([]float32, n*n), n, n)
	run := func() {
		out, err := exec.Exec(x, y)
		if err != nil {
			b.Fatal(err)
		}
		finalize(out)
	}
	run() // compile, and move x and y to the device
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.StopTimer()
	b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
