package depgraph

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func edgesOf(adj map[int][]int) []EdgeInfo {
	var out []EdgeInfo
	for a, bs := range adj {
		for _, b := range bs {
			out = append(out, EdgeInfo{From: fmt.Sprintf("n%02d", a), To: fmt.Sprintf("n%02d", b)})
		}
	}
	return out
}

// bruteCycles lists every elementary cycle by trying each simple path from
// its smallest node, as "n00>n03>..." strings, sorted.
func bruteCycles(adj map[int][]int, n int) []string {
	var out []string
	var path []int
	var walk func(s, v int)
	walk = func(s, v int) {
		for _, w := range adj[v] {
			if w == s {
				var p []string
				for _, x := range path {
					p = append(p, fmt.Sprintf("n%02d", x))
				}
				out = append(out, strings.Join(p, ">"))
			} else if w > s && !slices.Contains(path, w) {
				path = append(path, w)
				walk(s, w)
				path = path[:len(path)-1]
			}
		}
	}
	for s := range n {
		path = []int{s}
		walk(s, s)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestCyclesAgreeWithBruteForce: on random small graphs with self-calls,
// every elementary cycle is listed once, from its smallest service.
func TestCyclesAgreeWithBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := range 300 {
		n := 1 + rng.IntN(7)
		adj := map[int][]int{}
		for a := range n {
			for b := range n {
				if rng.Float64() < 0.3 {
					adj[a] = append(adj[a], b)
				}
			}
		}
		var got []string
		for _, c := range cycles(edgesOf(adj), 1<<20) {
			if slices.Min(c) != c[0] {
				t.Fatalf("trial %d: cycle %v does not start at its smallest service", trial, c)
			}
			got = append(got, strings.Join(c, ">"))
		}
		slices.Sort(got)
		if want := bruteCycles(adj, n); !slices.Equal(got, want) {
			t.Fatalf("trial %d (%v): got %v, want %v", trial, adj, got, want)
		}
	}
}

// TestCyclesLargeGraphs: a layered acyclic graph with about 10^19 paths has
// no cycle and takes no time; a complete graph lists exactly the limit.
func TestCyclesLargeGraphs(t *testing.T) {
	adj := map[int][]int{}
	const layers, width = 20, 10
	for l := range layers - 1 {
		for a := range width {
			for b := range width {
				adj[l*width+a] = append(adj[l*width+a], (l+1)*width+b)
			}
		}
	}
	if c := cycles(edgesOf(adj), maxCycles); len(c) != 0 {
		t.Fatalf("an acyclic graph has cycles %v", c[:1])
	}
	complete := map[int][]int{}
	for a := range 40 {
		for b := range 40 {
			if a != b {
				complete[a] = append(complete[a], b)
			}
		}
	}
	if c := cycles(edgesOf(complete), maxCycles); len(c) != maxCycles {
		t.Fatalf("%d cycles of a complete graph, want the limit %d", len(c), maxCycles)
	}
}
