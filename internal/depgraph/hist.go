package depgraph

import (
	"math"
	"time"
)

// latencyHist is a log-bucketed latency histogram (buckets grow by 2^(1/4),
// about 19%, from 1 µs), good for quantiles within one bucket.
type latencyHist struct {
	count   uint64
	sum     time.Duration
	max     time.Duration
	buckets [histBuckets]uint32
}

const (
	histBuckets = 120 // 1 µs * 2^(120/4) = about 18 minutes
	histBase    = float64(time.Microsecond)
)

func (h *latencyHist) add(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.count++
	h.sum += d
	if d > h.max {
		h.max = d
	}
	i := 0
	if float64(d) > histBase {
		i = int(math.Ceil(4 * math.Log2(float64(d)/histBase)))
	}
	if i >= histBuckets {
		i = histBuckets - 1
	}
	h.buckets[i]++
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *latencyHist) quantile(q float64) time.Duration {
	if h.count == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.count)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, n := range h.buckets {
		seen += uint64(n)
		if seen >= rank {
			ub := time.Duration(histBase * math.Exp2(float64(i)/4))
			if ub > h.max {
				return h.max
			}
			return ub
		}
	}
	return h.max
}

func (h *latencyHist) mean() time.Duration {
	if h.count == 0 {
		return 0
	}
	return h.sum / time.Duration(h.count)
}
