// Package export sends simulated spans to a running collector: OTLP over
// HTTP (protobuf) or seer.thrift SpanBatches over framed compact Thrift TCP,
// paced to real time or a multiple of it.
package export
