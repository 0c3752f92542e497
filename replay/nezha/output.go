package nezha

import (
	"math"
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
			StartNs: f.At.UnixNano(), DurationNs: int64(duration), SourceType: f.Type})
	}
	return out
}

// manifestEdges are the dependency graph's edges for the manifest.
func manifestEdges(res *Result) []dataset.Edge {
	var out []dataset.Edge
	for _, e := range res.Edges {
		out = append(out, dataset.Edge{Caller: e.From, Callee: e.To})
	}
	return out
}

// manifestParams are the replay's parameters and fault coverage for the
// manifest; written is the number of faults in faults.json.
func manifestParams(res *Result, cfg Config, written int) map[string]string {
	full, traced, byFiles := CountCoverage(res.Faults)
	var partial, untraced []string
	for _, f := range res.Faults {
		switch {
		case f.Full():
			// neither list
		case f.Traced():
			partial = append(partial, f.ID())
		default:
			untraced = append(untraced, f.ID())
		}
	}
	return map[string]string{
		"format":                   "nezha",
		"days":                     strings.Join(res.Days, ","),
		"fault_duration":           cfg.FaultDuration.String(),
		"fault_magnitude":          "unknown (0)",
		"faults_total":             strconv.Itoa(len(res.Faults)),
		"faults_written":           strconv.Itoa(written),
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
}
