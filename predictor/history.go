package predictor

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/gomlx/gomlx/pkg/core/graph"

	"github.com/seer-qos/seer/dataset"
)

// History is a bounded ring of recent live ticks (RawTick) for retraining.
// A tick holds numRaw float32 per live service plus its sorted service
// names (shared with the batches), so memory is about
// capacity x services x (32 + 16) bytes: 6000 ticks (10 min at 100 ms) of
// 30 services come to about 8.6 MB (estimated, not measured). Not safe
// for concurrent use.
type History struct {
	ring []RawTick
	head int // index of the oldest tick
	n    int
}

// NewHistory keeps at most capacity ticks.
func NewHistory(capacity int) *History {
	return &History{ring: make([]RawTick, max(capacity, 1))}
}

// Add appends a tick, forgetting the oldest when full.
func (h *History) Add(rt RawTick) {
	if h.n < len(h.ring) {
		h.ring[(h.head+h.n)%len(h.ring)] = rt
		h.n++
		return
	}
	h.ring[h.head] = rt
	h.head = (h.head + 1) % len(h.ring)
}

// Len is the number of ticks held.
func (h *History) Len() int { return h.n }

// Since returns, oldest first, the ticks that start at or after t.
func (h *History) Since(t time.Time) []RawTick {
	var out []RawTick
	for i := range h.n {
		rt := h.ring[(h.head+i)%len(h.ring)]
		if !rt.Start.Before(t) {
			out = append(out, rt)
		}
	}
	return out
}

// Oldest is the start of the oldest tick held (zero when empty).
func (h *History) Oldest() time.Time {
	if h.n == 0 {
		return time.Time{}
	}
	return h.ring[h.head].Start
}

// Last returns the last n ticks, oldest first.
func (h *History) Last(n int) []RawTick {
	n = min(n, h.n)
	out := make([]RawTick, n)
	for i := range n {
		out[i] = h.ring[(h.head+h.n-n+i)%len(h.ring)]
	}
	return out
}

// QoSTarget labels live history: a tick whose mean latency at Service
// exceeds Latency is a violation tick.
type QoSTarget struct {
	Service string
	Latency time.Duration
}

// LiveTraces turns consecutive live ticks into chunks traces over services
// (sorted; a service with no sample in a tick reads raw 0), in time order,
// named live-0, live-1, ... so that Train can hold whole chunks out for
// validation. Violations are the runs of ticks that break qos; live
// violations name no culprit, so training learns only the violation term
// from them (see batcher.fill). Gaps between ticks become ticks with no
// samples, window of them at most: the model's window, as serving fills a
// gap (Online), so that a jump of the series clock ahead does not make a
// trace as long as the jump.
func LiveTraces(ticks []RawTick, services []string, edges []dataset.Edge, qos QoSTarget, chunks, window int) ([]*Trace, error) {
	if len(ticks) == 0 || chunks < 1 {
		return nil, fmt.Errorf("predictor: live traces: %d ticks, %d chunks", len(ticks), chunks)
	}
	tickNs := int64(ticks[0].End.Sub(ticks[0].Start))
	if tickNs <= 0 {
		return nil, fmt.Errorf("predictor: live traces: tick of %v", time.Duration(tickNs))
	}
	services = slices.Clone(services)
	slices.Sort(services)
	per := len(ticks) / chunks
	if per < 1 {
		return nil, fmt.Errorf("predictor: live traces: %d ticks for %d chunks", len(ticks), chunks)
	}
	var out []*Trace
	for c := range chunks {
		part := ticks[c*per : (c+1)*per]
		if c == chunks-1 {
			part = ticks[c*per:]
		}
		out = append(out, liveTrace(fmt.Sprintf("live-%d", c), part, services, edges, qos, tickNs, window))
	}
	return out, nil
}

// liveTrace is one trace of consecutive ticks (see LiveTraces).
func liveTrace(name string, part []RawTick, services []string, edges []dataset.Edge, qos QoSTarget, tickNs int64, window int) *Trace {
	// at[i] is tick i's index in the trace: its time, less the ticks cut
	// from the long gaps before it.
	at := make([]int, len(part))
	startNs := part[0].Start.UnixNano()
	for i := 1; i < len(part); i++ {
		missing := (part[i].Start.UnixNano()-part[i-1].Start.UnixNano())/tickNs - 1
		at[i] = at[i-1] + 1 + int(min(max(missing, 0), int64(window)))
	}
	n := at[len(at)-1] + 1
	nS := len(services)
	tr := &Trace{Dir: name, Services: services, TickNs: tickNs, StartNs: startNs,
		Ticks: n, raw: make([]float32, n*nS*numRaw), Edges: edges}
	viol := make([]bool, n)
	for i := range part {
		rt := &part[i]
		t := at[i]
		for si, svc := range services {
			j, ok := slices.BinarySearch(rt.Services, svc)
			if !ok {
				continue
			}
			copy(tr.raw[(t*nS+si)*numRaw:(t*nS+si+1)*numRaw], rt.raw[j*numRaw:(j+1)*numRaw])
		}
		if lat, ok := rt.Value(qos.Service, "latency"); ok && float64(lat) > float64(qos.Latency)/1e6 {
			viol[t] = true
		}
	}
	for t := 0; t < n; t++ {
		if !viol[t] {
			continue
		}
		e := t
		for e < n && viol[e] {
			e++
		}
		tr.Violations = append(tr.Violations, dataset.Violation{StartNs: startNs + int64(t)*tickNs,
			EndNs: startNs + int64(e)*tickNs, RequestType: "qos:" + qos.Service, Cause: "unknown"})
		t = e
	}
	return tr
}

// ValidationLoss is m's training loss on every full-window tick of traces,
// weighted as in training (the positive weight from these traces' own
// ratio, so that two models compared on the same traces get the same
// weights). It is how retraining compares a candidate with the serving
// model on the same held-out history.
func (m *Model) ValidationLoss(ctx context.Context, traces []*Trace, backendName string, batch int) (float64, error) {
	b, _, err := OpenBackend(backendName)
	if err != nil {
		return 0, err
	}
	s := m.Card.Shape
	bt, samples, err := newBatcher(&m.Card.Features, m.Params.inputLayout(), traces, m.Card.HorizonMs*1e6, 1)
	if err != nil {
		return 0, err
	}
	if len(samples) < batch {
		return 0, fmt.Errorf("predictor: validation loss: %d windows, fewer than the batch %d", len(samples), batch)
	}
	exec, err := graph.NewExec(b, evalLossGraph(s))
	if err != nil {
		return 0, fmt.Errorf("predictor: loss graph: %w", err)
	}
	defer exec.Finalize()
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return meanLoss(exec, bt, samples, batch, m.Params)
}
