package queuedepthprocessor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/series"
)

// queueSim generates the SERVER spans of an M/M/c FCFS service: Poisson
// arrivals at lambda per second, exponential service at mu per second per
// server, c servers.
func queueSim(rng *rand.Rand, n int, lambda, mu float64, c int) []testSpan {
	free := make([]float64, c) // when each server is next free, seconds
	spans := make([]testSpan, n)
	t := 1.0
	for i := range spans {
		t += rng.ExpFloat64() / lambda
		k := 0
		for j := 1; j < c; j++ {
			if free[j] < free[k] {
				k = j
			}
		}
		begin := math.Max(t, free[k])
		free[k] = begin + rng.ExpFloat64()/mu
		spans[i] = testSpan{service: "svc", instance: "i", name: "op", kind: ptrace.SpanKindServer,
			trace: uint64(i + 1), id: uint64(i + 1),
			startNS: base + int64(t*1e9), endNS: base + int64(free[k]*1e9)}
	}
	// Spans are exported when they end.
	sort.Slice(spans, func(a, b int) bool { return spans[a].endNS < spans[b].endNS })
	return spans
}

// mmcMeanInSystem is the analytic mean number in an M/M/c system (Erlang C).
func mmcMeanInSystem(lambda, mu float64, c int) float64 {
	a := lambda / mu
	rho := a / float64(c)
	sum, term := 0.0, 1.0
	for k := 0; k < c; k++ {
		if k > 0 {
			term *= a / float64(k)
		}
		sum += term
	}
	last := term * a / float64(c) / (1 - rho) // a^c / (c! (1-rho))
	p0 := 1 / (sum + last)
	lq := p0 * last * rho / (1 - rho)
	return lq + a
}

func TestLittlesLaw(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lambda, mu float64
		c, n       int
	}{
		{name: "M/M/1", lambda: 50, mu: 100, c: 1, n: 300_000},
		{name: "M/M/3", lambda: 180, mu: 100, c: 3, n: 300_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spans := queueSim(rand.New(rand.NewPCG(1, uint64(tc.c))), tc.n, tc.lambda, tc.mu, tc.c)
			h := newHarness(t, fmt.Sprintf("little%d", tc.c), func(c *Config) { c.AllowedLateness = time.Second })
			const chunk = 1000
			for lo := 0; lo < len(spans); lo += chunk {
				h.consume(spans[lo:min(lo+chunk, len(spans))])
			}
			batches := h.stop()

			minStart, maxEnd, sumW := int64(math.MaxInt64), int64(0), 0.0
			for _, s := range spans {
				minStart = min(minStart, s.startNS)
				maxEnd = max(maxEnd, s.endNS)
				sumW += float64(s.endNS-s.startNS) / 1e9
			}
			tick := int64(100 * time.Millisecond)
			from, to := minStart/tick*tick, (maxEnd/tick+1)*tick
			window := float64(to-from) / 1e9
			var sumMean, sumInstant, ticks float64
			key := series.Key{Service: "svc", Instance: "i"}
			for _, b := range batches {
				if b.Start.UnixNano() < from || b.Start.UnixNano() >= to {
					continue
				}
				for _, s := range b.Samples {
					if s.Key == key {
						sumMean += s.MeanDepth
						sumInstant += s.InstantDepth
						ticks++
					}
				}
			}
			assert.InDelta(t, window/0.1, ticks, 0.5, "one sample per tick")
			measured := sumMean / ticks
			little := (float64(tc.n) / window) * (sumW / float64(tc.n)) // lambda x W
			analytic := mmcMeanInSystem(tc.lambda, tc.mu, tc.c)
			errLittle := math.Abs(measured-little) / little
			errAnalytic := math.Abs(measured-analytic) / analytic
			errInstant := math.Abs(sumInstant/ticks-analytic) / analytic
			t.Logf("%s: measured mean depth %.4f, Little's law %.4f (error %.2e), analytic %.4f (error %.2f%%), tick-end samples %.4f (error %.2f%%)",
				tc.name, measured, little, errLittle, analytic, 100*errAnalytic, sumInstant/ticks, 100*errInstant)
			assert.Less(t, errLittle, 0.05, "Little's law")
			assert.Less(t, errAnalytic, 0.05, "analytic mean in system")
			assert.Less(t, errInstant, 0.05, "tick-end samples against the analytic mean")
		})
	}
}

func TestErlangC(t *testing.T) {
	// M/M/1: rho/(1-rho).
	assert.InDelta(t, 1.0, mmcMeanInSystem(50, 100, 1), 1e-12)
	assert.InDelta(t, 4.0, mmcMeanInSystem(80, 100, 1), 1e-12)
	// M/M/2 with a=1: Lq = 1/3, L = 4/3.
	assert.InDelta(t, 4.0/3, mmcMeanInSystem(100, 100, 2), 1e-12)
}

// TestSampledDepth thins M/M/1 traffic to a quarter (tracestate th:c) and
// checks that the weighted depth stays unbiased, and measures the per-tick
// error that sampling costs against the unsampled series.
func TestSampledDepth(t *testing.T) {
	const n = 200_000
	spans := queueSim(rand.New(rand.NewPCG(5, 5)), n, 50, 100, 1)
	run := func(name string, keep func(i int) bool, ts string) map[int64]float64 {
		h := newHarness(t, name, func(c *Config) { c.AllowedLateness = time.Second })
		var chunk []testSpan
		for i, s := range spans {
			if !keep(i) {
				continue
			}
			s.traceState = ts
			chunk = append(chunk, s)
			if len(chunk) == 1000 {
				h.consume(chunk)
				chunk = chunk[:0]
			}
		}
		h.consume(chunk)
		out := map[int64]float64{}
		for _, b := range h.stop() {
			for _, s := range b.Samples {
				out[b.Start.UnixNano()] = s.MeanDepth
			}
		}
		return out
	}
	full := run("sampling-full", func(int) bool { return true }, "")
	rng := rand.New(rand.NewPCG(9, 9))
	sampled := run("sampling-quarter", func(int) bool { return rng.Float64() < 0.25 }, "ot=th:c")
	var sumFull, sumSampled, sqErr float64
	ticks := 0.0
	for tick, d := range full {
		sumFull += d
		sumSampled += sampled[tick]
		sqErr += (sampled[tick] - d) * (sampled[tick] - d)
		ticks++
	}
	meanFull, meanSampled := sumFull/ticks, sumSampled/ticks
	rmsRel := math.Sqrt(sqErr/ticks) / meanFull
	predicted := math.Sqrt((1 - 0.25) / (0.25 * meanFull))
	t.Logf("p=0.25: mean depth %.4f sampled vs %.4f unsampled (bias %.2f%%); per-tick RMS error %.0f%% of the mean (sqrt((1-p)/(pN)) = %.0f%% at N=%.2f)",
		meanSampled, meanFull, 100*(meanSampled-meanFull)/meanFull, 100*rmsRel, 100*predicted, meanFull)
	assert.InDelta(t, meanFull, meanSampled, 0.05*meanFull, "unbiased within 5%")
	assert.Greater(t, rmsRel, 0.3, "sampling costs per-tick accuracy")
}
