package predictor

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
)

// Combine makes one model of members trained on one split (seer train with
// one --seed and different --init-seed): their networks run as one graph
// and their probabilities are averaged (ensembleGraph); measured, it ranks
// culprits about one point better than its members' mean, not better than
// its best member (predictor/README.md). Members trained on fault labels
// (TrainReport.Labels) have traces labelled the same way (LabelFaults, in
// place). The baselines are calibrated again on the members' training
// traces, and the warning threshold set and the validation figures computed
// again on their validation traces; traces must hold both (found by
// directory). The members must share everything but their initialisation:
// features and their scaling, shape, call graph, horizon, tick and split.
func Combine(members []*Model, traces []*Trace, backend string) (*Model, error) {
	if len(members) < 2 {
		return nil, fmt.Errorf("predictor: combine: need at least 2 members, got %d", len(members))
	}
	first := members[0].Card
	if first.Validation == nil {
		return nil, errors.New("predictor: combine: member 1 has no validation figures")
	}
	seeds := map[uint64]int{}
	for i, m := range members {
		c := m.Card
		if c.Shape.members() > 1 {
			return nil, fmt.Errorf("predictor: combine: member %d is already an ensemble of %d", i+1, c.Shape.Members)
		}
		if err := sameSplit(first, c); err != nil {
			return nil, fmt.Errorf("predictor: combine: member %d differs from member 1: %w", i+1, err)
		}
		seed := c.Train.Seed
		if c.Train.InitSeed != 0 {
			seed = c.Train.InitSeed
		}
		if j, ok := seeds[seed]; ok {
			return nil, fmt.Errorf("predictor: combine: members %d and %d have the same initialisation seed %d", j+1, i+1, seed)
		}
		seeds[seed] = i
	}
	if first.Train.Labels == LabelsFaults {
		// As the members learnt: the same labels for the baselines, the
		// threshold and the validation figures.
		LabelFaults(traces, first.Train.LabelKinds)
	}
	trainT, err := tracesByDir(traces, first.Train.TrainTraces)
	if err != nil {
		return nil, err
	}
	valT, err := tracesByDir(traces, first.Train.ValTraces)
	if err != nil {
		return nil, err
	}
	shape := first.Shape
	shape.Members = len(members)
	p := &Params{Shape: shape, Graph: members[0].Params.Graph}
	card := first
	card.Shape = shape
	card.Members = nil
	for _, m := range members {
		p.Tensors = append(p.Tensors, m.Params.Tensors...)
		r := m.Card.Train
		r.TrainTraces, r.ValTraces = nil, nil
		card.Members = append(card.Members, r)
	}
	b, _, err := OpenBackend(backend)
	if err != nil {
		return nil, err
	}
	model := &Model{Card: card, Params: p}
	ecfg := EvalConfig{HorizonNs: card.HorizonMs * 1e6, MinLeadNs: int64(math.Round(first.Validation.MinLeadMs * 1e6)), FirstTick: shape.Window - 1}
	// The baselines again rather than a member's: members trained before a
	// baseline was added lack it.
	if err := model.calibrate(b, trainT, valT, ecfg, first.Train.ThresholdOnFPR); err != nil {
		return nil, fmt.Errorf("predictor: combine: %w", err)
	}
	return model, nil
}

// tracesByDir returns the traces of dirs, in that order.
func tracesByDir(traces []*Trace, dirs []string) ([]*Trace, error) {
	out := make([]*Trace, 0, len(dirs))
	for _, dir := range dirs {
		i := slices.IndexFunc(traces, func(t *Trace) bool { return t.Dir == dir })
		if i < 0 {
			return nil, fmt.Errorf("predictor: combine: the members' dataset %s is not in the data (pass the data they were trained on, named the same way)", dir)
		}
		out = append(out, traces[i])
	}
	return out, nil
}

// sameSplit reports how card b's model cannot join card a's in an
// ensemble: anything that makes them read inputs differently or be
// validated on other traces.
func sameSplit(a, b Card) error {
	switch {
	case a.Train.Seed != b.Train.Seed || !slices.Equal(a.Train.ValTraces, b.Train.ValTraces) ||
		!slices.Equal(a.Train.TrainTraces, b.Train.TrainTraces):
		return fmt.Errorf("split of seed %d, want the split of seed %d (train members with the same --seed)", b.Train.Seed, a.Train.Seed)
	case a.Shape != b.Shape:
		return fmt.Errorf("shape %+v, want %+v", b.Shape, a.Shape)
	case !reflect.DeepEqual(a.Features, b.Features):
		return errors.New("features or their scaling differ (trained on other data or another split?)")
	case !slices.Equal(a.CallGraph, b.CallGraph) || a.Fingerprint != b.Fingerprint:
		return errors.New("call graph differs")
	case a.HorizonMs != b.HorizonMs || a.TickMs != b.TickMs:
		return fmt.Errorf("horizon %d ms and tick %d ms, want %d and %d", b.HorizonMs, b.TickMs, a.HorizonMs, a.TickMs)
	case a.Train.Labels != b.Train.Labels || !slices.Equal(a.Train.LabelKinds, b.Train.LabelKinds):
		return fmt.Errorf("labels %q of kinds %v, want %q of kinds %v", b.Train.Labels, b.Train.LabelKinds, a.Train.Labels, a.Train.LabelKinds)
	case a.Train.ThresholdOnFPR != b.Train.ThresholdOnFPR:
		return fmt.Errorf("false-positive budget %v, want %v", b.Train.ThresholdOnFPR, a.Train.ThresholdOnFPR)
	}
	return nil
}
