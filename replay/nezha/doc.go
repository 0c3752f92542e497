// Package nezha replays the traces and fault lists of the Nezha data sets
// (IntelligentDDS/Nezha, FSE 2023; a copy of the Online Boutique days is in
// shared/datasets/nezha-online-boutique) as Seer spans and ground truth.
//
// Layout: a root holds day directories (2022-08-22, ...); a day holds
// fault_list.json and trace/HH_MM_trace.csv.gz, one gzip CSV of spans per
// minute. Replay reads a root or one day, groups the trace files into
// segments of consecutive minutes, and per segment puts the spans in
// end-time order, the order in which a collector sees finished spans. It
// cuts them into batches as an exporter sends them (1024 spans or 500 ms of
// event time, grouped by pod), and every consumer gets these batches in the
// same order: the series engine of the queuedepth processor
// (internal/series), the dependency graph (internal/depgraph), the dataset
// writer and, paced by a speed-up factor, an OTLP/HTTP endpoint. The series
// therefore depend on span timestamps only, never on the speed, and are
// exactly what the queuedepth processor computes from the batches sent.
//
// # Span kinds
//
// The CSV has no span kind. Service names come from pod names (ServiceOf:
// the pod name without its ReplicaSet hash and pod suffix), and kinds from
// the parent links within a segment:
//
//   - SERVER: the trace's entry span (ParentID "root"), a span whose parent
//     belongs to another service (the callee side of an RPC), and a span
//     whose parent is not in the data (counted as an unknown parent).
//   - CLIENT: a span whose parent is in the same service and that has a
//     child in another service (peer.service is that child's service), or
//     whose operation names another service seen in the data
//     ("hipstershop.CartService/GetCart" from frontend calls cartservice),
//     which keeps calls whose callee span is missing.
//   - INTERNAL: every other span (a span of the same service under a span
//     of the same service: "sql.rows", "ParseCatalog", ...).
//
// Only SERVER spans are requests to a service instance: they drive the
// queue-depth series, exactly as in the queuedepth processor.
//
// # Bad input
//
// Nothing is dropped silently: malformed rows, bad timestamps, unknown
// parent ids, corrupt gzip streams and bad fault entries are counted in
// Stats and described in Problems; the rest of the input is replayed.
// Spans that two minute files both hold are replayed once and counted as
// duplicates.
package nezha
