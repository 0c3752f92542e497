//go:generate go tool mdatagen metadata.yaml

// Package seercassandraexporter stores spans and queue-depth series in Apache Cassandra for Seer's
// training and replay (type seercassandra). See README.md for the configuration and schema.
package seercassandraexporter
