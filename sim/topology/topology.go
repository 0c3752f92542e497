// Package topology is the YAML description of a microservice application
// that `seer sim` simulates: services and their instances, worker pools and
// queues, operations with service-time distributions and downstream calls
// (sequential or parallel with join), caches with hit ratios, storage tiers,
// timeouts and retries, and the end-to-end request types with their mix and
// QoS targets. FORMAT.md in this directory documents the format; the
// topologies shipped with Seer are embedded (see Builtin).
package topology

// Service kinds.
const (
	KindFront   = "front"
	KindApp     = "app"
	KindCache   = "cache"
	KindStorage = "storage"
)

// Distribution names.
const (
	DistExp       = "exp"
	DistConst     = "const"
	DistLognormal = "lognormal"
	DistUniform   = "uniform"
)

// Balancing policies.
const (
	BalanceRoundRobin       = "round_robin"
	BalanceRandom           = "random"
	BalanceLeastOutstanding = "least_outstanding"
)

// Topology is one application.
type Topology struct {
	Name        string     `yaml:"name"`
	Description string     `yaml:"description,omitempty"`
	Network     Network    `yaml:"network"`
	Services    []*Service `yaml:"services"`
	Requests    []*Request `yaml:"requests"`
}

// Network is the one-way delay of every RPC hop (request and reply each).
type Network struct {
	Latency Duration `yaml:"latency"`
	// Jitter adds an exponential delay with this mean.
	Jitter Duration `yaml:"jitter,omitempty"`
}

// Service is one microservice.
type Service struct {
	Name string `yaml:"name"`
	// Kind is front, app (default), cache or storage: it sets the default
	// resource split of its operations (see Resources).
	Kind string `yaml:"kind,omitempty"`
	// Instances is the number of replicas (default 1).
	Instances int `yaml:"instances,omitempty"`
	// Workers is the request concurrency of one instance: its thread pool
	// (default 1). A request holds a worker from start to reply when
	// Blocking, during its compute otherwise.
	Workers int `yaml:"workers,omitempty"`
	// Cores is the compute concurrency of one instance (default: Workers).
	// A worker needs a core for its compute; CPU contention slows it.
	Cores int `yaml:"cores,omitempty"`
	// Queue bounds the requests waiting for a worker at one instance; 0
	// means unbounded. Arrivals beyond it fail at once.
	Queue int `yaml:"queue,omitempty"`
	// Blocking says whether a worker is held while its request waits for
	// downstream calls (thread-per-request Thrift servers: true, the
	// default) or released after its own compute (asynchronous servers).
	Blocking *bool `yaml:"blocking,omitempty"`
	// Balance is how callers pick an instance: round_robin (default),
	// random or least_outstanding.
	Balance string `yaml:"balance,omitempty"`
	// StartupDelay is how long a scaled-out instance takes to serve
	// (default 5s).
	StartupDelay Duration     `yaml:"startup_delay,omitempty"`
	Operations   []*Operation `yaml:"operations"`
}

// IsBlocking returns the effective Blocking.
func (s *Service) IsBlocking() bool { return s.Blocking == nil || *s.Blocking }

// Operation is one RPC a service serves.
type Operation struct {
	Name string `yaml:"name"`
	// ServiceTime is the compute time of one request, drawn once on the
	// worker before any downstream call.
	ServiceTime Dist `yaml:"service_time"`
	// Resources splits the service time among what faults slow down;
	// default by service kind (app/front: cpu 1; cache: cpu .5, memory .5;
	// storage: cpu .3, io .7).
	Resources *Resources `yaml:"resources,omitempty"`
	// Calls are the downstream calls, stage by stage.
	Calls []Step `yaml:"calls,omitempty"`
}

// Resources are fractions of an operation's service time that CPU, memory
// and disk contention slow down; they should add up to 1.
type Resources struct {
	CPU    float64 `yaml:"cpu"`
	Memory float64 `yaml:"memory"`
	IO     float64 `yaml:"io"`
}

// Dist is a service-time distribution.
type Dist struct {
	// Dist is exp (default), const, lognormal or uniform.
	Dist string `yaml:"dist,omitempty"`
	// Mean is the mean (exp, const, lognormal).
	Mean Duration `yaml:"mean,omitempty"`
	// CV is the coefficient of variation (lognormal; default 1).
	CV float64 `yaml:"cv,omitempty"`
	// Min and Max bound uniform.
	Min Duration `yaml:"min,omitempty"`
	Max Duration `yaml:"max,omitempty"`
}

// MeanDuration is the distribution's mean.
func (d Dist) MeanDuration() float64 {
	if d.Dist == DistUniform {
		return float64(d.Min+d.Max) / 2
	}
	return float64(d.Mean)
}

// Step is one stage of an operation's calls: exactly one of Call (a single
// call) or Parallel (calls sent together and joined) is set. Stages run in
// order.
type Step struct {
	Call     *Call   `yaml:"call,omitempty"`
	Parallel []*Call `yaml:"parallel,omitempty"`
}

// Call is one downstream RPC.
type Call struct {
	Service string `yaml:"service"`
	Op      string `yaml:"op"`
	// Probability that the call is made at all (default 1).
	Probability *float64 `yaml:"probability,omitempty"`
	// Timeout abandons an attempt after this long (0: wait forever, except
	// that a lost request then fails after 1s).
	Timeout Duration `yaml:"timeout,omitempty"`
	// Retries is the number of further attempts after a timeout.
	Retries int `yaml:"retries,omitempty"`
	// HitRatio makes the call a cache lookup: with probability 1-HitRatio
	// it misses and the OnMiss stages run after it (typically a storage
	// read and a cache set).
	HitRatio *float64 `yaml:"hit_ratio,omitempty"`
	OnMiss   []Step   `yaml:"on_miss,omitempty"`
}

// Prob returns the effective Probability.
func (c *Call) Prob() float64 {
	if c.Probability == nil {
		return 1
	}
	return *c.Probability
}

// Request is one end-to-end request type.
type Request struct {
	Name string `yaml:"name"`
	// Weight is its share of the mix (relative).
	Weight float64 `yaml:"weight"`
	// Service and Op are the entry point.
	Service string `yaml:"service"`
	Op      string `yaml:"op"`
	// QoS is the p99 end-to-end latency target.
	QoS Duration `yaml:"qos_p99"`
}

// Service returns the named service or nil.
func (t *Topology) Service(name string) *Service {
	for _, s := range t.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Operation returns the named operation or nil.
func (s *Service) Operation(name string) *Operation {
	for _, o := range s.Operations {
		if o.Name == name {
			return o
		}
	}
	return nil
}

// EffectiveResources returns the operation's resource split.
func (s *Service) EffectiveResources(o *Operation) Resources {
	if o.Resources != nil {
		return *o.Resources
	}
	switch s.Kind {
	case KindCache:
		return Resources{CPU: 0.5, Memory: 0.5}
	case KindStorage:
		return Resources{CPU: 0.3, IO: 0.7}
	}
	return Resources{CPU: 1}
}
