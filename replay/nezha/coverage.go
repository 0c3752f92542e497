package nezha

import "time"

// The window around an injection in which the README of the data counts
// traces: spans in every 10 s of [injection - 30 s, injection + 60 s).
const (
	CoverageBefore = 30 * time.Second
	CoverageAfter  = 60 * time.Second
	CoverageBucket = 10 * time.Second
)

// Coverage says how well the traces cover one fault.
type Coverage struct {
	// Buckets is how many of the 9 buckets of 10 s in [injection - 30 s,
	// injection + 60 s) hold the start of at least one span.
	Buckets int
	// Spans is the spans starting in that window.
	Spans int64
	// ByFiles: the trace files named for the injection minute and the next
	// are both present (the README's second count).
	ByFiles bool
}

// NumBuckets is the number of buckets of the coverage window.
const NumBuckets = int((CoverageBefore + CoverageAfter) / CoverageBucket)

// Full reports whether every bucket holds spans.
func (c Coverage) Full() bool { return c.Buckets == NumBuckets }

// Traced reports whether any span starts in the window.
func (c Coverage) Traced() bool { return c.Spans > 0 }

// startHistogram counts span starts per second of event time.
type startHistogram map[int64]int64

func (h startHistogram) add(startNs int64) { h[floorSec(startNs)]++ }

func floorSec(ns int64) int64 {
	s := ns / 1e9
	if ns%1e9 != 0 && ns < 0 {
		s--
	}
	return s
}

// coverage of the window around at (whole seconds: the buckets start on
// injection seconds, which are whole).
func (h startHistogram) coverage(at time.Time) (buckets int, spans int64) {
	first := at.Add(-CoverageBefore).Unix()
	for b := 0; b < NumBuckets; b++ {
		var n int64
		for s := int64(0); s < int64(CoverageBucket/time.Second); s++ {
			n += h[first+int64(b)*int64(CoverageBucket/time.Second)+s]
		}
		if n > 0 {
			buckets++
		}
		spans += n
	}
	return buckets, spans
}

// CountCoverage counts the faults with spans in every bucket (full), with
// some spans (traced) and with trace files for their minutes (byFiles).
func CountCoverage(fs []FaultResult) (full, traced, byFiles int) {
	for _, f := range fs {
		if f.Full() {
			full++
		}
		if f.Traced() {
			traced++
		}
		if f.ByFiles {
			byFiles++
		}
	}
	return full, traced, byFiles
}
