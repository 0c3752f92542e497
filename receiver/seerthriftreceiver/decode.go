package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"errors"
	"fmt"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/internal/seerattr"
)

// scopeName is the instrumentation scope of the spans the receiver makes.
const scopeName = "github.com/seer-qos/seer/receiver/seerthriftreceiver"

// Semantic-convention names the receiver writes that seerattr does not own.
const (
	attrServiceName       = "service.name"
	attrServiceInstanceID = "service.instance.id"
	attrHostName          = "host.name"
	rpcSystemThrift       = "thrift"
)

// minSaneTimestamp is 2000-01-01T00:00:00Z in Unix nanoseconds. An earlier
// timestamp is almost surely seconds, milliseconds or microseconds sent as
// nanoseconds, or a clock that was never set.
const minSaneTimestamp = 946_684_800_000_000_000

// maxPrealloc bounds what a declared list length may preallocate; the
// list still grows past it as elements actually arrive.
const maxPrealloc = 1024

// maxAttributes bounds the attributes (tags) of one span or process: a
// pdata map looks keys up one by one, so a frame of a few MiB of distinct
// short keys would take minutes to map. Far above what instrumentation sends.
const maxAttributes = 1024

// errMalformed marks errors of the wire format: the bytes are not a
// SpanBatch, and where they came from a stream, the stream position is lost.
var errMalformed = errors.New("malformed thrift data")

// errInvalidBatch marks a batch that decoded but breaks the rules of
// seer.thrift (missing required fields, bad ids, bad timestamps).
var errInvalidBatch = errors.New("invalid span batch")

func malformedf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errInvalidBatch}, args...)...)
}

// wrapProto wraps an error of the thrift library as malformed input.
func wrapProto(what string, err error) error {
	return fmt.Errorf("%w: reading %s: %w", errMalformed, what, err)
}

// batchMeta is what the decoder learned about a batch beyond its spans.
type batchMeta struct {
	spans        int
	droppedSpans int64
}

// decoder decodes a SpanBatch from a thrift protocol straight into pdata,
// without the intermediate generated structs. It remembers the first
// validation error and keeps reading, so that a stream stays positioned at
// the end of the message; a wire-format error stops it at once.
type decoder struct {
	w       wire
	invalid error
}

func (d *decoder) invalidate(err error) {
	if d.invalid == nil {
		d.invalid = err
	}
}

// decodeBatch reads one SpanBatch struct from p into a new ResourceSpans of
// td. The error wraps errMalformed or errInvalidBatch.
func decodeBatch(w wire, td ptrace.Traces) (batchMeta, error) {
	d := decoder{w: w}
	meta, err := d.batch(td)
	if err != nil {
		return meta, err
	}
	return meta, d.invalid
}

// expect checks the wire type of a known field.
func expect(field string, got, want thrift.TType) error {
	if got != want {
		return malformedf("field %s has type %s, want %s", field, got, want)
	}
	return nil
}

func (d *decoder) batch(td ptrace.Traces) (batchMeta, error) {
	var meta batchMeta
	rs := td.ResourceSpans().AppendEmpty()
	ss := rs.ScopeSpans().AppendEmpty()
	ss.Scope().SetName(scopeName)

	if err := d.w.structBegin(); err != nil {
		return meta, wrapProto("SpanBatch", err)
	}
	var haveProcess, haveSpans bool
	for {
		typ, id, err := d.w.fieldBegin()
		if err != nil {
			return meta, wrapProto("SpanBatch field", err)
		}
		if typ == thrift.STOP {
			break
		}
		switch id {
		case 1:
			if err := expect("SpanBatch.process", typ, thrift.STRUCT); err != nil {
				return meta, err
			}
			haveProcess = true
			if err := d.process(rs.Resource().Attributes()); err != nil {
				return meta, err
			}
		case 2:
			if err := expect("SpanBatch.spans", typ, thrift.LIST); err != nil {
				return meta, err
			}
			haveSpans = true
			n, err := d.spans(ss.Spans())
			meta.spans += n
			if err != nil {
				return meta, err
			}
		case 3:
			if err := expect("SpanBatch.seq_no", typ, thrift.I64); err != nil {
				return meta, err
			}
			v, err := d.w.readI64()
			if err != nil {
				return meta, wrapProto("SpanBatch.seq_no", err)
			}
			rs.Resource().Attributes().PutInt(seerattr.BatchSeqNo, v)
		case 4:
			if err := expect("SpanBatch.dropped_spans", typ, thrift.I64); err != nil {
				return meta, err
			}
			v, err := d.w.readI64()
			if err != nil {
				return meta, wrapProto("SpanBatch.dropped_spans", err)
			}
			if v < 0 {
				d.invalidate(invalidf("dropped_spans is negative (%d)", v))
			} else {
				meta.droppedSpans = v
			}
		default:
			if err := d.w.skip(typ); err != nil {
				return meta, wrapProto("unknown SpanBatch field", err)
			}
		}
	}
	if err := d.w.structEnd(); err != nil {
		return meta, wrapProto("SpanBatch end", err)
	}
	if !haveProcess {
		d.invalidate(invalidf("required field process is missing"))
	}
	if !haveSpans {
		d.invalidate(invalidf("required field spans is missing"))
	}
	return meta, nil
}

func (d *decoder) process(attrs pcommon.Map) error {
	if err := d.w.structBegin(); err != nil {
		return wrapProto("Process", err)
	}
	var haveService, haveInstance bool
	for {
		typ, id, err := d.w.fieldBegin()
		if err != nil {
			return wrapProto("Process field", err)
		}
		if typ == thrift.STOP {
			break
		}
		switch id {
		case 1, 2, 3:
			name := [...]string{1: "Process.service_name", 2: "Process.instance", 3: "Process.host"}[id]
			if err := expect(name, typ, thrift.STRING); err != nil {
				return err
			}
			v, err := d.w.readName()
			if err != nil {
				return wrapProto(name, err)
			}
			switch id {
			case 1:
				haveService = true
				if v == "" {
					d.invalidate(invalidf("Process.service_name is empty"))
				}
				attrs.PutStr(attrServiceName, v)
			case 2:
				haveInstance = true
				attrs.PutStr(attrServiceInstanceID, v)
			case 3:
				if v != "" {
					attrs.PutStr(attrHostName, v)
				}
			}
		case 4:
			if err := expect("Process.tags", typ, thrift.LIST); err != nil {
				return err
			}
			if err := d.keyValues("Process.tags", attrs, false, 0); err != nil {
				return err
			}
		default:
			if err := d.w.skip(typ); err != nil {
				return wrapProto("unknown Process field", err)
			}
		}
	}
	if err := d.w.structEnd(); err != nil {
		return wrapProto("Process end", err)
	}
	if !haveService {
		d.invalidate(invalidf("required field Process.service_name is missing"))
	}
	if !haveInstance {
		d.invalidate(invalidf("required field Process.instance is missing"))
	}
	return nil
}

// keyValues reads a list<KeyValue> into attrs. With override false an
// existing key keeps its value; with true the list wins. Process tags must
// not replace service.name and friends, which may come before them.
//
// extra is the number of attributes the caller adds after the list, so that
// the map is sized once.
func (d *decoder) keyValues(field string, attrs pcommon.Map, override bool, extra int) error {
	elem, n, err := d.w.listBegin()
	if err != nil {
		return wrapProto(field, err)
	}
	if elem != thrift.STRUCT {
		return malformedf("%s is a list of %s, want struct", field, elem)
	}
	if n > maxAttributes {
		d.invalidate(invalidf("%s: %d attributes, at most %d", field, n, maxAttributes))
	}
	attrs.EnsureCapacity(attrs.Len() + min(n, maxPrealloc) + extra)
	for i := range n {
		if d.invalid != nil {
			return d.skipElems(field, n-i)
		}
		k, v, err := d.keyValue(field, i)
		if err != nil {
			return err
		}
		if !override {
			if _, ok := attrs.Get(k); ok {
				continue
			}
		}
		attrs.PutStr(k, v)
	}
	return nil
}

func (d *decoder) keyValue(field string, i int) (key, value string, err error) {
	if err := d.w.structBegin(); err != nil {
		return "", "", wrapProto(field, err)
	}
	var haveKey, haveValue bool
	for {
		typ, id, err := d.w.fieldBegin()
		if err != nil {
			return "", "", wrapProto(field, err)
		}
		if typ == thrift.STOP {
			break
		}
		switch id {
		case 1, 2:
			if typ != thrift.STRING {
				return "", "", malformedf("%s[%d] field %d has type %s, want string", field, i, id, typ)
			}
			var s string
			if id == 1 {
				s, err = d.w.readName()
			} else {
				s, err = d.w.readString()
			}
			if err != nil {
				return "", "", wrapProto(field, err)
			}
			if id == 1 {
				key, haveKey = s, true
			} else {
				value, haveValue = s, true
			}
		default:
			if err := d.w.skip(typ); err != nil {
				return "", "", wrapProto(field, err)
			}
		}
	}
	if err := d.w.structEnd(); err != nil {
		return "", "", wrapProto(field, err)
	}
	if !haveKey || !haveValue {
		d.invalidate(invalidf("%s[%d]: required key or value is missing", field, i))
	}
	if haveKey && key == "" {
		d.invalidate(invalidf("%s[%d]: key is empty", field, i))
	}
	return key, value, nil
}

func (d *decoder) spans(spans ptrace.SpanSlice) (int, error) {
	elem, n, err := d.w.listBegin()
	if err != nil {
		return 0, wrapProto("SpanBatch.spans", err)
	}
	if elem != thrift.STRUCT {
		return 0, malformedf("SpanBatch.spans is a list of %s, want struct", elem)
	}
	spans.EnsureCapacity(spans.Len() + min(n, maxPrealloc))
	for i := range n {
		if d.invalid != nil {
			// The batch is refused whole: read past the rest without
			// mapping it (a list of empty structs, one byte each, would
			// otherwise cost a span apiece).
			return n, d.skipElems("SpanBatch.spans", n-i)
		}
		if err := d.span(spans.AppendEmpty(), i); err != nil {
			return i, err
		}
	}
	return n, nil
}

// skipElems reads past n struct elements of a list.
func (d *decoder) skipElems(field string, n int) error {
	for range n {
		if err := d.w.skip(thrift.STRUCT); err != nil {
			return wrapProto(field, err)
		}
	}
	return nil
}

// Indexes of the span timestamps, in field-id order (fields 6 to 11).
const (
	tsClientSend = iota
	tsServerReceive
	tsAppReceive
	tsProcessingStart
	tsProcessingEnd
	tsClientReceive
	numTimestamps
)

// timestampAttrs names the attribute of each timestamp.
var timestampAttrs = [numTimestamps]string{
	tsClientSend:      seerattr.ClientSend,
	tsServerReceive:   seerattr.ServerReceive,
	tsAppReceive:      seerattr.AppReceive,
	tsProcessingStart: seerattr.ProcessingStart,
	tsProcessingEnd:   seerattr.ProcessingEnd,
	tsClientReceive:   seerattr.ClientReceive,
}

// Required span fields, as bits.
const (
	reqTraceID = 1 << iota
	reqSpanID
	reqOperation
	reqKind
	reqStatus
	reqAll = reqTraceID | reqSpanID | reqOperation | reqKind | reqStatus
)

// spanFields holds the span fields that are mapped after the whole span
// was read, because their mapping depends on other fields.
type spanFields struct {
	ts          [numTimestamps]int64
	outstanding int32
	nicDepth    int32
	haveOut     bool
	haveNIC     bool
	kind        seerthrift.SpanKind
	operation   string
	peerService string
	havePeer    bool
}

func (d *decoder) span(span ptrace.Span, i int) error {
	if err := d.w.structBegin(); err != nil {
		return wrapProto("Span", err)
	}
	var f spanFields
	var have int
	attrs := span.Attributes()
	for {
		typ, id, err := d.w.fieldBegin()
		if err != nil {
			return wrapProto("Span field", err)
		}
		if typ == thrift.STOP {
			break
		}
		switch id {
		case 1, 2, 3:
			if err := expect("Span id", typ, thrift.STRING); err != nil {
				return err
			}
			b, err := d.w.readBytes()
			if err != nil {
				return wrapProto("Span id", err)
			}
			switch id {
			case 1:
				have |= reqTraceID
				if len(b) != 16 {
					d.invalidate(invalidf("span %d: trace_id has %d bytes, want 16", i, len(b)))
				} else if tid := pcommon.TraceID(b); tid.IsEmpty() {
					d.invalidate(invalidf("span %d: trace_id is all zeros", i))
				} else {
					span.SetTraceID(tid)
				}
			case 2:
				have |= reqSpanID
				if len(b) != 8 {
					d.invalidate(invalidf("span %d: span_id has %d bytes, want 8", i, len(b)))
				} else if sid := pcommon.SpanID(b); sid.IsEmpty() {
					d.invalidate(invalidf("span %d: span_id is all zeros", i))
				} else {
					span.SetSpanID(sid)
				}
			case 3:
				// An empty parent means a root span, as an absent one does.
				if len(b) != 0 && len(b) != 8 {
					d.invalidate(invalidf("span %d: parent_span_id has %d bytes, want 8", i, len(b)))
				} else if len(b) == 8 {
					span.SetParentSpanID(pcommon.SpanID(b))
				}
			}
		case 4:
			if err := expect("Span.operation", typ, thrift.STRING); err != nil {
				return err
			}
			v, err := d.w.readName()
			if err != nil {
				return wrapProto("Span.operation", err)
			}
			have |= reqOperation
			f.operation = v
			span.SetName(v)
		case 5, 14:
			if err := expect("Span enum", typ, thrift.I32); err != nil {
				return err
			}
			v, err := d.w.readI32()
			if err != nil {
				return wrapProto("Span enum", err)
			}
			if id == 5 {
				have |= reqKind
				f.kind = seerthrift.SpanKind(v)
				switch f.kind {
				case seerthrift.SpanKind_SERVER:
					span.SetKind(ptrace.SpanKindServer)
				case seerthrift.SpanKind_CLIENT:
					span.SetKind(ptrace.SpanKindClient)
				case seerthrift.SpanKind_INTERNAL:
					span.SetKind(ptrace.SpanKindInternal)
				default:
					d.invalidate(invalidf("span %d: unknown kind %d", i, v))
				}
			} else {
				have |= reqStatus
				switch seerthrift.StatusCode(v) {
				case seerthrift.StatusCode_UNSET:
					span.Status().SetCode(ptrace.StatusCodeUnset)
				case seerthrift.StatusCode_OK:
					span.Status().SetCode(ptrace.StatusCodeOk)
				case seerthrift.StatusCode_ERROR:
					span.Status().SetCode(ptrace.StatusCodeError)
				default:
					d.invalidate(invalidf("span %d: unknown status %d", i, v))
				}
			}
		case 6, 7, 8, 9, 10, 11:
			if err := expect("Span timestamp", typ, thrift.I64); err != nil {
				return err
			}
			v, err := d.w.readI64()
			if err != nil {
				return wrapProto("Span timestamp", err)
			}
			k := int(id) - 6
			if v != 0 && v < minSaneTimestamp {
				d.invalidate(invalidf("span %d: %s is %d, not Unix nanoseconds after 2000", i, timestampAttrs[k], v))
			}
			f.ts[k] = v
		case 12, 13:
			if err := expect("Span queue depth", typ, thrift.I32); err != nil {
				return err
			}
			v, err := d.w.readI32()
			if err != nil {
				return wrapProto("Span queue depth", err)
			}
			if v < 0 {
				d.invalidate(invalidf("span %d: queue depth field %d is negative (%d)", i, id, v))
			}
			if id == 12 {
				f.outstanding, f.haveOut = v, true
			} else {
				f.nicDepth, f.haveNIC = v, true
			}
		case 15, 16:
			if err := expect("Span string", typ, thrift.STRING); err != nil {
				return err
			}
			v, err := d.w.readName()
			if err != nil {
				return wrapProto("Span string", err)
			}
			if id == 15 {
				span.Status().SetMessage(v)
			} else if v != "" {
				f.peerService, f.havePeer = v, true
			}
		case 17:
			if err := expect("Span.attributes", typ, thrift.LIST); err != nil {
				return err
			}
			if err := d.keyValues("Span.attributes", attrs, true, f.fixedAttrs()); err != nil {
				return err
			}
		default:
			if err := d.w.skip(typ); err != nil {
				return wrapProto("unknown Span field", err)
			}
		}
	}
	if err := d.w.structEnd(); err != nil {
		return wrapProto("Span end", err)
	}
	if have != reqAll {
		d.invalidate(invalidf("span %d: required field %s is missing", i, missingField(have)))
	}
	d.finishSpan(span, &f, i)
	return nil
}

func missingField(have int) string {
	switch {
	case have&reqTraceID == 0:
		return "trace_id"
	case have&reqSpanID == 0:
		return "span_id"
	case have&reqOperation == 0:
		return "operation"
	case have&reqKind == 0:
		return "kind"
	default:
		return "status"
	}
}

// fixedAttrs is the number of attributes finishSpan adds for the fields
// read so far.
func (f *spanFields) fixedAttrs() int {
	n := 2 // rpc.system, rpc.method
	for _, v := range f.ts {
		if v != 0 {
			n++
		}
	}
	for _, b := range [...]bool{f.havePeer, f.haveOut, f.haveNIC} {
		if b {
			n++
		}
	}
	return n
}

// firstSet returns the first non-zero timestamp of idx.
func (f *spanFields) firstSet(idx ...int) int64 {
	for _, i := range idx {
		if f.ts[i] != 0 {
			return f.ts[i]
		}
	}
	return 0
}

// finishSpan sets what depends on several fields: times and the fixed
// attributes, which win over attributes of the same name sent by the span.
func (d *decoder) finishSpan(span ptrace.Span, f *spanFields, i int) {
	var start, end int64
	switch f.kind {
	case seerthrift.SpanKind_SERVER:
		start = f.firstSet(tsServerReceive, tsAppReceive, tsProcessingStart)
		end = f.ts[tsProcessingEnd]
	case seerthrift.SpanKind_CLIENT:
		start = f.ts[tsClientSend]
		end = f.ts[tsClientReceive]
	default:
		start = f.firstSet(tsProcessingStart, tsAppReceive, tsServerReceive, tsClientSend)
		end = f.firstSet(tsProcessingEnd, tsClientReceive)
	}
	switch {
	case start == 0:
		d.invalidate(invalidf("span %d: no start timestamp for a %s span", i, f.kind))
	case end == 0:
		end = start
	case end < start:
		d.invalidate(invalidf("span %d: end %d is before start %d", i, end, start))
	}
	span.SetStartTimestamp(pcommon.Timestamp(start))
	span.SetEndTimestamp(pcommon.Timestamp(end))

	attrs := span.Attributes()
	attrs.EnsureCapacity(attrs.Len() + f.fixedAttrs())
	attrs.PutStr(seerattr.RPCSystem, rpcSystemThrift)
	attrs.PutStr(seerattr.RPCMethod, f.operation)
	if f.havePeer {
		attrs.PutStr(seerattr.PeerService, f.peerService)
	}
	for k, v := range f.ts {
		if v != 0 {
			attrs.PutInt(timestampAttrs[k], v)
		}
	}
	if f.haveOut {
		attrs.PutInt(seerattr.OutstandingRequests, int64(f.outstanding))
	}
	if f.haveNIC {
		attrs.PutInt(seerattr.NICQueueDepth, int64(f.nicDepth))
	}
}

// decodeSubmitArgs reads the arguments of Collector.submitBatch, which hold
// one SpanBatch. The caller reads the end of the message.
func decodeSubmitArgs(w wire, td ptrace.Traces) (batchMeta, error) {
	d := decoder{w: w}
	var meta batchMeta
	if err := w.structBegin(); err != nil {
		return meta, wrapProto("submitBatch arguments", err)
	}
	haveBatch := false
	for {
		typ, id, err := w.fieldBegin()
		if err != nil {
			return meta, wrapProto("submitBatch argument", err)
		}
		if typ == thrift.STOP {
			break
		}
		if id == 1 && typ == thrift.STRUCT {
			if haveBatch {
				return meta, malformedf("submitBatch has two batch arguments")
			}
			haveBatch = true
			if meta, err = d.batch(td); err != nil {
				return meta, err
			}
		} else if err := w.skip(typ); err != nil {
			return meta, wrapProto("unknown submitBatch argument", err)
		}
	}
	if err := w.structEnd(); err != nil {
		return meta, wrapProto("submitBatch arguments end", err)
	}
	if !haveBatch {
		d.invalidate(invalidf("submitBatch without a batch"))
	}
	return meta, d.invalid
}
