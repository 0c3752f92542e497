package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

// Sim is one simulation run; see Run.
type Sim struct {
	cfg       Config
	q         queue
	now, end  int64
	tick      int64
	services  []*service
	byName    map[string]*service
	instances []*instance
	types     []*reqType

	rngArr, rngMix, rngNet *rand.Rand
	netLat, netJit         float64
	maxRate                float64

	faults  []*faultState
	actions []dataset.Action
	viol    []dataset.Violation
	violWin []int64 // per violation, the window at its start (ns)

	spanSeq uint64
	samples []series.Sample
	stats   Stats
	err     error
	stopped bool
	freeV   []*visit
	freeF   []*frame
	freeA   []*attempt
	spanBuf Span
	tqs     map[int64]*timeoutQueue
	lostTQ  *timeoutQueue
}

// Stats counts what a run did.
type Stats struct {
	// Requests is end-to-end requests started; Completed those that
	// finished, Failed those that finished with an error.
	Requests, Completed, Failed int64
	// Visits is server-side executions started (one SERVER span each once
	// it replies); Calls is call attempts made (one CLIENT span each once
	// answered or timed out); Timeouts, Lost and Rejected count failures.
	Visits, Calls, Timeouts, Lost, Rejected int64
	// Ticks is series ticks emitted.
	Ticks int64
	// Events is events processed.
	Events int64
}

// Result is the outcome of a run.
type Result struct {
	Stats      Stats
	StartNs    int64
	EndNs      int64
	Faults     []dataset.Fault
	Violations []dataset.Violation
	Actions    []dataset.Action
	Services   []dataset.Service
}

// Run simulates cfg.
func Run(cfg Config) (*Result, error) {
	c := cfg.withDefaults()
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s := &Sim{cfg: c, byName: map[string]*service{}, tick: int64(c.Tick), now: c.Start}
	nTicks := (int64(c.Duration) + s.tick - 1) / s.tick
	s.end = c.Start + nTicks*s.tick
	s.rngArr = newStream(c.Seed, "arrivals")
	s.rngMix = newStream(c.Seed, "mix")
	s.rngNet = newStream(c.Seed, "network")
	s.netLat, s.netJit = float64(c.Topology.Network.Latency), float64(c.Topology.Network.Jitter)
	s.lostTQ = s.timeoutQueueFor(lostTimeout)
	if err := s.build(c.Topology); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s.initFaults()
	s.initActions()
	s.q.push(event{t: c.Start + s.tick, kind: evTick})
	s.scheduleArrival(c.Start)
	for s.q.len() > 0 && !s.stopped && s.err == nil {
		e := s.q.pop()
		s.now = e.t
		s.stats.Events++
		switch e.kind {
		case evTick:
			s.onTick()
		case evControl:
			s.onControl(e.x)
		case evArrival:
			s.onArrival()
		case evVisitArrive:
			s.onVisitArrive(e.v)
		case evComputeDone:
			s.onComputeDone(e.v)
		case evReturn:
			s.onReturn(e.a)
		case evTimeouts:
			s.onTimeouts(e.x.(*timeoutQueue))
		case evInstanceReady:
			s.makeReady(e.x.(*instance))
		}
	}
	if s.err != nil {
		return nil, fmt.Errorf("sim: %w", s.err)
	}
	res := &Result{Stats: s.stats, StartNs: c.Start, EndNs: s.end, Actions: s.actions}
	res.Faults = s.faultRecords()
	res.Violations = s.finishViolations(res.Faults)
	if c.Attribution == AttributionButFor {
		if err := attributeButFor(c, res); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
	}
	for _, sv := range s.services {
		d := dataset.Service{Name: sv.name, Kind: sv.spec.Kind}
		for _, in := range sv.all {
			d.Instances = append(d.Instances, in.name)
		}
		res.Services = append(res.Services, d)
	}
	return res, nil
}

func (s *Sim) scheduleArrival(from int64) {
	if s.maxRate <= 0 {
		s.maxRate = s.cfg.Load.maxRate() * (1 + s.maxSurge())
	}
	t := from + int64(math.Ceil(s.rngArr.ExpFloat64()/s.maxRate*1e9))
	s.q.push(event{t: t, kind: evArrival})
}

// onArrival thins the candidate arrival and starts a request.
func (s *Sim) onArrival() {
	s.scheduleArrival(s.now)
	base := s.cfg.Load.rateAt(s.now - s.cfg.Start)
	var total, max float64
	for _, rt := range s.types {
		total += rt.weight * (1 + rt.surge)
		max += rt.weight
	}
	// accept with probability rate(t)/maxRate
	rate := base * total / max
	u := s.rngArr.Float64()
	if u*s.maxRate >= rate {
		return
	}
	x := s.rngMix.Float64() * total
	var rt *reqType
	for _, t := range s.types {
		rt = t
		x -= t.weight * (1 + t.surge)
		if x < 0 {
			break
		}
	}
	req := &request{typ: rt, start: s.now}
	if s.cfg.Spans != nil {
		a, b := s.rngArr.Uint64(), s.rngArr.Uint64()
		for i := 0; i < 8; i++ {
			req.traceID[i] = byte(a >> (56 - 8*i))
			req.traceID[8+i] = byte(b >> (56 - 8*i))
		}
	}
	s.stats.Requests++
	v := s.newVisit()
	v.req, v.op, v.inst = req, rt.entry, s.pick(rt.entry.svc)
	s.onVisitArrive(v)
}

func (s *Sim) newVisit() *visit {
	if n := len(s.freeV); n > 0 {
		v := s.freeV[n-1]
		s.freeV = s.freeV[:n-1]
		return v
	}
	return &visit{}
}

func (s *Sim) newFrame(n *node, v *visit, parent *frame) *frame {
	var f *frame
	if k := len(s.freeF); k > 0 {
		f = s.freeF[k-1]
		s.freeF = s.freeF[:k-1]
	} else {
		f = &frame{}
	}
	*f = frame{n: n, v: v, parent: parent}
	return f
}

func (s *Sim) newAttempt() *attempt {
	if k := len(s.freeA); k > 0 {
		a := s.freeA[k-1]
		s.freeA = s.freeA[:k-1]
		return a
	}
	return &attempt{}
}

func (s *Sim) release(a *attempt) {
	a.refs--
	if a.refs <= 0 {
		*a = attempt{}
		s.freeA = append(s.freeA, a)
	}
}

// account advances the time-average depth of in to now.
func (s *Sim) account(in *instance) {
	if d := s.now - in.lastT; d > 0 {
		in.area += float64(in.outstanding) * float64(d)
		in.lastT = s.now
	}
}

// onVisitArrive: a request reaches an instance.
func (s *Sim) onVisitArrive(v *visit) {
	in := v.inst
	s.account(in)
	v.arrive = s.now
	v.depth = int32(in.outstanding)
	v.spanID = s.nextSpanID()
	in.arrivals++
	in.repSum += float64(in.outstanding)
	in.repN++
	in.outstanding++
	s.stats.Visits++
	if in.svc.queueCap > 0 && in.busy >= in.workers && in.waitW.size >= in.svc.queueCap {
		s.stats.Rejected++
		v.err = true
		s.visitDone(v)
		return
	}
	if in.busy < in.workers {
		in.busy++
		v.holding = true
		s.startWork(v)
		return
	}
	in.waitW.push(v)
}

// startWork: v has a worker; it needs a core to compute.
func (s *Sim) startWork(v *visit) {
	v.procStart = s.now
	in := v.inst
	if in.inUse < in.cores {
		in.inUse++
		s.compute(v)
		return
	}
	in.waitC.push(v)
}

func (s *Sim) compute(v *visit) {
	in := v.inst
	o := v.op
	d := o.dist.draw(in.svc.rng)
	if in.cpuM != 0 || in.memM != 0 || in.ioM != 0 {
		d *= o.res.CPU*(1+in.cpuM) + o.res.Memory*(1+in.memM) + o.res.IO*(1+in.ioM)
	}
	s.q.push(event{t: s.now + int64(d), kind: evComputeDone, v: v})
}

func (s *Sim) onComputeDone(v *visit) {
	in := v.inst
	// release the core
	if in.waitC.size > 0 {
		s.compute(in.waitC.pop())
	} else {
		in.inUse--
	}
	if !in.svc.blocking {
		s.releaseWorker(v)
	}
	s.run(s.newFrame(v.op.body, v, nil))
}

func (s *Sim) releaseWorker(v *visit) {
	if !v.holding {
		return
	}
	v.holding = false
	in := v.inst
	in.busy--
	for in.busy < in.workers && in.waitW.size > 0 {
		w := in.waitW.pop()
		in.busy++
		w.holding = true
		s.startWork(w)
	}
}

// run starts executing frame f.
func (s *Sim) run(f *frame) {
	switch f.n.kind {
	case nSeq:
		if len(f.n.kids) == 0 {
			s.done(f)
			return
		}
		s.run(s.newFrame(f.n.kids[0], f.v, f))
	case nPar:
		f.pending = len(f.n.kids)
		if f.pending == 0 {
			s.done(f)
			return
		}
		for _, k := range f.n.kids {
			s.run(s.newFrame(k, f.v, f))
		}
	case nCall:
		c := f.n.call
		if c.prob < 1 && c.svc.rng.Float64() >= c.prob {
			s.done(f)
			return
		}
		if f.v.level >= s.cfg.MaxDepth {
			f.v.err = true
			s.done(f)
			return
		}
		s.send(f)
	}
}

// done finishes frame f and advances its parent.
func (s *Sim) done(f *frame) {
	p, v := f.parent, f.v
	*f = frame{}
	s.freeF = append(s.freeF, f)
	if p == nil {
		s.visitDone(v)
		return
	}
	switch p.n.kind {
	case nSeq:
		p.i++
		if p.i == len(p.n.kids) {
			s.done(p)
			return
		}
		s.run(s.newFrame(p.n.kids[p.i], v, p))
	case nPar:
		p.pending--
		if p.pending == 0 {
			s.done(p)
		}
	case nCall: // the on_miss sequence of a cache call finished
		s.done(p)
	}
}

func (s *Sim) nextSpanID() uint64 {
	s.spanSeq++
	return s.spanSeq
}

// netDelay is one hop's delay into or out of in.
func (s *Sim) netDelay(in *instance) int64 {
	d := s.netLat + in.delay
	if s.netJit > 0 {
		d += s.netJit * s.rngNet.ExpFloat64()
	}
	return int64(d)
}

// send makes one attempt of the call of frame f.
func (s *Sim) send(f *frame) {
	c := f.n.call
	f.tries++
	callee := s.pick(c.svc)
	a := s.newAttempt()
	a.f, a.send, a.callee, a.spanID = f, s.now, callee, s.nextSpanID()
	s.stats.Calls++
	tq := c.tq
	lost := callee.loss > 0 && s.rngNet.Float64() < callee.loss
	if lost {
		s.stats.Lost++
		if tq == nil {
			tq = s.lostTQ
		}
	} else {
		a.refs++
		v := s.newVisit()
		*v = visit{req: f.v.req, op: c.op, inst: callee, parent: a, level: f.v.level + 1, parentSpan: a.spanID}
		s.q.push(event{t: s.now + s.netDelay(callee), kind: evVisitArrive, v: v})
	}
	if tq != nil {
		a.refs++
		s.armTimeout(tq, a)
	}
}

// lostTimeout is how long a caller without a timeout waits for a lost request.
const lostTimeout = int64(1e9)

// visitDone: the server side of v replies.
func (s *Sim) visitDone(v *visit) {
	in := v.inst
	s.account(in)
	in.outstanding--
	in.completions++
	lat := s.now - v.arrive
	in.lat.Add(lat, 1)
	s.releaseWorker(v)
	if s.cfg.Spans != nil {
		s.emitServer(v)
	}
	if a := v.parent; a != nil {
		a.err = v.err
		a.served = lat
		s.q.push(event{t: s.now + s.netDelay(in), kind: evReturn, a: a})
	} else {
		rt := v.req.typ
		s.stats.Completed++
		if v.err {
			s.stats.Failed++
		}
		rt.window[len(rt.window)-1] = append(rt.window[len(rt.window)-1], s.now-v.req.start)
	}
	*v = visit{}
	s.freeV = append(s.freeV, v)
}

// onReturn: a reply reaches the caller.
func (s *Sim) onReturn(a *attempt) {
	if a.timed || a.done {
		s.release(a)
		return
	}
	a.done = true
	f := a.f
	if s.cfg.Spans != nil {
		s.emitClient(a, false)
	}
	if !a.err {
		// As the queuedepth processor joins the CLIENT and SERVER spans:
		// calls with an error status say nothing of the network.
		a.callee.net.Add(s.now-a.send-a.served, 1)
	}
	if a.err {
		f.v.err = true
		s.failedCall(a.callee.svc)
	}
	callee := a.callee
	s.release(a)
	c := f.n.call
	if c.hasHit {
		hit := c.hit * (1 - callee.cacheMiss)
		if c.svc.rng.Float64() >= hit && c.miss != nil {
			s.run(s.newFrame(c.miss, f.v, f))
			return
		}
	}
	s.done(f)
}

// failedCall counts a call into svc that its caller saw fail (an error
// reply or a timeout), split equally over the service's ready instances, as
// the series engine counts it from the caller's CLIENT span (which names
// the callee service, not the instance). The engine splits over the
// instances it has series for: the two differ after a scale-out until the
// new instance's first span ends (runs with a Controller only).
func (s *Sim) failedCall(svc *service) {
	share := 1 / float64(len(svc.ready))
	for _, in := range svc.ready {
		in.failed += share
	}
}

// onTimeout: the caller gives up on an attempt.
func (s *Sim) onTimeout(a *attempt) {
	if a.done || a.timed {
		s.release(a)
		return
	}
	a.timed = true
	s.stats.Timeouts++
	s.failedCall(a.callee.svc)
	f := a.f
	if s.cfg.Spans != nil {
		s.emitClient(a, true)
	}
	s.release(a)
	if f.tries <= f.n.call.retries {
		s.send(f)
		return
	}
	f.v.err = true
	s.done(f)
}
