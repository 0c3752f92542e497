//go:generate go tool mdatagen metadata.yaml

// Package seerlocalexporter stores spans and queue-depth series in Seer's embedded store (type
// seerlocal): a Pebble database in a local directory, for single-node trials and `make run`, read
// through the same seerstore.Reader as the Cassandra store. Production uses seercassandra.
package seerlocalexporter
