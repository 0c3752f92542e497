package nezha

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/seer-qos/seer/dataset"
)

var nan = math.NaN()

// KindOf maps a Nezha fault type to a dataset fault kind. Code faults
// (return, exception: the service answers with a wrong value or an error)
// are code_error; the fault ID keeps the Nezha type.
func KindOf(typ string) string {
	switch typ {
	case TypeCPUContention, TypeCPUConsumed:
		return dataset.FaultCPU
	case TypeNetworkDelay:
		return dataset.FaultNetworkDelay
	default:
		return dataset.FaultCodeError
	}
}

// datasetFaults are the faults with traces: spans in every bucket of the
// coverage window, or with partial also those with some spans there. The
// others are in Result.Faults and the manifest's params. Magnitude is 0:
// the lists do not give it.
func datasetFaults(fs []FaultResult, duration time.Duration, partial bool) []dataset.Fault {
	out := []dataset.Fault{}
	for _, f := range fs {
		if !f.Full() && !(partial && f.Traced()) {
			continue
		}
		out = append(out, dataset.Fault{ID: f.ID(), Kind: KindOf(f.Type), Service: f.Service, Instance: f.Pod,
			StartNs: f.At.UnixNano(), DurationNs: int64(duration)})
	}
	return out
}

// finishManifest adds what is known only at the end of a replay (edges and
// parameters; dataset.Writer sets them at Create only) to the manifest of
// the closed dataset in dir, replacing it atomically.
func finishManifest(dir string, res *Result, cfg Config) error {
	m, err := dataset.ReadManifest(dir)
	if err != nil {
		return err
	}
	m.Edges = nil
	for _, e := range res.Edges {
		m.Edges = append(m.Edges, dataset.Edge{Caller: e.From, Callee: e.To})
	}
	var full, traced, byFiles int
	var partial, untraced []string
	for _, f := range res.Faults {
		switch {
		case f.Full():
			full++
		case f.Traced():
			partial = append(partial, f.ID())
		default:
			untraced = append(untraced, f.ID())
		}
		if f.Traced() {
			traced++
		}
		if f.ByFiles {
			byFiles++
		}
	}
	m.Params = map[string]string{
		"format":                   "nezha",
		"days":                     strings.Join(res.Days, ","),
		"fault_duration":           cfg.FaultDuration.String(),
		"fault_magnitude":          "unknown (0)",
		"faults_total":             strconv.Itoa(len(res.Faults)),
		"faults_written":           strconv.Itoa(len(datasetFaults(res.Faults, cfg.FaultDuration, cfg.PartialFaults))),
		"faults_full_coverage":     strconv.Itoa(full),
		"faults_by_file_names":     strconv.Itoa(byFiles),
		"faults_with_some_spans":   strconv.Itoa(traced),
		"faults_partial_coverage":  strings.Join(partial, ","),
		"faults_without_spans":     strings.Join(untraced, ","),
		"spans":                    strconv.FormatInt(res.Stats.Spans, 10),
		"input_problems":           strconv.FormatInt(res.Stats.Problems(), 10),
		"duplicate_spans_dropped":  strconv.FormatInt(res.Stats.Duplicates, 10),
		"unknown_parents_replayed": strconv.FormatInt(res.Stats.UnknownParents, 10),
	}
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	tmp := filepath.Join(dir, dataset.ManifestFile+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, dataset.ManifestFile)); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}
