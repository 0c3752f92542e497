package sim

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
)

func TestParseFaultFlag(t *testing.T) {
	tests := []struct {
		spec    string
		want    dataset.Fault
		wantErr string
	}{
		{"kind=cpu,service=s,start=2s,ramp=1s,duration=3s,magnitude=1.5",
			dataset.Fault{Kind: "cpu", Service: "s", StartNs: 2e9, RampNs: 1e9, DurationNs: 3e9, Magnitude: 1.5}, ""},
		{"kind=network_delay,service=s,instance=s-1,start=1s,duration=1s,delay=5ms",
			dataset.Fault{Kind: "network_delay", Service: "s", Instance: "s-1", StartNs: 1e9, DurationNs: 1e9, Magnitude: 5e6}, ""},
		{"service=s", dataset.Fault{}, "kind is required"},
		{"kind=cpu,start=soon", dataset.Fault{}, "start"},
		{"kind=cpu,magnitude=x", dataset.Fault{}, "invalid syntax"},
		{"kind=cpu,speed=2", dataset.Fault{}, "unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseFaultFlag(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestScenarioApplies(t *testing.T) {
	sc, err := ParseScenario([]byte(`
seed: 9
duration: 30s
qos_min_requests: 400
load: {rate: 100, pattern: step, steps: [{at: 10s, rate: 300}]}
faults: [{kind: disk, service: post-storage-mongodb, start: 5s, duration: 10s, magnitude: 3}]
actions: [{kind: scale_out, at: 12s, service: post-storage-mongodb, count: 2}]
`))
	if err != nil {
		t.Fatal(err)
	}
	var cfg Config
	sc.Apply(&cfg)
	if cfg.Seed != 9 || cfg.Duration != 30*time.Second || cfg.QoSMinRequests != 400 || cfg.Load.Steps[0].Rate != 300 || cfg.Faults[0].StartNs != 5e9 ||
		cfg.Actions[0].Count != 2 || cfg.Actions[0].Delay >= 0 {
		t.Fatalf("config %+v", cfg)
	}
	if _, err := ParseScenario([]byte("load: {rate: 1, burst: 2}")); err == nil {
		t.Fatal("unknown field accepted")
	}
}

func TestConfigValidation(t *testing.T) {
	topo := socialNetwork(t)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no duration", Config{Topology: topo, Load: Load{Rate: 1}}, "duration"},
		{"no rate", Config{Topology: topo, Duration: time.Second}, "rate"},
		{"unknown fault kind", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1}, Faults: []dataset.Fault{{Kind: "gremlins", Service: "nginx"}}}, "unknown kind"},
		{"code fault not simulated", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1}, Faults: []dataset.Fault{{Kind: dataset.FaultCodeError, Service: "nginx"}}}, "not simulated"},
		{"unknown instance", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1}, Faults: []dataset.Fault{{Kind: "cpu", Service: "nginx", Instance: "nginx-7"}}}, "unknown instance"},
		{"loss above 1", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1}, Faults: []dataset.Fault{{Kind: "network_loss", Service: "nginx", Magnitude: 2}}}, "fraction"},
		{"negative qos min requests", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1}, QoSMinRequests: -1}, "qos min requests"},
		{"bad pattern", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1, Pattern: "sawtooth"}}, "unknown pattern"},
		{"bad action", Config{Topology: topo, Duration: time.Second, Load: Load{Rate: 1}, Actions: []Action{{Kind: "reboot", Service: "nginx"}}}, "unknown kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Run(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestScenarioDocExample parses the example of SCENARIO.md and checks it is
// a valid run on Social Network with the values it documents.
func TestScenarioDocExample(t *testing.T) {
	doc, err := os.ReadFile("SCENARIO.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := bytes.Cut(doc, []byte("```yaml\n"))
	if !ok {
		t.Fatal("SCENARIO.md has no yaml block")
	}
	block, _, _ := bytes.Cut(rest, []byte("```"))
	sc, err := ParseScenario(block)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Topology: socialNetwork(t)}
	sc.Apply(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Seed != 7 || cfg.Duration != 10*time.Minute || cfg.Tick != 100*time.Millisecond || len(cfg.Load.Steps) != 2 ||
		cfg.QoSMinRequests != 500 || len(cfg.Faults) != 2 || cfg.Faults[1].Magnitude != float64(3*time.Millisecond) || len(cfg.Actions) != 2 || cfg.Actions[0].Delay != 5*time.Second {
		t.Fatalf("config %+v", cfg)
	}
}

func TestRunToDatasetRefusesABadRunBeforeWriting(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	cfg := Config{Topology: socialNetwork(t), Duration: time.Second, Load: Load{Rate: 1}, Faults: []dataset.Fault{{Kind: "gremlins", Service: "nginx"}}}
	if _, err := RunToDataset(cfg, DatasetOptions{Dir: dir}); err == nil || !strings.Contains(err.Error(), "unknown kind") {
		t.Fatalf("error %v, want one containing %q", err, "unknown kind")
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("%s created for a refused run (stat: %v)", dir, err)
	}
}
