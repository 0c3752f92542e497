package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/sim"
	"github.com/seer-qos/seer/sim/export"
	"github.com/seer-qos/seer/sim/topology"
)

// simOptions are the flags of `seer sim`.
type simOptions struct {
	topology       string
	random         int
	randomSeed     uint64
	scenario       string
	seed           uint64
	duration       time.Duration
	tick           time.Duration
	qosWindow      time.Duration
	qosMinRequests int
	rate           float64
	pattern        string
	amplitude      float64
	period         time.Duration
	burstLength    time.Duration
	burstFactor    float64
	steps          string
	mix            string
	faults         []string
	attribution    string
	actions        []string
	out            string
	spans          bool
	overwrite      bool
	otlp           string
	seerthrift     string
	speed          float64
	listTopologies bool
	printTopology  bool
}

func newSimCommand() *cobra.Command {
	o := simOptions{}
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "Simulate a microservice application under load and faults; write a dataset and/or send spans",
		Long: `sim runs the discrete-event simulator (package sim) on a topology (built-in,
a YAML file, or a random graph) under open-loop load with injected faults,
and writes a Seer dataset (dataset/FORMAT.md) with per-instance queue-depth
series, faults, QoS violations and actions, and/or sends the spans to a
collector (OTLP/HTTP or seerthrift) in real time or faster.

Faults (--fault, repeatable): kind=cpu|memory|network_delay|network_loss|
disk|blocking|cache_failure|load_surge,service=S[,instance=I],start=20s,
ramp=5s,duration=30s,magnitude=M (network_delay: delay=5ms).
Actions (--action, repeatable): kind=scale_out,service=S,at=30s,count=1
[,delay=5s] or kind=remove_contention,service=S,at=40s.
A scenario file (--scenario, sim/SCENARIO.md) sets the same in YAML;
flags given explicitly win over it.`,
		Example: `  seer sim --duration 10m --rate 2000 --out /tmp/sn \
    --fault kind=cpu,service=post-storage-service,start=2m,ramp=20s,duration=1m,magnitude=1.5
  seer sim --topology hotel-reservation --pattern diurnal --period 10m --amplitude 0.5 --out /tmp/hr
  seer sim --random 200 --rate 1000 --duration 1m --out /tmp/r200
  seer sim --duration 1h --otlp http://localhost:4318 --speed 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSim(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.topology, "topology", "social-network", "built-in topology name ("+strings.Join(topology.Builtin(), ", ")+") or a YAML file")
	f.IntVar(&o.random, "random", 0, "simulate a generated random graph of this many services (2-1000) instead of --topology")
	f.Uint64Var(&o.randomSeed, "random-seed", 1, "seed of the random graph")
	f.StringVar(&o.scenario, "scenario", "", "scenario YAML file: load, faults, actions, duration, seed")
	f.Uint64Var(&o.seed, "seed", 1, "master seed: the same seed gives the same dataset, byte for byte")
	f.DurationVar(&o.duration, "duration", time.Minute, "simulated time")
	f.DurationVar(&o.tick, "tick", 100*time.Millisecond, "series period")
	f.DurationVar(&o.qosWindow, "qos-window", time.Second, "sliding window of the p99 QoS check")
	f.IntVar(&o.qosMinRequests, "qos-min-requests", 0, "fewest requests a p99 is taken over: a rarer request type's window reaches further back (at most 10 windows); 0: the window alone")
	f.Float64Var(&o.rate, "rate", 2000, "requests per second")
	f.StringVar(&o.pattern, "pattern", sim.PatternConstant, "load pattern: constant, diurnal, step, burst")
	f.Float64Var(&o.amplitude, "amplitude", 0.5, "diurnal: relative amplitude")
	f.DurationVar(&o.period, "period", 10*time.Minute, "diurnal and burst: period")
	f.DurationVar(&o.burstLength, "burst-length", 5*time.Second, "burst: length of each burst")
	f.Float64Var(&o.burstFactor, "burst-factor", 3, "burst: rate multiplier during a burst")
	f.StringVar(&o.steps, "steps", "", "step: comma-separated at=rate changes, e.g. 1m=3000,2m=1000")
	f.StringVar(&o.mix, "mix", "", "request mix override, e.g. read-home-timeline=60,compose-post=40")
	f.StringArrayVar(&o.faults, "fault", nil, "fault to inject (repeatable), see above")
	f.StringVar(&o.attribution, "attribution", sim.AttributionButFor, "how violations are put down to faults: but-for (rerun without each fault the window names; keep it only if the violation then goes) or window (every fault acting before it); see sim/SCENARIO.md")
	f.StringArrayVar(&o.actions, "action", nil, "cluster-manager action (repeatable), see above")
	f.StringVarP(&o.out, "out", "o", "", "dataset directory to write")
	f.BoolVar(&o.spans, "spans", false, "also write spans.otlp into the dataset")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace an existing dataset in --out")
	f.StringVar(&o.otlp, "otlp", "", "send spans to this OTLP/HTTP endpoint, e.g. http://localhost:4318")
	f.StringVar(&o.seerthrift, "seerthrift", "", "send spans to this seerthrift receiver (host:port, framed compact Thrift)")
	f.Float64Var(&o.speed, "speed", 1, "with --otlp/--seerthrift: simulated seconds per wall second (0: as fast as possible)")
	f.BoolVar(&o.listTopologies, "list-topologies", false, "list the built-in topologies and exit")
	f.BoolVar(&o.printTopology, "print-topology", false, "print the topology YAML (with defaults applied) and exit")
	return cmd
}

func runSim(cmd *cobra.Command, o simOptions) error {
	w := cmd.OutOrStdout()
	if o.listTopologies {
		for _, n := range topology.Builtin() {
			fmt.Fprintln(w, n)
		}
		return nil
	}
	topo, doc, err := loadTopology(o)
	if err != nil {
		return err
	}
	if o.printTopology {
		b, err := topology.Marshal(topo)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	cfg, err := simConfig(cmd, o, topo)
	if err != nil {
		return err
	}
	if o.out == "" && o.otlp == "" && o.seerthrift == "" {
		return errors.New("nothing to do: give --out, --otlp or --seerthrift")
	}
	var closers []func() error
	if o.otlp != "" || o.seerthrift != "" {
		if o.speed > 0 {
			// live export: spans carry the current time
			cfg.Start = time.Now().Truncate(cfg.Tick).UnixNano()
		}
		var sinks []sim.SpanSink
		if o.otlp != "" {
			exp := export.NewOTLPHTTP(o.otlp)
			s := sim.NewOTLPSink(exp.Send, 2048)
			sinks = append(sinks, s)
			closers = append(closers, s.Flush)
		}
		if o.seerthrift != "" {
			s, err := export.DialSeerThrift(o.seerthrift, 2048)
			if err != nil {
				return err
			}
			sinks = append(sinks, s)
			closers = append(closers, s.Close)
		}
		var sink sim.SpanSink = sim.Tee(sinks...)
		if o.speed > 0 {
			sink = export.NewPacer(cmd.Context(), sink, o.speed, cfg.Start)
		}
		cfg.Spans = sink
	}
	started := time.Now()
	var res *sim.Result
	if o.out != "" {
		if o.overwrite {
			if err := dataset.Remove(o.out); err != nil {
				return err
			}
		}
		res, err = sim.RunToDataset(cfg, sim.DatasetOptions{Dir: o.out, Generator: "seer sim " + version, TopologyDoc: doc, Spans: o.spans})
	} else {
		res, err = sim.Run(cfg)
	}
	for _, c := range closers {
		err = errors.Join(err, c())
	}
	if err != nil {
		return err
	}
	printSummary(w, res, time.Since(started), o.out)
	return nil
}

func loadTopology(o simOptions) (*topology.Topology, []byte, error) {
	if o.random > 0 {
		t, err := topology.Random(topology.RandomOptions{Services: o.random, Seed: o.randomSeed, Rate: o.rate})
		if err != nil {
			return nil, nil, err
		}
		// targets at 1.5 times the p99 of a 20 s pilot run without faults
		if err := sim.CalibrateQoS(t, o.rate, 20*time.Second, o.randomSeed, 1.5); err != nil {
			return nil, nil, err
		}
		doc, err := topology.Marshal(t)
		return t, doc, err
	}
	return topology.Load(o.topology)
}

func simConfig(cmd *cobra.Command, o simOptions, topo *topology.Topology) (sim.Config, error) {
	cfg := sim.Config{Context: cmd.Context(), Topology: topo, Seed: o.seed, Duration: o.duration, Tick: o.tick, QoSWindow: o.qosWindow, QoSMinRequests: o.qosMinRequests, Attribution: o.attribution,
		Load: sim.Load{Rate: o.rate, Pattern: o.pattern, Amplitude: o.amplitude, Period: o.period, BurstLength: o.burstLength, BurstFactor: o.burstFactor}}
	if o.scenario != "" {
		sc, err := sim.LoadScenario(o.scenario)
		if err != nil {
			return cfg, err
		}
		sc.Apply(&cfg)
	}
	// Flags given explicitly win over the scenario.
	for name, set := range map[string]func(){
		"tick":             func() { cfg.Tick = o.tick },
		"qos-window":       func() { cfg.QoSWindow = o.qosWindow },
		"qos-min-requests": func() { cfg.QoSMinRequests = o.qosMinRequests },
		"attribution":      func() { cfg.Attribution = o.attribution },
		"seed":             func() { cfg.Seed = o.seed },
		"duration":         func() { cfg.Duration = o.duration },
		"rate":             func() { cfg.Load.Rate = o.rate },
		"pattern":          func() { cfg.Load.Pattern = o.pattern },
		"amplitude":        func() { cfg.Load.Amplitude = o.amplitude },
		"period":           func() { cfg.Load.Period = o.period },
		"burst-length":     func() { cfg.Load.BurstLength = o.burstLength },
		"burst-factor":     func() { cfg.Load.BurstFactor = o.burstFactor },
	} {
		if cmd.Flags().Changed(name) {
			set()
		}
	}
	if o.steps != "" {
		cfg.Load.Steps = nil
		for _, part := range strings.Split(o.steps, ",") {
			at, rate, ok := strings.Cut(part, "=")
			d, err1 := time.ParseDuration(strings.TrimSpace(at))
			r, err2 := strconv.ParseFloat(strings.TrimSpace(rate), 64)
			if !ok || err1 != nil || err2 != nil {
				return cfg, fmt.Errorf("--steps %q: want at=rate pairs, e.g. 1m=3000", part)
			}
			cfg.Load.Steps = append(cfg.Load.Steps, sim.Step{At: d, Rate: r})
		}
	}
	if o.mix != "" {
		cfg.Load.Mix = map[string]float64{}
		for _, part := range strings.Split(o.mix, ",") {
			k, v, ok := strings.Cut(part, "=")
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if !ok || err != nil {
				return cfg, fmt.Errorf("--mix %q: want name=weight", part)
			}
			cfg.Load.Mix[strings.TrimSpace(k)] = x
		}
	}
	for _, s := range o.faults {
		f, err := sim.ParseFaultFlag(s)
		if err != nil {
			return cfg, err
		}
		cfg.Faults = append(cfg.Faults, f)
	}
	for _, s := range o.actions {
		a, err := sim.ParseActionFlag(s)
		if err != nil {
			return cfg, err
		}
		cfg.Actions = append(cfg.Actions, a)
	}
	return cfg, nil
}

func printSummary(w io.Writer, res *sim.Result, wall time.Duration, out string) {
	st := res.Stats
	simulated := time.Duration(res.EndNs - res.StartNs)
	spans := st.Visits + st.Calls
	fmt.Fprintf(w, "simulated %v in %v (%.1fx real time)\n", simulated, wall.Round(time.Millisecond), simulated.Seconds()/wall.Seconds())
	fmt.Fprintf(w, "requests %d (completed %d, failed %d); spans %d (%d server, %d client): %.0f spans per wall second\n",
		st.Requests, st.Completed, st.Failed, spans, st.Visits, st.Calls, float64(spans)/wall.Seconds())
	fmt.Fprintf(w, "timeouts %d, lost %d, rejected %d; faults %d; violations %d; actions %d\n",
		st.Timeouts, st.Lost, st.Rejected, len(res.Faults), len(res.Violations), len(res.Actions))
	for _, v := range res.Violations {
		span := fmt.Sprintf("%.1fs..%.1fs", float64(v.StartNs-res.StartNs)/1e9, float64(v.EndNs-res.StartNs)/1e9)
		fmt.Fprintf(w, "  violation %-22s %-16s p99 %v > %v  cause %s %v\n", v.RequestType, span,
			time.Duration(v.PeakP99Ns).Round(time.Microsecond), time.Duration(v.TargetNs), v.Cause, v.FaultIDs)
	}
	if out != "" {
		fmt.Fprintf(w, "dataset written to %s\n", out)
	}
}
