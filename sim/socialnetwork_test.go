package sim

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim/topology"
)

func socialNetwork(t testing.TB) *topology.Topology {
	t.Helper()
	topo, _, err := topology.Load("social-network")
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestLittlesLawOnSocialNetwork checks L = lambda*W for every instance, on
// the series of the dataset the run wrote.
func TestLittlesLawOnSocialNetwork(t *testing.T) {
	dir := t.TempDir()
	d := 60 * time.Second
	if _, err := RunToDataset(Config{Topology: socialNetwork(t), Seed: 3, Duration: d, Load: Load{Rate: 2000}}, DatasetOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ds.ReadAllSeries()
	if err != nil {
		t.Fatal(err)
	}
	type acc struct{ area, arrivals, latSum, latN float64 }
	per := map[series.Key]*acc{}
	for _, r := range recs {
		a := per[r.Sample.Key]
		if a == nil {
			a = &acc{}
			per[r.Sample.Key] = a
		}
		a.area += r.Sample.MeanDepth * float64(ds.Manifest.TickNs) / 1e9
		a.arrivals += r.Sample.Arrivals
		a.latSum += float64(r.Sample.Latency.Sum) / 1e9
		a.latN += r.Sample.Latency.Count
	}
	if len(per) != len(ds.Manifest.Series) || len(per) < 20 {
		t.Fatalf("%d series, manifest has %d", len(per), len(ds.Manifest.Series))
	}
	worst := 0.0
	for _, k := range ds.Manifest.Series {
		a := per[series.Key{Service: k.Service, Instance: k.Instance}]
		T := d.Seconds()
		L := a.area / T
		lambda := a.arrivals / T
		W := a.latSum / a.latN
		e := math.Abs(L/(lambda*W) - 1)
		worst = math.Max(worst, e)
		if e > 0.05 {
			t.Errorf("%s: L %.4f, lambda*W %.4f (lambda %.1f/s, W %.3fms)", k.Instance, L, lambda*W, lambda, W*1e3)
		}
	}
	t.Logf("Little's law: worst relative error %.3f%% over %d instances", 100*worst, len(per))
}

func readDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestSameSeedSameDataset(t *testing.T) {
	topo := socialNetwork(t)
	run := func(seed uint64) map[string][]byte {
		dir := t.TempDir()
		cfg := Config{Topology: topo, Seed: seed, Duration: 3 * time.Second, Load: Load{Rate: 2000},
			Faults: []dataset.Fault{{Kind: dataset.FaultCPU, Service: "text-service", StartNs: 1e9, RampNs: 1e9, DurationNs: 2e9, Magnitude: 3}}}
		if _, err := RunToDataset(cfg, DatasetOptions{Dir: dir, Spans: true, TopologyDoc: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		return readDir(t, dir)
	}
	a, b, c := run(1), run(1), run(2)
	if len(a) != 8 {
		t.Fatalf("dataset has %d files, want 8", len(a))
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	for _, name := range []string{dataset.SeriesFile, dataset.SpansFile, dataset.QoSFile} {
		if bytes.Equal(a[name], c[name]) {
			t.Errorf("%s is the same for different seeds", name)
		}
	}
}

// TestSeriesMatchQueueDepthEngine feeds the simulated spans to the
// queuedepth processor's series engine and checks that it computes the
// same series as the simulator: the spans carry what the series say.
func TestSeriesMatchQueueDepthEngine(t *testing.T) {
	tick := 100 * time.Millisecond
	got := map[int64]map[series.Key]series.Sample{}
	eng, err := series.NewEngine(series.EngineConfig{Tick: tick, AllowedLateness: 3 * time.Second, Expiry: time.Hour, MaxServices: 1000, MaxInstances: 1000},
		func(b series.Batch) {
			m := map[series.Key]series.Sample{}
			for _, s := range b.Samples {
				m[s.Key] = s
			}
			got[b.Start.UnixNano()] = m
		})
	if err != nil {
		t.Fatal(err)
	}
	id := func(v uint64) (b [8]byte) {
		binary.BigEndian.PutUint64(b[:], v)
		return b
	}
	sink := SpanFunc(func(s *Span) error {
		// CLIENT spans too: the engine joins them with their SERVER spans
		// for the network time.
		sp := series.Span{
			Key: series.Key{Service: s.Service, Instance: s.Instance}, SpanID: id(s.SpanID),
			TraceID: s.TraceID, Start: s.Start, End: s.End, Weight: 1, Reported: float64(s.Outstanding), NIC: math.NaN(),
			Client: s.Kind == KindClient, Failed: s.Kind == KindClient && s.Error, Peer: s.Peer,
		}
		if s.ParentID != 0 {
			sp.ParentID = id(s.ParentID)
		}
		eng.Add(&sp)
		return nil
	})
	want := map[int64][]series.Sample{}
	d := 10 * time.Second
	// A network delay (network time up) and a loss (timeouts: failed calls).
	faults := []dataset.Fault{
		{Kind: dataset.FaultNetworkDelay, Service: "user-memcached", StartNs: 2e9, RampNs: 1e9, DurationNs: 5e9, Magnitude: 5e6},
		{Kind: dataset.FaultNetworkLoss, Service: "post-storage-memcached", StartNs: 2e9, RampNs: 1e9, DurationNs: 5e9, Magnitude: 0.05},
	}
	networked, failed := 0, 0
	_, err = Run(Config{Topology: socialNetwork(t), Seed: 5, Duration: d, Tick: tick, Load: Load{Rate: 2000}, Spans: sink, Faults: faults,
		OnTick: func(start int64, ss []series.Sample) error {
			want[start] = append([]series.Sample(nil), ss...)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	eng.Flush()
	compared := 0
	for start, ss := range want {
		// the last seconds hold requests still in flight at the end
		if start >= DefaultStart+int64(d)-int64(3*time.Second) {
			continue
		}
		for _, w := range ss {
			g, ok := got[start][w.Key]
			if !ok {
				if w.Arrivals > 0 || w.InstantDepth > 0 || w.Network.Count > 0 || w.Failed > 0 {
					t.Fatalf("tick %d %v: engine has no sample", start, w.Key)
				}
				continue
			}
			compared++
			if w.Failed > 0 && w.Key.Service == "post-storage-memcached" {
				failed++
			}
			if w.Network.Count > 0 && w.Key.Service == "user-memcached" && w.Network.Mean() > 8*time.Millisecond {
				networked++
			}
			if math.Abs(g.MeanDepth-w.MeanDepth) > 1e-6 || g.Arrivals != w.Arrivals || g.Completions != w.Completions ||
				g.Latency != w.Latency || g.Network != w.Network || math.Abs(g.Failed-w.Failed) > 1e-9 || math.Abs(g.ReportedDepth-w.ReportedDepth) > 1e-9 && !(math.IsNaN(g.ReportedDepth) && math.IsNaN(w.ReportedDepth)) {
				t.Fatalf("tick %d %v:\n engine %+v\n sim    %+v", start, w.Key, g, w)
			}
		}
	}
	if compared < 1000 {
		t.Fatalf("compared only %d samples", compared)
	}
	// Two 5 ms hops, in the delayed seconds.
	if networked < 20 {
		t.Errorf("only %d ticks show the delay into user-memcached in its network time", networked)
	}
	// 5% of the calls into post-storage-memcached lost, in the faulty seconds.
	if failed < 20 {
		t.Errorf("only %d ticks show the loss into post-storage-memcached in its failed calls", failed)
	}
	st := eng.Stats()
	if st.CallsFailed == 0 || st.CallsMatched == 0 || st.CallsInvalid != 0 || st.CallsLate != 0 || st.CallsNoPeer != 0 {
		t.Errorf("calls: %+v", st)
	}
}

func TestBuiltinAndRandomTopologiesRunClean(t *testing.T) {
	names := topology.Builtin()
	for _, name := range append(names, "random-200") {
		t.Run(name, func(t *testing.T) {
			var topo *topology.Topology
			var err error
			if name == "random-200" {
				topo, err = topology.Random(topology.RandomOptions{Services: 200, Seed: 3, Rate: 2000})
				if err == nil {
					err = CalibrateQoS(topo, 2000, 10*time.Second, 3, 1.5)
				}
			} else {
				topo, _, err = topology.Load(name)
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(Config{Topology: topo, Seed: 1, Duration: 10 * time.Second, Load: Load{Rate: 2000}})
			if err != nil {
				t.Fatal(err)
			}
			st := res.Stats
			violated := violatedTime(res.Violations)
			t.Logf("%d requests, %d visits, violated %v", st.Requests, st.Visits, violated)
			if st.Failed != 0 || st.Requests-st.Completed > st.Requests/100 {
				t.Errorf("stats %+v", st)
			}
			// without faults, violations are rare blips
			if violated > time.Second {
				t.Errorf("violated %v of 10s without faults: %+v", violated, res.Violations)
			}
		})
	}
}

// TestQoSSeriesAgreeWithViolations checks that qos.csv marks exactly the
// tick ends that violations.json covers.
func TestQoSSeriesAgreeWithViolations(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Topology: socialNetwork(t), Seed: 4, Duration: 30 * time.Second, Load: Load{Rate: 2000},
		Faults: []dataset.Fault{{Kind: dataset.FaultCPU, Service: "post-storage-service", StartNs: int64(5 * time.Second), RampNs: int64(5 * time.Second), DurationNs: int64(10 * time.Second), Magnitude: 1.5}}}
	if _, err := RunToDataset(cfg, DatasetOptions{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	ds, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	qs, err := ds.QoS()
	if err != nil {
		t.Fatal(err)
	}
	vs, err := ds.Violations()
	if err != nil {
		t.Fatal(err)
	}
	if want := 300 * len(ds.Manifest.RequestTypes); len(qs) != want {
		t.Fatalf("%d qos points, want %d", len(qs), want)
	}
	violated := 0
	for _, p := range qs {
		in := false
		for _, v := range vs {
			in = in || (v.RequestType == p.RequestType && v.StartNs <= p.EndNs && p.EndNs < v.EndNs)
		}
		if in != p.Violated {
			t.Fatalf("point %+v: violated %v, violations.json says %v", p, p.Violated, in)
		}
		if p.Violated {
			violated++
			if p.P99Ns <= p.TargetNs {
				t.Fatalf("point %+v violated at or under target", p)
			}
		}
	}
	if violated == 0 {
		t.Fatal("no violated point")
	}
}
