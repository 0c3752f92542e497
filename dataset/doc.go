// Package dataset is Seer's one on-disk dataset format: what `seer sim`,
// `seer replay` and the storage export write, and what training and
// evaluation read. FORMAT.md in this directory is the specification; this
// package is its reference reader and writer.
//
// A dataset is a directory:
//
//	manifest.json    format name and version, source, topology, seed, tick,
//	                 time range, series table, services, request types, edges
//	series.bin       per service instance, per tick: queue depth, arrivals,
//	                 completions, latency summary, network time of the
//	                 calls into it (fixed-size binary records)
//	faults.json      injected faults (ground truth), may be empty
//	violations.json  QoS violation intervals and the faults behind them
//	actions.json     cluster-manager actions taken during the run
//	qos.csv          per request type, per tick: sliding-window p50 and p99
//	                 end-to-end latency, target, violated (optional)
//	topology.yaml    the topology that produced the data (optional)
//	spans.otlp       spans as framed OTLP protobuf (optional)
//
// The manifest is written last (Writer.Close), so a directory without one is
// an incomplete dataset. Readers refuse an unknown major version.
package dataset
