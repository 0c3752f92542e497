package seerpredictorextension

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/broadcast"
	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/httpserve"
	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/predictor"
)

// Model states, the state label of seer_model_info.
const (
	// StateTrained: a model serves.
	StateTrained = "trained"
	// StateRetraining: the graph changed under the model; the heuristic
	// serves while a model for the new graph trains.
	StateRetraining = "retraining"
	// StateFallback: the heuristic serves and no model is training for the
	// current graph (none configured or loadable, retraining off, or a
	// retraining failed and waits to be retried).
	StateFallback = "fallback"
)

// slot is what serves: a model with its Runner, or the heuristic (model
// nil). It is swapped whole through an atomic.Pointer, so a new model
// replaces the old one between two ticks.
type slot struct {
	model    *predictor.Model
	runner   *predictor.Runner // used by the serving goroutine only, once installed
	services map[string]bool   // the model's services
	version  string
	state    string
	reason   string // why the heuristic serves
}

// close releases the slot's Runner, if it has one.
func (s *slot) close() {
	if s != nil && s.runner != nil {
		s.runner.Close()
	}
}

type predictorExtension struct {
	cfg    *Config
	set    extension.Settings
	logger *zap.Logger

	backend    string // the backend that serves models (after auto)
	slot       atomic.Pointer[slot]
	gate       gate // training pauses while serving infers
	pre        *preempter
	generation atomic.Int64
	training   atomic.Pointer[string] // kind of the job under way, nil when none

	// Owned by the serving goroutine.
	online     *predictor.Online
	onlineSlot *slot
	heur       *heuristic
	history    *predictor.History
	pending    bool      // a retraining from scratch is due
	changeAt   time.Time // event time of the last graph change
	// seen is, while a retraining from scratch is due, the services of the
	// ticks since the change (nil before the first): one outside it, or one
	// of it removed, is a further change.
	seen        map[string]bool
	lastJobEnd  time.Time // event time at which the last job ended
	jobRunning  bool
	stopping    bool // draining at shutdown: no new training job
	lastTickEnd time.Time
	cancelJob   context.CancelFunc

	hub     *series.Hub
	feed    *depgraph.Feed
	sub     *series.Subscription
	events  *broadcast.Subscription[depgraph.Event]
	jobs    chan job
	results chan result
	stop    chan struct{}
	wg      sync.WaitGroup

	out     *predictionsOut
	metrics *metrics
	server  *httpserve.Server
}

func newPredictorExtension(set extension.Settings, cfg *Config) *predictorExtension {
	e := &predictorExtension{cfg: cfg, set: set, logger: set.Logger, heur: newHeuristic(cfg.Heuristic),
		jobs: make(chan job), results: make(chan result, 1), stop: make(chan struct{})}
	e.out = newPredictionsOut(cfg.Recent)
	e.metrics = newMetrics(e)
	e.pre = newPreempter(&e.gate, e.warm)
	return e
}

// Start loads the model, subscribes to the queuedepth processor's series
// and graph, and starts serving.
func (e *predictorExtension) Start(ctx context.Context, host component.Host) error {
	_, info, err := predictor.OpenBackend(e.cfg.Backend)
	if err != nil {
		return fmt.Errorf("seerpredictor %s: %w", e.set.ID, err)
	}
	e.backend = info.Name
	if info.Fallback != "" {
		e.logger.Info("Serving on simplego", zap.String("why", info.Fallback))
	}
	e.slot.Store(&slot{version: "heuristic", state: StateFallback, reason: "no_model"})
	if e.cfg.Model != "" {
		if err := e.loadModel(); err != nil {
			// A model that cannot be read must not stop the pipeline: the
			// heuristic serves and seer_model_info says why.
			e.logger.Error("Cannot load the model; serving the fallback heuristic", zap.Error(err))
			e.slot.Store(&slot{version: "heuristic", state: StateFallback, reason: "model_load_failed"})
		}
	}
	if err := e.out.openFile(e.cfg.PredictionsFile); err != nil {
		return fmt.Errorf("seerpredictor %s: %w", e.set.ID, err)
	}
	// Subscribed before the HTTP server starts, so that no tick published
	// once it serves is missed.
	e.hub = series.DefaultRegistry.Acquire(e.cfg.Source)
	e.feed = depgraph.DefaultRegistry.Acquire(e.cfg.Source)
	e.sub = e.hub.Subscribe(e.set.ID.String(), e.cfg.Buffer)
	e.events = e.feed.Subscribe(e.set.ID.String(), 1024)
	if err := e.startHTTP(ctx, host); err != nil {
		e.release()
		_ = e.out.close()
		return err // Shutdown, which follows a failed Start, releases the model
	}
	if e.cfg.Retraining.Enabled {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			trainLoop(e.jobs, e.results)
		}()
	}
	e.wg.Add(1)
	go e.serve()
	return nil
}

func (e *predictorExtension) loadModel() error {
	m, err := predictor.LoadModel(e.cfg.Model)
	if err != nil {
		return err
	}
	sl, err := e.newSlot(m, "file")
	if err != nil {
		return err
	}
	e.slot.Store(sl)
	e.logger.Info("Serving model", zap.String("file", e.cfg.Model), zap.String("version", sl.version),
		zap.String("backend", e.backend), zap.Int("services", len(m.Card.Features.Services)))
	return nil
}

// newSlot prepares a model to serve: a Runner on the serving backend,
// compiled by one prediction so that the serving goroutine never compiles.
func (e *predictorExtension) newSlot(m *predictor.Model, origin string) (*slot, error) {
	b, _, err := predictor.OpenBackend(e.backend)
	if err != nil {
		return nil, err
	}
	r, err := predictor.NewRunner(b, m.Params)
	if err != nil {
		return nil, err
	}
	s := m.Card.Shape
	if _, err := r.Predict(make([]float32, s.Steps()*s.Services*s.Kernel*s.Features), 1); err != nil {
		r.Close()
		return nil, err
	}
	v := fmt.Sprintf("%s-%d-%s", origin, e.generation.Add(1), m.Card.Fingerprint)
	services := make(map[string]bool, len(m.Card.Features.Services))
	for _, svc := range m.Card.Features.Services {
		services[svc] = true
	}
	return &slot{model: m, runner: r, services: services, version: v, state: StateTrained}, nil
}

// release unsubscribes and releases the source's hub and feed.
func (e *predictorExtension) release() {
	if e.hub == nil {
		return
	}
	e.sub.Close()
	e.events.Close()
	series.DefaultRegistry.Release(e.cfg.Source)
	depgraph.DefaultRegistry.Release(e.cfg.Source)
	e.hub = nil
}

// Shutdown stops serving and training.
func (e *predictorExtension) Shutdown(ctx context.Context) error {
	close(e.stop)
	e.wg.Wait()
	// Serving and training have stopped: release the model(s) they held.
	e.onlineSlot.close()
	if cur := e.slot.Load(); cur != e.onlineSlot {
		cur.close()
	}
	e.release()
	var errs []error
	if e.server != nil {
		errs = append(errs, e.server.Shutdown(ctx))
	}
	errs = append(errs, e.out.close())
	return errors.Join(errs...)
}

// serve is the serving goroutine: one inference per tick, graph events,
// and the dispatch of retraining jobs.
func (e *predictorExtension) serve() {
	defer e.wg.Done()
	defer func() {
		e.pre.stop()
		if e.cancelJob != nil {
			e.cancelJob() // kills the training process; trainLoop then ends
		}
		if e.cfg.Retraining.Enabled {
			close(e.jobs)
		}
	}()
	batches, events := e.sub.C, e.events.C
	for {
		select {
		case b, ok := <-batches:
			if !ok {
				return
			}
			e.onBatch(b)
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			e.onEvent(ev)
		case r := <-e.results:
			e.onResult(r)
		case <-e.pre.C():
			e.pre.fire()
		case <-e.stop:
			e.drain(batches)
			return
		}
	}
}

// drain serves the ticks still buffered at shutdown (the Collector stops
// the pipelines, and so queuedepth's last ticks, before extensions), so
// they reach the metrics and the predictions file instead of being lost.
// No training starts while draining.
func (e *predictorExtension) drain(batches <-chan series.Batch) {
	e.stopping = true
	for len(batches) > 0 { // this goroutine alone receives: the receive cannot block
		e.onBatch(<-batches)
	}
}

func (e *predictorExtension) onBatch(b series.Batch) {
	if b.Origin != "" && b.Origin != series.OriginSpans {
		return
	}
	arrived := time.Now()
	rt := predictor.NewRawTick(b)
	// A tick from before the last one (Online refuses it) changes nothing.
	if !rt.Start.Before(e.lastTickEnd) {
		if svc := e.newService(&rt); svc != "" {
			e.graphChanged(depgraph.ServiceAdded, svc, "", rt.Start)
		}
	}
	sl := e.slot.Load()
	if sl != e.onlineSlot {
		e.install(sl)
	}
	var outs []predictor.TickOutput
	var took time.Duration
	if e.online != nil {
		start := time.Now()
		var err error
		e.pre.begin()
		outs, err = e.online.Push(&rt)
		took = time.Since(start)
		e.pre.end(arrived, rt.End.Sub(rt.Start), took)
		switch {
		case errors.Is(err, predictor.ErrTickOrder):
			e.metrics.refused.Inc()
			e.logger.Debug("Refused a tick", zap.Error(err))
			return
		case err != nil:
			e.metrics.inferenceErrors.Inc()
			e.logger.Warn("Inference failed; the heuristic serves this tick", zap.Error(err))
			outs = nil
		default:
			e.metrics.inference.Observe(took.Seconds())
		}
	} else {
		e.pre.stop() // the heuristic serves: nothing to pause training for
	}
	// The heuristic learns every accepted tick (a refused one returned
	// above), and serves the ticks the model does not.
	hServices, hProbs := e.heur.score(&rt)
	if e.cfg.Retraining.Enabled {
		if e.history == nil {
			e.history = predictor.NewHistory(int(e.cfg.Retraining.History / max(rt.End.Sub(rt.Start), time.Millisecond)))
		}
		e.history.Add(rt)
	}
	e.lastTickEnd = rt.End
	kind := ""
	if k := e.training.Load(); k != nil {
		kind = *k
	}
	e.metrics.ticks.Inc()
	if outs == nil {
		e.out.add(Prediction{StartNs: rt.Start.UnixNano(), EndNs: rt.End.UnixNano(), State: stateOf(sl, e.online != nil),
			Version: "heuristic", Ready: true, Violation: float64(hProbs[len(hServices)]),
			Culprits: culprits(hServices, hProbs), Training: kind}, e.logger)
	}
	for i, o := range outs {
		p := Prediction{StartNs: o.Start.UnixNano(), EndNs: o.End.UnixNano(), State: sl.state, Version: sl.version,
			Ready: o.Ready, Gap: o.Gap, Training: kind, Violation: float64(o.Probs[len(o.Probs)-1]),
			Culprits: culprits(sl.model.Card.Features.Services, o.Probs)}
		if i == len(outs)-1 {
			p.InferenceNs = took.Nanoseconds()
		}
		e.out.add(p, e.logger)
	}
	e.maybeTrain(rt.End)
}

// warm runs a throw-away inference (see preempter).
func (e *predictorExtension) warm() {
	if e.online == nil {
		return
	}
	if err := e.online.Warm(); err != nil {
		e.logger.Debug("Warm-up inference failed", zap.Error(err))
	}
}

func stateOf(sl *slot, modelFailed bool) string {
	if modelFailed {
		return StateFallback
	}
	return sl.state
}

func culprits(services []string, probs []float32) map[string]float64 {
	m := make(map[string]float64, len(services))
	for i, s := range services {
		m[s] = float64(probs[i])
	}
	return m
}

// install makes sl the serving slot: a new Online primed with the last
// window of history, so a swapped-in model predicts from its first tick.
func (e *predictorExtension) install(sl *slot) {
	e.onlineSlot.close()
	e.online, e.onlineSlot = nil, sl
	if sl.model == nil {
		return
	}
	on, err := predictor.NewOnline(sl.model, sl.runner)
	if err != nil {
		e.metrics.inferenceErrors.Inc()
		e.logger.Error("Cannot serve the model; the heuristic serves", zap.Error(err))
		// seer_model_info and the predictions say so (installed on the
		// next tick; sl is released then, as the slot that served).
		e.replaceSlot(&slot{version: "heuristic", state: StateFallback, reason: "model_not_servable"})
		return
	}
	if e.history != nil {
		for _, rt := range e.history.Last(sl.model.Card.Shape.Window - 1) {
			_ = on.Observe(&rt) // history is in order
		}
	}
	e.online = on
}

// onEvent reacts to a graph change the serving model does not cover: a
// service it knows goes, or (optionally) a critical path changes. A service
// that appears is seen on the ticks instead (newService): the graph's
// ServiceAdded also names services no model can read.
func (e *predictorExtension) onEvent(ev depgraph.Event) {
	sl := e.slot.Load()
	relevant := false
	switch ev.Type {
	case depgraph.ServiceRemoved:
		// While a retraining is due, only the removal of a service the
		// ticks since the change had is a further change: a peer the graph
		// knew from its callers alone comes and goes without one.
		relevant = !e.pending && sl.services[ev.Service] || e.pending && e.seen[ev.Service]
		if e.pending {
			delete(e.seen, ev.Service)
		}
	case depgraph.CriticalPathChanged:
		relevant = sl.model != nil && e.cfg.Retraining.OnCriticalPathChange && e.cfg.Retraining.Enabled && len(ev.OldPath) > 0
	}
	if relevant {
		e.graphChanged(ev.Type, ev.Service, ev.Root, ev.Time)
	}
}

// newService returns a service of rt that appeared under the model: one the
// serving model does not know or, while a retraining from scratch is due,
// one no tick since the change had (all such are then noted). Only services
// with a series are in a tick, so one the graph knows from its callers
// alone, or one that only calls others, is none (no model could read it),
// and one the graph first knew as a peer counts once its own spans come.
func (e *predictorExtension) newService(rt *predictor.RawTick) string {
	if e.pending {
		first := e.seen == nil
		if first {
			e.seen = make(map[string]bool, len(rt.Services))
		}
		added := ""
		for _, svc := range rt.Services {
			if !e.seen[svc] {
				e.seen[svc] = true
				if !first && added == "" {
					added = svc
				}
			}
		}
		return added
	}
	sl := e.slot.Load()
	if sl.model == nil {
		return ""
	}
	for _, svc := range rt.Services {
		if !sl.services[svc] {
			return svc
		}
	}
	return ""
}

// graphChanged switches to the heuristic for a graph the serving model does
// not cover: while a model for it trains (retraining on), or for good.
func (e *predictorExtension) graphChanged(what depgraph.EventType, service, root string, at time.Time) {
	reason := "graph_changed"
	e.logger.Info("The dependency graph changed under the model", zap.String("event", string(what)),
		zap.String("service", service), zap.String("root", root))
	if !e.cfg.Retraining.Enabled {
		e.replaceSlot(&slot{version: "heuristic", state: StateFallback, reason: reason})
		return
	}
	e.replaceSlot(&slot{version: "heuristic", state: StateRetraining, reason: reason})
	if !e.pending {
		e.seen = nil // the services since this change: from the next tick on
	}
	e.pending, e.changeAt = true, at
	if e.cancelJob != nil {
		e.cancelJob() // trained on the old graph; its result could not be installed anyway
	}
}

// maybeTrain dispatches a retraining job when one is due; times are event
// time of the series.
func (e *predictorExtension) maybeTrain(now time.Time) {
	if e.stopping {
		return
	}
	rc := &e.cfg.Retraining
	if !rc.Enabled || e.jobRunning {
		return
	}
	sl := e.slot.Load()
	since := now.Add(-rc.History)
	kind := ""
	switch {
	case e.pending && now.Sub(e.changeAt) >= rc.MinHistory && now.Sub(e.lastJobEnd) >= rc.MinHistory:
		kind, since = kindScratch, e.changeAt
	case !e.pending && sl.model == nil && e.history.Len() > 0 && now.Sub(e.history.Oldest()) >= rc.MinHistory &&
		now.Sub(e.lastJobEnd) >= rc.MinHistory:
		kind = kindScratch
	case sl.model != nil && !e.lastJobEnd.IsZero() && now.Sub(e.lastJobEnd) >= rc.Interval ||
		sl.model != nil && e.lastJobEnd.IsZero() && now.Sub(e.history.Oldest()) >= rc.Interval:
		kind = kindIncremental
	}
	if kind == "" {
		return
	}
	ticks := e.history.Since(since)
	if len(ticks) == 0 {
		return
	}
	j := job{kind: kind, base: sl, ticks: ticks, cfg: *rc, backend: e.backend, newSlot: e.newSlot, swap: e.swap,
		gate: &e.gate}
	if kind == kindScratch {
		j.services = liveServices(ticks)
	} else {
		j.services = sl.model.Card.Features.Services
	}
	if snap, ok := e.feed.Snapshot(); ok {
		j.edges = edgesOf(snap)
	}
	if kind == kindScratch && sl.model == nil {
		e.replaceSlot(&slot{version: "heuristic", state: StateRetraining, reason: sl.reason})
		j.base = e.slot.Load()
	}
	ctx, cancel := context.WithCancel(context.Background())
	j.ctx, e.cancelJob = ctx, cancel
	e.jobRunning = true
	e.training.Store(&j.kind)
	e.jobs <- j
}

// replaceSlot makes next the serving slot from the serving goroutine. A
// replaced slot that never served (a model swapped in since the last tick)
// is released here; one that served is released by install.
func (e *predictorExtension) replaceSlot(next *slot) {
	if old := e.slot.Swap(next); old != e.onlineSlot {
		old.close()
	}
}

// swap installs a trained slot if the slot it was trained against still
// serves (a graph change in between makes it stale).
func (e *predictorExtension) swap(base, next *slot) bool { return e.slot.CompareAndSwap(base, next) }

func (e *predictorExtension) onResult(r result) {
	e.jobRunning = false
	e.training.Store(nil)
	if e.cancelJob != nil {
		e.cancelJob()
		e.cancelJob = nil
	}
	e.lastJobEnd = e.lastTickEnd
	e.metrics.retrains.WithLabelValues(r.kind, r.outcome).Inc()
	fields := []zap.Field{zap.String("kind", r.kind), zap.String("outcome", r.outcome),
		zap.Float64("validation_loss", r.newLoss), zap.Float64("reference_loss", r.refLoss), zap.Duration("took", r.took)}
	if r.err != nil {
		fields = append(fields, zap.Error(r.err))
	}
	e.logger.Info("Retraining finished", fields...)
	if r.kind == kindScratch {
		if r.outcome == outcomeAccepted && e.slot.Load() == r.installed {
			e.pending = false
		} else if r.outcome == outcomeAccepted {
			// The graph changed again between the swap and this result:
			// the model went unserved, and the change stays due.
			e.logger.Info("The retrained model was replaced before it served; retraining stays due")
		} else if sl := e.slot.Load(); sl.model == nil && sl.state == StateRetraining {
			// Retried after min_history more history; the heuristic serves.
			e.replaceSlot(&slot{version: "heuristic", state: StateFallback, reason: "retraining_" + r.outcome})
		}
	}
}
