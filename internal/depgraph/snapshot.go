package depgraph

import (
	"math"
	"slices"
	"sort"
	"time"
)

// Snapshot is the graph at one moment, as the GET /graph endpoint returns it.
type Snapshot struct {
	// Watermark is the event time up to which traces were analysed.
	Watermark time.Time `json:"watermark"`
	// SampleRatio is the share of traces analysed; counts and rates are
	// scaled by its inverse.
	SampleRatio   float64        `json:"sample_ratio"`
	Services      []ServiceInfo  `json:"services"`
	Edges         []EdgeInfo     `json:"edges"`
	Cycles        [][]string     `json:"cycles"`
	CriticalPaths []CriticalPath `json:"critical_paths"`
	Limits        Limits         `json:"limits"`
}

// ServiceInfo is one node.
type ServiceInfo struct {
	Name string `json:"name"`
	// Virtual: known only from peer.service of its callers.
	Virtual    bool            `json:"virtual,omitempty"`
	FirstSeen  time.Time       `json:"first_seen"`
	LastSeen   time.Time       `json:"last_seen"`
	Spans      uint64          `json:"spans"`
	Operations []OperationInfo `json:"operations"`
}

// OperationInfo is one operation of a service and the calls its invocations
// make.
type OperationInfo struct {
	Name        string `json:"name"`
	Invocations uint64 `json:"invocations"`
	Calls       uint64 `json:"calls"`
	// FanOutMean is calls per invocation; FanOutMax the most in one.
	FanOutMean float64  `json:"fan_out_mean"`
	FanOutMax  uint64   `json:"fan_out_max"`
	Callees    []string `json:"callees,omitempty"`
	// SequentialFraction: of the invocations making two or more calls, the
	// share that made them strictly one after another.
	SequentialFraction float64 `json:"sequential_fraction"`
	MultiCall          uint64  `json:"multi_call_invocations"`
}

// EdgeInfo is one caller -> callee edge.
type EdgeInfo struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Calls  uint64 `json:"calls"`
	Errors uint64 `json:"errors"`
	// ErrorRate is Errors/Calls since the edge appeared.
	ErrorRate float64 `json:"error_rate"`
	// CallRate (calls/s) and WindowErrorRate are of the last complete window.
	CallRate        float64     `json:"call_rate"`
	WindowErrorRate float64     `json:"window_error_rate"`
	Latency         LatencyInfo `json:"latency"`
}

// LatencyInfo summarises call latencies in milliseconds (quantiles within
// about 19%).
type LatencyInfo struct {
	MeanMS float64 `json:"mean_ms"`
	P50MS  float64 `json:"p50_ms"`
	P99MS  float64 `json:"p99_ms"`
	MaxMS  float64 `json:"max_ms"`
}

// CriticalPath is the dominant chain of services that decides completion of
// requests entering at Root ("service operation").
type CriticalPath struct {
	Root string   `json:"root"`
	Path []string `json:"path"`
}

// Limits reports the caps and what overflowed them.
type Limits struct {
	MaxServices        int    `json:"max_services"`
	MaxOperations      int    `json:"max_operations"`
	MaxEdges           int    `json:"max_edges"`
	MaxPendingSpans    int    `json:"max_pending_spans"`
	PendingSpans       int    `json:"pending_spans"`
	OverflowServices   uint64 `json:"overflow_services"`
	OverflowOperations uint64 `json:"overflow_operations"`
	OverflowEdges      uint64 `json:"overflow_edges"`
	DroppedSpans       uint64 `json:"dropped_spans"`
	LateSpans          uint64 `json:"late_spans"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Snapshot returns the current graph, sorted for stable output.
func (g *Graph) Snapshot() Snapshot {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.snapshot()
}

func (g *Graph) snapshot() Snapshot {
	s := Snapshot{
		Services:      []ServiceInfo{},
		Edges:         []EdgeInfo{},
		Cycles:        [][]string{},
		CriticalPaths: []CriticalPath{},
		Limits: Limits{
			MaxServices: g.cfg.MaxServices, MaxOperations: g.cfg.MaxOperations, MaxEdges: g.cfg.MaxEdges,
			MaxPendingSpans: g.cfg.MaxPendingSpans, PendingSpans: g.pendingSpans,
			OverflowServices: g.stats.OverflowServices, OverflowOperations: g.stats.OverflowOperations,
			OverflowEdges: g.stats.OverflowEdges, DroppedSpans: g.stats.Dropped, LateSpans: g.stats.Late,
		},
	}
	if g.started {
		s.Watermark = time.Unix(0, g.watermark())
	}
	s.SampleRatio = g.cfg.SampleRatio
	inv := 1 / g.cfg.SampleRatio
	scale := func(n uint64) uint64 { return uint64(math.Round(float64(n) * inv)) }
	for _, n := range g.services {
		si := ServiceInfo{Name: n.name, Virtual: n.virtual, FirstSeen: time.Unix(0, n.firstSeen),
			LastSeen: time.Unix(0, n.lastSeen), Spans: scale(n.spans), Operations: []OperationInfo{}}
		for name, o := range n.ops {
			oi := OperationInfo{Name: name, Invocations: scale(o.invocations), Calls: scale(o.calls), FanOutMax: o.maxCalls, MultiCall: scale(o.multiCall)}
			if o.invocations > 0 {
				oi.FanOutMean = float64(o.calls) / float64(o.invocations)
			}
			if o.multiCall > 0 {
				oi.SequentialFraction = float64(o.sequential) / float64(o.multiCall)
			}
			for c := range o.callees {
				oi.Callees = append(oi.Callees, c)
			}
			sort.Strings(oi.Callees)
			si.Operations = append(si.Operations, oi)
		}
		sort.Slice(si.Operations, func(i, j int) bool { return si.Operations[i].Name < si.Operations[j].Name })
		s.Services = append(s.Services, si)
	}
	sort.Slice(s.Services, func(i, j int) bool { return s.Services[i].Name < s.Services[j].Name })
	for k, e := range g.edges {
		ei := EdgeInfo{From: k.from.name, To: k.to.name, Calls: scale(e.calls), Errors: scale(e.errors), CallRate: e.rate * inv, WindowErrorRate: e.errRate,
			Latency: LatencyInfo{MeanMS: ms(e.lat.mean()), P50MS: ms(e.lat.quantile(0.5)), P99MS: ms(e.lat.quantile(0.99)), MaxMS: ms(e.lat.max)}}
		if e.calls > 0 {
			ei.ErrorRate = float64(e.errors) / float64(e.calls)
		}
		s.Edges = append(s.Edges, ei)
	}
	sort.Slice(s.Edges, func(i, j int) bool {
		if s.Edges[i].From != s.Edges[j].From {
			return s.Edges[i].From < s.Edges[j].From
		}
		return s.Edges[i].To < s.Edges[j].To
	})
	s.Cycles = cycles(s.Edges, maxCycles)
	for k, rp := range g.roots {
		p := rp.dominant
		if p == "" {
			p = rp.dominantPath()
		}
		if p != "" {
			s.CriticalPaths = append(s.CriticalPaths, CriticalPath{Root: k.service + " " + k.op, Path: splitPath(p)})
		}
	}
	sort.Slice(s.CriticalPaths, func(i, j int) bool { return s.CriticalPaths[i].Root < s.CriticalPaths[j].Root })
	return s
}

// maxCycles bounds the cycles listed; a graph has at most exponentially many.
const maxCycles = 100

// cycles lists the elementary cycles of the edge set, each rotated to start
// at its smallest service, in order. A self-call is a cycle of one.
//
// Johnson's algorithm: from each start s, a search restricted to the
// strongly connected component of s among the nodes >= s, with nodes that
// cannot lead back to s blocked until a cycle through them is found. Its
// time is O(nodes x (nodes + edges)) for the components plus
// O((nodes + edges) x cycles) for the search, so with at most limit cycles
// it is polynomial; a plain search of simple paths took seconds on a
// 65-service acyclic graph, under the graph's lock.
func cycles(edges []EdgeInfo, limit int) [][]string {
	names := map[string]int{}
	var order []string
	for _, e := range edges {
		for _, n := range []string{e.From, e.To} {
			if _, ok := names[n]; !ok {
				names[n] = 0
				order = append(order, n)
			}
		}
	}
	sort.Strings(order)
	for i, n := range order {
		names[n] = i
	}
	n := len(order)
	adj, radj := make([][]int, n), make([][]int, n)
	for _, e := range edges {
		a, b := names[e.From], names[e.To]
		adj[a] = append(adj[a], b)
		radj[b] = append(radj[b], a)
	}
	for i := range adj {
		sort.Ints(adj[i])
		adj[i] = slices.Compact(adj[i])
	}
	out := [][]string{}
	comp := make([]bool, n) // the component of s being searched
	blocked := make([]bool, n)
	waiting := make([][]int, n) // Johnson's B: nodes to unblock with this one
	var stack []int
	var unblock func(u int)
	unblock = func(u int) {
		blocked[u] = false
		for _, w := range waiting[u] {
			if blocked[w] {
				unblock(w)
			}
		}
		waiting[u] = waiting[u][:0]
	}
	var circuit func(s, v int) bool
	circuit = func(s, v int) bool {
		found := false
		stack = append(stack, v)
		blocked[v] = true
		for _, w := range adj[v] {
			if len(out) >= limit {
				break
			}
			switch {
			case !comp[w]:
			case w == s:
				c := make([]string, len(stack))
				for i, p := range stack {
					c[i] = order[p]
				}
				out = append(out, c)
				found = true
			case !blocked[w] && circuit(s, w):
				found = true
			}
		}
		if found {
			unblock(v)
		} else {
			for _, w := range adj[v] {
				if comp[w] && !slices.Contains(waiting[w], v) {
					waiting[w] = append(waiting[w], v)
				}
			}
		}
		stack = stack[:len(stack)-1]
		return found
	}
	for s := 0; s < n && len(out) < limit; s++ {
		if !component(s, adj, radj, comp) {
			continue
		}
		for v := s; v < n; v++ {
			blocked[v], waiting[v] = false, waiting[v][:0]
		}
		circuit(s, s)
	}
	return out
}

// component marks in comp the strongly connected component of s among the
// nodes >= s (those reachable from s and reaching s) and reports whether it
// holds a cycle: more than s, or s calling itself.
func component(s int, adj, radj [][]int, comp []bool) bool {
	reach := func(next [][]int) []bool {
		seen := make([]bool, len(adj))
		seen[s] = true
		todo := []int{s}
		for len(todo) > 0 {
			v := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for _, w := range next[v] {
				if w > s && !seen[w] {
					seen[w] = true
					todo = append(todo, w)
				}
			}
		}
		return seen
	}
	from, to := reach(adj), reach(radj)
	size := 0
	for v := range comp {
		comp[v] = v >= s && from[v] && to[v]
		if comp[v] {
			size++
		}
	}
	_, self := slices.BinarySearch(adj[s], s)
	return size > 1 || self
}
