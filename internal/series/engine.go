package series

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// EngineConfig bounds and paces an Engine.
type EngineConfig struct {
	// Tick is the sampling period in event time.
	Tick time.Duration
	// AllowedLateness is how far behind the newest span end a span may end
	// and still be counted in full. The watermark is (newest end seen) -
	// AllowedLateness; ticks ending at or before it are final.
	AllowedLateness time.Duration
	// Expiry removes a series after this much event time without spans.
	Expiry time.Duration
	// MaxServices and MaxInstances cap the live series; spans beyond them go
	// to the overflow series and are counted.
	MaxServices  int
	MaxInstances int
}

// Validate checks the configuration.
func (c EngineConfig) Validate() error {
	var errs []error
	if c.Tick <= 0 {
		errs = append(errs, fmt.Errorf("tick must be positive, got %v", c.Tick))
	}
	if c.AllowedLateness < 0 {
		errs = append(errs, fmt.Errorf("allowed_lateness must not be negative, got %v", c.AllowedLateness))
	}
	if c.Tick > 0 && c.AllowedLateness/c.Tick > 100_000 {
		errs = append(errs, fmt.Errorf("allowed_lateness/tick must be at most 100000 (ring size), got %v/%v", c.AllowedLateness, c.Tick))
	}
	if c.Expiry < c.Tick {
		errs = append(errs, fmt.Errorf("series_expiry (%v) must be at least one tick (%v)", c.Expiry, c.Tick))
	}
	if c.MaxServices < 1 || c.MaxInstances < 1 {
		errs = append(errs, fmt.Errorf("max_services and max_instances must be positive, got %d and %d", c.MaxServices, c.MaxInstances))
	}
	return errors.Join(errs...)
}

// Span is what the Engine needs from a SERVER span: one request's stay in a
// service instance; or, with Client set, from a CLIENT span: one call as
// its caller saw it, which only serves to measure the callee's Network time.
type Span struct {
	Key
	TraceID [16]byte
	SpanID  [8]byte
	// ParentID is a SERVER span's parent, the CLIENT span that called it;
	// zero for none or unknown (then the span is not joined).
	ParentID [8]byte
	// Client marks a CLIENT span; Key is then the caller and is not used.
	Client bool
	// Failed marks a CLIENT span whose caller got no reply or an error
	// (timeout, error status): it says nothing about network time, and
	// counts in the Failed calls of the callee (Peer).
	Failed bool
	// Peer is a CLIENT span's callee service (peer.service); only failed
	// calls need it: a lost request leaves no SERVER span to name its
	// callee.
	Peer string
	// Start is the arrival and End the completion, Unix nanoseconds.
	Start, End int64
	// Weight is 1/sampling probability (1 for unsampled data).
	Weight float64
	// Reported is the software queue depth at arrival, NaN if absent.
	Reported float64
	// NIC is the NIC queue depth at arrival, NaN if absent.
	NIC float64
}

// MaxSpanDuration bounds the spans counted: a longer one is invalid, most
// often an unset start time (0, 1970) that would add decades to a latency
// sum. No RPC of a latency-critical service takes an hour.
const MaxSpanDuration = time.Hour

// Stats counts what the Engine did with spans and series. Every span given to
// Add ends in exactly one of Accepted, LateDropped, Duplicates or Invalid;
// LateClipped and the overflow counters are subsets of Accepted.
type Stats struct {
	Accepted    uint64
	LateDropped uint64 // ended before the watermark: no effect on any tick
	LateClipped uint64 // arrived before the watermark: counted from it on
	Duplicates  uint64 // same trace and span ID seen within the lateness
	Invalid     uint64 // end before start, longer than MaxSpanDuration, or zero/negative weight

	OverflowServiceSpans  uint64 // spans of services beyond MaxServices
	OverflowInstanceSpans uint64 // spans of instances beyond MaxInstances
	Expired               uint64 // series removed for inactivity
	SkippedTicks          uint64 // empty ticks jumped over after a gap
	Ticks                 uint64 // ticks emitted

	// CLIENT spans (Span.Client) end in exactly one of these; none of them
	// counts in the fields above.
	CallsMatched   uint64 // joined with their SERVER span: counted in Network
	CallsFailed    uint64 // no reply or an error: counted in the callee's Failed
	CallsNoPeer    uint64 // failed, but the callee (Peer) is unnamed or has no live series: not counted
	CallsLate      uint64 // their tick was final before they were joined or, failed, counted
	CallsUnmatched uint64 // no SERVER span within the allowed lateness (callee not traced, request lost, span dropped)
	CallsInvalid   uint64 // end before start, longer than MaxSpanDuration, or shorter than their SERVER span
	CallsDuplicate uint64 // same trace and span ID as a call still waiting
}

// Emitter receives each finalized tick. It is called with the Engine's
// lock held, so it must not block or call back into the Engine.
type Emitter func(Batch)

type cell struct {
	arrivals, completions float64
	bdiff, fdiff, area    float64
	bn, fn                int32      // bdiff and fdiff in spans, unweighted
	lat, net              LatencyAcc // completions; joined calls (Network)
	failed                float64    // failed calls into the instance (Failed)
	repSum, repN          float64
	nicSum, nicN          float64
}

type instance struct {
	key    Key
	ring   []cell
	bcarry float64 // outstanding across tick ends
	fcarry float64 // outstanding through whole ticks
	// bn and fn count the spans behind bcarry and fcarry: at 0 the float
	// sums are set to exactly 0, so that rounding in sums of fractional
	// weights cannot pile up (a depth of -3e-8 forever, and no expiry).
	bn, fn   int64
	lastSeen int64 // newest span end, event time
	hold     int64 // newest failed call counted here: the series lives until its tick is out
	idx      int   // position in Engine.list
	overflow bool
	removed  bool // expired: a call half may still point here
	// seen maps the spans accepted recently (spanKey) to the first open
	// tick when they came, for duplicate detection.
	seen seenSet
}

// spanKey folds a trace and span ID into 64 bits for duplicate detection
// (a false duplicate needs a 64-bit collision among the spans of two
// lateness windows: about 1e-10 at 100k spans).
func spanKey(trace [16]byte, span [8]byte) uint64 {
	k := mix64(binary.LittleEndian.Uint64(trace[8:]))
	k = mix64(k ^ binary.LittleEndian.Uint64(trace[:8]))
	return mix64(k ^ binary.LittleEndian.Uint64(span[:]))
}

// mix64 is the splitmix64 finalizer: a bijection that spreads every input
// bit over the output.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ z>>31
}

// Engine turns SERVER spans into per-instance series on an event-time tick.
// It is not safe for concurrent use; the caller serialises Add and Flush.
type Engine struct {
	cfg    EngineConfig
	tick   int64
	late   int64
	expiry int64
	ringN  int64
	emit   Emitter

	started  bool
	maxEnd   int64
	nextTick int64 // first tick not yet final

	byKey    map[Key]*instance
	list     []*instance
	services map[string][]*instance // live instances per service

	// nextSweep is the tick at which the instances forget the spans that
	// can no longer arrive without being late.
	nextSweep int64

	// The spans of one resource come together: remember the last instance.
	lastKey  Key
	lastInst *instance

	// keep is scratch of the duplicate sweep.
	keep []seenSlot

	// calls holds the halves of calls waiting for the other half, by
	// spanKey(trace, CLIENT span ID) (calls.go).
	calls map[uint64]callHalf
	// callsPeak is the most halves calls has held since it was made.
	callsPeak int

	stats Stats
}

// NewEngine returns an Engine that calls emit for every final tick.
func NewEngine(cfg EngineConfig, emit Emitter) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("series engine: %w", err)
	}
	tick := int64(cfg.Tick)
	// The ring holds the ticks between the watermark and the newest span end.
	ringN := (int64(cfg.AllowedLateness)+tick-1)/tick + 2
	return &Engine{
		cfg:      cfg,
		tick:     tick,
		late:     int64(cfg.AllowedLateness),
		expiry:   int64(cfg.Expiry),
		ringN:    ringN,
		emit:     emit,
		byKey:    make(map[Key]*instance),
		services: make(map[string][]*instance),
		calls:    make(map[uint64]callHalf),
	}, nil
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats { return e.stats }

// Watermark is the event time up to which ticks are final.
func (e *Engine) Watermark() time.Time {
	if !e.started {
		return time.Time{}
	}
	return time.Unix(0, e.nextTick*e.tick)
}

// Counts returns the live services and instances.
func (e *Engine) Counts() (services, instances int) { return len(e.services), len(e.list) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func ceilDiv(a, b int64) int64 { return -floorDiv(-a, b) }

// slot is the ring position of tick k (also for ticks before 1970).
func (e *Engine) slot(k int64) int64 {
	r := k % e.ringN
	if r < 0 {
		r += e.ringN
	}
	return r
}

// Add takes one span. The watermark moves as soon as the span's end is the
// newest seen, so the result depends only on the order of spans, never on
// how they were batched or how fast they came.
func (e *Engine) Add(s *Span) {
	if s.Client {
		e.addCall(s)
		return
	}
	if s.End < s.Start || s.End-s.Start > int64(MaxSpanDuration) || !(s.Weight > 0) || math.IsInf(s.Weight, 0) {
		e.stats.Invalid++
		return
	}
	F := e.clock(s.End)
	if s.End < F {
		e.stats.LateDropped++
		return
	}
	inst := e.instance(s.Key)
	// Duplicates are looked for per instance: the spans of one instance
	// come together, so its small table stays in cache. One probe both
	// looks the span up and records it (a repeat refreshes its tick).
	if inst.seen.put(spanKey(s.TraceID, s.SpanID), e.nextTick) {
		e.stats.Duplicates++
		return
	}
	kd := floorDiv(s.End, e.tick)
	if inst.overflow {
		if inst.key.Service == OverflowService {
			e.stats.OverflowServiceSpans++
		} else {
			e.stats.OverflowInstanceSpans++
		}
	}
	if s.End > inst.lastSeen {
		inst.lastSeen = s.End
	}
	e.stats.Accepted++
	w := s.Weight
	a := s.Start
	if a < F {
		e.stats.LateClipped++
		a = F
	} else {
		c := &inst.ring[e.slot(floorDiv(a, e.tick))]
		c.arrivals += w
		if !math.IsNaN(s.Reported) {
			c.repSum += s.Reported
			c.repN++
		}
		if !math.IsNaN(s.NIC) {
			c.nicSum += s.NIC
			c.nicN++
		}
	}
	d := s.End
	cd := &inst.ring[e.slot(kd)]
	cd.completions += w
	lat := s.End - s.Start
	cd.lat.Add(lat, w)
	if s.ParentID != ([8]byte{}) {
		e.serverHalf(inst, s)
	}

	// Instant depth at the end of tick k, t=(k+1)*tick: a < t <= d, the
	// requests outstanding just before t. Arrivals and completions fall in
	// the tick holding their instant ([start, end) of a tick), so a depth
	// is the last one plus its tick's arrivals less its completions, on
	// boundaries too.
	klo := floorDiv(a, e.tick)
	if klo < e.nextTick {
		klo = e.nextTick
	}
	if klo < kd { // outstanding at the ends of ticks klo..kd-1
		c := &inst.ring[e.slot(klo)]
		c.bdiff += w
		c.bn++
		cd.bdiff -= w
		cd.bn--
	}
	// Time average: the overlap of [a, d) with each tick.
	ka := floorDiv(a, e.tick)
	if ka == kd {
		cd.area += w * float64(d-a)
	} else {
		inst.ring[e.slot(ka)].area += w * float64((ka+1)*e.tick-a)
		cd.area += w * float64(d-kd*e.tick)
		if ka+1 < kd {
			c := &inst.ring[e.slot(ka+1)]
			c.fdiff += w
			c.fn++
			cd.fdiff -= w
			cd.fn--
		}
	}
}

// clock starts the event-time clock at the first span and moves the
// watermark for a span ending at end; it returns the watermark (ticks
// before it are final).
func (e *Engine) clock(end int64) int64 {
	if !e.started {
		e.started = true
		e.maxEnd = end
		e.nextTick = floorDiv(end-e.late, e.tick)
	}
	if end > e.maxEnd {
		e.advance(end)
	}
	return e.nextTick * e.tick
}

func (e *Engine) instance(k Key) *instance {
	if e.lastInst != nil && k == e.lastKey {
		return e.lastInst
	}
	if in, ok := e.byKey[k]; ok {
		e.lastKey, e.lastInst = k, in
		return in
	}
	overflow := false
	if _, known := e.services[k.Service]; !known && len(e.services) >= e.cfg.MaxServices {
		k = Key{Service: OverflowService, Instance: OverflowInstance}
		overflow = true
	} else if len(e.list) >= e.cfg.MaxInstances {
		k = Key{Service: k.Service, Instance: OverflowInstance}
		overflow = true
		if _, known := e.services[k.Service]; !known {
			// A service's first instance is over the cap: the whole
			// service goes to the global overflow series.
			k.Service = OverflowService
		}
	}
	if in, ok := e.byKey[k]; ok {
		return in
	}
	in := &instance{key: k, ring: make([]cell, e.ringN), idx: len(e.list), overflow: overflow}
	e.byKey[k] = in
	e.list = append(e.list, in)
	e.services[k.Service] = append(e.services[k.Service], in)
	return in
}

// advance moves the watermark for a new newest span end.
func (e *Engine) advance(end int64) {
	e.maxEnd = end
	target := floorDiv(end-e.late, e.tick)
	if target-e.nextTick > 2*e.ringN {
		// Only the ring holds data: finalize it, then jump the empty gap
		// rather than emit a long run of empty ticks after a silence.
		stop := e.nextTick + e.ringN
		for e.nextTick < stop {
			e.finalize(e.nextTick)
			e.nextTick++
		}
		e.stats.SkippedTicks += uint64(target - e.nextTick)
		e.nextTick = target
		return
	}
	for e.nextTick < target {
		e.finalize(e.nextTick)
		e.nextTick++
	}
}

// Flush finalizes every tick that holds data, as if the watermark had passed
// them all (used at shutdown).
func (e *Engine) Flush() {
	if !e.started {
		return
	}
	e.advance(e.maxEnd + e.late + e.tick)
	// No other half can come in time now.
	e.sweepCalls(math.MaxInt64)
}

func (e *Engine) finalize(k int64) {
	slot := e.slot(k)
	sweep := k >= e.nextSweep
	if sweep {
		e.nextSweep = k + e.ringN
	}

	tickEnd := (k + 1) * e.tick
	b := Batch{
		Origin:  OriginSpans,
		Start:   time.Unix(0, k*e.tick),
		End:     time.Unix(0, tickEnd),
		Samples: make([]Sample, 0, len(e.list)),
	}
	tick := float64(e.tick)
	if sweep {
		e.sweepCalls(tickEnd)
	}
	for i := 0; i < len(e.list); i++ {
		in := e.list[i]
		c := &in.ring[slot]
		if sweep {
			// A span seen when tick t was open ended after t's start, so
			// it is late once the watermark passes t + ringN.
			e.keep = in.seen.removeUpTo(k-e.ringN, e.keep)
		}
		in.bcarry += c.bdiff
		in.fcarry += c.fdiff
		in.bn += int64(c.bn)
		in.fn += int64(c.fn)
		if in.bn == 0 {
			in.bcarry = 0
		}
		if in.fn == 0 {
			in.fcarry = 0
		}
		s := Sample{
			Key:           in.key,
			InstantDepth:  clean(in.bcarry),
			MeanDepth:     clean(in.fcarry + c.area/tick),
			ReportedDepth: math.NaN(),
			NICDepth:      math.NaN(),
			ListenBacklog: math.NaN(),
			Arrivals:      c.arrivals,
			Completions:   c.completions,
			Sources:       SourceSpans,
		}
		s.Depth = s.MeanDepth
		if c.repN > 0 {
			s.ReportedDepth = c.repSum / c.repN
			s.Depth = s.ReportedDepth
			s.Sources |= SourceReported
		}
		if c.nicN > 0 {
			s.NICDepth = c.nicSum / c.nicN
			s.Sources |= SourceNIC
		}
		s.Latency, s.Network = c.lat.Latency(), c.net.Latency()
		s.Failed = clean(c.failed)
		*c = cell{}
		b.Samples = append(b.Samples, s)
		if tickEnd-in.lastSeen >= e.expiry && in.hold < tickEnd && in.bn == 0 && in.fn == 0 {
			b.Expired = append(b.Expired, in.key)
			e.remove(in)
			i-- // the last instance moved into slot i
		}
	}
	e.stats.Ticks++
	if e.emit != nil {
		e.emit(b)
	}
}

func (e *Engine) remove(in *instance) {
	e.stats.Expired++
	in.removed = true
	e.lastInst = nil
	last := e.list[len(e.list)-1]
	e.list[in.idx] = last
	last.idx = in.idx
	e.list = e.list[:len(e.list)-1]
	delete(e.byKey, in.key)
	if rest := slices.DeleteFunc(e.services[in.key.Service], func(x *instance) bool { return x == in }); len(rest) > 0 {
		e.services[in.key.Service] = rest
	} else {
		delete(e.services, in.key.Service)
	}
}

// clean removes the rounding residue of fractional weights.
func clean(v float64) float64 {
	if math.Abs(v) < 1e-9 {
		return 0
	}
	return v
}
