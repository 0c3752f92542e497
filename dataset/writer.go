package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// Writer writes one dataset directory. Use Create, then WriteTick for every
// tick in time order, the Set* methods for labels, and Close, which writes
// the manifest last. A Writer is not safe for concurrent use.
type Writer struct {
	dir    string
	m      Manifest
	f      *os.File
	enc    *SeriesEncoder
	index  map[series.Key]uint32
	spans  *SpanWriter
	qos    *QoSWriter
	labels struct {
		faults     []Fault
		violations []Violation
		actions    []Action
		topology   []byte
	}
	lastTick int64
	ticks    int64
	closed   bool
}

// Create starts a dataset in dir (created if missing). It refuses a
// directory that already holds a manifest. m supplies the descriptive fields
// (Source, Generator, Topology, Seed, TickNs, StartNs, QoSWindowNs,
// Services, RequestTypes, Edges, Params); Format, Version, Series, Files and
// Counts are the Writer's.
func Create(dir string, m Manifest) (*Writer, error) {
	if m.TickNs <= 0 {
		return nil, fmt.Errorf("create dataset: tick_ns must be positive, got %d", m.TickNs)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, ManifestFile)); err == nil {
		return nil, fmt.Errorf("create dataset: %s already holds a dataset", dir)
	}
	f, err := os.Create(filepath.Join(dir, SeriesFile))
	if err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	enc, err := NewSeriesEncoder(f, time.Duration(m.TickNs))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	m.Format = FormatName
	m.Version = VersionString(Major, Minor)
	m.Series = nil
	m.Files = Files{Series: SeriesFile}
	m.Counts = Counts{}
	return &Writer{dir: dir, m: m, f: f, enc: enc, index: make(map[series.Key]uint32), lastTick: m.StartNs - m.TickNs}, nil
}

// Remove deletes the files a dataset in dir may hold (only those: the
// directory and any other file stay), so that Create can start afresh.
func Remove(dir string) error {
	for _, name := range []string{ManifestFile, SeriesFile, FaultsFile, ViolationsFile, ActionsFile, TopologyFile, SpansFile, QoSFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove dataset %s: %w", dir, err)
		}
	}
	return nil
}

// Dir returns the dataset directory.
func (w *Writer) Dir() string { return w.dir }

// SeriesIndex returns the index of key in the series table, adding it.
func (w *Writer) SeriesIndex(k series.Key) uint32 {
	i, ok := w.index[k]
	if !ok {
		i = uint32(len(w.m.Series))
		w.index[k] = i
		w.m.Series = append(w.m.Series, SeriesKey{Service: k.Service, Instance: k.Instance})
	}
	return i
}

// WriteTick writes the samples of the tick that starts at startNs, in the
// order given. Ticks must come in increasing order.
func (w *Writer) WriteTick(startNs int64, samples []series.Sample) error {
	if w.closed {
		return errors.New("dataset: write after close")
	}
	if startNs <= w.lastTick && w.ticks > 0 {
		return fmt.Errorf("dataset: tick %d not after %d", startNs, w.lastTick)
	}
	w.lastTick = startNs
	w.ticks++
	var r Record
	r.StartNs = startNs
	for i := range samples {
		r.Series = w.SeriesIndex(samples[i].Key)
		r.Sample = samples[i]
		if err := w.enc.Encode(&r); err != nil {
			return fmt.Errorf("dataset: %w", err)
		}
	}
	return nil
}

// SetFaults records the faults (ground truth).
func (w *Writer) SetFaults(fs []Fault) { w.labels.faults = fs }

// SetViolations records the QoS violations.
func (w *Writer) SetViolations(vs []Violation) { w.labels.violations = vs }

// SetActions records the actions taken.
func (w *Writer) SetActions(as []Action) { w.labels.actions = as }

// SetTopology stores the topology document (YAML) with the dataset.
func (w *Writer) SetTopology(doc []byte) { w.labels.topology = doc }

// SetServices replaces the service list of the manifest (e.g. after
// scale-out added instances).
func (w *Writer) SetServices(s []Service) { w.m.Services = s }

// SetEdges replaces the call graph of the manifest (e.g. when it is known
// only at the end of the data).
func (w *Writer) SetEdges(e []Edge) { w.m.Edges = e }

// SetParams replaces the producer-specific parameters of the manifest.
func (w *Writer) SetParams(p map[string]string) { w.m.Params = p }

// SetRequests records the number of end-to-end requests.
func (w *Writer) SetRequests(n int64) { w.m.Counts.Requests = n }

// Spans returns the span writer, creating spans.otlp on first use.
func (w *Writer) Spans() (*SpanWriter, error) {
	if w.spans == nil {
		f, err := os.Create(filepath.Join(w.dir, SpansFile))
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		w.spans = newSpanWriter(f)
		w.m.Files.Spans = SpansFile
	}
	return w.spans, nil
}

// Close writes the labels and the manifest; endNs is the end of the data.
func (w *Writer) Close(endNs int64) error {
	if w.closed {
		return errors.New("dataset: already closed")
	}
	w.closed = true
	var errs []error
	if err := w.enc.Flush(); err != nil {
		errs = append(errs, err)
	}
	if err := w.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close series: %w", err))
	}
	if w.spans != nil {
		n, err := w.spans.close()
		if err != nil {
			errs = append(errs, err)
		}
		w.m.Counts.Spans = n
	}
	if w.qos != nil {
		if err := w.qos.close(); err != nil {
			errs = append(errs, err)
		}
	}
	faults := w.labels.faults
	if faults == nil {
		faults = []Fault{}
	}
	violations := w.labels.violations
	if violations == nil {
		violations = []Violation{}
	}
	actions := w.labels.actions
	if actions == nil {
		actions = []Action{}
	}
	for name, v := range map[string]any{FaultsFile: faults, ViolationsFile: violations, ActionsFile: actions} {
		if err := writeJSON(w.dir, name, v); err != nil {
			errs = append(errs, err)
		}
	}
	w.m.Files.Faults, w.m.Files.Violations, w.m.Files.Actions = FaultsFile, ViolationsFile, ActionsFile
	if w.labels.topology != nil {
		if err := os.WriteFile(filepath.Join(w.dir, TopologyFile), w.labels.topology, 0o644); err != nil {
			errs = append(errs, fmt.Errorf("write topology: %w", err))
		}
		w.m.Files.Topology = TopologyFile
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close dataset %s: %w", w.dir, err)
	}
	w.m.EndNs = endNs
	w.m.Counts.SeriesRecords = w.enc.Count()
	w.m.Counts.Ticks = w.ticks
	w.m.Counts.Faults = int64(len(faults))
	w.m.Counts.Violations = int64(len(violations))
	if err := writeJSON(w.dir, ManifestFile, &w.m); err != nil {
		return fmt.Errorf("close dataset %s: %w", w.dir, err)
	}
	return nil
}
