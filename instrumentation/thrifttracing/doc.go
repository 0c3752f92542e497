// Package thrifttracing records RPC-level spans of Apache Thrift services for
// Seer and sends them to the seerthrift receiver.
//
// A service instance creates one Tracer (its service name and a SpanSink,
// normally an Exporter), wraps its processor with Tracer.WrapProcessor (or
// Tracer.ProcessorMiddleware with thrift.WrapProcessor) and wraps the clients
// of its downstream services with Tracer.ClientMiddleware.
//
// Server spans carry the timestamps that Seer's queueing model needs:
// server receive (the request's message header was read; with THeader the
// whole frame was), app receive (the arguments were decoded), processing
// start (app receive, or the time a handler with its own worker queue calls
// MarkProcessingStart) and processing end (the reply is about to be
// written); plus the number of requests already outstanding at the instance
// when the request arrived, not counting itself. A request counts as
// outstanding from its arrival to its processing end, so a caller never sees
// its previous request still counted. Client spans carry client send and
// client receive and the called service. All timestamps of a process come
// from one clock (Now), monotonic and anchored to the wall clock at start.
//
// # Propagation needs THeader
//
// Trace context travels as a W3C traceparent header inside Thrift's THeader
// protocol, which is the only Thrift wire format with per-request headers.
// Both sides must therefore use THeader: servers a
// thrift.NewTHeaderTransportFactory / thrift.NewTHeaderProtocolFactory pair
// (which also accepts plain framed and unframed clients), clients a
// thrift.NewTHeaderProtocol over the socket. Over other protocols the spans
// are still recorded, but each server request starts a new trace.
//
// Thrift's THeader code is expensive: per call it allocates a header map,
// buffers, protocol objects and context values (about 80 allocations and
// most of the CPU of a small call, in memory). This package's
// HeaderProtocol speaks the same THeader on the wire without that: serve
// with NewTSimpleServer (which also accepts framed and unframed binary and
// compact clients) and call with NewHeaderProtocol. They interoperate with
// thrift's THeader on the other side; what they leave out is listed at
// HeaderProtocol.
//
// # Cost on the RPC path
//
// The instrumentation itself (a client span with injection plus a server
// span with extraction) takes about 0.5µs of the RPC path's CPU per RPC and
// 2 allocations (the call's and the request's context), plus about 150ns of
// the export goroutine's CPU per span to encode and send it: 1.4µs per RPC
// in all in BenchmarkInstrumentationOnly. That benchmark reports 4
// allocations per RPC: its stand-in client reads the traceparent with
// thrift.GetHeader, as thrift's own THeader client does, which costs 2 more
// (HeaderProtocol reads it without them). Spans go to the Exporter's
// lock-free bounded buffer, which holds no pointers (the garbage collector
// does not scan it), and a span that does not fit is dropped and counted
// (seer_instrumentation_spans_dropped_total with reason="buffer_full"):
// recording never blocks. Encoding, batching, retries and reconnects run on
// the Exporter's own goroutine.
//
// Measured as CPU time per call of the smallest Collector call (the
// benchmarks' process: client, server, exporters; medians of 9 alternated
// runs on a loaded 2-core machine): over loopback with 4 concurrent
// connections, uninstrumented with thrift's THeader 45µs, traced with
// HeaderProtocol 22µs, uninstrumented with HeaderProtocol 19.5µs; in
// memory 12.4µs, 5.1µs and 3.7µs. Traced over thrift's own THeader the
// same call costs 52µs (the header alone costs thrift 1.5 to 3.5µs and 13
// allocations).
package thrifttracing
