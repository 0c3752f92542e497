package topology

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed topologies/*.yaml
var builtin embed.FS

// Builtin lists the names of the embedded topologies.
func Builtin() []string {
	ents, _ := builtin.ReadDir("topologies")
	var names []string
	for _, e := range ents {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// BuiltinDoc returns the YAML of an embedded topology.
func BuiltinDoc(name string) ([]byte, error) {
	b, err := builtin.ReadFile("topologies/" + name + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("no built-in topology %q (have %s)", name, strings.Join(Builtin(), ", "))
	}
	return b, nil
}

// Load returns a built-in topology by name, or reads a YAML file when name
// is a path; it also returns the document.
func Load(name string) (*Topology, []byte, error) {
	doc, err := BuiltinDoc(name)
	if err != nil {
		if strings.ContainsAny(name, "/.") {
			doc, err = os.ReadFile(name)
			if err != nil {
				return nil, nil, fmt.Errorf("read topology: %w", err)
			}
		} else {
			return nil, nil, err
		}
	}
	t, err := Parse(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("topology %s: %w", name, err)
	}
	return t, doc, nil
}

// Parse decodes and validates a topology document; unknown fields are errors.
func Parse(doc []byte) (*Topology, error) {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	var t Topology
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("parse topology: %w", err)
	}
	t.applyDefaults()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Marshal encodes the topology as YAML.
func Marshal(t *Topology) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("encode topology: %w", err)
	}
	return buf.Bytes(), enc.Close()
}

func (t *Topology) applyDefaults() {
	for _, s := range t.Services {
		if s == nil {
			continue
		}
		if s.Kind == "" {
			s.Kind = KindApp
		}
		if s.Instances == 0 {
			s.Instances = 1
		}
		if s.Workers == 0 {
			s.Workers = 1
		}
		if s.Cores == 0 {
			s.Cores = s.Workers
		}
		if s.Balance == "" {
			s.Balance = BalanceRoundRobin
		}
		if s.StartupDelay == 0 {
			s.StartupDelay = Duration(5e9)
		}
		for _, o := range s.Operations {
			if o != nil && o.ServiceTime.Dist == "" {
				o.ServiceTime.Dist = DistExp
			}
		}
	}
}

// Validate checks names, references, numbers and that no cycle of calls is
// certain to recurse forever.
func (t *Topology) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if t.Name == "" {
		add("name is empty")
	}
	if t.Network.Latency < 0 || t.Network.Jitter < 0 {
		add("network latency and jitter must not be negative")
	}
	if len(t.Services) == 0 {
		add("no services")
	}
	seen := map[string]bool{}
	for i, s := range t.Services {
		if s == nil {
			add("service %d is empty", i)
			continue
		}
		if s.Name == "" || seen[s.Name] {
			add("service %d: name %q empty or repeated", i, s.Name)
		}
		seen[s.Name] = true
		switch s.Kind {
		case KindFront, KindApp, KindCache, KindStorage:
		default:
			add("service %s: unknown kind %q", s.Name, s.Kind)
		}
		switch s.Balance {
		case BalanceRoundRobin, BalanceRandom, BalanceLeastOutstanding:
		default:
			add("service %s: unknown balance %q", s.Name, s.Balance)
		}
		if s.Instances < 1 || s.Workers < 1 || s.Cores < 1 || s.Queue < 0 || s.StartupDelay < 0 {
			add("service %s: instances, workers and cores must be positive, queue and startup_delay not negative", s.Name)
		}
		if len(s.Operations) == 0 {
			add("service %s: no operations", s.Name)
		}
		ops := map[string]bool{}
		for j, o := range s.Operations {
			if o == nil || o.Name == "" || ops[o.Name] {
				add("service %s: operation %d empty, unnamed or repeated", s.Name, j)
				continue
			}
			ops[o.Name] = true
			if err := o.ServiceTime.validate(); err != nil {
				add("%s.%s: service_time: %v", s.Name, o.Name, err)
			}
			if r := o.Resources; r != nil {
				if r.CPU < 0 || r.Memory < 0 || r.IO < 0 || math.Abs(r.CPU+r.Memory+r.IO-1) > 1e-9 {
					add("%s.%s: resources must be non-negative fractions adding up to 1", s.Name, o.Name)
				}
			}
		}
	}
	for _, s := range t.Services {
		if s == nil {
			continue
		}
		for _, o := range s.Operations {
			if o == nil {
				continue
			}
			walkCalls(o.Calls, func(c *Call) {
				where := s.Name + "." + o.Name
				if c == nil {
					add("%s: empty call", where)
					return
				}
				callee := t.Service(c.Service)
				if callee == nil || callee.Operation(c.Op) == nil {
					add("%s: call to unknown %s.%s", where, c.Service, c.Op)
				}
				if p := c.Prob(); !(p >= 0 && p <= 1) {
					add("%s: probability %v outside [0,1]", where, p)
				}
				if c.HitRatio != nil && !(*c.HitRatio >= 0 && *c.HitRatio <= 1) {
					add("%s: hit_ratio %v outside [0,1]", where, *c.HitRatio)
				}
				if c.HitRatio == nil && len(c.OnMiss) > 0 {
					add("%s: on_miss without hit_ratio", where)
				}
				if c.Timeout < 0 || c.Retries < 0 || c.Retries > 10 {
					add("%s: timeout must not be negative, retries in [0,10]", where)
				}
			}, func(st Step) {
				if (st.Call == nil) == (len(st.Parallel) == 0) {
					add("%s.%s: a step needs exactly one of call and parallel", s.Name, o.Name)
				}
			})
		}
	}
	if len(t.Requests) == 0 {
		add("no requests")
	}
	names := map[string]bool{}
	for i, r := range t.Requests {
		if r == nil || r.Name == "" || names[r.Name] {
			add("request %d empty, unnamed or repeated", i)
			continue
		}
		names[r.Name] = true
		if s := t.Service(r.Service); s == nil || s.Operation(r.Op) == nil {
			add("request %s: unknown entry %s.%s", r.Name, r.Service, r.Op)
		}
		if !(r.Weight > 0) || r.QoS < 0 {
			add("request %s: weight must be positive and qos_p99 not negative", r.Name)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if err := t.checkCertainCycles(); err != nil {
		return err
	}
	if _, err := t.VisitRates(1); err != nil {
		return err
	}
	return nil
}

func (d Dist) validate() error {
	switch d.Dist {
	case DistExp, DistConst:
		if d.Mean < 0 {
			return errors.New("mean must not be negative")
		}
	case DistLognormal:
		if d.Mean <= 0 || d.CV < 0 {
			return errors.New("lognormal needs a positive mean and a non-negative cv")
		}
	case DistUniform:
		if d.Min < 0 || d.Max < d.Min {
			return errors.New("uniform needs 0 <= min <= max")
		}
	default:
		return fmt.Errorf("unknown dist %q", d.Dist)
	}
	return nil
}

// walkCalls calls fc for every call of steps (depth first, on_miss
// included) and fs for every step.
func walkCalls(steps []Step, fc func(*Call), fs func(Step)) {
	for _, st := range steps {
		if fs != nil {
			fs(st)
		}
		calls := st.Parallel
		if st.Call != nil {
			calls = []*Call{st.Call}
		}
		for _, c := range calls {
			fc(c)
			if c != nil {
				walkCalls(c.OnMiss, fc, fs)
			}
		}
	}
}

// checkCertainCycles refuses a cycle of calls made with probability 1 (not
// behind a cache miss): it would recurse forever.
func (t *Topology) checkCertainCycles() error {
	type key struct{ s, o string }
	certain := map[key][]key{}
	for _, s := range t.Services {
		for _, o := range s.Operations {
			for _, st := range o.Calls {
				calls := st.Parallel
				if st.Call != nil {
					calls = []*Call{st.Call}
				}
				for _, c := range calls {
					if c.Prob() == 1 {
						certain[key{s.Name, o.Name}] = append(certain[key{s.Name, o.Name}], key{c.Service, c.Op})
					}
				}
			}
		}
	}
	state := map[key]int{}
	var visit func(k key) error
	visit = func(k key) error {
		switch state[k] {
		case 1:
			return fmt.Errorf("operation %s.%s calls itself through a cycle of calls made with probability 1", k.s, k.o)
		case 2:
			return nil
		}
		state[k] = 1
		for _, n := range certain[k] {
			if err := visit(n); err != nil {
				return err
			}
		}
		state[k] = 2
		return nil
	}
	for _, s := range t.Services {
		for _, o := range s.Operations {
			if err := visit(key{s.Name, o.Name}); err != nil {
				return err
			}
		}
	}
	return nil
}
