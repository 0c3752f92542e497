package dataset

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FormatName is the value of Manifest.Format.
const FormatName = "seer-dataset"

// Major and Minor are the format version this package writes. A reader
// accepts any minor version of its major version (minor versions only add
// optional fields and files) and refuses every other major version.
const (
	Major = 1
	Minor = 2
)

// File names inside a dataset directory.
const (
	ManifestFile   = "manifest.json"
	SeriesFile     = "series.bin"
	FaultsFile     = "faults.json"
	ViolationsFile = "violations.json"
	ActionsFile    = "actions.json"
	TopologyFile   = "topology.yaml"
	SpansFile      = "spans.otlp"
	QoSFile        = "qos.csv"
)

// Source values name the producer of a dataset.
const (
	SourceSim    = "sim"
	SourceReplay = "replay"
	SourceExport = "export"
)

// Manifest describes a dataset. Times are Unix nanoseconds of event time.
type Manifest struct {
	// Format is always FormatName.
	Format string `json:"format"`
	// Version is "major.minor".
	Version string `json:"version"`
	// Source is SourceSim, SourceReplay or SourceExport.
	Source string `json:"source"`
	// Generator names the program that wrote the dataset, e.g. "seer sim 0.1.0".
	Generator string `json:"generator,omitempty"`
	// Topology names the application (e.g. "social-network").
	Topology string `json:"topology,omitempty"`
	// Seed is the simulator's master seed (sim only).
	Seed uint64 `json:"seed,omitempty"`
	// TickNs is the series sampling period.
	TickNs int64 `json:"tick_ns"`
	// StartNs and EndNs bound the data: [StartNs, EndNs).
	StartNs int64 `json:"start_ns"`
	EndNs   int64 `json:"end_ns"`
	// QoSWindowNs is the sliding window of the p99 QoS check.
	QoSWindowNs int64 `json:"qos_window_ns,omitempty"`
	// Series is the series table: record field "series" of series.bin is an
	// index into it.
	Series []SeriesKey `json:"series"`
	// Services lists the services and their instances (including instances
	// added during the run).
	Services []Service `json:"services,omitempty"`
	// RequestTypes are the end-to-end request types and their QoS targets.
	RequestTypes []RequestType `json:"request_types,omitempty"`
	// Edges is the static call graph (caller service -> callee service).
	Edges []Edge `json:"edges,omitempty"`
	// Files says which optional files are present.
	Files Files `json:"files"`
	// Counts summarises the contents.
	Counts Counts `json:"counts"`
	// Params holds producer-specific settings (load pattern, rate, ...).
	Params map[string]string `json:"params,omitempty"`
}

// SeriesKey identifies one series: a service instance.
type SeriesKey struct {
	Service  string `json:"service"`
	Instance string `json:"instance"`
}

// Service is one microservice and its instances.
type Service struct {
	Name      string   `json:"name"`
	Kind      string   `json:"kind,omitempty"` // app, cache, storage, front
	Instances []string `json:"instances"`
}

// RequestType is one end-to-end request type.
type RequestType struct {
	Name string `json:"name"`
	// Weight is its share of the request mix.
	Weight float64 `json:"weight,omitempty"`
	// EntryService and EntryOperation are where it enters the application.
	EntryService   string `json:"entry_service,omitempty"`
	EntryOperation string `json:"entry_operation,omitempty"`
	// QoSP99Ns is the p99 end-to-end latency target; 0 means none.
	QoSP99Ns int64 `json:"qos_p99_ns,omitempty"`
}

// Edge is one caller -> callee dependency.
type Edge struct {
	Caller    string `json:"caller"`
	Callee    string `json:"callee"`
	Operation string `json:"operation,omitempty"`
}

// Files lists the files of the dataset besides the manifest.
type Files struct {
	Series     string `json:"series"`
	Faults     string `json:"faults,omitempty"`
	Violations string `json:"violations,omitempty"`
	Actions    string `json:"actions,omitempty"`
	Topology   string `json:"topology,omitempty"`
	Spans      string `json:"spans,omitempty"`
	QoS        string `json:"qos,omitempty"`
}

// Counts summarises a dataset.
type Counts struct {
	SeriesRecords int64 `json:"series_records"`
	Ticks         int64 `json:"ticks"`
	Requests      int64 `json:"requests,omitempty"`
	Spans         int64 `json:"spans,omitempty"`
	Faults        int64 `json:"faults"`
	Violations    int64 `json:"violations"`
}

// VersionString returns "major.minor".
func VersionString(major, minor int) string { return fmt.Sprintf("%d.%d", major, minor) }

// ErrUnsupportedVersion is returned (wrapped) for a major version this
// package cannot read.
var ErrUnsupportedVersion = errors.New("unsupported dataset format version")

// ParseVersion splits "major.minor".
func ParseVersion(v string) (major, minor int, err error) {
	a, b, ok := strings.Cut(v, ".")
	if !ok {
		return 0, 0, fmt.Errorf("version %q: want major.minor", v)
	}
	major, err = strconv.Atoi(a)
	if err != nil || major < 0 {
		return 0, 0, fmt.Errorf("version %q: bad major", v)
	}
	minor, err = strconv.Atoi(b)
	if err != nil || minor < 0 {
		return 0, 0, fmt.Errorf("version %q: bad minor", v)
	}
	return major, minor, nil
}

// Validate checks that the manifest is one this package can read.
func (m *Manifest) Validate() error {
	if m.Format != FormatName {
		return fmt.Errorf("format %q is not %q", m.Format, FormatName)
	}
	major, _, err := ParseVersion(m.Version)
	if err != nil {
		return err
	}
	if major != Major {
		return fmt.Errorf("%w: dataset is version %s, this reader reads %d.x; use a seer release that reads version %d", ErrUnsupportedVersion, m.Version, Major, major)
	}
	var errs []error
	if m.TickNs <= 0 {
		errs = append(errs, fmt.Errorf("tick_ns must be positive, got %d", m.TickNs))
	}
	if m.EndNs < m.StartNs {
		errs = append(errs, fmt.Errorf("end_ns %d before start_ns %d", m.EndNs, m.StartNs))
	}
	if m.Files.Series == "" {
		errs = append(errs, errors.New("files.series is empty"))
	}
	for _, f := range []string{m.Files.Series, m.Files.Faults, m.Files.Violations, m.Files.Actions, m.Files.Topology, m.Files.Spans, m.Files.QoS} {
		if f != "" && (filepath.Base(f) != f || f == "." || f == "..") {
			errs = append(errs, fmt.Errorf("file name %q must be a plain name inside the dataset directory", f))
		}
	}
	return errors.Join(errs...)
}

// DecodeManifest parses and validates a manifest.
func DecodeManifest(b []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("decode manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return &m, nil
}

// ReadManifest reads and validates dir/manifest.json.
func ReadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("read dataset manifest: %w", err)
	}
	m, err := DecodeManifest(b)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", dir, err)
	}
	return m, nil
}
