package nezha

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Nezha fault types (inject_type).
const (
	TypeCPUContention = "cpu_contention"
	TypeCPUConsumed   = "cpu_consumed"
	TypeNetworkDelay  = "network_delay"
	TypeReturn        = "return"
	TypeException     = "exception"
)

// Fault is one entry of a fault_list.json.
type Fault struct {
	// Day is the day directory the list came from; Hour the key it was under.
	Day, Hour string
	// At is the injection time (inject_timestamp).
	At time.Time
	// Pod is the culprit pod (inject_pod) and Service its service.
	Pod, Service string
	// Type is inject_type.
	Type string
	// TimeSkew is inject_time minus inject_timestamp when they disagree
	// (At is the timestamp: in the shipped data the culprit's latency
	// changes then), else 0.
	TimeSkew time.Duration
}

type rawFault struct {
	Time      string `json:"inject_time"`
	Timestamp string `json:"inject_timestamp"`
	Pod       string `json:"inject_pod"`
	Type      string `json:"inject_type"`
}

const injectTimeLayout = "2006-01-02 15:04:05"

// DecodeFaultList parses a fault_list.json: an object of hours ("03") to
// lists of faults. A document that is not such an object is an error. A bad
// entry (not an object of strings, unknown type, empty pod, a timestamp that is not Unix seconds, an
// unreadable inject_time) is left out and returned in bad with its reason.
// An entry whose inject_time disagrees with inject_timestamp is kept with
// the timestamp and its TimeSkew set. Faults come in injection order.
func DecodeFaultList(b []byte, day string) (faults []Fault, bad []error, err error) {
	var doc map[string][]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("decode fault list: %w", err)
	}
	hours := make([]string, 0, len(doc))
	for h := range doc {
		hours = append(hours, h)
	}
	sort.Strings(hours)
	for _, h := range hours {
		for i, raw := range doc[h] {
			var r rawFault
			if err := json.Unmarshal(raw, &r); err != nil {
				bad = append(bad, fmt.Errorf("fault %s[%d]: %w", h, i, err))
				continue
			}
			f, err := r.fault(day, h)
			if err != nil {
				bad = append(bad, fmt.Errorf("fault %s[%d]: %w", h, i, err))
				continue
			}
			faults = append(faults, f)
		}
	}
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].At.Before(faults[j].At) })
	return faults, bad, nil
}

func (r rawFault) fault(day, hour string) (Fault, error) {
	switch r.Type {
	case TypeCPUContention, TypeCPUConsumed, TypeNetworkDelay, TypeReturn, TypeException:
	default:
		return Fault{}, fmt.Errorf("unknown inject_type %q", r.Type)
	}
	if r.Pod == "" {
		return Fault{}, fmt.Errorf("empty inject_pod")
	}
	sec, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil || sec < minTimeNs/int64(time.Second) || sec > maxTimeNs/int64(time.Second) {
		return Fault{}, fmt.Errorf("inject_timestamp %q: not Unix seconds between 2000 and 2100", r.Timestamp)
	}
	f := Fault{Day: day, Hour: hour, At: time.Unix(sec, 0).UTC(), Pod: r.Pod, Service: ServiceOf(r.Pod), Type: r.Type}
	if r.Time != "" {
		t, err := time.Parse(injectTimeLayout, r.Time)
		if err != nil {
			return Fault{}, fmt.Errorf("inject_time %q: %w", r.Time, err)
		}
		f.TimeSkew = t.Sub(f.At)
	}
	return f, nil
}

// ID names the fault in a dataset: day, injection time and type.
func (f Fault) ID() string {
	return f.At.UTC().Format("2006-01-02T15:04:05Z") + "-" + f.Service + "-" + f.Type
}
