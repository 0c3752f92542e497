// Package pebblestore is Seer's embedded store for a single machine: the same seerstore.Writer and
// seerstore.Reader as the Cassandra store, on Pebble (github.com/cockroachdb/pebble/v2), a pure-Go
// LSM key-value store.
//
// Why Pebble: it is CockroachDB's storage engine, maintained and released by a company that runs it
// in production at scale; an LSM suits Seer's load (many small appends, reads by key range in time
// order); it needs no background chores from the caller (Badger needs value-log GC runs), and it
// builds without cgo (zstd falls back to a pure-Go implementation). bbolt, already in the build
// for the persistent queue, was the other candidate: a B+tree that rewrites pages on every random
// insert, which is the wrong shape for a stream of spans keyed by random trace ids.
//
// Keys (all integers big-endian, times offset so that order is time order):
//
//	t | trace_id | span_id                           -> span record (with Raw)
//	s | service | 0 | start | trace_id | span_id     -> span record (without Raw)
//	q | service | 0 | ts | instance | 0 | metric     -> float64 bits
//	g | ts | version                                 -> edges JSON
//	d | day | service                                -> empty
//
// Pebble has no TTL: DeleteBefore removes what is older than a retention horizon, and the exporter
// calls it periodically.
package pebblestore
