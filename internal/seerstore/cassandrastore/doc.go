// Package cassandrastore is Seer's store on Apache Cassandra (4.0 and later; tested on 5.0): a
// versioned schema (schema.go), a writer that sends prepared statements in unlogged batches grouped
// by partition with bounded concurrency (writer.go), and the seerstore.Reader (reader.go).
//
// Tables, all in one keyspace:
//
//	spans_by_trace   ((trace_id), span_id) -> record with Raw           read a whole trace
//	spans_by_service ((service, minute), start_ns, trace_id, span_id)   a service's spans by time
//	                 -> record without Raw
//	series           ((service, hour), ts_ns, instance, metric)         queue-depth series by time
//	graph_snapshots  ((day), ts_ns, version)                            dependency graphs by time
//	services_by_day  ((day), service)                                   which services to read
//	schema_migrations (version)                                         applied schema versions
//
// A span is stored as one record blob per row (seerstore.EncodeRecord): Cassandra's write cost
// is per cell, and one blob instead of 22 typed columns makes writes several times cheaper. The
// price is that cqlsh shows blobs; the Reader (and `seer dataset export`) decodes them.
//
// Every write is an idempotent upsert keyed by the data itself, so a retried batch leaves each
// span, point and snapshot stored exactly once.
package cassandrastore
