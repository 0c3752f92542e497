// Package seerstore defines what Seer keeps about the system it watches (spans, queue-depth series
// and dependency-graph snapshots), the Writer and Reader interfaces every store implements (the
// Cassandra store in cassandrastore, the embedded one in pebblestore), and the conversion from
// OpenTelemetry pdata, with the validation that decides which spans are stored.
//
// Readers serve two kinds of reads: a whole trace by its id, and one service's spans or series over
// a time range in time order (what training and `seer dataset export` need).
//
// Span records are stored sealed (Sealer: XChaCha20-Poly1305 under a record key from
// EncryptionConfig.KeyFile): the Seer paper stored traces unencrypted; Seer does not.
package seerstore
