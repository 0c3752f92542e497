package sim

import (
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

func violatedTime(vs []dataset.Violation) time.Duration {
	var d int64
	for _, v := range vs {
		d += v.EndNs - v.StartNs
	}
	return time.Duration(d)
}

// contention is CPU contention on post-storage-service from 10s, full from
// 20s, until 35s.
var contention = []dataset.Fault{{Kind: dataset.FaultCPU, Service: "post-storage-service", StartNs: int64(10 * time.Second), RampNs: int64(10 * time.Second), DurationNs: int64(15 * time.Second), Magnitude: 1.5}}

func TestActionsReduceViolations(t *testing.T) {
	run := func(actions []Action) (*Result, map[string]int) {
		seen := map[string]int{}
		res, err := Run(Config{Topology: socialNetwork(t), Seed: 8, Duration: 45 * time.Second, Load: Load{Rate: 2000}, Faults: contention, Actions: actions,
			OnTick: func(start int64, ss []series.Sample) error {
				for _, s := range ss {
					if _, ok := seen[s.Instance]; !ok {
						seen[s.Instance] = int((start - DefaultStart) / int64(time.Second))
					}
				}
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		return res, seen
	}
	none, _ := run(nil)
	if violatedTime(none.Violations) == 0 {
		t.Fatal("no violation without action")
	}
	scaled, seen := run([]Action{{Kind: dataset.ActionScaleOut, At: 15 * time.Second, Service: "post-storage-service", Count: 2, Delay: 3 * time.Second}})
	removed, _ := run([]Action{{Kind: dataset.ActionRemoveContention, At: 18 * time.Second, Service: "post-storage-service"}})
	t.Logf("violated: no action %v, scale out %v, remove contention %v", violatedTime(none.Violations), violatedTime(scaled.Violations), violatedTime(removed.Violations))

	if at, ok := seen["post-storage-service-2"]; !ok || at != 18 {
		t.Errorf("scaled-out instance first seen at %ds (present %v), want 18s", at, ok)
	}
	if len(scaled.Actions) != 1 || scaled.Actions[0].EffectiveNs-scaled.Actions[0].AtNs != int64(3*time.Second) {
		t.Errorf("actions %+v", scaled.Actions)
	}
	if got := scaled.Services; len(got[8].Instances) != 3 || got[8].Name != "post-storage-service" {
		t.Errorf("services after scale out: %+v", got[8])
	}
	if len(removed.Actions) != 1 || len(removed.Actions[0].FaultIDs) != 1 || removed.Faults[0].EndedNs != DefaultStart+int64(18*time.Second) {
		t.Errorf("remove contention: actions %+v faults %+v", removed.Actions, removed.Faults)
	}
	if violatedTime(scaled.Violations) >= violatedTime(none.Violations)/2 || violatedTime(removed.Violations) >= violatedTime(none.Violations)/2 {
		t.Error("actions did not halve the violated time")
	}
}

// scaler scales post-storage-service out once its depth passes a threshold.
type scaler struct{ done bool }

func (s *scaler) OnTick(ctl *Control, _ int64, ss []series.Sample) {
	for _, x := range ss {
		if !s.done && x.Service == "post-storage-service" && x.MeanDepth > 20 {
			s.done = true
			if err := ctl.ScaleOut(x.Service, 1, time.Second); err != nil {
				panic(err)
			}
		}
	}
}

func TestControllerActs(t *testing.T) {
	res, err := Run(Config{Topology: socialNetwork(t), Seed: 8, Duration: 40 * time.Second, Load: Load{Rate: 2000}, Faults: contention, Controller: &scaler{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Actions) != 1 || res.Actions[0].Origin != "controller" || res.Actions[0].Kind != dataset.ActionScaleOut {
		t.Fatalf("actions %+v", res.Actions)
	}
}
