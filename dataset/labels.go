package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Fault kinds.
const (
	FaultCPU          = "cpu"           // CPU contention: compute slows down
	FaultMemory       = "memory"        // memory-bandwidth / cache contention
	FaultNetworkDelay = "network_delay" // extra one-way delay into the target
	FaultNetworkLoss  = "network_loss"  // requests into the target are lost
	FaultDisk         = "disk"          // disk I/O contention: I/O time slows down
	FaultBlocking     = "blocking"      // blocking bug: concurrency collapses
	FaultCacheFailure = "cache_failure" // cache misses: load falls through to storage
	FaultLoadSurge    = "load_surge"    // offered load rises
	FaultCodeError    = "code_error"    // the target answers with a wrong value or an error (replay only; the simulator does not model it)
)

// FaultKinds lists every fault kind.
var FaultKinds = []string{FaultCPU, FaultMemory, FaultNetworkDelay, FaultNetworkLoss, FaultDisk, FaultBlocking, FaultCacheFailure, FaultLoadSurge, FaultCodeError}

// Fault is one injected fault: the ground truth behind violations. Its
// intensity rises linearly from 0 at StartNs to Magnitude at
// StartNs+RampNs, holds, and stops at StartNs+RampNs+DurationNs (or at
// EndedNs when an action removed it earlier).
type Fault struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Service is the culprit; empty only for a load surge on every entry.
	Service string `json:"service,omitempty"`
	// Instance is the culprit instance; empty means every instance.
	Instance   string `json:"instance,omitempty"`
	StartNs    int64  `json:"start_ns"`
	RampNs     int64  `json:"ramp_ns"`
	DurationNs int64  `json:"duration_ns"`
	// Magnitude is kind-specific: slow-down factor minus one (cpu, memory,
	// disk), extra delay in ns (network_delay), loss probability
	// (network_loss), remaining fraction of workers (blocking), fraction of
	// hits lost (cache_failure), extra load as a fraction (load_surge).
	Magnitude float64 `json:"magnitude"`
	// EndedNs is when the fault ended if an action removed it early.
	EndedNs int64 `json:"ended_ns,omitempty"`
	// SourceType is what the fault's source called it where that is finer
	// than Kind (a replay: Nezha's cpu_contention and cpu_consumed are both
	// kind cpu); empty otherwise.
	SourceType string `json:"source_type,omitempty"`
}

// EndNs is when the fault stops acting.
func (f *Fault) EndNs() int64 {
	end := f.StartNs + f.RampNs + f.DurationNs
	if f.EndedNs != 0 && f.EndedNs < end {
		return f.EndedNs
	}
	return end
}

// Violation is one interval in which the sliding-window p99 end-to-end
// latency of a request type was above its target.
type Violation struct {
	RequestType string `json:"request_type"`
	// StartNs is the end of the first tick whose window was above target;
	// EndNs the end of the first tick after it that was not.
	StartNs   int64 `json:"start_ns"`
	EndNs     int64 `json:"end_ns"`
	TargetNs  int64 `json:"target_ns"`
	PeakP99Ns int64 `json:"peak_p99_ns"`
	// FaultIDs are the faults acting in or shortly before the interval;
	// empty when none was (Cause "load" or "unknown").
	FaultIDs []string `json:"fault_ids"`
	// Culprits are the services (and instances) of those faults.
	Culprits []SeriesKey `json:"culprits"`
	// Cause is "fault", or "unknown" when no fault explains it.
	Cause string `json:"cause"`
}

// Action kinds.
const (
	ActionScaleOut         = "scale_out"
	ActionRemoveContention = "remove_contention"
)

// Action is one cluster-manager action.
type Action struct {
	Kind string `json:"kind"`
	// AtNs is when it was decided; EffectiveNs when it took effect.
	AtNs        int64  `json:"at_ns"`
	EffectiveNs int64  `json:"effective_ns"`
	Service     string `json:"service,omitempty"`
	Instance    string `json:"instance,omitempty"`
	// Count is the instances added (scale_out).
	Count int `json:"count,omitempty"`
	// FaultIDs are the faults removed (remove_contention).
	FaultIDs []string `json:"fault_ids,omitempty"`
	// Origin says who decided: "scenario" or a controller's name.
	Origin string `json:"origin,omitempty"`
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeJSON(dir, name string, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// DecodeFaults parses faults.json.
func DecodeFaults(b []byte) ([]Fault, error) {
	var fs []Fault
	if err := json.Unmarshal(b, &fs); err != nil {
		return nil, fmt.Errorf("decode faults: %w", err)
	}
	var errs []error
	for i := range fs {
		f := &fs[i]
		if f.ID == "" {
			errs = append(errs, fmt.Errorf("fault %d: empty id", i))
		}
		if !knownKind(f.Kind) {
			errs = append(errs, fmt.Errorf("fault %q: unknown kind %q", f.ID, f.Kind))
		}
		if f.RampNs < 0 || f.DurationNs < 0 {
			errs = append(errs, fmt.Errorf("fault %q: negative ramp or duration", f.ID))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("decode faults: %w", err)
	}
	return fs, nil
}

func knownKind(k string) bool {
	for _, x := range FaultKinds {
		if x == k {
			return true
		}
	}
	return false
}

// DecodeViolations parses violations.json.
func DecodeViolations(b []byte) ([]Violation, error) {
	var vs []Violation
	if err := json.Unmarshal(b, &vs); err != nil {
		return nil, fmt.Errorf("decode violations: %w", err)
	}
	for i := range vs {
		if vs[i].EndNs < vs[i].StartNs {
			return nil, fmt.Errorf("decode violations: violation %d ends (%d) before it starts (%d)", i, vs[i].EndNs, vs[i].StartNs)
		}
	}
	return vs, nil
}

// DecodeActions parses actions.json.
func DecodeActions(b []byte) ([]Action, error) {
	var as []Action
	if err := json.Unmarshal(b, &as); err != nil {
		return nil, fmt.Errorf("decode actions: %w", err)
	}
	return as, nil
}
