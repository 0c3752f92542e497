package socialnetwork

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"
)

// collect returns an observe function and the results it gathered.
func collect() (func(Result), func() []Result) {
	var mu sync.Mutex
	var rs []Result
	return func(r Result) {
			mu.Lock()
			rs = append(rs, r)
			mu.Unlock()
		}, func() []Result {
			mu.Lock()
			defer mu.Unlock()
			return rs
		}
}

// TestStalledServerShowsAsLatency stalls nginx (the test takes all its
// workers) while constant load arrives, and releases it once 40 requests
// wait there. Every request scheduled before the release must report at
// least the time from its schedule to the release: the stall is in the
// results, none of it omitted.
func TestStalledServerShowsAsLatency(t *testing.T) {
	const n = 150
	app, _ := startTestApp(t, AppConfig{})
	c := app.NewClient()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := c.Do(ctx, ReadHomeTimeline, 1); err != nil { // connections up
		t.Fatal(err)
	}
	w := app.services[Nginx].w
	for range cap(w.sem) {
		w.sem <- struct{}{}
	}
	observe, results := collect()
	g, err := NewGenerator(LoadConfig{Rate: 500, Constant: true, Seed: 1}, c.Sender(), observe)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx, n) }()
	for app.Outstanding(Nginx) < 40 {
		if ctx.Err() != nil {
			t.Fatalf("only %d requests reached the stalled nginx", app.Outstanding(Nginx))
		}
		time.Sleep(time.Millisecond) // polling an observable condition
	}
	release := time.Now()
	for range cap(w.sem) {
		<-w.sem
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rs := results()
	if len(rs) != n {
		t.Fatalf("%d results for %d scheduled requests", len(rs), n)
	}
	stalled := 0
	var worst time.Duration
	for _, r := range rs {
		if r.Err != nil {
			t.Fatalf("request failed: %v", r.Err)
		}
		if !r.Scheduled.Before(release) {
			continue
		}
		stalled++
		if want := release.Sub(r.Scheduled); r.Latency() < want {
			t.Errorf("request scheduled %v before the release reports %v", want, r.Latency())
		}
		worst = max(worst, r.Latency())
	}
	if stalled < 40 {
		t.Errorf("%d requests scheduled during the stall, want at least 40", stalled)
	}
	t.Logf("%d requests scheduled during a %v stall; worst latency %v", stalled, release.Sub(rs[0].Scheduled), worst)
}

// TestStalledGeneratorShowsAsLatency stalls the generator itself for 100ms
// (as a GC pause or a descheduled process would) in the middle of constant
// load. It must still send every scheduled request, on the original
// schedule, and each request due during the stall must report the stall in
// its latency, though its service time is short: a generator measuring from
// the actual send would omit it.
func TestStalledGeneratorShowsAsLatency(t *testing.T) {
	const (
		n     = 200
		rate  = 1000
		stall = 100 * time.Millisecond
	)
	observe, results := collect()
	g, err := NewGenerator(LoadConfig{Rate: rate, Constant: true, Seed: 1},
		func(context.Context, string) error { return nil }, observe)
	if err != nil {
		t.Fatal(err)
	}
	var calls int
	var stallStart, stallEnd time.Time
	g.beforeDispatch = func() {
		calls++
		if calls == 50 {
			stallStart = time.Now()
			time.Sleep(stall) // the stall is the test's input
			stallEnd = time.Now()
		}
	}
	if err := g.Run(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	rs := results()
	if len(rs) != n {
		t.Fatalf("%d results for %d scheduled requests", len(rs), n)
	}
	first := rs[0].Scheduled
	var late []time.Duration
	var service []time.Duration
	for _, r := range rs {
		first = minTime(first, r.Scheduled)
	}
	for _, r := range rs {
		// The schedule is the constant process, whatever the stall did.
		if off := r.Scheduled.Sub(first); off%time.Millisecond != 0 {
			t.Fatalf("request scheduled at +%v, off the 1ms grid", off)
		}
		if r.Scheduled.After(stallStart) && r.Scheduled.Before(stallEnd) {
			if want := stallEnd.Sub(r.Scheduled); r.Latency() < want {
				t.Errorf("request due %v before the stall ended reports %v", want, r.Latency())
			}
			late = append(late, r.Latency())
			service = append(service, r.ServiceTime())
		}
	}
	if min := int(0.8 * stall.Seconds() * rate); len(late) < min {
		t.Fatalf("%d requests due during the stall, want at least %d", len(late), min)
	}
	p99, serviceP99 := quantile(late, 0.99), quantile(service, 0.99)
	if p99 < stall*8/10 || serviceP99 > stall/2 {
		t.Errorf("during the stall: p99 latency %v (want about %v), p99 service time %v (want short)", p99, stall, serviceP99)
	}
	t.Logf("%d requests due during a %v generator stall: p99 latency %v, p99 service time %v",
		len(late), stallEnd.Sub(stallStart).Round(time.Millisecond), p99, serviceP99)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// TestGeneratorRateAndMix checks the Poisson arrivals' mean rate and the
// request mix over many requests.
func TestGeneratorRateAndMix(t *testing.T) {
	const (
		n    = 4000
		rate = 40000
	)
	observe, results := collect()
	g, err := NewGenerator(LoadConfig{Rate: rate, Seed: 7}, func(context.Context, string) error { return nil }, observe)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Run(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	rs := results()
	first, last := rs[0].Scheduled, rs[0].Scheduled
	count := map[string]int{}
	for _, r := range rs {
		first, last = minTime(first, r.Scheduled), maxTime(last, r.Scheduled)
		count[r.Type]++
	}
	// n-1 exponential gaps: the mean is within 5% with overwhelming odds.
	mean := last.Sub(first).Seconds() / (n - 1)
	if math.Abs(mean*rate-1) > 0.05 {
		t.Errorf("mean gap %v, want %v", time.Duration(mean*1e9), time.Second/rate)
	}
	for typ, w := range DefaultMix {
		if got := float64(count[typ]) / n; math.Abs(got-w/100) > 0.03 {
			t.Errorf("%s: %.3f of the requests, want %.2f", typ, got, w/100)
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func TestGeneratorArguments(t *testing.T) {
	send := func(context.Context, string) error { return nil }
	tests := []struct {
		name string
		cfg  LoadConfig
	}{
		{"zero rate", LoadConfig{}},
		{"NaN rate", LoadConfig{Rate: math.NaN()}},
		{"negative weight", LoadConfig{Rate: 1, Mix: map[string]float64{ReadHomeTimeline: -1}}},
		{"empty mix", LoadConfig{Rate: 1, Mix: map[string]float64{ReadHomeTimeline: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewGenerator(tt.cfg, send, func(Result) {}); err == nil {
				t.Error("accepted")
			}
		})
	}
}
