package seerpredictorextension

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/predictor"
)

// Retraining kinds and outcomes, the labels of seer_predictor_retrain_runs_total.
const (
	kindIncremental = "incremental"
	kindScratch     = "from_scratch"

	outcomeAccepted = "accepted" // the new model serves
	outcomeRejected = "rejected" // it validated worse than the reference
	outcomeFailed   = "failed"   // training failed (too little history, ...)
	outcomeStale    = "stale"    // the graph changed while it trained
)

// job is one retraining run.
type job struct {
	ctx      context.Context
	kind     string
	base     *slot // the slot serving when the job started
	ticks    []predictor.RawTick
	services []string
	edges    []dataset.Edge
	cfg      RetrainingConfig
	backend  string
	newSlot  func(*predictor.Model, string) (*slot, error)
	swap     func(base, next *slot) bool
	gate     *gate // pauses the training process while serving infers
}

type result struct {
	kind, outcome    string
	installed        *slot // the slot swapped in (accepted)
	newLoss, refLoss float64
	took             time.Duration
	err              error
}

// trainLoop runs jobs one at a time, each in a training process (see
// worker.go).
func trainLoop(jobs <-chan job, results chan<- result) {
	for j := range jobs {
		start := time.Now()
		r := runJob(j)
		r.kind, r.took = j.kind, time.Since(start)
		results <- r
	}
}

// runJob trains in a child process of this executable in the idle
// scheduling class (worker.go), then installs the model it accepted. A
// process rather than a goroutine: its threads (the backend's, the garbage
// collector's) all run below serving, it can be paused for each inference
// (gate), its heap is its own, and a crash or out-of-memory in training
// cannot take the Collector down (BenchmarkInferenceWhileTraining measures
// serving beside it).
func runJob(j job) result {
	r := result{newLoss: math.NaN(), refLoss: math.NaN()}
	fail := func(err error) result {
		r.outcome, r.err = outcomeFailed, err
		if j.ctx.Err() != nil {
			r.outcome = outcomeStale
		}
		return r
	}
	dir, err := os.MkdirTemp("", "seerpredictor-train-")
	if err != nil {
		return fail(fmt.Errorf("training directory: %w", err))
	}
	defer os.RemoveAll(dir)
	spec := jobSpec{Kind: j.kind, Ticks: j.ticks, Services: j.services, Edges: j.edges, Cfg: j.cfg, Backend: j.backend}
	if j.base != nil && j.base.model != nil {
		spec.HasBase = true
		if err := j.base.model.Save(filepath.Join(dir, baseFile)); err != nil {
			return fail(err)
		}
	}
	res, err := runWorker(j.ctx, dir, spec, j.gate)
	if err != nil {
		return fail(err)
	}
	r.newLoss, r.refLoss, r.outcome = res.NewLoss, res.RefLoss, res.Outcome
	if res.Outcome != outcomeAccepted {
		if res.Err != "" {
			r.err = errors.New(res.Err)
		}
		return r
	}
	m, err := predictor.LoadModel(filepath.Join(dir, modelFile))
	if err != nil {
		return fail(err)
	}
	origin := "retrained"
	if j.kind == kindIncremental {
		origin = "finetuned"
	}
	sl, err := j.newSlot(m, origin)
	if err != nil {
		return fail(fmt.Errorf("prepare the new model: %w", err))
	}
	if j.ctx.Err() != nil || !j.swap(j.base, sl) {
		sl.close()
		r.outcome = outcomeStale
		return r
	}
	r.installed = sl
	return r
}

// train is the job as the training process runs it: train on the history,
// then compare the new model with a reference on the same held-out chunks.
func train(ctx context.Context, spec jobSpec, base *predictor.Model) (*predictor.Model, jobResult, error) {
	rc := spec.Cfg
	res := jobResult{NewLoss: math.NaN(), RefLoss: math.NaN()}
	traces, err := predictor.LiveTraces(spec.Ticks, spec.Services, spec.Edges,
		predictor.QoSTarget{Service: rc.QoS.Service, Latency: rc.QoS.Latency}, rc.Chunks, rc.Window)
	if err != nil {
		return nil, res, err
	}
	cfg := predictor.DefaultTrainConfig()
	cfg.Features, cfg.Window, cfg.Channels, cfg.Hidden = rc.Features, rc.Window, rc.Channels, rc.Hidden
	cfg.HorizonNs, cfg.Epochs, cfg.Batch, cfg.Seed = int64(rc.Horizon), rc.Epochs, rc.Batch, rc.Seed
	cfg.MinLeadNs = min(cfg.MinLeadNs, cfg.HorizonNs/2)
	// Live history is short: every window counts; one chunk in rc.Chunks is
	// held out.
	cfg.Stride, cfg.ValFrac = 1, 1/float64(rc.Chunks)
	cfg.Backend = spec.Backend
	if spec.Kind == kindIncremental && base != nil {
		// An ensemble (seer combine) goes on from its first member: the
		// candidate is one network, compared below with the whole ensemble.
		cfg.Init = base.Params.Member(0)
	}
	m, err := predictor.Train(ctx, traces, cfg)
	if err != nil {
		return nil, res, err
	}
	var val []*predictor.Trace
	for _, tr := range traces {
		if slices.Contains(m.Card.Train.ValTraces, tr.Dir) {
			val = append(val, tr)
		}
	}
	if res.NewLoss, err = m.ValidationLoss(ctx, val, spec.Backend, rc.Batch); err != nil {
		return nil, res, err
	}
	// The reference: the serving model on the same held-out history, or,
	// from scratch (the old model cannot serve the new graph), the new
	// network's own untrained weights: it must have learned something.
	ref := base
	if spec.Kind == kindScratch || ref == nil {
		init, err := predictor.NewParams(m.Card.Shape, cfg.Seed)
		if err != nil {
			return nil, res, err
		}
		p := m.Params.Clone()
		p.Tensors = init.Tensors
		ref = &predictor.Model{Card: m.Card, Params: p}
	}
	if res.RefLoss, err = ref.ValidationLoss(ctx, val, spec.Backend, rc.Batch); err != nil {
		return nil, res, err
	}
	res.Outcome = outcomeAccepted
	if !(res.NewLoss <= res.RefLoss) {
		res.Outcome = outcomeRejected
	}
	return m, res, nil
}

// liveServices is the union of the services of ticks, sorted.
func liveServices(ticks []predictor.RawTick) []string {
	var out []string
	for i := range ticks {
		for _, s := range ticks[i].Services {
			if _, ok := slices.BinarySearch(out, s); !ok {
				out = append(out, s)
				slices.Sort(out)
			}
		}
	}
	return out
}

func edgesOf(s depgraph.Snapshot) []dataset.Edge {
	out := make([]dataset.Edge, 0, len(s.Edges))
	for _, e := range s.Edges {
		out = append(out, dataset.Edge{Caller: e.From, Callee: e.To})
	}
	return out
}
