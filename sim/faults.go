package sim

import (
	"math"

	"github.com/seer-qos/seer/dataset"
)

// faultState is one fault and what it acts on.
type faultState struct {
	f     dataset.Fault
	insts []*instance // empty for a load surge
	types []*reqType  // load surge: the request types it raises
}

func (s *Sim) initFaults() {
	for _, f := range s.cfg.Faults {
		fs := &faultState{f: f}
		fs.f.StartNs += s.cfg.Start // Config faults are offsets from the start
		if f.Kind == dataset.FaultLoadSurge {
			for _, rt := range s.types {
				if f.Service == "" || rt.entry.svc.name == f.Service {
					fs.types = append(fs.types, rt)
				}
			}
		} else {
			for _, in := range s.byName[f.Service].all {
				if f.Instance == "" || in.name == f.Instance {
					fs.insts = append(fs.insts, in)
				}
			}
		}
		s.faults = append(s.faults, fs)
		for _, t := range []int64{fs.f.StartNs, fs.f.StartNs + fs.f.RampNs, fs.f.EndNs()} {
			if t >= s.cfg.Start && t <= s.end {
				s.q.push(event{t: t, kind: evControl, x: fs})
			}
		}
	}
}

// maxSurge bounds the extra load of the run's surges (for the arrival
// process's thinning), at least Config.surgeBound.
func (s *Sim) maxSurge() float64 {
	return max(surgeSum(s.cfg.Faults), s.cfg.surgeBound)
}

// surgeSum is the sum of the load surges' magnitudes.
func surgeSum(faults []dataset.Fault) float64 {
	m := 0.0
	for _, f := range faults {
		if f.Kind == dataset.FaultLoadSurge {
			m += f.Magnitude
		}
	}
	return m
}

// level is the fault's magnitude at now, after its ramp.
func (fs *faultState) level(now int64) float64 {
	f := &fs.f
	if now < f.StartNs || now >= f.EndNs() {
		return 0
	}
	if f.RampNs > 0 && now < f.StartNs+f.RampNs {
		return f.Magnitude * float64(now-f.StartNs) / float64(f.RampNs)
	}
	return f.Magnitude
}

// recomputeFaults sets every instance's fault effects for now.
func (s *Sim) recomputeFaults() {
	for _, fs := range s.faults {
		for _, in := range fs.insts {
			in.cpuM, in.memM, in.ioM, in.delay, in.loss, in.workerLoss, in.cacheMiss = 0, 0, 0, 0, 0, 0, 0
		}
		for _, rt := range fs.types {
			rt.surge = 0
		}
	}
	for _, fs := range s.faults {
		m := fs.level(s.now)
		if m == 0 {
			continue
		}
		for _, rt := range fs.types {
			rt.surge += m
		}
		for _, in := range fs.insts {
			switch fs.f.Kind {
			case dataset.FaultCPU:
				in.cpuM += m
			case dataset.FaultMemory:
				in.memM += m
			case dataset.FaultDisk:
				in.ioM += m
			case dataset.FaultNetworkDelay:
				in.delay += m
			case dataset.FaultNetworkLoss:
				in.loss = 1 - (1-in.loss)*(1-m)
			case dataset.FaultBlocking:
				in.workerLoss = math.Max(in.workerLoss, m)
			case dataset.FaultCacheFailure:
				in.cacheMiss = math.Max(in.cacheMiss, m)
			}
		}
	}
	for _, fs := range s.faults {
		for _, in := range fs.insts {
			s.setWorkers(in, max(1, int(math.Round(float64(in.svc.workers)*(1-in.workerLoss)))))
		}
	}
}

// setWorkers changes the effective pool; more workers start waiting visits.
func (s *Sim) setWorkers(in *instance, n int) {
	in.workers = n
	for in.busy < in.workers && in.waitW.size > 0 {
		w := in.waitW.pop()
		in.busy++
		w.holding = true
		s.startWork(w)
	}
}

func (s *Sim) faultRecords() []dataset.Fault {
	out := make([]dataset.Fault, 0, len(s.faults))
	for _, fs := range s.faults {
		out = append(out, fs.f)
	}
	return out
}
