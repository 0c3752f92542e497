package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

func runSeer(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

func TestSimWritesADataset(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ds")
	scenario := filepath.Join(t.TempDir(), "s.yaml")
	writeFile(t, scenario, `
seed: 3
duration: 4s
qos_min_requests: 300
load: {rate: 1000, pattern: burst, period: 2s, burst_length: 500ms, burst_factor: 2}
faults:
  - {kind: network_delay, service: home-timeline-redis, start: 1s, duration: 2s, delay: 20ms}
`)
	// Flags given explicitly win over the scenario.
	out, err := runSeer(t, "sim", "--scenario", scenario, "--out", dir, "--qos-min-requests", "200", "--burst-factor", "2.5",
		"--fault", "kind=cpu,service=text-service,start=1s,duration=1s,magnitude=2",
		"--action", "kind=scale_out,service=text-service,at=2s,count=1,delay=500ms")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ds, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := ds.Manifest
	if m.Seed != 3 || m.EndNs-m.StartNs != 4e9 || m.Topology != "social-network" || m.Params["pattern"] != "burst" || m.Counts.Faults != 2 ||
		m.Params["qos_min_requests"] != "200" || m.Params["burst_factor"] != "2.5" || m.Params["period"] != "2s" {
		t.Errorf("manifest %+v", m)
	}
	vs, err := ds.Violations()
	if err != nil || len(vs) == 0 || vs[0].Cause != "fault" {
		t.Errorf("violations %+v, %v; output:\n%s", vs, err, out)
	}
	as, err := ds.Actions()
	if err != nil || len(as) != 1 || as[0].Kind != dataset.ActionScaleOut {
		t.Errorf("actions %+v, %v", as, err)
	}
	if !strings.Contains(out, "spans per wall second") {
		t.Errorf("no summary in output:\n%s", out)
	}
	if _, err := runSeer(t, "sim", "--out", dir, "--duration", "1s"); err == nil {
		t.Error("overwrote a dataset without --overwrite")
	}
	if out, err := runSeer(t, "sim", "--out", dir, "--duration", "1s", "--overwrite"); err != nil {
		t.Errorf("--overwrite: %v\n%s", err, out)
	}
}

func TestSimRefusesBadInput(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"sim"}, "nothing to do"},
		{"unknown fault key", []string{"sim", "--out", t.TempDir(), "--fault", "kind=cpu,servce=x"}, "unknown key"},
		{"unknown service", []string{"sim", "--out", t.TempDir(), "--fault", "kind=cpu,service=nope,duration=1s"}, "unknown service"},
		{"unknown topology", []string{"sim", "--out", t.TempDir(), "--topology", "nope"}, "no built-in topology"},
		{"bad steps", []string{"sim", "--out", t.TempDir(), "--pattern", "step", "--steps", "x"}, "--steps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runSeer(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSimRandomAndListings(t *testing.T) {
	out, err := runSeer(t, "sim", "--list-topologies")
	if err != nil || !strings.Contains(out, "hotel-reservation") || !strings.Contains(out, "media-service") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = runSeer(t, "sim", "--random", "50", "--print-topology")
	if err != nil || !strings.Contains(out, "svc-000") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = runSeer(t, "sim", "--random", "50", "--duration", "2s", "--rate", "500", "--out", t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
