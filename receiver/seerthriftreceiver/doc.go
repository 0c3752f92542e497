//go:generate go tool mdatagen metadata.yaml

// Package seerthriftreceiver implements the seerthrift receiver: it accepts
// the SpanBatch values of idl/seer.thrift, sent by Thrift services
// instrumented with instrumentation/thrifttracing, and hands them to the
// pipeline as OpenTelemetry traces.
//
// # Transports
//
// TCP (protocols.tcp, default localhost:6833): the Thrift service
// Collector.submitBatch over a framed transport. The server side uses the
// Thrift THeader transport and protocol, which recognise framed binary,
// framed compact and THeader clients (and unframed binary/compact ones) and
// answer each client in its own dialect. W3C trace context sent in THeader
// headers (traceparent, tracestate) becomes the parent of the receiver's own
// span for the batch. A frame larger than max_frame_size, a frame that cannot
// be decoded or a call of an unknown message type closes that connection only
// (after a TApplicationException where one can still be written); other
// connections are not affected.
//
// HTTP (protocols.http, default localhost:6834, path /api/spans): POST whose
// body is one serialized SpanBatch (not an RPC message), with Content-Type
// application/vnd.apache.thrift.binary or application/x-thrift (binary
// protocol) or application/vnd.apache.thrift.compact (compact protocol).
// A successful response is 200 with a serialized SubmitResult in the
// request's protocol. Errors are plain text:
//
//   - 400 Bad Request: the body cannot be decoded or the batch is invalid,
//     or the pipeline refused the data permanently; do not retry.
//   - 405 Method Not Allowed, 415 Unsupported Media Type, 413 Request Entity
//     Too Large (body above max_request_body_size).
//   - 503 Service Unavailable with Retry-After (seconds): the pipeline could
//     not take the data now; retry later.
//
// Over TCP the same outcomes are the result of submitBatch: SubmitResult,
// InvalidBatch (permanent) or Overloaded with retry_after_ms (retry).
//
// # Mapping to OTLP
//
// One SpanBatch becomes one ResourceSpans with one ScopeSpans (scope name
// is this package's import path).
//
// Resource attributes:
//
//	Process.service_name   -> service.name
//	Process.instance       -> service.instance.id
//	Process.host           -> host.name (when set)
//	Process.tags[k] = v    -> k = v (string); tags do not override the above
//	SpanBatch.seq_no       -> seer.batch.seq_no (int, when set)
//
// Span fields:
//
//	trace_id (16 bytes)    -> TraceID
//	span_id (8 bytes)      -> SpanID
//	parent_span_id         -> ParentSpanID (absent or empty: root span)
//	operation              -> Name and rpc.method
//	kind                   -> Kind: SERVER, CLIENT, INTERNAL
//	status, status_message -> Status code (Unset, Ok, Error) and message
//	peer_service           -> peer.service (when set)
//	attributes[k] = v      -> k = v (string); attributes do not override the
//	                          attributes below; at most 1024 (as tags: more
//	                          make the batch invalid)
//	(always)               -> rpc.system = "thrift"
//
// Start and end time keep their OpenTelemetry meaning:
//
//	SERVER: start = server_receive_ns, falling back to app_receive_ns,
//	        then processing_start_ns; end = processing_end_ns.
//	CLIENT: start = client_send_ns; end = client_receive_ns.
//	INTERNAL: start = first recorded of processing_start_ns,
//	          app_receive_ns, server_receive_ns, client_send_ns; end = first
//	          recorded of processing_end_ns, client_receive_ns.
//	When no end is recorded the span has end = start (a zero-length span).
//
// Every recorded timestamp (non-zero) is also kept as an int attribute named
// by package internal/seerattr (seer.server_receive_time_unix_nano and so
// on), as are outstanding_requests (seer.queue.outstanding_requests) and
// nic_queue_depth (seer.queue.nic_depth).
//
// # Validation
//
// A batch is refused as a whole (InvalidBatch / HTTP 400) when: a span's
// trace id is not 16 bytes or is all zeros; a span id is not 8 bytes or is
// all zeros; a parent span id is present, non-empty and not 8 bytes; a
// required field is missing (Process, service_name, instance, spans, and in
// each span trace_id, span_id, operation, kind, status); kind or status is
// not a known enum value; a timestamp is set but before 2000-01-01 (seconds
// or milliseconds sent as nanoseconds, or negative); a span has no start
// timestamp at all; end is before start; a queue depth or dropped_spans is
// negative; or service_name or an attribute key is empty. Such batches are
// counted in otelcol_receiver_seerthrift_malformed_requests_total with
// reason invalid_batch and in the failed (or refused) spans of
// receiverhelper.
//
// # Decoding
//
// Frames and HTTP bodies are decoded straight into pdata by a hand-written
// reader of the binary and compact protocols (wire.go), without the
// generated structs; unframed TCP clients and compressed THeader frames go
// through the thrift library's protocol with the same mapping code.
// Declared string and list sizes are checked against the bytes left in the
// frame before anything is allocated for them.
//
// # Telemetry
//
// On the collector's own Prometheus endpoint (:8888) the receiver shows up
// as (all with receiver="seerthrift[/name]" and transport="tcp" or "http"):
//
//   - otelcol_receiver_accepted_spans_total, otelcol_receiver_refused_spans_total
//     and otelcol_receiver_failed_spans_total (receiverhelper.ObsReport);
//   - otelcol_receiver_seerthrift_malformed_requests_total{reason=...}:
//     frames or bodies that could not be decoded (decode), batches that
//     failed validation (invalid_batch), calls of another method
//     (unknown_method), bodies or frames over the size limit (too_large) and
//     HTTP requests with an unsupported Content-Type (media_type);
//   - otelcol_receiver_seerthrift_sender_dropped_spans_total: the sum of
//     SpanBatch.dropped_spans, the spans the senders say they lost, over
//     the batches taken (a sender reports its drops again with the batch
//     after a refused one).
package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"
