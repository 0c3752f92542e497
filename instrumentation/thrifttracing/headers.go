package thrifttracing

import (
	"context"
	"encoding/hex"
	"slices"
	"unsafe"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/otel/trace"
)

// thrift keeps THeaders in the context under unexported keys, so setting one
// with thrift.SetHeader and SetWriteHeaderList costs four allocations per
// call. keyProbe learns those keys once, through thrift's own getters, so
// that a call's context can answer for them itself (see clientCall.Value).
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	p.key = key
	return nil
}

var (
	traceparentKey     any // thrift's context key of the traceparent header
	writeHeaderListKey any // thrift's context key of the write-header list
	// traceparentOnlyList is the boxed write-header list of a call made
	// outside any forwarded headers; shared, so the common case does not
	// allocate.
	traceparentOnlyList any = []string{TraceparentHeader}
)

func init() {
	p := &keyProbe{Context: context.Background()}
	thrift.GetHeader(p, TraceparentHeader)
	traceparentKey = p.key
	p.key = nil
	thrift.GetWriteHeaderList(p)
	writeHeaderListKey = p.key
}

// probedKeys says whether the probe worked; if a thrift release stored
// headers differently, the code falls back to thrift.SetHeader.
func probedKeys() bool { return traceparentKey != nil && writeHeaderListKey != nil }

// readTraceparent returns the traceparent header a THeader server put in ctx.
func readTraceparent(ctx context.Context) (string, bool) {
	if probedKeys() {
		s, ok := ctx.Value(traceparentKey).(string)
		return s, ok
	}
	return thrift.GetHeader(ctx, TraceparentHeader)
}

// traceparentLen is the length of a version-00 traceparent.
const traceparentLen = 2 + 1 + 32 + 1 + 16 + 1 + 2

// formatTraceparent writes the version-00 traceparent of a sampled span into
// dst, exactly as propagation.TraceContext.Inject does (a test checks that).
// Inject needs a context holding the span and a carrier, three allocations
// on every call; this needs none.
func formatTraceparent(dst *[traceparentLen]byte, tid trace.TraceID, sid trace.SpanID) {
	dst[0], dst[1], dst[2] = '0', '0', '-'
	hex.Encode(dst[3:35], tid[:])
	dst[35] = '-'
	hex.Encode(dst[36:52], sid[:])
	dst[52], dst[53], dst[54] = '-', '0', '1'
}

// clientCall is one client call, in one allocation: the span, the
// traceparent text, and the context that carries it to thrift's client.
type clientCall struct {
	context.Context
	span    SpanData
	tpBytes [traceparentLen]byte
	keys    any // the write-header list, boxed
	// onlyTraceparent: the traceparent is the only header to write, so
	// HeaderProtocol can take it without looking the headers up.
	onlyTraceparent bool
}

// tpString returns the traceparent (aliasing c.tpBytes).
func (c *clientCall) tpString() string {
	return unsafe.String(&c.tpBytes[0], traceparentLen)
}

// Value answers thrift's header lookups for the traceparent, and the rest
// from the parent context.
func (c *clientCall) Value(key any) any {
	switch key {
	case traceparentKey:
		// Boxed when thrift asks (its THeaderProtocol does, once per
		// call); HeaderProtocol takes the bytes and never does.
		return c.tpString()
	case writeHeaderListKey:
		return c.keys
	}
	return c.Context.Value(key)
}

// withTraceparent makes c the context of the call: its parent's values plus
// the traceparent of (tid, sid) as a THeader to write, keeping any headers
// the parent already forwards.
func (c *clientCall) withTraceparent(parent context.Context, tid trace.TraceID, sid trace.SpanID) context.Context {
	formatTraceparent(&c.tpBytes, tid, sid)
	// The string aliases c.tpBytes, which lives as long as anything (the
	// context, thrift's header map) refers to the string.
	tp := c.tpString()
	if !probedKeys() {
		return injectWithThrift(parent, tp)
	}
	c.Context = parent
	keys := thrift.GetWriteHeaderList(parent)
	switch {
	case len(keys) == 0:
		c.keys = traceparentOnlyList
		c.onlyTraceparent = true
	case slices.Contains(keys, TraceparentHeader):
		c.keys = keys
	default:
		c.keys = append(slices.Clip(keys), TraceparentHeader)
	}
	return c
}

// injectWithThrift is the portable, slower way to set the header.
func injectWithThrift(ctx context.Context, tp string) context.Context {
	ctx = thrift.SetHeader(ctx, TraceparentHeader, tp)
	keys := thrift.GetWriteHeaderList(ctx)
	switch {
	case len(keys) == 0:
		keys = []string{TraceparentHeader}
	case slices.Contains(keys, TraceparentHeader):
		return ctx
	default:
		keys = append(slices.Clip(keys), TraceparentHeader)
	}
	return thrift.SetWriteHeaderList(ctx, keys)
}
