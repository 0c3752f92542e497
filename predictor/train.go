package predictor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"

	"github.com/seer-qos/seer/dataset"
)

// TrainConfig are the knobs of Train.
type TrainConfig struct {
	Features  []string
	Window    int
	Channels  int
	Hidden    int
	HorizonNs int64
	MinLeadNs int64
	Seed      uint64 // the split; also the initialisation and shuffling unless InitSeed is set
	// InitSeed, when not 0, seeds the initialisation and the shuffling in
	// place of Seed: models of one Seed and several InitSeeds share a split
	// (and so their feature scaling and validation traces), which is what
	// Combine needs to make them one ensemble. With InitSeed n a model
	// starts and shuffles as one trained with Seed n does.
	InitSeed uint64
	Epochs   int
	Patience int // epochs without a better validation loss before stopping
	Batch    int
	LR       float64
	// EMA is the decay per step of an exponential moving average of the
	// weights; validation scores the average and the model keeps it. 0
	// keeps the raw weights.
	EMA      float64
	ValFrac  float64 // share of traces (whole scenarios) held out for validation
	Stride   int     // train on every Stride-th tick (all violation-labelled ticks are kept)
	MaxFPR   float64 // the warning threshold and the baselines are set for this FPR on validation/training
	Backend  string
	Progress io.Writer // progress bar, nil for none
	// Init, when set, starts from these weights (incremental retraining).
	Init *Params
	// LabelKinds, when not nil, says the traces carry fault labels
	// (LabelFaults with these kinds; empty: all kinds) in place of their
	// violations; Train only records it in the card, for Combine.
	LabelKinds []string
}

// DefaultTrainConfig returns the defaults of `seer train`.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{Features: []string{"depth", "latency", "arrivals", "latency_max", "network", "failed"}, Window: 16, Channels: 8, Hidden: 32,
		HorizonNs: 2e9, MinLeadNs: 1e8, Seed: 1, Epochs: 8, Patience: 2, Batch: 32, LR: 2e-3,
		ValFrac: 0.2, Stride: 4, MaxFPR: 0.04, Backend: BackendAuto}
}

// Validate reports an unusable configuration.
func (c *TrainConfig) Validate() error {
	var errs []error
	if len(c.Features) == 0 {
		errs = append(errs, errors.New("no features"))
	}
	if _, err := featureIndex(c.Features); err != nil {
		errs = append(errs, err)
	}
	if c.EMA < 0 || c.EMA >= 1 {
		errs = append(errs, fmt.Errorf("ema decay %v must be in [0, 1)", c.EMA))
	}
	if c.Epochs < 1 || c.Batch < 1 || c.Stride < 1 || c.Patience < 1 {
		errs = append(errs, fmt.Errorf("epochs %d, batch %d, stride %d and patience %d must be positive",
			c.Epochs, c.Batch, c.Stride, c.Patience))
	}
	if !(c.LR > 0) {
		errs = append(errs, fmt.Errorf("learning rate %v must be positive", c.LR))
	}
	if !(c.ValFrac > 0 && c.ValFrac < 1) {
		errs = append(errs, fmt.Errorf("validation fraction %v must be in (0,1)", c.ValFrac))
	}
	if c.HorizonNs <= 0 || c.MinLeadNs < 0 || c.MinLeadNs >= c.HorizonNs {
		errs = append(errs, fmt.Errorf("need 0 <= min lead (%v) < horizon (%v)",
			time.Duration(c.MinLeadNs), time.Duration(c.HorizonNs)))
	}
	return errors.Join(errs...)
}

// TrainReport is the training part of a model card.
type TrainReport struct {
	Backend        BackendInfo `json:"backend"`
	Seed           uint64      `json:"seed"`
	InitSeed       uint64      `json:"init_seed,omitempty"` // absent: Seed
	TrainTraces    []string    `json:"train_traces"`
	ValTraces      []string    `json:"validation_traces"`
	Samples        int         `json:"samples"`
	Epochs         int         `json:"epochs"`
	BestEpoch      int         `json:"best_epoch"`
	TrainLoss      float64     `json:"train_loss"`
	ValLoss        float64     `json:"validation_loss"`
	SamplesPerSec  float64     `json:"samples_per_sec"`
	Seconds        float64     `json:"seconds"`
	WeightsCount   int         `json:"weights"`
	ThresholdOnFPR float64     `json:"threshold_max_fpr"`
	// EMA is the decay of the weights' moving average the model keeps; 0
	// (absent) for the raw weights.
	EMA float64 `json:"ema,omitempty"`
	// Labels is "faults" when the model learnt from fault labels
	// (LabelFaults of LabelKinds, all kinds when empty), absent for the
	// datasets' violations.
	Labels     string   `json:"labels,omitempty"`
	LabelKinds []string `json:"label_kinds,omitempty"`
}

// LabelsFaults is TrainReport.Labels of a model trained on fault labels.
const LabelsFaults = "faults"

type sample struct{ trace, tick int }

// batcher lays out batches of windows, labels and loss weights.
type batcher struct {
	shape     Shape
	mats      []*Matrix
	labels    []Labels
	services  []string
	posWeight float64
	layout    *inputLayout
	window    []float32 // scratch: the im2col windows before widening
}

// newBatcher normalises traces with features fs for a model whose inputs
// are laid out by l, labels them for the horizon, and lists the samples: every
// stride-th full-window tick and every violation-labelled one. The positive
// weight is the samples' negative/positive ratio, in [1, 20].
func newBatcher(fs *FeatureSet, l *inputLayout, ts []*Trace, horizonNs int64, stride int) (*batcher, []sample, error) {
	s := l.shape
	b := &batcher{shape: s, services: fs.Services, layout: l}
	var samples []sample
	pos := 0
	for i, tr := range ts {
		m, err := fs.Normalize(tr)
		if err != nil {
			return nil, nil, err
		}
		l := tr.Labels(horizonNs)
		b.mats, b.labels = append(b.mats, m), append(b.labels, l)
		for t := s.Window - 1; t < tr.Ticks; t++ {
			if l.Violation[t] || t%stride == 0 {
				samples = append(samples, sample{i, t})
				if l.Violation[t] {
					pos++
				}
			}
		}
	}
	b.posWeight = math.Min(math.Max(float64(len(samples)-pos)/math.Max(float64(pos), 1), 1), 20)
	return b, samples, nil
}

// aheadWeight weighs the violation term of the ticks before an onset
// (Labels.Ahead) against those during an episode: long episodes hold most
// positive ticks, and they are the easy ones, while recall is decided on
// the few ticks before each onset.
const aheadWeight = 4

// fill lays out a batch: x the graph input (inputLayout), y the
// labels and wt the loss weights (see lossGraph). Violation: label 1 when
// an episode is under way within the horizon, weighted by the training
// negative/positive ratio (times aheadWeight before an onset), else label
// 0 with weight 1. Culprit: a uniform
// distribution over the episode's culprit services, weight 1; no culprit
// term (weight 0) when no episode with a known culprit is within the
// horizon, including violations whose culprit is unknown (live history).
func (b *batcher) fill(batch []sample, x, y, wt []float32) ([]float32, []float32, []float32) {
	b.window, y, wt = b.window[:0], y[:0], wt[:0]
	nS := b.shape.Services
	for _, sm := range batch {
		b.window = b.mats[sm.trace].Im2col(b.window, b.shape, sm.tick)
		l := b.labels[sm.trace]
		var in []int
		for s := range nS {
			if slices.Contains(l.Culprit[sm.tick], b.services[s]) {
				in = append(in, s)
			}
		}
		var cw float32
		if len(in) > 0 {
			cw = 1
		}
		row := len(y)
		for range nS {
			y, wt = append(y, 0), append(wt, cw)
		}
		for _, s := range in {
			y[row+s] = 1 / float32(len(in))
		}
		switch {
		case l.Ahead[sm.tick]:
			y, wt = append(y, 1), append(wt, float32(b.posWeight)*aheadWeight)
		case l.Violation[sm.tick]:
			y, wt = append(y, 1), append(wt, float32(b.posWeight))
		default:
			y, wt = append(y, 0), append(wt, 1)
		}
	}
	return b.layout.write(x, b.window, len(batch)), y, wt
}

// Train fits a model on traces: a seeded split of whole traces into
// training and validation, Adam on mini-batches, early stopping on the
// validation loss (the best epoch's weights are kept), then the warning
// threshold and the baselines are calibrated and the validation split is
// evaluated into the card. Cancelling ctx stops it between batches.
func Train(ctx context.Context, traces []*Trace, cfg TrainConfig) (*Model, error) {
	trainsFirst.Store(true) // before any backend opens here
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("predictor: train config: %w", err)
	}
	if len(traces) < 2 {
		return nil, fmt.Errorf("predictor: need at least 2 traces (one for validation), got %d", len(traces))
	}
	backend, info, err := OpenBackend(cfg.Backend)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x7a1))
	order := rng.Perm(len(traces))
	initSeed := cfg.Seed
	if cfg.InitSeed != 0 && cfg.InitSeed != cfg.Seed {
		initSeed = cfg.InitSeed
		// The same draws as a model of Seed InitSeed: its split's Perm, then
		// its shuffles.
		rng = rand.New(rand.NewPCG(initSeed, 0x7a1))
		rng.Perm(len(traces))
	}
	nVal := max(1, int(math.Round(cfg.ValFrac*float64(len(traces)))))
	var trainT, valT []*Trace
	for i, j := range order {
		if i < nVal {
			valT = append(valT, traces[j])
		} else {
			trainT = append(trainT, traces[j])
		}
	}
	fs, err := FitFeatures(trainT, cfg.Features)
	if err != nil {
		return nil, err
	}
	shape := Shape{Services: len(fs.Services), Features: len(cfg.Features), Window: cfg.Window,
		Kernel: 3, Channels: cfg.Channels, Hidden: cfg.Hidden}
	var edges []dataset.Edge
	for _, tr := range traces {
		edges = append(edges, tr.Edges...)
	}
	cg := NewCallGraph(fs.Services, edges)
	params := cfg.Init
	if params == nil || params.Shape != shape {
		if params, err = NewParams(shape, initSeed); err != nil {
			return nil, err
		}
	} else {
		params = params.Clone()
	}
	params.Graph, params.Scales = cg, nil // one network, in this training's scaling
	trainB, trainS, err := newBatcher(fs, params.inputLayout(), trainT, cfg.HorizonNs, cfg.Stride)
	if err != nil {
		return nil, err
	}
	valB, valS, err := newBatcher(fs, params.inputLayout(), valT, cfg.HorizonNs, cfg.Stride)
	if err != nil {
		return nil, err
	}
	valB.posWeight = trainB.posWeight
	if len(trainS) < cfg.Batch || len(valS) < cfg.Batch {
		return nil, fmt.Errorf("predictor: too few windows (%d train, %d validation) for batch %d",
			len(trainS), len(valS), cfg.Batch)
	}
	stepExec, err := graph.NewExec(backend, trainGraph(shape))
	if err != nil {
		return nil, fmt.Errorf("predictor: training graph: %w", err)
	}
	defer stepExec.Finalize()
	lossExec, err := graph.NewExec(backend, evalLossGraph(shape))
	if err != nil {
		return nil, fmt.Errorf("predictor: loss graph: %w", err)
	}
	defer lossExec.Finalize()

	opt := newAdam(params, cfg.LR)
	rep := TrainReport{Backend: info, Seed: cfg.Seed, Samples: len(trainS), WeightsCount: shape.NumWeights(),
		ThresholdOnFPR: cfg.MaxFPR, EMA: cfg.EMA}
	if initSeed != cfg.Seed {
		rep.InitSeed = initSeed
	}
	if cfg.LabelKinds != nil {
		rep.Labels, rep.LabelKinds = LabelsFaults, cfg.LabelKinds
	}
	for _, tr := range trainT {
		rep.TrainTraces = append(rep.TrainTraces, tr.Dir)
	}
	for _, tr := range valT {
		rep.ValTraces = append(rep.ValTraces, tr.Dir)
	}
	perEpoch := len(trainS) / cfg.Batch
	bar := newProgress(cfg.Progress)
	start := time.Now()
	best, bestLoss, stale := params.Clone(), math.Inf(1), 0
	// scored is what validation scores and the model keeps: the weights or
	// their moving average.
	scored := params
	if cfg.EMA > 0 {
		scored = params.Clone()
	}
	var x, y, wt []float32
	trained := 0
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		rng.Shuffle(len(trainS), func(i, j int) { trainS[i], trainS[j] = trainS[j], trainS[i] })
		var sum float64
		for bi := range perEpoch {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("predictor: training stopped: %w", err)
			}
			x, y, wt = trainB.fill(trainS[bi*cfg.Batch:(bi+1)*cfg.Batch], x, y, wt)
			loss, grads, err := runStep(stepExec, shape, cfg.Batch, x, y, wt, params)
			if err != nil {
				return nil, err
			}
			opt.update(params, grads)
			if scored != params {
				scored.blend(params, cfg.EMA)
			}
			sum += loss
			trained += cfg.Batch
			bar.update(epoch, cfg.Epochs, (epoch-1)*perEpoch+bi+1, cfg.Epochs*perEpoch, sum/float64(bi+1), false)
		}
		rep.TrainLoss = sum / float64(perEpoch)
		vl, err := meanLoss(lossExec, valB, valS, cfg.Batch, scored)
		if err != nil {
			return nil, err
		}
		rep.Epochs = epoch
		if cfg.Progress != nil {
			bar.update(epoch, cfg.Epochs, epoch*perEpoch, cfg.Epochs*perEpoch, rep.TrainLoss, true)
			fmt.Fprintf(cfg.Progress, "epoch %d: train loss %.4f, validation loss %.4f\n", epoch, rep.TrainLoss, vl)
		}
		if vl < bestLoss {
			best, bestLoss, stale, rep.BestEpoch = scored.Clone(), vl, 0, epoch
		} else if stale++; stale >= cfg.Patience {
			break
		}
	}
	rep.ValLoss = bestLoss
	rep.Seconds = time.Since(start).Seconds()
	rep.SamplesPerSec = float64(trained) / rep.Seconds

	model := &Model{Params: best}
	model.Card = Card{Format: ModelFormat, Features: *fs, Shape: shape,
		HorizonMs: cfg.HorizonNs / 1e6, TickMs: traces[0].TickNs / 1e6, Train: rep,
		Fingerprint: Fingerprint(fs.Services, edges), CallGraph: cg.Edges(fs.Services)}
	ecfg := EvalConfig{HorizonNs: cfg.HorizonNs, MinLeadNs: cfg.MinLeadNs, FirstTick: shape.Window - 1}
	if err := model.calibrate(backend, trainT, valT, ecfg, cfg.MaxFPR); err != nil {
		return nil, err
	}
	return model, nil
}

// calibrate calibrates m's baselines on the training traces, sets m's
// warning threshold on the validation traces (the lowest whose
// false-positive rate is at most maxFPR) and scores m and its baselines on
// them (Card.Validation).
func (m *Model) calibrate(backend backends.Backend, trainT, valT []*Trace, ecfg EvalConfig, maxFPR float64) error {
	m.Baselines = CalibrateBaselines(trainT, ecfg.HorizonNs, ecfg.FirstTick, maxFPR)
	runner, err := NewRunner(backend, m.Params)
	if err != nil {
		return err
	}
	defer runner.Close()
	preds := make([]*Predictions, len(valT))
	for i, tr := range valT {
		if preds[i], err = m.PredictTrace(runner, tr); err != nil {
			return err
		}
	}
	m.Card.Threshold = chooseThreshold(valT, preds, ecfg, maxFPR)
	dets := make([]*Detection, len(valT))
	for i, tr := range valT {
		dets[i] = preds[i].Detect(tr, m.Card.Threshold)
	}
	m.Card.Validation = Evaluate(valT, dets, m.Baselines, ecfg)
	m.Card.Validation.Threshold = m.Card.Threshold
	return nil
}

// chooseThreshold returns the lowest threshold of a grid whose validation
// false-positive rate is at most maxFPR (the highest recall under that
// budget).
func chooseThreshold(ts []*Trace, preds []*Predictions, cfg EvalConfig, maxFPR float64) float64 {
	bound := negativeProbs(ts, preds, cfg).bound(maxFPR)
	for k := range 38 { // 0.05, 0.075, ..., 0.975
		// The grid value itself is compared, not a running sum that
		// drifts above it (0.5000000000000001 > a bound of 0.5).
		if th := math.Round((0.05+0.025*float64(k))*1000) / 1000; th > bound {
			return th
		}
	}
	return 0.99
}

func runStep(e *graph.Exec, s Shape, batch int, x, y, wt []float32, p *Params) (float64, [][]float32, error) {
	args := []any{
		tensors.FromFlatDataAndDimensions(x, s.inputShape(batch).Dimensions...),
		tensors.FromFlatDataAndDimensions(y, batch, s.Outputs()),
		tensors.FromFlatDataAndDimensions(wt, batch, s.Outputs()),
	}
	args = append(args, weightTensors(p)...)
	out, err := e.Exec(args...)
	if err != nil {
		return 0, nil, fmt.Errorf("predictor: training step: %w", err)
	}
	defer finalize(out)
	loss, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return 0, nil, fmt.Errorf("predictor: read loss: %w", err)
	}
	grads := make([][]float32, numParams)
	for i := range numParams {
		if grads[i], err = tensors.CopyFlatData[float32](out[1+i]); err != nil {
			return 0, nil, fmt.Errorf("predictor: read gradient %s: %w", paramNames[i], err)
		}
	}
	return float64(loss[0]), grads, nil
}

func meanLoss(e *graph.Exec, b *batcher, samples []sample, batch int, p *Params) (float64, error) {
	var x, y, wt []float32
	var sum float64
	n := len(samples) / batch
	w := weightTensors(p)
	for bi := range n {
		x, y, wt = b.fill(samples[bi*batch:(bi+1)*batch], x, y, wt)
		l, err := lossOnce(e, b.layout, batch, x, y, wt, w)
		if err != nil {
			return 0, err
		}
		sum += l
	}
	return sum / float64(max(n, 1)), nil
}

// meanLossRaw runs the loss graph of p once on one batch laid out for it.
func meanLossRaw(e *graph.Exec, batch int, x, y, wt []float32, p *Params) (float64, error) {
	return lossOnce(e, p.inputLayout(), batch, x, y, wt, weightTensors(p))
}

// lossOnce runs the loss graph on graph input x laid out by l.
func lossOnce(e *graph.Exec, l *inputLayout, batch int, x, y, wt []float32, w []any) (float64, error) {
	args := []any{
		tensors.FromFlatDataAndDimensions(x, l.inputShape(batch).Dimensions...),
		tensors.FromFlatDataAndDimensions(y, batch, l.shape.Outputs()),
		tensors.FromFlatDataAndDimensions(wt, batch, l.shape.Outputs()),
	}
	out, err := e.Exec(append(args, w...)...)
	if err != nil {
		return 0, fmt.Errorf("predictor: loss: %w", err)
	}
	defer finalize(out)
	loss, err := tensors.CopyFlatData[float32](out[0])
	if err != nil {
		return 0, fmt.Errorf("predictor: read loss: %w", err)
	}
	return float64(loss[0]), nil
}
