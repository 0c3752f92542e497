package topology

import (
	"strings"
	"testing"
)

func TestBuiltinTopologiesParseAndAreStableAt2000RPS(t *testing.T) {
	for _, name := range Builtin() {
		t.Run(name, func(t *testing.T) {
			topo, _, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			loads, err := topo.Loads(2000)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range loads {
				t.Logf("%-28s visits/s %8.0f  utilization %.2f", l.Service, l.Visits, l.Utilization)
				if l.Utilization >= 0.7 {
					t.Errorf("%s: utilization %.2f at 2000 req/s", l.Service, l.Utilization)
				}
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	base := `
name: t
network: {latency: 1us}
services:
  - name: a
    operations:
      - name: op
        service_time: {mean: 1ms}
        calls: CALLS
  - name: b
    operations: [{name: op, service_time: {mean: 1ms}}]
requests: [{name: r, weight: 1, service: a, op: op}]
`
	tests := []struct {
		name, calls, want string
	}{
		{"ok", "[{call: {service: b, op: op}}]", ""},
		{"unknown callee", "[{call: {service: c, op: op}}]", "unknown c.op"},
		{"certain self cycle", "[{call: {service: a, op: op}}]", "cycle"},
		{"probable self cycle", "[{call: {service: a, op: op, probability: 0.5}}]", ""},
		{"both call and parallel", "[{call: {service: b, op: op}, parallel: [{service: b, op: op}]}]", "exactly one"},
		{"bad hit ratio", "[{call: {service: b, op: op, hit_ratio: 1.5}}]", "hit_ratio"},
		{"on_miss without hit ratio", "[{call: {service: b, op: op, on_miss: [{call: {service: b, op: op}}]}}]", "on_miss"},
		{"unknown field", "[{call: {service: b, op: op, bogus: 1}}]", "bogus"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(base, "CALLS", tt.calls, 1)))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestVisitRatesFollowProbabilitiesAndMisses(t *testing.T) {
	doc := `
name: t
network: {latency: 1us}
services:
  - name: a
    operations:
      - name: op
        service_time: {mean: 1ms}
        calls:
          - call: {service: c, op: get, hit_ratio: 0.75, on_miss: [{call: {service: d, op: find}}]}
          - call: {service: a, op: op, probability: 0.5}
  - {name: c, kind: cache, operations: [{name: get, service_time: {mean: 1ms}}]}
  - {name: d, kind: storage, operations: [{name: find, service_time: {mean: 1ms}}]}
requests: [{name: r, weight: 1, service: a, op: op}]
`
	topo, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	v, err := topo.VisitRates(100)
	if err != nil {
		t.Fatal(err)
	}
	// a: 100 + a/2 => 200; c: 200; d: 50.
	for k, want := range map[OpKey]float64{{"a", "op"}: 200, {"c", "get"}: 200, {"d", "find"}: 50} {
		if got := v[k]; got < want*0.999 || got > want*1.001 {
			t.Errorf("%v: %v visits/s, want %v", k, got, want)
		}
	}
}

func TestRandomTopologies(t *testing.T) {
	for _, n := range []int{2, 5, 30, 1000} {
		topo, err := Random(RandomOptions{Services: n, Seed: 7, Rate: 2000})
		if err != nil {
			t.Fatalf("%d services: %v", n, err)
		}
		if len(topo.Services) != n {
			t.Errorf("%d services requested, %d generated", n, len(topo.Services))
		}
		loads, err := topo.Loads(2000)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range loads {
			if l.Utilization > 0.55 {
				t.Errorf("%d services: %s at utilization %.2f", n, l.Service, l.Utilization)
			}
		}
		again, _ := Random(RandomOptions{Services: n, Seed: 7, Rate: 2000})
		a, _ := Marshal(topo)
		b, _ := Marshal(again)
		if string(a) != string(b) {
			t.Errorf("%d services: same seed, different topology", n)
		}
		if _, err := Parse(a); err != nil {
			t.Errorf("%d services: generated YAML does not parse back: %v", n, err)
		}
	}
}
