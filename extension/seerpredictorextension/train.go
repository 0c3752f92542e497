package seerpredictorextension

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"

	"go.uber.org/zap"

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
}

type result struct {
	kind, outcome    string
	newLoss, refLoss float64
	took             time.Duration
	err              error
}

// trainLoop runs jobs one at a time on one OS thread at the lowest
// priority, so that training only uses CPU that serving does not; the
// serial simplego backend keeps every op of the job on that thread.
func trainLoop(jobs <-chan job, results chan<- result, logger *zap.Logger) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := lowerPriority(); err != nil {
		logger.Warn("Cannot lower the priority of the training thread", zap.Error(err))
	}
	for j := range jobs {
		start := time.Now()
		r := runJob(j)
		r.kind, r.took = j.kind, time.Since(start)
		results <- r
	}
}

func runJob(j job) result {
	rc := j.cfg
	r := result{newLoss: math.NaN(), refLoss: math.NaN()}
	fail := func(err error) result {
		r.outcome, r.err = outcomeFailed, err
		if j.ctx.Err() != nil {
			r.outcome = outcomeStale
		}
		return r
	}
	traces, err := predictor.LiveTraces(j.ticks, j.services, j.edges,
		predictor.QoSTarget{Service: rc.QoS.Service, Latency: rc.QoS.Latency}, rc.Chunks)
	if err != nil {
		return fail(err)
	}
	cfg := predictor.DefaultTrainConfig()
	cfg.Features, cfg.Window, cfg.Channels, cfg.Hidden = rc.Features, rc.Window, rc.Channels, rc.Hidden
	cfg.HorizonNs, cfg.Epochs, cfg.Batch, cfg.Seed = int64(rc.Horizon), rc.Epochs, rc.Batch, rc.Seed
	cfg.MinLeadNs = min(cfg.MinLeadNs, cfg.HorizonNs/2)
	// Live history is short: every window counts; one chunk in rc.Chunks is
	// held out.
	cfg.Stride, cfg.ValFrac = 1, 1/float64(rc.Chunks)
	cfg.Backend = predictor.BackendSimpleGoSerial
	if j.kind == kindIncremental {
		cfg.Init = j.base.model.Params
	}
	m, err := predictor.Train(j.ctx, traces, cfg)
	if err != nil {
		return fail(err)
	}
	var val []*predictor.Trace
	for _, tr := range traces {
		if slices.Contains(m.Card.Train.ValTraces, tr.Dir) {
			val = append(val, tr)
		}
	}
	if r.newLoss, err = m.ValidationLoss(j.ctx, val, predictor.BackendSimpleGoSerial, rc.Batch); err != nil {
		return fail(err)
	}
	// The reference: the serving model on the same held-out history, or,
	// from scratch (the old model cannot serve the new graph), the new
	// network's own untrained weights: it must have learned something.
	ref := j.base.model
	if j.kind == kindScratch || ref == nil {
		init, err := predictor.NewParams(m.Card.Shape, cfg.Seed)
		if err != nil {
			return fail(err)
		}
		p := m.Params.Clone()
		p.Tensors = init.Tensors
		ref = &predictor.Model{Card: m.Card, Params: p}
	}
	if r.refLoss, err = ref.ValidationLoss(j.ctx, val, predictor.BackendSimpleGoSerial, rc.Batch); err != nil {
		return fail(err)
	}
	if !(r.newLoss <= r.refLoss) {
		r.outcome = outcomeRejected
		return r
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
		sl.runner.Close()
		r.outcome = outcomeStale
		return r
	}
	r.outcome = outcomeAccepted
	return r
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
