package predictor

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
)

// Combine makes one model of members: their networks run as one graph and
// their probabilities are averaged (ensembleGraph).
//
// Without calibration traces, the members must have been trained on one
// split (seer train with one --seed and different --init-seed) and share
// everything but their initialisation: features and their scaling, shape,
// call graph, horizon, tick and split. Measured, such an ensemble ranks
// culprits about one point better than its members' mean, not better than
// its best member (predictor/README.md). The baselines are calibrated again
// on the members' training traces, and the warning threshold set and the
// validation figures computed again on their validation traces; traces must
// hold both (found by directory).
//
// With calibration traces, the members may come from different splits of
// the same data (each seed's own): each keeps its feature scaling
// (Card.MemberNorms; serving lays the inputs out once per member,
// inputLayout), the baselines are calibrated on the union of the members'
// training traces (in traces), and the threshold and the validation figures
// come from the calibration traces, which no member may have trained or
// validated on (by directory and by its last element). They must still
// share features, shape, call graph, horizon, tick, labels and budget.
//
// Members trained on fault labels (TrainReport.Labels) have traces labelled
// the same way (LabelFaults, in place).
func Combine(members []*Model, traces, calibration []*Trace, backend string) (*Model, error) {
	if len(members) < 2 {
		return nil, fmt.Errorf("predictor: combine: need at least 2 members, got %d", len(members))
	}
	first := members[0].Card
	if first.Validation == nil {
		return nil, errors.New("predictor: combine: member 1 has no validation figures")
	}
	split := len(calibration) > 0 // members of different splits allowed
	seeds := map[[2]uint64]int{}
	for i, m := range members {
		c := m.Card
		if c.Shape.members() > 1 {
			return nil, fmt.Errorf("predictor: combine: member %d is already an ensemble of %d", i+1, c.Shape.Members)
		}
		err := sameInputs(first, c)
		if err == nil && !split {
			err = sameSplit(first, c)
		}
		if err != nil {
			return nil, fmt.Errorf("predictor: combine: member %d differs from member 1: %w", i+1, err)
		}
		seed := c.Train.Seed
		if c.Train.InitSeed != 0 {
			seed = c.Train.InitSeed
		}
		key := [2]uint64{c.Train.Seed, seed}
		if j, ok := seeds[key]; ok {
			return nil, fmt.Errorf("predictor: combine: members %d and %d have the same split and initialisation seeds %d and %d", j+1, i+1, key[0], key[1])
		}
		seeds[key] = i
	}
	if first.Train.Labels == LabelsFaults {
		// As the members learnt: the same labels for the baselines, the
		// threshold and the validation figures.
		LabelFaults(traces, first.Train.LabelKinds)
		LabelFaults(calibration, first.Train.LabelKinds)
	}
	trainDirs, valDirs := first.Train.TrainTraces, first.Train.ValTraces
	if split {
		trainDirs, valDirs = nil, nil
		for _, m := range members {
			for _, d := range m.Card.Train.TrainTraces {
				if !slices.Contains(trainDirs, d) {
					trainDirs = append(trainDirs, d)
				}
			}
		}
		if len(trainDirs) == 0 {
			return nil, errors.New("predictor: combine: the members' cards list no training datasets to calibrate the baselines on")
		}
		for _, tr := range calibration {
			if tr.TickNs/1e6 != first.TickMs {
				return nil, fmt.Errorf("predictor: combine: calibration dataset %s has %d ms ticks, the members %d ms", tr.Dir, tr.TickNs/1e6, first.TickMs)
			}
			if i, dir := seenBy(members, tr.Dir); i >= 0 {
				return nil, fmt.Errorf("predictor: combine: calibration dataset %s: member %d trained or validated on %s", tr.Dir, i+1, dir)
			}
			valDirs = append(valDirs, tr.Dir)
		}
	}
	trainT, err := tracesByDir(traces, trainDirs)
	if err != nil {
		return nil, err
	}
	valT := calibration
	if !split {
		if valT, err = tracesByDir(traces, valDirs); err != nil {
			return nil, err
		}
	}
	shape := first.Shape
	shape.Members = len(members)
	p := &Params{Shape: shape, Graph: members[0].Params.Graph}
	card := first
	card.Shape = shape
	card.Members = nil
	card.Train.TrainTraces, card.Train.ValTraces = trainDirs, valDirs
	var norms [][][]Norm
	for _, m := range members {
		p.Tensors = append(p.Tensors, m.Params.Tensors...)
		norms = append(norms, m.Card.Features.Norms)
		r := m.Card.Train
		if !split {
			r.TrainTraces, r.ValTraces = nil, nil // the card's
		}
		card.Members = append(card.Members, r)
	}
	if p.Scales, err = memberScales(norms); err != nil {
		return nil, fmt.Errorf("predictor: combine: %w", err)
	}
	if p.Scales != nil {
		card.MemberNorms = norms
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

// seenBy returns the first member that trained or validated on dataset dir,
// and the name it knows it by: the same directory, or one with the same
// last element (the same dataset read from elsewhere); -1 for none.
func seenBy(members []*Model, dir string) (int, string) {
	for i, m := range members {
		for _, d := range append(slices.Clone(m.Card.Train.TrainTraces), m.Card.Train.ValTraces...) {
			if d == dir || filepath.Base(d) == filepath.Base(dir) {
				return i, d
			}
		}
	}
	return -1, ""
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

// sameSplit reports how card b's model was trained on another split than
// card a's, or reads its inputs in another scaling.
func sameSplit(a, b Card) error {
	switch {
	case a.Train.Seed != b.Train.Seed || !slices.Equal(a.Train.ValTraces, b.Train.ValTraces) ||
		!slices.Equal(a.Train.TrainTraces, b.Train.TrainTraces):
		return fmt.Errorf("split of seed %d, want the split of seed %d (train members with the same --seed, or pass calibration data)", b.Train.Seed, a.Train.Seed)
	case !reflect.DeepEqual(a.Features, b.Features):
		return errors.New("feature scaling differs (trained on other data?)")
	}
	return nil
}

// sameInputs reports how card b's model cannot join card a's in an
// ensemble whatever the split: anything that makes them read other inputs
// or warn on other terms.
func sameInputs(a, b Card) error {
	switch {
	case a.Shape != b.Shape:
		return fmt.Errorf("shape %+v, want %+v", b.Shape, a.Shape)
	case !slices.Equal(a.Features.Services, b.Features.Services) || !slices.Equal(a.Features.Features, b.Features.Features):
		return fmt.Errorf("services %v and features %v, want %v and %v", b.Features.Services, b.Features.Features, a.Features.Services, a.Features.Features)
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
