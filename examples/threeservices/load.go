package threeservices

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// LoadStats summarises a load run.
type LoadStats struct {
	Requests int64 // completed, with or without error
	Errors   int64
	// Skipped counts open-loop arrivals not sent because MaxInFlight
	// requests were already outstanding.
	Skipped       int64
	Elapsed       time.Duration
	P50, P99, Max time.Duration // latency of the completed requests
	FirstError    error

	mu                sync.Mutex
	latencies         []time.Duration
	maxLatencySamples int
}

// Throughput is completed requests per second.
func (s *LoadStats) Throughput() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Requests) / s.Elapsed.Seconds()
}

func (s *LoadStats) String() string {
	return fmt.Sprintf("%d requests (%d errors, %d skipped) in %v: %.0f/s, p50 %v p99 %v max %v",
		s.Requests, s.Errors, s.Skipped, s.Elapsed.Round(time.Millisecond), s.Throughput(), s.P50, s.P99, s.Max)
}

func (s *LoadStats) observe(d time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Requests++
	if err != nil {
		s.Errors++
		if s.FirstError == nil {
			s.FirstError = err
		}
	}
	// Bounded memory for long open-loop runs: the quantiles then describe
	// the first samples.
	if len(s.latencies) < s.maxLatencySamples {
		s.latencies = append(s.latencies, d)
	}
}

func (s *LoadStats) finish(elapsed time.Duration) {
	s.Elapsed = elapsed
	if len(s.latencies) == 0 {
		return
	}
	slices.Sort(s.latencies)
	q := func(p float64) time.Duration { return s.latencies[int(p*float64(len(s.latencies)-1))] }
	s.P50, s.P99, s.Max = q(0.50), q(0.99), s.latencies[len(s.latencies)-1]
	s.latencies = nil
}

func newStats() *LoadStats { return &LoadStats{maxLatencySamples: 1 << 20} }

// RequestTimeout bounds one load-generator request.
const RequestTimeout = 10 * time.Second

// oneRequest sends one home request for a random user.
func oneRequest(c *Client, stats *LoadStats) {
	ctx, cancel := context.WithTimeout(context.Background(), RequestTimeout)
	defer cancel()
	start := time.Now()
	_, err := c.Home(ctx, 1+rand.Int64N(1000))
	stats.observe(time.Since(start), err)
}

// RunClosedLoop sends n requests from concurrency workers, each sending its
// next request when the previous one completes, and returns when all are
// done or ctx ends.
func (a *App) RunClosedLoop(ctx context.Context, n, concurrency int) (*LoadStats, error) {
	if n <= 0 || concurrency <= 0 {
		return nil, errors.New("closed loop: n and concurrency must be positive")
	}
	c := a.NewClient()
	defer c.Close()
	stats := newStats()
	start := time.Now()
	next := make(chan struct{})
	var wg sync.WaitGroup
	for range min(concurrency, n) {
		wg.Go(func() {
			for range next {
				oneRequest(c, stats)
			}
		})
	}
	var err error
feed:
	for range n {
		select {
		case next <- struct{}{}:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	stats.finish(time.Since(start))
	return stats, err
}

// RunOpenLoop sends requests at rate per second with exponential
// inter-arrival times (a Poisson process), whether or not earlier requests
// have completed, until ctx ends; then it waits for the requests in flight.
// Arrivals that find maxInFlight requests outstanding are skipped and
// counted (maxInFlight <= 0 means 1024). ctx ending is the normal end and not
// an error.
func (a *App) RunOpenLoop(ctx context.Context, rate float64, maxInFlight int) (*LoadStats, error) {
	if rate <= 0 {
		return nil, errors.New("open loop: rate must be positive")
	}
	if maxInFlight <= 0 {
		maxInFlight = 1024
	}
	c := a.NewClient()
	defer c.Close()
	stats := newStats()
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	next := start
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			stats.finish(time.Since(start))
			return stats, nil
		case <-timer.C:
		}
		// Send every arrival that is due: at high rates a timer wake-up
		// covers several, which keeps the process Poisson on average.
		now := time.Now()
		for !next.After(now) {
			select {
			case slots <- struct{}{}:
				wg.Go(func() {
					defer func() { <-slots }()
					oneRequest(c, stats)
				})
			default:
				stats.mu.Lock()
				stats.Skipped++
				stats.mu.Unlock()
			}
			next = next.Add(time.Duration(rand.ExpFloat64() / rate * float64(time.Second)))
		}
		timer.Reset(next.Sub(now))
	}
}

// Run starts the services against cfg.CollectorEndpoint, sends open-loop
// load at rate requests per second until ctx ends, and shuts the services
// down (flushing their spans, for at most 10 seconds).
func Run(ctx context.Context, cfg Config, rate float64) (*LoadStats, error) {
	app, err := Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	stats, runErr := app.RunOpenLoop(ctx, rate, 0)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return stats, errors.Join(runErr, app.Shutdown(sctx))
}
