package sim

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/sim/topology"
)

// Scenario is the YAML description of a run besides the topology: load,
// faults and actions (see sim/SCENARIO.md). Durations are Go duration
// strings; times are offsets from the run's start.
type Scenario struct {
	Topology  string            `yaml:"topology,omitempty"`
	Seed      uint64            `yaml:"seed,omitempty"`
	Duration  topology.Duration `yaml:"duration,omitempty"`
	Tick      topology.Duration `yaml:"tick,omitempty"`
	QoSWindow topology.Duration `yaml:"qos_window,omitempty"`
	// QoSMinRequests is Config.QoSMinRequests.
	QoSMinRequests int              `yaml:"qos_min_requests,omitempty"`
	Load           ScenarioLoad     `yaml:"load"`
	Faults         []ScenarioFault  `yaml:"faults,omitempty"`
	Actions        []ScenarioAction `yaml:"actions,omitempty"`
}

// ScenarioLoad is Load in YAML.
type ScenarioLoad struct {
	Rate        float64            `yaml:"rate"`
	Pattern     string             `yaml:"pattern,omitempty"`
	Amplitude   float64            `yaml:"amplitude,omitempty"`
	Period      topology.Duration  `yaml:"period,omitempty"`
	BurstLength topology.Duration  `yaml:"burst_length,omitempty"`
	BurstFactor float64            `yaml:"burst_factor,omitempty"`
	Steps       []ScenarioStep     `yaml:"steps,omitempty"`
	Mix         map[string]float64 `yaml:"mix,omitempty"`
}

// ScenarioStep is Step in YAML.
type ScenarioStep struct {
	At   topology.Duration `yaml:"at"`
	Rate float64           `yaml:"rate"`
}

// ScenarioFault is one fault in YAML; for network_delay, magnitude may be
// given as delay instead.
type ScenarioFault struct {
	ID        string            `yaml:"id,omitempty"`
	Kind      string            `yaml:"kind"`
	Service   string            `yaml:"service,omitempty"`
	Instance  string            `yaml:"instance,omitempty"`
	Start     topology.Duration `yaml:"start"`
	Ramp      topology.Duration `yaml:"ramp,omitempty"`
	Duration  topology.Duration `yaml:"duration"`
	Magnitude float64           `yaml:"magnitude,omitempty"`
	Delay     topology.Duration `yaml:"delay,omitempty"`
}

// ScenarioAction is one Action in YAML.
type ScenarioAction struct {
	Kind     string             `yaml:"kind"`
	At       topology.Duration  `yaml:"at"`
	Service  string             `yaml:"service"`
	Instance string             `yaml:"instance,omitempty"`
	Count    int                `yaml:"count,omitempty"`
	Delay    *topology.Duration `yaml:"delay,omitempty"`
}

// ParseScenario decodes a scenario document; unknown fields are errors.
func ParseScenario(doc []byte) (*Scenario, error) {
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("parse scenario: %w", err)
	}
	return &s, nil
}

// LoadScenario reads a scenario file.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	return ParseScenario(b)
}

// Apply sets the fields of cfg that the scenario sets.
func (s *Scenario) Apply(cfg *Config) {
	if s.Seed != 0 {
		cfg.Seed = s.Seed
	}
	if s.Duration != 0 {
		cfg.Duration = s.Duration.D()
	}
	if s.Tick != 0 {
		cfg.Tick = s.Tick.D()
	}
	if s.QoSWindow != 0 {
		cfg.QoSWindow = s.QoSWindow.D()
	}
	if s.QoSMinRequests != 0 {
		cfg.QoSMinRequests = s.QoSMinRequests
	}
	l := s.Load
	if l.Rate != 0 {
		cfg.Load = Load{Rate: l.Rate, Pattern: l.Pattern, Amplitude: l.Amplitude, Period: l.Period.D(),
			BurstLength: l.BurstLength.D(), BurstFactor: l.BurstFactor, Mix: l.Mix}
		for _, st := range l.Steps {
			cfg.Load.Steps = append(cfg.Load.Steps, Step{At: st.At.D(), Rate: st.Rate})
		}
	}
	for _, f := range s.Faults {
		cfg.Faults = append(cfg.Faults, f.Fault())
	}
	for _, a := range s.Actions {
		cfg.Actions = append(cfg.Actions, a.Action())
	}
}

// Fault converts to a dataset.Fault with StartNs relative to the run.
func (f ScenarioFault) Fault() dataset.Fault {
	m := f.Magnitude
	if f.Kind == dataset.FaultNetworkDelay && f.Delay != 0 {
		m = float64(f.Delay)
	}
	return dataset.Fault{ID: f.ID, Kind: f.Kind, Service: f.Service, Instance: f.Instance,
		StartNs: int64(f.Start), RampNs: int64(f.Ramp), DurationNs: int64(f.Duration), Magnitude: m}
}

// Action converts to an Action.
func (a ScenarioAction) Action() Action {
	d := time.Duration(-1)
	if a.Delay != nil {
		d = a.Delay.D()
	}
	return Action{Kind: a.Kind, At: a.At.D(), Service: a.Service, Instance: a.Instance, Count: a.Count, Delay: d}
}

// ParseKV parses "k=v,k=v" into a map; keys must be among allowed.
func ParseKV(spec string, allowed ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, part := range strings.Split(spec, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k = strings.TrimSpace(k)
		if !ok {
			return nil, fmt.Errorf("%q: want key=value", part)
		}
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			sort.Strings(allowed)
			return nil, fmt.Errorf("unknown key %q (keys: %s)", k, strings.Join(allowed, ", "))
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

func durKey(m map[string]string, k string) (time.Duration, error) {
	v, ok := m[k]
	if !ok || v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", k, err)
	}
	return d, nil
}

// ParseFaultFlag parses "kind=cpu,service=s,instance=i,start=20s,ramp=5s,
// duration=30s,magnitude=2" (network_delay also takes delay=5ms).
func ParseFaultFlag(spec string) (dataset.Fault, error) {
	m, err := ParseKV(spec, "id", "kind", "service", "instance", "start", "ramp", "duration", "magnitude", "delay")
	if err != nil {
		return dataset.Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	var f ScenarioFault
	f.ID, f.Kind, f.Service, f.Instance = m["id"], m["kind"], m["service"], m["instance"]
	var errs []error
	for k, dst := range map[string]*topology.Duration{"start": &f.Start, "ramp": &f.Ramp, "duration": &f.Duration, "delay": &f.Delay} {
		d, err := durKey(m, k)
		errs = append(errs, err)
		*dst = topology.Duration(d)
	}
	if v, ok := m["magnitude"]; ok {
		f.Magnitude, err = strconv.ParseFloat(v, 64)
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return dataset.Fault{}, fmt.Errorf("fault %q: %w", spec, err)
	}
	if f.Kind == "" {
		return dataset.Fault{}, fmt.Errorf("fault %q: kind is required", spec)
	}
	return f.Fault(), nil
}

// ParseActionFlag parses "kind=scale_out,service=s,at=30s,count=1,delay=5s"
// or "kind=remove_contention,service=s,at=40s".
func ParseActionFlag(spec string) (Action, error) {
	m, err := ParseKV(spec, "kind", "service", "instance", "at", "count", "delay")
	if err != nil {
		return Action{}, fmt.Errorf("action %q: %w", spec, err)
	}
	a := Action{Kind: m["kind"], Service: m["service"], Instance: m["instance"], Delay: -1}
	if a.At, err = durKey(m, "at"); err != nil {
		return Action{}, fmt.Errorf("action %q: %w", spec, err)
	}
	if _, ok := m["delay"]; ok {
		if a.Delay, err = durKey(m, "delay"); err != nil {
			return Action{}, fmt.Errorf("action %q: %w", spec, err)
		}
	}
	if v, ok := m["count"]; ok {
		if a.Count, err = strconv.Atoi(v); err != nil {
			return Action{}, fmt.Errorf("action %q: count: %w", spec, err)
		}
	}
	return a, nil
}
