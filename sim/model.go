package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/seer-qos/seer/internal/series"
	"github.com/seer-qos/seer/sim/topology"
)

// Node kinds of an operation's compiled call tree.
const (
	nSeq uint8 = iota
	nPar
	nCall
)

type node struct {
	kind uint8
	kids []*node
	call *callSpec
}

type callSpec struct {
	svc     *service
	op      *operation
	prob    float64
	timeout int64
	retries int
	hasHit  bool
	hit     float64
	miss    *node // nSeq, nil without misses
	tq      *timeoutQueue
}

type operation struct {
	svc  *service
	name string
	dist dist
	res  topology.Resources
	body *node // nSeq
}

const (
	balRR uint8 = iota
	balRandom
	balLeast
)

type service struct {
	spec     *topology.Service
	name     string
	rng      *rand.Rand
	ops      []*operation
	ready    []*instance // instances that take requests
	all      []*instance
	rr       int
	balance  uint8
	blocking bool
	workers  int
	cores    int
	queueCap int
	startup  int64
}

// instance is one replica and its accounting for the current tick.
type instance struct {
	svc  *service
	key  series.Key
	name string

	workers, busy int // effective worker pool and workers in use
	waitW         fifo
	cores, inUse  int
	waitC         fifo
	outstanding   int

	// accounting of the current tick
	lastT                 int64
	area                  float64
	arrivals, completions float64
	repSum, repN          float64
	lat                   series.LatencyAcc // completions
	// network time of the calls into the instance whose reply came back
	net series.LatencyAcc
	// failed calls into the instance (series.Sample.Failed)
	failed float64

	// fault effects, recomputed on fault changes and ticks
	cpuM, memM, ioM float64
	delay           float64
	loss            float64
	workerLoss      float64
	cacheMiss       float64
}

// fifo is a ring buffer of visits.
type fifo struct {
	buf        []*visit
	head, size int
}

func (f *fifo) push(v *visit) {
	if f.size == len(f.buf) {
		n := max(16, 2*len(f.buf))
		nb := make([]*visit, n)
		for i := 0; i < f.size; i++ {
			nb[i] = f.buf[(f.head+i)%len(f.buf)]
		}
		f.buf, f.head = nb, 0
	}
	f.buf[(f.head+f.size)%len(f.buf)] = v
	f.size++
}

func (f *fifo) pop() *visit {
	v := f.buf[f.head]
	f.buf[f.head] = nil
	f.head = (f.head + 1) % len(f.buf)
	f.size--
	return v
}

type reqType struct {
	name    string
	entry   *operation
	weight  float64
	target  int64
	surge   float64   // current load-surge factor (extra fraction)
	window  [][]int64 // per tick, oldest first; the last is the current tick
	scratch []int64
	// violation state
	active bool
	vStart int64
	vPeak  int64
	vWin   int64 // the window at the violation's start (ns)
}

type request struct {
	typ     *reqType
	start   int64
	traceID [16]byte
}

type visit struct {
	req        *request
	op         *operation
	inst       *instance
	parent     *attempt
	level      int
	arrive     int64
	procStart  int64
	depth      int32
	spanID     uint64
	parentSpan uint64
	err        bool
	holding    bool // holds a worker
}

type attempt struct {
	f      *frame
	send   int64
	served int64 // the callee's stay (SERVER span), once it replied
	callee *instance
	spanID uint64
	done   bool
	timed  bool
	refs   int8
	err    bool
}

type frame struct {
	n       *node
	v       *visit
	parent  *frame
	i       int
	pending int
	tries   int
}

// build compiles the topology.
func (s *Sim) build(t *topology.Topology) error {
	for _, ts := range t.Services {
		sv := &service{
			spec: ts, name: ts.Name, rng: newStream(s.cfg.Seed, "service/"+ts.Name),
			blocking: ts.IsBlocking(), workers: ts.Workers, cores: ts.Cores, queueCap: ts.Queue,
			startup: int64(ts.StartupDelay),
		}
		switch ts.Balance {
		case topology.BalanceRandom:
			sv.balance = balRandom
		case topology.BalanceLeastOutstanding:
			sv.balance = balLeast
		}
		for _, to := range ts.Operations {
			sv.ops = append(sv.ops, &operation{svc: sv, name: to.Name, dist: newDist(to.ServiceTime), res: ts.EffectiveResources(to)})
		}
		s.services = append(s.services, sv)
		s.byName[sv.name] = sv
		for i := 0; i < ts.Instances; i++ {
			in := s.newInstance(sv)
			s.makeReady(in)
		}
	}
	for _, ts := range t.Services {
		sv := s.byName[ts.Name]
		for i, to := range ts.Operations {
			body, err := s.compileSteps(to.Calls)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", ts.Name, to.Name, err)
			}
			sv.ops[i].body = body
		}
	}
	var total float64
	for _, r := range t.Requests {
		w := r.Weight
		if m, ok := s.cfg.Load.Mix[r.Name]; ok {
			w = m
		}
		total += w
		s.types = append(s.types, &reqType{
			name: r.Name, entry: s.op(r.Service, r.Op), weight: w, target: int64(r.QoS),
			window: make([][]int64, s.qosTicks()*qosWindowFactor(&s.cfg)),
		})
	}
	for name := range s.cfg.Load.Mix {
		if t.Service(name) == nil {
			found := false
			for _, r := range t.Requests {
				found = found || r.Name == name
			}
			if !found {
				return fmt.Errorf("mix names unknown request type %q", name)
			}
		}
	}
	if !(total > 0) {
		return fmt.Errorf("request mix has no positive weight")
	}
	return nil
}

func (s *Sim) op(svc, op string) *operation {
	sv := s.byName[svc]
	if sv == nil {
		return nil
	}
	for _, o := range sv.ops {
		if o.name == op {
			return o
		}
	}
	return nil
}

func (s *Sim) compileSteps(steps []topology.Step) (*node, error) {
	seq := &node{kind: nSeq}
	for _, st := range steps {
		if st.Call != nil {
			c, err := s.compileCall(st.Call)
			if err != nil {
				return nil, err
			}
			seq.kids = append(seq.kids, c)
			continue
		}
		par := &node{kind: nPar}
		for _, tc := range st.Parallel {
			c, err := s.compileCall(tc)
			if err != nil {
				return nil, err
			}
			par.kids = append(par.kids, c)
		}
		seq.kids = append(seq.kids, par)
	}
	return seq, nil
}

func (s *Sim) compileCall(tc *topology.Call) (*node, error) {
	o := s.op(tc.Service, tc.Op)
	if o == nil {
		return nil, fmt.Errorf("call to unknown %s.%s", tc.Service, tc.Op)
	}
	cs := &callSpec{svc: o.svc, op: o, prob: tc.Prob(), timeout: int64(tc.Timeout), retries: tc.Retries}
	if cs.timeout > 0 {
		cs.tq = s.timeoutQueueFor(cs.timeout)
	}
	if tc.HitRatio != nil {
		cs.hasHit, cs.hit = true, *tc.HitRatio
		if len(tc.OnMiss) > 0 {
			m, err := s.compileSteps(tc.OnMiss)
			if err != nil {
				return nil, err
			}
			cs.miss = m
		}
	}
	return &node{kind: nCall, call: cs}, nil
}

func (s *Sim) newInstance(sv *service) *instance {
	name := instanceName(sv.name, len(sv.all))
	in := &instance{
		svc: sv, name: name, key: series.Key{Service: sv.name, Instance: name},
		workers: sv.workers, cores: sv.cores, lastT: s.now,
	}
	sv.all = append(sv.all, in)
	return in
}

func (s *Sim) makeReady(in *instance) {
	in.lastT = s.now
	in.svc.ready = append(in.svc.ready, in)
	s.instances = append(s.instances, in)
}

// pick chooses the instance of sv that gets a call.
func (s *Sim) pick(sv *service) *instance {
	r := sv.ready
	switch {
	case len(r) == 1:
		return r[0]
	case sv.balance == balRandom:
		return r[sv.rng.IntN(len(r))]
	case sv.balance == balLeast:
		best := r[0]
		for _, in := range r[1:] {
			if in.outstanding < best.outstanding {
				best = in
			}
		}
		return best
	}
	sv.rr++
	if sv.rr >= len(r) {
		sv.rr = 0
	}
	return r[sv.rr]
}
