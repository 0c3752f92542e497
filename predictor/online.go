package predictor

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// RawTick is one tick of live series aggregated per service (not instance)
// into the raw quantities a Trace holds, by the same code as LoadTrace.
type RawTick struct {
	Start, End time.Time
	Services   []string  // sorted names
	raw        []float32 // [service][numRaw]
}

// NewRawTick aggregates a Batch per service. Live series carry no worker
// counts, so utilization is 0 (it is no model feature).
func NewRawTick(b series.Batch) RawTick {
	acc := map[string]*rawAccum{}
	for i := range b.Samples {
		x := &b.Samples[i]
		a := acc[x.Service]
		if a == nil {
			a = &rawAccum{}
			acc[x.Service] = a
		}
		a.add(x, 0)
	}
	rt := RawTick{Start: b.Start, End: b.End, Services: make([]string, 0, len(acc))}
	for s := range acc {
		rt.Services = append(rt.Services, s)
	}
	slices.Sort(rt.Services)
	rt.raw = make([]float32, len(rt.Services)*numRaw)
	for i, s := range rt.Services {
		acc[s].put(rt.raw[i*numRaw : (i+1)*numRaw])
	}
	return rt
}

// Raw returns raw quantity q (LoadTrace's order) of service index s.
func (rt *RawTick) Raw(s, q int) float32 { return rt.raw[s*numRaw+q] }

// Value returns a named feature (FeatureNames) of a service, and false when
// the service has no sample in the tick.
func (rt *RawTick) Value(service, feature string) (float32, bool) {
	s, ok := slices.BinarySearch(rt.Services, service)
	q := slices.Index(FeatureNames, feature)
	if !ok || q < 0 {
		return 0, false
	}
	return rt.Raw(s, q), true
}

// TickOutput is a model's output for one tick.
type TickOutput struct {
	Start, End time.Time
	// Ready is false until the window is full; Probs are then zero, as
	// PredictTrace leaves the ticks before the first full window.
	Ready bool
	// Gap marks a tick no batch arrived for (read as empty, see Online).
	Gap bool
	// Probs are the model services' culprit probabilities, then the
	// end-to-end violation probability.
	Probs []float32
}

// Online serves a model on live ticks: it keeps the last Window ticks of
// the model services' normalised features and runs the model on each new
// tick (batch 1). It computes exactly what PredictTrace computes on a trace
// of the same ticks: features by the same aggregation (rawAccum) and
// normalisation (Norm.apply), windows by Matrix.Im2col.
//
// Live rules, where a live stream differs from a stored trace:
//   - A model service with no sample in a tick reads raw 0 (as a trace's
//     service with no record at a tick) once it has been seen since the
//     Online started; before that it reads normalised 0, its training mean
//     (as a service absent from a whole trace). Offline "absent" means
//     absent from the whole trace, so the two agree when every model
//     service appears from the first tick or never.
//   - A tick no batch arrived for (a gap) reads as a tick with no samples.
//     At most Window gap ticks are predicted: after that the window holds
//     only empty ticks and the output no longer changes until data returns.
//   - A batch that starts before the end of the previous one is refused.
//
// An Online is not safe for concurrent use.
type Online struct {
	model  *Model
	runner *Runner
	shape  Shape
	feats  []int // raw index per model feature
	mat    *Matrix
	seen   []bool
	filled int       // ticks in the window
	next   time.Time // start of the tick after the last one
	tick   time.Duration
	row    []float32
	x      []float32
}

// ErrTickOrder is returned by Online for a batch older than the last one.
var ErrTickOrder = errors.New("predictor: tick starts before the previous one ended")

// NewOnline serves m through r (a Runner of m.Params).
func NewOnline(m *Model, r *Runner) (*Online, error) {
	idx, err := featureIndex(m.Card.Features.Features)
	if err != nil {
		return nil, err
	}
	s := m.Card.Shape
	if s != r.Shape() || len(m.Card.Features.Services) != s.Services || len(idx) != s.Features {
		return nil, fmt.Errorf("predictor: model card and runner disagree on the shape (%+v, %+v)", s, r.Shape())
	}
	nS, nF := s.Services, s.Features
	return &Online{
		model: m, runner: r, shape: s, feats: idx,
		mat:  &Matrix{Ticks: s.Window, Services: nS, Features: nF, V: make([]float32, s.Window*nS*nF)},
		seen: make([]bool, nS), tick: time.Duration(m.Card.TickMs) * time.Millisecond,
		row: make([]float32, nS*nF),
	}, nil
}

// Observe adds a tick to the window without running the model (to prime a
// new model with recent history). Gaps are filled as by Push.
func (o *Online) Observe(rt *RawTick) error {
	_, err := o.push(rt, false)
	return err
}

// Push adds a tick and returns the outputs of every tick it closes: the
// gap ticks before it (at most Window) and then the tick itself. After a
// failed inference it returns the error alone (the caller serves the tick
// otherwise); the window has moved on to the tick all the same.
func (o *Online) Push(rt *RawTick) ([]TickOutput, error) { return o.push(rt, true) }

func (o *Online) push(rt *RawTick, predict bool) ([]TickOutput, error) {
	if !o.next.IsZero() && rt.Start.Before(o.next) {
		return nil, fmt.Errorf("%w: %v < %v", ErrTickOrder, rt.Start, o.next)
	}
	tick := o.tick
	if tick <= 0 {
		tick = rt.End.Sub(rt.Start)
	}
	var out []TickOutput
	var err error // the first failed inference: the window still moves on
	if !o.next.IsZero() && tick > 0 {
		gaps := int(rt.Start.Sub(o.next) / tick)
		skip := max(gaps-o.shape.Window, 0)
		for g := skip; g < gaps; g++ {
			start := o.next.Add(time.Duration(g) * tick)
			o.shift(nil)
			if predict && err == nil {
				var p TickOutput
				p, err = o.predict(start, start.Add(tick))
				p.Gap = true
				out = append(out, p)
			}
		}
	}
	o.shift(rt)
	o.next = rt.End
	if !predict || err != nil {
		return nil, err
	}
	p, err := o.predict(rt.Start, rt.End)
	if err != nil {
		return nil, err
	}
	return append(out, p), nil
}

// shift moves the window on by one tick holding rt (nil: a gap).
func (o *Online) shift(rt *RawTick) {
	fs := &o.model.Card.Features
	nF := len(o.feats)
	for si, svc := range fs.Services {
		j, ok := -1, false
		if rt != nil {
			j, ok = slices.BinarySearch(rt.Services, svc)
		}
		if ok {
			o.seen[si] = true
		}
		for fi, q := range o.feats {
			v := float32(0) // never seen: normalised 0, as a service absent from a trace
			switch {
			case ok:
				v = fs.Norms[si][fi].apply(rt.Raw(j, q))
			case o.seen[si]:
				v = fs.Norms[si][fi].apply(0)
			}
			o.row[si*nF+fi] = v
		}
	}
	n := len(o.row)
	copy(o.mat.V, o.mat.V[n:])
	copy(o.mat.V[len(o.mat.V)-n:], o.row)
	o.filled = min(o.filled+1, o.shape.Window)
}

// Warm runs the model once more on the window of the last inference and
// discards the result: it changes nothing, and brings the serving path
// (compiled code, weights, buffers) back into the caches after another
// process (training) has evicted it. It does nothing before the first
// inference.
func (o *Online) Warm() error {
	if len(o.x) == 0 {
		return nil
	}
	_, err := o.runner.Predict(o.x, 1)
	return err
}

func (o *Online) predict(start, end time.Time) (TickOutput, error) {
	out := TickOutput{Start: start, End: end}
	if o.filled < o.shape.Window {
		out.Probs = make([]float32, o.shape.Outputs())
		return out, nil
	}
	o.x = o.mat.Im2col(o.x[:0], o.shape, o.shape.Window-1)
	probs, err := o.runner.Predict(o.x, 1)
	if err != nil {
		return out, err
	}
	out.Ready, out.Probs = true, probs
	return out, nil
}

// rawTickWire is the encoding of a RawTick.
type rawTickWire struct {
	Start, End time.Time
	Services   []string
	Raw        []float32
}

// GobEncode encodes the tick, so that live history can be handed to a
// training process.
func (rt RawTick) GobEncode() ([]byte, error) {
	var buf bytes.Buffer
	err := gob.NewEncoder(&buf).Encode(rawTickWire{Start: rt.Start, End: rt.End, Services: rt.Services, Raw: rt.raw})
	return buf.Bytes(), err
}

// GobDecode decodes a tick written by GobEncode.
func (rt *RawTick) GobDecode(b []byte) error {
	var w rawTickWire
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&w); err != nil {
		return fmt.Errorf("predictor: decode tick: %w", err)
	}
	if len(w.Raw) != len(w.Services)*numRaw {
		return fmt.Errorf("predictor: decode tick: %d values for %d services, want %d", len(w.Raw), len(w.Services), len(w.Services)*numRaw)
	}
	for i := 1; i < len(w.Services); i++ {
		if w.Services[i-1] >= w.Services[i] {
			return fmt.Errorf("predictor: decode tick: services %q, %q not in strictly increasing order", w.Services[i-1], w.Services[i])
		}
	}
	for i, v := range w.Raw {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			q := "utilization" // the raw quantity after the features
			if i%numRaw < len(FeatureNames) {
				q = FeatureNames[i%numRaw]
			}
			return fmt.Errorf("predictor: decode tick: service %s: %s is %v", w.Services[i/numRaw], q, v)
		}
	}
	*rt = RawTick{Start: w.Start, End: w.End, Services: w.Services, raw: w.Raw}
	return nil
}
