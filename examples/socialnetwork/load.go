package socialnetwork

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// LoadConfig configures the open-loop load generator.
type LoadConfig struct {
	// Rate is the mean number of requests per second.
	Rate float64
	// Constant spaces arrivals evenly; by default they are a Poisson
	// process (exponential inter-arrival times).
	Constant bool
	// Mix weighs the request types; default DefaultMix.
	Mix map[string]float64
	// Timeout bounds each request, counted from its scheduled time.
	// Default 5s.
	Timeout time.Duration
	// Seed seeds the arrival times and the request types; 0 picks one.
	Seed uint64
}

// DefaultMix is DeathStarBench's request mix.
var DefaultMix = map[string]float64{ReadHomeTimeline: 60, ReadUserTimeline: 30, ComposePostReq: 10}

// Result is the outcome of one request of the load.
type Result struct {
	Type string
	// Scheduled is when the request was due, Sent when the generator sent
	// it, Done when its reply (or error) came back.
	Scheduled, Sent, Done time.Time
	Err                   error
}

// Latency is the request's latency as the load generator reports it: from
// its scheduled time, so that a late send (a stalled generator, or a
// connection held by a stalled server) counts.
func (r Result) Latency() time.Duration { return r.Done.Sub(r.Scheduled) }

// ServiceTime is the latency from the actual send: what a closed-loop
// generator would measure, which hides the time a request spent waiting to
// be sent.
func (r Result) ServiceTime() time.Duration { return r.Done.Sub(r.Sent) }

// Sender sends one request of a type.
type Sender func(ctx context.Context, reqType string) error

// Generator is an open-loop load generator: the arrival times are drawn in
// advance from the configured process, independently of the replies, and
// each request goes out on its own goroutine at its time. When the
// generator falls behind (its process is descheduled, or it is stalled) it
// sends every overdue arrival at once and each still counts from its
// scheduled time: the measurement is free of coordinated omission.
type Generator struct {
	cfg     LoadConfig
	send    Sender
	observe func(Result)
	types   []string
	cum     []float64 // cumulative weights of types

	rmu sync.Mutex
	rng *rand.Rand

	// beforeDispatch, if set, runs before each request is dispatched
	// (tests stall the generator with it).
	beforeDispatch func()
}

// NewGenerator returns a Generator that sends with send and reports every
// completed request to observe (which must be safe for concurrent use).
func NewGenerator(cfg LoadConfig, send Sender, observe func(Result)) (*Generator, error) {
	if !(cfg.Rate > 0) {
		return nil, fmt.Errorf("load: rate must be positive, got %v", cfg.Rate)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	g := &Generator{cfg: cfg, send: send, observe: observe, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
	total := 0.0
	for _, t := range slices.Sorted(maps.Keys(cfg.Mix)) {
		w := cfg.Mix[t]
		if w < 0 {
			return nil, fmt.Errorf("load: weight of %q is negative", t)
		}
		if w == 0 {
			continue
		}
		total += w
		g.types, g.cum = append(g.types, t), append(g.cum, total)
	}
	if total == 0 {
		return nil, errors.New("load: the request mix is empty")
	}
	return g, nil
}

// gap returns the next inter-arrival time.
func (g *Generator) gap() time.Duration {
	mean := float64(time.Second) / g.cfg.Rate
	if g.cfg.Constant {
		return time.Duration(mean)
	}
	g.rmu.Lock()
	defer g.rmu.Unlock()
	return time.Duration(g.rng.ExpFloat64() * mean)
}

func (g *Generator) pick() string {
	g.rmu.Lock()
	defer g.rmu.Unlock()
	x := g.rng.Float64() * g.cum[len(g.cum)-1]
	i, _ := slices.BinarySearch(g.cum, x)
	return g.types[min(i, len(g.types)-1)]
}

// Run sends n requests (n <= 0: until ctx ends) and returns once every
// request sent has completed. Requests are not cancelled when ctx ends;
// each ends at its timeout at the latest.
func (g *Generator) Run(ctx context.Context, n int) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	next := time.Now().Add(g.gap())
	for i := 0; n <= 0 || i < n; i++ {
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-ctx.Done():
				return nil
			}
		} else if ctx.Err() != nil {
			return nil
		}
		if g.beforeDispatch != nil {
			g.beforeDispatch()
		}
		scheduled, reqType := next, g.pick()
		wg.Go(func() { g.one(ctx, scheduled, reqType) })
		next = next.Add(g.gap())
	}
	return nil
}

func (g *Generator) one(ctx context.Context, scheduled time.Time, reqType string) {
	rctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), scheduled.Add(g.cfg.Timeout))
	defer cancel()
	r := Result{Type: reqType, Scheduled: scheduled, Sent: time.Now()}
	// The send may not honour the deadline (Thrift's sockets do not): the
	// request then counts as failed at its deadline, and the send goes on
	// in the background.
	errc := make(chan error, 1)
	go func() { errc <- g.send(rctx, reqType) }()
	select {
	case r.Err = <-errc:
		r.Done = time.Now()
	case <-rctx.Done():
		r.Err, r.Done = fmt.Errorf("%s: %w", reqType, rctx.Err()), time.Now()
	}
	g.observe(r)
}
