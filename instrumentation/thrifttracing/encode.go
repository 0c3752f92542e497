package thrifttracing

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// The export goroutine encodes spans straight from SpanData into Thrift's
// compact protocol. Going through the generated structs costs about 600ns a
// span (conversion, then one interface call per field); this is a few times
// cheaper and allocates nothing. A test decodes its output with the
// generated code and compares it with the generated encoding.

// Compact protocol type nibbles.
const (
	ctI32    = 0x05
	ctI64    = 0x06
	ctBinary = 0x08
	ctList   = 0x09
	ctStruct = 0x0C
)

// compactStruct appends the fields of one struct, keeping the last field id
// for the compact protocol's field-id deltas.
type compactStruct struct {
	b    []byte
	last int16
}

func (w *compactStruct) field(id int16, typ byte) {
	if d := id - w.last; d > 0 && d <= 15 {
		w.b = append(w.b, byte(d)<<4|typ)
	} else {
		w.b = append(w.b, typ)
		w.b = binary.AppendUvarint(w.b, uint64(zigzag32(int32(id))))
	}
	w.last = id
}

func (w *compactStruct) binary(id int16, v []byte) {
	w.field(id, ctBinary)
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *compactStruct) string(id int16, v string) {
	w.field(id, ctBinary)
	w.b = binary.AppendUvarint(w.b, uint64(len(v)))
	w.b = append(w.b, v...)
}

func (w *compactStruct) i32(id int16, v int32) {
	w.field(id, ctI32)
	w.b = binary.AppendUvarint(w.b, uint64(zigzag32(v)))
}

func (w *compactStruct) i64(id int16, v int64) {
	w.field(id, ctI64)
	w.b = binary.AppendUvarint(w.b, zigzag64(v))
}

// optI64 writes v unless it is 0, which the IDL reads as "not recorded".
func (w *compactStruct) optI64(id int16, v int64) {
	if v != 0 {
		w.i64(id, v)
	}
}

func (w *compactStruct) stop() { w.b = append(w.b, 0) }

func zigzag32(n int32) uint32 { return uint32(n<<1) ^ uint32(n>>31) }
func zigzag64(n int64) uint64 { return uint64(n<<1) ^ uint64(n>>63) }

// encodeProcess returns the compact encoding of the Process struct.
func encodeProcess(p *seerthrift.Process) []byte {
	w := compactStruct{}
	w.string(1, p.ServiceName)
	w.string(2, p.Instance)
	if p.IsSetHost() && p.GetHost() != "" {
		w.string(3, p.GetHost())
	}
	w.stop()
	return w.b
}

// appendSpan appends the compact encoding of s as a seerthrift.Span.
func appendSpan(b []byte, s *SpanData) []byte {
	w := compactStruct{b: b}
	w.binary(1, s.TraceID[:])
	w.binary(2, s.SpanID[:])
	if s.ParentSpanID.IsValid() {
		w.binary(3, s.ParentSpanID[:])
	}
	w.string(4, s.Operation)
	w.i32(5, int32(s.Kind))
	if s.Kind == seerthrift.SpanKind_SERVER {
		w.optI64(7, s.ServerReceiveNs)
		w.optI64(8, s.AppReceiveNs)
		w.optI64(9, s.ProcessingStartNs)
		w.optI64(10, s.ProcessingEndNs)
		w.i32(12, s.OutstandingRequests)
	} else {
		w.optI64(6, s.ClientSendNs)
		w.optI64(11, s.ClientReceiveNs)
	}
	w.i32(14, int32(s.Status))
	if s.StatusMessage != "" {
		w.string(15, s.StatusMessage)
	}
	if s.Kind != seerthrift.SpanKind_SERVER && s.PeerService != "" {
		w.string(16, s.PeerService)
	}
	w.stop()
	return w.b
}

// appendSubmitArgs appends the arguments of Collector.submitBatch, a struct
// whose field 1 is the SpanBatch, with process already encoded.
func appendSubmitArgs(b []byte, process []byte, spans []SpanData, seq, dropped int64) []byte {
	args := compactStruct{b: b}
	args.field(1, ctStruct)
	batch := compactStruct{b: args.b}
	batch.field(1, ctStruct)
	batch.b = append(batch.b, process...)
	batch.field(2, ctList)
	if n := len(spans); n <= 14 {
		batch.b = append(batch.b, byte(n)<<4|ctStruct)
	} else {
		batch.b = append(batch.b, 0xF0|ctStruct)
		batch.b = binary.AppendUvarint(batch.b, uint64(n))
	}
	for i := range spans {
		batch.b = appendSpan(batch.b, &spans[i])
	}
	batch.i64(3, seq)
	if dropped > 0 {
		batch.i64(4, dropped)
	}
	batch.stop()
	args.b = batch.b
	args.stop()
	return args.b
}

// rawArgs is a TStruct whose Write sends bytes already in the compact
// protocol. The compact protocol writes straight through to its transport,
// so bytes written to the transport between WriteMessageBegin and
// WriteMessageEnd are the message body.
type rawArgs struct{ b []byte }

func (a *rawArgs) Write(_ context.Context, p thrift.TProtocol) error {
	if _, ok := p.(*thrift.TCompactProtocol); !ok {
		return errors.New("raw span batch needs the compact protocol")
	}
	_, err := p.Transport().Write(a.b)
	return err
}

func (a *rawArgs) Read(context.Context, thrift.TProtocol) error {
	return errors.New("raw span batch is write-only")
}

// submitRaw calls Collector.submitBatch with pre-encoded arguments and maps
// the declared exceptions to errors as the generated client does.
func submitRaw(ctx context.Context, c thrift.TClient, args *rawArgs) error {
	var result seerthrift.CollectorSubmitBatchResult
	if _, err := c.Call(ctx, "submitBatch", args, &result); err != nil {
		return err
	}
	switch {
	case result.Overloaded != nil:
		return result.Overloaded
	case result.Invalid != nil:
		return result.Invalid
	case result.Success == nil:
		return thrift.NewTApplicationException(thrift.MISSING_RESULT, "submitBatch failed: unknown result")
	}
	return nil
}
