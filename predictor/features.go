package predictor

import (
	"fmt"
	"math"
	"slices"
)

// Norm standardises one feature of one service: (log1p(x) - Mean) / Std.
type Norm struct {
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"`
}

// FeatureSet says which raw features feed the model and how each service's
// values are normalised. Services are the model's inputs, by name.
type FeatureSet struct {
	Services []string `json:"services"`
	Features []string `json:"features"`
	// Norms[s][f] for Services[s], Features[f].
	Norms [][]Norm `json:"norms"`
}

// fits reports features and norms that do not make the inputs of shape s.
func (fs *FeatureSet) fits(s Shape) error {
	if len(fs.Features) != s.Features || len(fs.Norms) != s.Services {
		return fmt.Errorf("%d features and the norms of %d services, want %d and %d", len(fs.Features), len(fs.Norms), s.Features, s.Services)
	}
	if _, err := featureIndex(fs.Features); err != nil {
		return err
	}
	seen := make(map[string]bool, len(fs.Services))
	for _, svc := range fs.Services {
		if svc == "" || seen[svc] {
			return fmt.Errorf("service %q is empty or listed twice", svc)
		}
		seen[svc] = true
	}
	for i, n := range fs.Norms {
		if len(n) != s.Features {
			return fmt.Errorf("service %s has the norms of %d features, want %d", fs.Services[i], len(n), s.Features)
		}
		for f, x := range n {
			// FitFeatures floors the deviation at 0.1; 0 or less would
			// make every input of the feature infinite or NaN.
			if !(x.Std > 0) || math.IsInf(x.Std, 0) || math.IsInf(x.Mean, 0) {
				return fmt.Errorf("service %s feature %s: norm %+v (the deviation must be positive and both finite)", fs.Services[i], fs.Features[f], x)
			}
		}
	}
	return nil
}

// featureIndex maps feature names to raw indices.
func featureIndex(names []string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		j := slices.Index(FeatureNames, n)
		if j < 0 {
			return nil, fmt.Errorf("predictor: unknown feature %q (known: %v)", n, FeatureNames)
		}
		out[i] = j
	}
	return out, nil
}

// FitFeatures fits per-service normalisation on traces for the union of
// their services.
func FitFeatures(traces []*Trace, features []string) (*FeatureSet, error) {
	idx, err := featureIndex(features)
	if err != nil {
		return nil, err
	}
	var services []string
	for _, tr := range traces {
		for _, s := range tr.Services {
			if !slices.Contains(services, s) {
				services = append(services, s)
			}
		}
	}
	slices.Sort(services)
	fs := &FeatureSet{Services: services, Features: features, Norms: make([][]Norm, len(services))}
	for si, svc := range services {
		fs.Norms[si] = make([]Norm, len(idx))
		for fi, q := range idx {
			var n, sum, sq float64
			for _, tr := range traces {
				s := slices.Index(tr.Services, svc)
				if s < 0 {
					continue
				}
				for t := range tr.Ticks {
					v := math.Log1p(float64(tr.Raw(t, s, q)))
					n++
					sum += v
					sq += v * v
				}
			}
			mean := sum / math.Max(n, 1)
			std := math.Sqrt(math.Max(sq/math.Max(n, 1)-mean*mean, 0))
			fs.Norms[si][fi] = Norm{Mean: mean, Std: math.Max(std, 0.1)}
		}
	}
	return fs, nil
}

// Matrix is a trace normalised for a model: [tick][model service][feature].
type Matrix struct {
	Ticks, Services, Features int
	V                         []float32
}

// Normalize lays a trace out in the model's service order: a model service
// the trace lacks reads 0 (its training mean); services the model does not
// know are dropped.
func (fs *FeatureSet) Normalize(tr *Trace) (*Matrix, error) {
	idx, err := featureIndex(fs.Features)
	if err != nil {
		return nil, err
	}
	nS, nF := len(fs.Services), len(idx)
	m := &Matrix{Ticks: tr.Ticks, Services: nS, Features: nF, V: make([]float32, tr.Ticks*nS*nF)}
	for si, svc := range fs.Services {
		s := slices.Index(tr.Services, svc)
		if s < 0 {
			continue
		}
		for fi, q := range idx {
			nm := fs.Norms[si][fi]
			for t := range tr.Ticks {
				m.V[(t*nS+si)*nF+fi] = nm.apply(tr.Raw(t, s, q))
			}
		}
	}
	return m, nil
}

// Im2col appends to dst the window ending at tick t (ticks t-window+1..t,
// earlier than 0 read as 0) laid out for the graph: [step][service][k*F+f]
// = value at tick (t-window+1+step+k).
func (m *Matrix) Im2col(dst []float32, s Shape, t int) []float32 {
	first := t - s.Window + 1
	for step := range s.Steps() {
		for svc := range m.Services {
			for k := range s.Kernel {
				tick := first + step + k
				if tick < 0 {
					dst = append(dst, make([]float32, m.Features)...)
					continue
				}
				o := (tick*m.Services + svc) * m.Features
				dst = append(dst, m.V[o:o+m.Features]...)
			}
		}
	}
	return dst
}

// apply normalises one raw value; FeatureSet.Normalize and live serving
// (Online) both use it.
func (n Norm) apply(raw float32) float32 {
	return float32((math.Log1p(float64(raw)) - n.Mean) / n.Std)
}
