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
// entry (unknown type, empty pod, a timestamp that is not Unix seconds, an
// unreadable inject_time) is left out and returned in bad with its reason.
// An entry whose inject_time disagrees with inject_timestamp is kept with
// the timestamp (in the shipped data the latencies of the culprit change at
// the timestamp) and returned in warnings. Faults come in injection order.
func DecodeFaultList(b []byte, day string) (faults []Fault, bad, warnings []error, err error) {
	var doc map[string][]rawFault
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, nil, nil, fmt.Errorf("decode fault list: %w", err)
	}
	hours := make([]string, 0, len(doc))
	for h := range doc {
		hours = append(hours, h)
	}
	sort.Strings(hours)
	for _, h := range hours {
		for i, r := range doc[h] {
			f, warn, err := r.fault(day, h)
			if err != nil {
				bad = append(bad, fmt.Errorf("fault %s[%d]: %w", h, i, err))
				continue
			}
			if warn != nil {
				warnings = append(warnings, fmt.Errorf("fault %s[%d]: %w", h, i, warn))
			}
			faults = append(faults, f)
		}
	}
	sort.SliceStable(faults, func(i, j int) bool { return faults[i].At.Before(faults[j].At) })
	return faults, bad, warnings, nil
}

func (r rawFault) fault(day, hour string) (f Fault, warn, err error) {
	switch r.Type {
	case TypeCPUContention, TypeCPUConsumed, TypeNetworkDelay, TypeReturn, TypeException:
	default:
		return Fault{}, nil, fmt.Errorf("unknown inject_type %q", r.Type)
	}
	if r.Pod == "" {
		return Fault{}, nil, fmt.Errorf("empty inject_pod")
	}
	sec, err := strconv.ParseInt(r.Timestamp, 10, 64)
	if err != nil || sec < minTimeNs/int64(time.Second) || sec > maxTimeNs/int64(time.Second) {
		return Fault{}, nil, fmt.Errorf("inject_timestamp %q: not Unix seconds between 2000 and 2100", r.Timestamp)
	}
	at := time.Unix(sec, 0).UTC()
	if r.Time != "" {
		t, err := time.Parse(injectTimeLayout, r.Time)
		if err != nil {
			return Fault{}, nil, fmt.Errorf("inject_time %q: %w", r.Time, err)
		}
		if !t.Equal(at) {
			warn = fmt.Errorf("inject_time %s (UTC) and inject_timestamp %d (%s) disagree by %v; using inject_timestamp",
				r.Time, sec, at.Format(injectTimeLayout), t.Sub(at))
		}
	}
	return Fault{Day: day, Hour: hour, At: at, Pod: r.Pod, Service: ServiceOf(r.Pod), Type: r.Type}, warn, nil
}

// ID names the fault in a dataset: day, injection time and type.
func (f Fault) ID() string {
	return f.At.UTC().Format("2006-01-02T15:04:05Z") + "-" + f.Service + "-" + f.Type
}
