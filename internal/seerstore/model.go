package seerstore

import (
	"encoding/hex"
	"time"
)

// TraceID is a 16-byte OpenTelemetry trace id.
type TraceID [16]byte

// SpanID is an 8-byte OpenTelemetry span id.
type SpanID [8]byte

// String returns the id in lower-case hex.
func (t TraceID) String() string { return hex.EncodeToString(t[:]) }

// String returns the id in lower-case hex.
func (s SpanID) String() string { return hex.EncodeToString(s[:]) }

// IsZero reports whether every byte of the id is zero (an invalid id in OpenTelemetry).
func (t TraceID) IsZero() bool { return t == TraceID{} }

// IsZero reports whether every byte of the id is zero (an invalid id in OpenTelemetry).
func (s SpanID) IsZero() bool { return s == SpanID{} }

// NoDepth marks a queue depth the span did not carry.
const NoDepth = -1

// Span is one RPC span as Seer stores it: identity, timing, the seer.* queue attributes as typed
// fields, and the whole span in OTLP protobuf form (Raw).
type Span struct {
	TraceID      TraceID
	SpanID       SpanID
	ParentSpanID SpanID // zero for a root span

	Service  string // service.name of the resource
	Instance string // service.instance.id, else host.name, else ""
	Name     string
	Kind     int8 // ptrace.SpanKind
	StartNs  int64
	EndNs    int64

	StatusCode    int8 // ptrace.StatusCode
	StatusMessage string

	// Seer's finer timestamps (Unix ns, 0 when absent), see package seerattr.
	ServerReceiveNs   int64
	AppReceiveNs      int64
	ProcessingStartNs int64
	ProcessingEndNs   int64
	ClientSendNs      int64
	ClientReceiveNs   int64
	// OutstandingRequests is the software queue depth at arrival, NoDepth when absent.
	OutstandingRequests int64
	// NICQueueDepth is the NIC/socket queue depth at arrival, NoDepth when absent.
	NICQueueDepth int64
	PeerService   string
	RPCMethod     string

	// Raw is the whole span, lossless: the OTLP protobuf encoding of a ptrace.Traces that holds
	// this span alone with its resource and scope (after repairs, see FromTraces). Empty in spans
	// read from a time-range table.
	Raw []byte
}

// Duration returns EndNs-StartNs as a time.Duration.
func (s *Span) Duration() time.Duration { return time.Duration(s.EndNs - s.StartNs) }

// SeriesPoint is one sample of a per-instance series (queue depth, arrivals, ...) on a tick.
type SeriesPoint struct {
	Service  string
	Instance string
	Metric   string // e.g. "seer.queue.outstanding_requests"
	TsNs     int64  // event time of the tick, Unix ns
	Value    float64
}

// GraphEdge is one caller->callee dependency seen in a window.
type GraphEdge struct {
	Caller    string `json:"caller"`
	Callee    string `json:"callee"`
	Operation string `json:"operation,omitempty"`
	Calls     int64  `json:"calls"`
}

// GraphSnapshot is the dependency graph as of TsNs. Version increases with each change the
// queuedepth processor detects; readers take the latest snapshot at or before a time.
type GraphSnapshot struct {
	TsNs    int64
	Version int64
	Edges   []GraphEdge
}
