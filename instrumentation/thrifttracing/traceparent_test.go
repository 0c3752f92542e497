package thrifttracing

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// otelParse is the reference: what OpenTelemetry's propagator extracts.
func otelParse(h string) (trace.TraceID, trace.SpanID, bool) {
	carrier := propagation.MapCarrier{TraceparentHeader: h}
	sc := trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), carrier))
	if !sc.IsValid() {
		return trace.TraceID{}, trace.SpanID{}, false
	}
	return sc.TraceID(), sc.SpanID(), true
}

var traceparentCases = []string{
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-00",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-03",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-04",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01-",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01--",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01-x",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01x",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-1",
	"00-A00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"00-a00102030405060708090a0b0c0d0eff-DEADBEEF00010203-01",
	"00-00000000000000000000000000000000-deadbeef00010203-01",
	"00-a00102030405060708090a0b0c0d0eff-0000000000000000-01",
	"00-a00102030405060708090a0b0c0d0eff-deadbeef0001020-301",
	"00-a00102030405060708090a0b0c0d0ef-fdeadbeef00010203-01",
	"01-a00102030405060708090a0b0c0d0eff-deadbeef00010203-ff",
	"01-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01-whatever",
	"01-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01x",
	"fe-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"ff-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"0-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"000-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"00_a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
	"",
	"-",
	"00",
	" 00-a00102030405060708090a0b0c0d0eff-deadbeef00010203-01",
}

func TestParseTraceparentMatchesOTel(t *testing.T) {
	for _, h := range traceparentCases {
		gt, gs, gok := parseTraceparent(h)
		wt, ws, wok := otelParse(h)
		if gt != wt || gs != ws || gok != wok {
			t.Errorf("%q: got %v %v %v, OTel %v %v %v", h, gt, gs, gok, wt, ws, wok)
		}
	}
	// And what formatTraceparent writes comes back.
	var buf [traceparentLen]byte
	tid, sid := newTraceID(), newSpanID()
	formatTraceparent(&buf, tid, sid)
	if gt, gs, ok := parseTraceparent(string(buf[:])); !ok || gt != tid || gs != sid {
		t.Errorf("round trip of %s: %v %v %v", buf[:], gt, gs, ok)
	}
}

func TestParseTraceparentDoesNotAllocate(t *testing.T) {
	h := strings.Clone(traceparentCases[0])
	if n := testing.AllocsPerRun(100, func() { _, _, _ = parseTraceparent(h) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func FuzzParseTraceparent(f *testing.F) {
	for _, h := range traceparentCases {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, h string) {
		gt, gs, gok := parseTraceparent(h)
		wt, ws, wok := otelParse(h)
		if gt != wt || gs != ws || gok != wok {
			t.Fatalf("%q: got %v %v %v, OTel %v %v %v", h, gt, gs, gok, wt, ws, wok)
		}
	})
}
