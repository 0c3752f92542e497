package nezha

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
)

// Row is one span of a Nezha trace CSV.
type Row struct {
	TraceID  [16]byte
	SpanID   [8]byte
	ParentID [8]byte // zero when Root
	// Root: the ParentID column was "root" (the trace's entry span).
	Root bool
	// Pod is the Kubernetes pod that recorded the span; Operation its name.
	Pod, Operation string
	// Start and End are Unix nanoseconds.
	Start, End int64
}

// The columns of a trace CSV, by header name.
const (
	colTraceID   = "TraceID"
	colSpanID    = "SpanID"
	colParentID  = "ParentID"
	colPod       = "PodName"
	colOperation = "OperationName"
	colStart     = "StartTimeUnixNano"
	colEnd       = "EndTimeUnixNano"
	colDuration  = "Duration"
)

var columns = []string{colTraceID, colSpanID, colParentID, colPod, colOperation, colStart, colEnd, colDuration}

// Plausible event times: 2000-01-01 to 2100-01-01 UTC, in Unix ns. A value
// outside is a unit error (seconds, microseconds) or garbage.
const (
	minTimeNs = 946684800_000000000
	maxTimeNs = 4102444800_000000000
)

// errMalformed and errTimestamp classify row errors (see Stats).
var (
	errMalformed = errors.New("malformed row")
	errTimestamp = errors.New("bad timestamp")
)

// parseID decodes 1 to len(dst)*2 hex digits into dst, right-aligned, and
// refuses an all-zero ID.
func parseID(dst []byte, s string) error {
	if len(s) == 0 || len(s) > 2*len(dst) {
		return fmt.Errorf("%w: id %q: want 1 to %d hex digits", errMalformed, s, 2*len(dst))
	}
	var buf [32]byte
	pad := 2*len(dst) - len(s)
	for i := 0; i < pad; i++ {
		buf[i] = '0'
	}
	copy(buf[pad:], s)
	clear(dst)
	if _, err := hex.Decode(dst, buf[:2*len(dst)]); err != nil {
		return fmt.Errorf("%w: id %q: not hex", errMalformed, s)
	}
	for _, b := range dst {
		if b != 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: id %q is zero", errMalformed, s)
}

// parseTimes reads start and end (Unix ns) and duration (µs) and checks
// that they agree.
func parseTimes(start, end, dur string) (int64, int64, error) {
	s, err1 := strconv.ParseInt(start, 10, 64)
	e, err2 := strconv.ParseInt(end, 10, 64)
	d, err3 := strconv.ParseInt(dur, 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return 0, 0, fmt.Errorf("%w: %q, %q, %q: not integers", errTimestamp, start, end, dur)
	}
	switch {
	case s < minTimeNs || s > maxTimeNs || e < minTimeNs || e > maxTimeNs:
		return 0, 0, fmt.Errorf("%w: start %d or end %d outside 2000-2100 in Unix ns", errTimestamp, s, e)
	case e < s:
		return 0, 0, fmt.Errorf("%w: end %d before start %d", errTimestamp, e, s)
	case abs((e-s)/1000-d) > 1:
		return 0, 0, fmt.Errorf("%w: duration %d µs, but end - start is %d ns", errTimestamp, d, e-s)
	}
	return s, e, nil
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
