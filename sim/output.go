package sim

import (
	"fmt"
	"strconv"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

// DatasetOptions describe the dataset a run writes.
type DatasetOptions struct {
	// Dir is the dataset directory.
	Dir string
	// Generator names the writer, e.g. "seer sim 0.1.0".
	Generator string
	// TopologyDoc is the topology YAML stored with the dataset.
	TopologyDoc []byte
	// Spans also writes spans.otlp (large: about 300 bytes a span).
	Spans bool
	// SpansPerFrame is the spans per OTLP frame (default 4096).
	SpansPerFrame int
}

// RunToDataset runs cfg and writes the dataset; cfg.OnTick is chained.
func RunToDataset(cfg Config, opt DatasetOptions) (*Result, error) {
	c := cfg.withDefaults()
	// Refuse a bad run before creating any file.
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	t := c.Topology
	m := dataset.Manifest{
		Source: dataset.SourceSim, Generator: opt.Generator, Topology: t.Name, Seed: c.Seed,
		TickNs: int64(c.Tick), StartNs: c.Start, QoSWindowNs: int64(c.QoSWindow), Params: loadParams(&c),
	}
	for _, r := range t.Requests {
		w := r.Weight
		if x, ok := c.Load.Mix[r.Name]; ok {
			w = x
		}
		m.RequestTypes = append(m.RequestTypes, dataset.RequestType{Name: r.Name, Weight: w, EntryService: r.Service, EntryOperation: r.Op, QoSP99Ns: int64(r.QoS)})
	}
	for _, e := range t.Edges() {
		m.Edges = append(m.Edges, dataset.Edge{Caller: e.Caller, Callee: e.Callee, Operation: e.Op})
	}
	w, err := dataset.Create(opt.Dir, m)
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	next := cfg.OnTick
	cfg.OnTick = func(start int64, samples []series.Sample) error {
		if err := w.WriteTick(start, samples); err != nil {
			return err
		}
		if next != nil {
			return next(start, samples)
		}
		return nil
	}
	qw, err := w.QoS()
	if err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	nextQoS := cfg.OnQoS
	cfg.OnQoS = func(p dataset.QoSPoint) error {
		if err := qw.Write(p); err != nil {
			return err
		}
		if nextQoS != nil {
			return nextQoS(p)
		}
		return nil
	}
	var sw *otlpSpans
	if opt.Spans {
		out, err := w.Spans()
		if err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		sw = newOTLPSpans(out.Write, opt.SpansPerFrame, cfg.Spans)
		cfg.Spans = sw
	}
	res, err := Run(cfg)
	if err != nil {
		return nil, err
	}
	if sw != nil {
		if err := sw.Flush(); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
	}
	w.SetFaults(res.Faults)
	w.SetViolations(res.Violations)
	w.SetActions(res.Actions)
	w.SetServices(res.Services)
	w.SetRequests(res.Stats.Requests)
	if opt.TopologyDoc != nil {
		w.SetTopology(opt.TopologyDoc)
	}
	if err := w.Close(res.EndNs); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	return res, nil
}

func loadParams(c *Config) map[string]string {
	l := &c.Load
	p := map[string]string{
		"rate":     strconv.FormatFloat(l.Rate, 'g', -1, 64),
		"pattern":  l.Pattern,
		"duration": c.Duration.String(),
		// How the violations' faults were found (see Config.Attribution).
		"attribution": c.Attribution,
	}
	if c.QoSMinRequests > 0 {
		// The QoS labels depend on it (Config.QoSMinRequests).
		p["qos_min_requests"] = strconv.Itoa(c.QoSMinRequests)
	}
	switch l.Pattern {
	case PatternDiurnal:
		p["amplitude"] = strconv.FormatFloat(l.Amplitude, 'g', -1, 64)
		p["period"] = l.Period.String()
	case PatternBurst:
		p["period"] = l.Period.String()
		p["burst_length"] = l.BurstLength.String()
		p["burst_factor"] = strconv.FormatFloat(l.BurstFactor, 'g', -1, 64)
	case PatternStep:
		for i, s := range l.Steps {
			p["step"+strconv.Itoa(i)] = s.At.String() + "=" + strconv.FormatFloat(s.Rate, 'g', -1, 64)
		}
	}
	return p
}
