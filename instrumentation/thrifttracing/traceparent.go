package thrifttracing

import "go.opentelemetry.io/otel/trace"

// parseTraceparent returns the trace and parent span ids of a W3C
// traceparent value, accepting exactly what propagation.TraceContext.Extract
// accepts (a test compares the two, and a fuzz test keeps comparing): two
// lower-case hex digits of version (not ff), 32 of trace id, 16 of span id
// and 2 of flags, separated by '-'; version 00 allows nothing after the
// flags (but a lone '-') and only flag bits 0 and 1; later versions allow more fields after
// a '-'; the ids must not be all zero. Extract allocates twice (a context
// and the span context's state); this does not allocate.
func parseTraceparent(h string) (trace.TraceID, trace.SpanID, bool) {
	if tid, sid, ok := parseTraceparentIDs(h); ok {
		return tid, sid, true
	}
	return trace.TraceID{}, trace.SpanID{}, false
}

func parseTraceparentIDs(h string) (tid trace.TraceID, sid trace.SpanID, ok bool) {
	// The fixed layout of every accepted value: vv-t{32}-s{16}-ff.
	if len(h) < traceparentLen || h[2] != '-' || h[35] != '-' || h[52] != '-' {
		return tid, sid, false
	}
	var ver, flags [1]byte
	if !unhex(ver[:], h[0:2]) || ver[0] == 0xff ||
		!unhex(tid[:], h[3:35]) || !unhex(sid[:], h[36:52]) || !unhex(flags[:], h[53:55]) {
		return tid, sid, false
	}
	if rest := h[traceparentLen:]; ver[0] == 0 {
		// Extract cuts the flags at a '-', so one trailing '-' passes.
		if (rest != "" && rest != "-") || flags[0] > 3 {
			return tid, sid, false
		}
	} else if rest != "" && rest[0] != '-' {
		return tid, sid, false
	}
	if !tid.IsValid() || !sid.IsValid() {
		return tid, sid, false
	}
	return tid, sid, true
}

// unhex decodes lower-case hex s into dst (len(s) == 2*len(dst)).
func unhex(dst []byte, s string) bool {
	var bad byte
	for i := range dst {
		hi, lo := hexRev[s[2*i]], hexRev[s[2*i+1]]
		dst[i] = hi<<4 | lo
		bad |= hi | lo
	}
	return bad&0xf0 == 0
}

// hexRev maps '0'-'9' and 'a'-'f' to their values and every other byte
// (upper case included, which W3C forbids) to 0xff.
var hexRev = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()
