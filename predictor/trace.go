package predictor

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/topology"
)

// Raw per-service quantities a Trace holds per tick, in this order.
const (
	rawDepth       = iota // queue depth (sum over instances)
	rawArrivals           // arrivals in the tick
	rawCompletions        // completions in the tick
	rawLatency            // mean latency of the tick's completions, ms
	rawLatencyMax         // largest latency of the tick's completions, ms
	rawNetwork            // mean network time of the tick's calls into the service, ms
	rawFailed             // calls into the service its callers saw fail in the tick
	rawUtilization        // busy workers / workers (baseline only)
	numRaw
)

// FeatureNames are the per-service input features a model may use, in raw
// order; utilization is left out (Seer's point is that it is a poor signal,
// and it needs the worker counts of the topology). latency_max is the
// tick's tail: QoS is decided on the end-to-end p99, which a tick's mean
// hides. network is what callers waited for the service beyond its own
// stay (series.Sample.Network): a network fault into a service shows there
// and nowhere else in its own series. failed is the calls into the service
// whose callers gave up (series.Sample.Failed): a lost request never reaches
// its callee, whose own series sees only fewer arrivals while its callers
// wait.
var FeatureNames = []string{"depth", "arrivals", "completions", "latency", "latency_max", "network", "failed"}

// Trace is one dataset as the predictor sees it: per tick, per service (not
// instance) aggregates, and the ground truth.
type Trace struct {
	Dir      string
	Services []string // sorted names
	TickNs   int64
	StartNs  int64
	Ticks    int
	raw      []float32 // [tick][service][numRaw]
	Faults   []dataset.Fault
	// Violations in start order.
	Violations []dataset.Violation
	Edges      []dataset.Edge
	// load is the simulator's load pattern, read from the manifest's
	// params; nil for other data (replays, live history).
	load *sim.Load
}

// Raw returns raw quantity q of service index s at tick t.
func (tr *Trace) Raw(t, s, q int) float32 { return tr.raw[(t*len(tr.Services)+s)*numRaw+q] }

// TickEndNs is the end of tick t: the instant a prediction made on it
// refers to.
func (tr *Trace) TickEndNs(t int) int64 { return tr.StartNs + int64(t+1)*tr.TickNs }

// LoadTraces opens dir as one dataset, or, when it has no manifest, every
// dataset directly under it (sorted by name).
func LoadTraces(dir string) ([]*Trace, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		tr, err := LoadTrace(dir)
		if err != nil {
			return nil, err
		}
		return []*Trace{tr}, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("predictor: read datasets: %w", err)
	}
	var out []*Trace
	for _, e := range entries {
		sub := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sub, "manifest.json")); err != nil {
			continue
		}
		tr, err := LoadTrace(sub)
		if err != nil {
			return nil, err
		}
		out = append(out, tr)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("predictor: no dataset (manifest.json) in %s or its subdirectories", dir)
	}
	return out, nil
}

// LoadTrace reads one dataset.
func LoadTrace(dir string) (*Trace, error) {
	d, err := dataset.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("predictor: open dataset: %w", err)
	}
	m := d.Manifest
	if m.TickNs <= 0 || m.EndNs <= m.StartNs {
		return nil, fmt.Errorf("predictor: dataset %s: bad tick %d or range", dir, m.TickNs)
	}
	tr := &Trace{Dir: dir, TickNs: m.TickNs, StartNs: m.StartNs, Edges: m.Edges}
	tr.Ticks = int((m.EndNs - m.StartNs + m.TickNs - 1) / m.TickNs)
	svcIndex := map[string]int{}
	for _, k := range m.Series {
		if _, ok := svcIndex[k.Service]; !ok {
			svcIndex[k.Service] = 0
			tr.Services = append(tr.Services, k.Service)
		}
	}
	sort.Strings(tr.Services)
	for i, s := range tr.Services {
		svcIndex[s] = i
	}
	workers := topologyWorkers(d)
	nS := len(tr.Services)
	tr.raw = make([]float32, tr.Ticks*nS*numRaw)
	acc := make([]rawAccum, tr.Ticks*nS)
	r, err := d.Series()
	if err != nil {
		return nil, fmt.Errorf("predictor: dataset %s: %w", dir, err)
	}
	defer r.Close()
	for {
		var rec dataset.Record
		if err := r.Next(&rec); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("predictor: dataset %s: %w", dir, err)
		}
		t := int((rec.StartNs - m.StartNs) / m.TickNs)
		if t < 0 || t >= tr.Ticks || int(rec.Series) >= len(m.Series) {
			continue
		}
		svc := m.Series[rec.Series].Service
		acc[t*nS+svcIndex[svc]].add(&rec.Sample, workers[svc])
	}
	for i := range acc {
		acc[i].put(tr.raw[i*numRaw : (i+1)*numRaw])
	}
	if tr.Faults, err = d.Faults(); err != nil {
		return nil, fmt.Errorf("predictor: dataset %s: %w", dir, err)
	}
	if tr.Violations, err = d.Violations(); err != nil {
		return nil, fmt.Errorf("predictor: dataset %s: %w", dir, err)
	}
	slices.SortStableFunc(tr.Violations, func(a, b dataset.Violation) int {
		return int(a.StartNs - b.StartNs)
	})
	if m.Params["pattern"] != "" {
		l, err := sim.LoadFromParams(m.Params)
		if err != nil {
			return nil, fmt.Errorf("predictor: dataset %s: manifest params: %w", dir, err)
		}
		tr.load = &l
	}
	return tr, nil
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// topologyWorkers returns the worker pool size of one instance per service,
// from the dataset's topology.yaml (empty when there is none).
func topologyWorkers(d *dataset.Dataset) map[string]float64 {
	out := map[string]float64{}
	if d.Manifest.Files.Topology == "" {
		return out
	}
	doc, err := d.Topology()
	if err != nil {
		return out
	}
	t, err := topology.Parse(doc)
	if err != nil {
		return out
	}
	for _, s := range t.Services {
		out[s.Name] = float64(s.Workers)
	}
	return out
}

// rawAccum sums the instance samples of one service in one tick into the
// raw quantities. LoadTrace and live serving (NewRawTick) both use it, so
// the features a model is trained on and served with cannot drift apart.
type rawAccum struct {
	depth, arrivals, completions float32
	latSum, latCnt               float64 // ns, completions
	latMax                       float64 // ns
	netSum, netCnt               float64 // ns, calls
	failed                       float64 // failed calls
	busy, cap                    float64 // workers busy, workers (utilization)
}

// add counts one instance's sample; workers is the instance's worker pool
// (0 when unknown: no utilization).
func (a *rawAccum) add(x *series.Sample, workers float64) {
	a.depth += float32(finite(x.Depth))
	a.arrivals += float32(finite(x.Arrivals))
	a.completions += float32(finite(x.Completions))
	a.latSum += float64(x.Latency.Sum)
	a.latCnt += x.Latency.Count
	if x.Latency.Count > 0 {
		a.latMax = max(a.latMax, float64(x.Latency.Max))
	}
	a.netSum += float64(x.Network.Sum)
	a.netCnt += x.Network.Count
	a.failed += finite(x.Failed)
	if workers > 0 {
		a.busy += math.Min(finite(x.MeanDepth), workers)
		a.cap += workers
	}
}

// put writes the raw quantities into dst[:numRaw]: depth, arrivals and
// completions summed over instances, latency the mean of the tick's
// completions and latency_max the largest, network the mean network time
// of the calls into the service, in ms, failed the calls into it that
// failed, utilization busy workers over workers.
func (a *rawAccum) put(dst []float32) {
	dst[rawDepth], dst[rawArrivals], dst[rawCompletions] = a.depth, a.arrivals, a.completions
	dst[rawFailed] = float32(a.failed)
	dst[rawLatency], dst[rawLatencyMax], dst[rawNetwork], dst[rawUtilization] = 0, 0, 0, 0
	if a.latCnt > 0 {
		dst[rawLatency] = float32(a.latSum / a.latCnt / 1e6)
		dst[rawLatencyMax] = float32(a.latMax / 1e6)
	}
	if a.netCnt > 0 {
		dst[rawNetwork] = float32(a.netSum / a.netCnt / 1e6)
	}
	if a.cap > 0 {
		dst[rawUtilization] = float32(a.busy / a.cap)
	}
}
