// Package tap stores what the queuedepth processor publishes in process (the series on its
// series.Hub and the dependency graph on its depgraph.Feed, both named by the processor's component
// ID) through a seerstore.Writer. An exporter starts one Tap when it is configured with the
// processor's name.
//
// The hand-off is the processor's bounded broadcast: while the store cannot keep up or is down,
// the Tap retries the batch it holds and the Hub drops (and counts) what does not fit in the
// subscription's buffer. Series can be rebuilt from the stored spans, which go through the
// exporter's sending queue.
package tap

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/series"
)

// WriterFunc returns the writer to use now, or an error while none is available.
type WriterFunc func(ctx context.Context) (seerstore.Writer, error)

// Stats counts what a Tap wrote and what it could not: Failures are failed
// writes (retried, or given up when permanent), Dropped the batches and
// snapshots given up after a permanent error (DroppedPoints their series
// points).
type Stats struct {
	SeriesBatches, Points, Graphs, Failures int64
	Dropped, DroppedPoints                  int64
}

// Tap subscribes to one processor's series and graph.
type Tap struct {
	name      string
	writer    WriterFunc
	permanent func(error) bool
	logger    *zap.Logger
	hub       *series.Hub
	feed      *depgraph.Feed
	cancel    context.CancelFunc
	wg        sync.WaitGroup

	mu    sync.Mutex
	stats Stats
}

// Buffer is the number of series batches (ticks) a Tap's subscription holds.
const Buffer = 256

// Start subscribes to the series and graph named name and writes them until
// Stop. A write is retried until it succeeds, or, where permanent (may be
// nil) says its error will not go away, given up and counted: one bad tick
// must not hold every later one back until they are dropped. The Cassandra
// exporter passes cassandrastore.IsPermanent, the rule its own span writes
// follow (a value or statement Cassandra refuses, authorization).
func Start(name string, writer WriterFunc, permanent func(error) bool, logger *zap.Logger) *Tap {
	ctx, cancel := context.WithCancel(context.Background())
	t := &Tap{name: name, writer: writer, permanent: permanent, logger: logger, cancel: cancel,
		hub: series.DefaultRegistry.Acquire(name), feed: depgraph.DefaultRegistry.Acquire(name)}
	sub := t.hub.Subscribe("store", Buffer)
	events := t.feed.Subscribe("store", Buffer)
	t.wg.Add(2)
	go func() {
		defer t.wg.Done()
		for b := range sub.C {
			pts := seerstore.FromSeriesBatch(b)
			switch t.write(ctx, func(w seerstore.Writer) error { return w.WriteSeries(ctx, pts) }) {
			case stored:
				t.add(Stats{SeriesBatches: 1, Points: int64(len(pts))})
			case dropped:
				t.add(Stats{Dropped: 1, DroppedPoints: int64(len(pts))})
			}
		}
	}()
	go func() {
		defer t.wg.Done()
		var version int64
		for range events.C {
			// Coalesce the events already waiting: one snapshot covers them all.
			for drained := false; !drained; {
				select {
				case _, ok := <-events.C:
					drained = !ok
				default:
					drained = true
				}
			}
			snap, ok := t.feed.Snapshot()
			if !ok {
				continue
			}
			version++
			g := seerstore.FromGraphSnapshot(snap, version)
			switch t.write(ctx, func(w seerstore.Writer) error { return w.WriteGraph(ctx, g) }) {
			case stored:
				t.add(Stats{Graphs: 1})
			case dropped:
				t.add(Stats{Dropped: 1})
			}
		}
	}()
	go func() { // subscriptions end when the Tap stops
		<-ctx.Done()
		sub.Close()
		events.Close()
	}()
	return t
}

// outcome is what write did with a batch.
type outcome int

const (
	stored  outcome = iota
	dropped         // a permanent error
	stopped         // the Tap stopped first
)

// write retries fn with backoff until it succeeds, fails for good
// (t.permanent) or the Tap stops.
func (t *Tap) write(ctx context.Context, fn func(seerstore.Writer) error) outcome {
	backoff := 100 * time.Millisecond
	for {
		w, err := t.writer(ctx)
		if err == nil {
			if err = fn(w); err == nil {
				return stored
			}
		}
		t.add(Stats{Failures: 1})
		if w != nil && t.permanent != nil && t.permanent(err) {
			t.logger.Warn("Storing series or graph failed for good; dropped", zap.String("source", t.name), zap.Error(err))
			return dropped
		}
		t.logger.Debug("Storing series or graph failed; retrying", zap.String("source", t.name), zap.Error(err))
		select {
		case <-ctx.Done():
			return stopped
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (t *Tap) add(s Stats) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stats.SeriesBatches += s.SeriesBatches
	t.stats.Points += s.Points
	t.stats.Graphs += s.Graphs
	t.stats.Failures += s.Failures
	t.stats.Dropped += s.Dropped
	t.stats.DroppedPoints += s.DroppedPoints
}

// Stats returns the counts so far.
func (t *Tap) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Stop ends the subscriptions, abandons a write being retried and waits for the goroutines.
func (t *Tap) Stop() {
	t.cancel()
	t.wg.Wait()
	series.DefaultRegistry.Release(t.name)
	depgraph.DefaultRegistry.Release(t.name)
}
