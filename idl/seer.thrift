/*
 * seer.thrift: the wire format of Seer's RPC-level tracing.
 *
 * Instrumented Thrift services (package instrumentation/thrifttracing) send
 * SpanBatch values to the seerthrift receiver, over framed Thrift TCP (binary
 * or compact protocol, optionally inside THeader) or over HTTP. One batch
 * carries the spans of one service instance.
 *
 * Every timestamp is Unix time in nanoseconds taken from the clock of the
 * host that recorded it. A timestamp of 0 or an absent optional field means
 * "not recorded".
 */

namespace go seerthrift
namespace java io.seer.thrift

/** SpanKind says which side of an RPC a span records. */
enum SpanKind {
  INTERNAL = 0,
  /** The server side: the time a request spent inside the callee. */
  SERVER = 1,
  /** The client side: the time from sending a request to reading its reply. */
  CLIENT = 2,
}

/** StatusCode is the outcome of the RPC, as OpenTelemetry defines it. */
enum StatusCode {
  UNSET = 0,
  OK = 1,
  ERROR = 2,
}

struct KeyValue {
  1: required string key
  2: required string value
}

struct Span {
  /** 16 bytes, W3C trace-id. */
  1: required binary trace_id
  /** 8 bytes, W3C parent-id of this span. */
  2: required binary span_id
  /** 8 bytes; absent for a root span. */
  3: optional binary parent_span_id
  /** The RPC method, for example "ComposePost". */
  4: required string operation
  5: required SpanKind kind

  /* Timestamps of one request's path (Unix ns). A CLIENT span carries 6 and
     11; a SERVER span carries 7 to 10. */
  /** The caller started writing the request. */
  6: optional i64 client_send_ns
  /** The server's transport had the whole request frame. */
  7: optional i64 server_receive_ns
  /** The application got the decoded request (after network and decode). */
  8: optional i64 app_receive_ns
  /** A worker started on the request (after any application queue). */
  9: optional i64 processing_start_ns
  /** The worker finished and the reply was about to be written. */
  10: optional i64 processing_end_ns
  /** The caller had read the whole reply. */
  11: optional i64 client_receive_ns

  /** Requests already outstanding at this service instance (arrived and not
      yet completed, not counting this one) when this request arrived: the
      software queue depth. SERVER spans only. */
  12: optional i32 outstanding_requests
  /** Bytes waiting in the NIC/socket receive queue of the server when the
      request arrived, where the host can measure it. */
  13: optional i32 nic_queue_depth

  14: required StatusCode status
  15: optional string status_message
  /** The service called, on CLIENT spans. */
  16: optional string peer_service
  17: optional list<KeyValue> attributes
}

/** Process names the service instance that recorded a batch. */
struct Process {
  /** The microservice, OpenTelemetry service.name. */
  1: required string service_name
  /** The instance (pod, container, process), service.instance.id. */
  2: required string instance
  3: optional string host
  4: optional list<KeyValue> tags
}

struct SpanBatch {
  1: required Process process
  2: required list<Span> spans
  /** Per-sender sequence number, to spot lost or repeated batches. */
  3: optional i64 seq_no
  /** Spans the sender dropped since its previous accepted batch (buffer
      full or retries exhausted), so that loss is visible at the collector,
      which counts them when it accepts this batch: a sender reports them
      again with its next batch when this one is refused. */
  4: optional i64 dropped_spans
}

/** SubmitResult acknowledges a batch. */
struct SubmitResult {
  1: required i32 accepted_spans
}

/** Overloaded: the collector could not take the batch now; retry later. */
exception Overloaded {
  1: required string message
  /** A hint, in milliseconds, of how long to wait before retrying. */
  2: optional i32 retry_after_ms
}

/** InvalidBatch: the batch is malformed; retrying the same bytes will fail. */
exception InvalidBatch {
  1: required string message
}

service Collector {
  SubmitResult submitBatch(1: SpanBatch batch)
    throws (1: Overloaded overloaded, 2: InvalidBatch invalid)
}
