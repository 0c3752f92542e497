package seercassandraexporter

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/seer-qos/seer/internal/seerstore"
)

// Config is the seercassandra exporter's configuration. Defaults are in factory.go.
type Config struct {
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	// QueueConfig is the Collector's sending queue; set its storage to a file_storage extension
	// for a persistent queue that survives a Collector restart.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// Hosts are contact points, host or host:port (port 9042 if none).
	Hosts []string `mapstructure:"hosts"`
	// Keyspace holds Seer's tables.
	Keyspace string `mapstructure:"keyspace"`
	// Replication is used when the exporter creates the keyspace.
	Replication ReplicationConfig `mapstructure:"replication"`
	// CreateSchema creates or upgrades the schema at start; false only checks its version.
	CreateSchema bool `mapstructure:"create_schema"`
	// Consistency of writes: ANY, ONE, TWO, THREE, QUORUM, ALL, LOCAL_QUORUM, EACH_QUORUM, LOCAL_ONE.
	Consistency string `mapstructure:"consistency"`

	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// TLS of the CQL connections. On by default; set insecure: true for plain CQL.
	TLS configtls.ClientConfig `mapstructure:"tls"`
	// Encryption names the record key that seals the stored spans
	// (required; every Collector writing to the keyspace needs the same key).
	Encryption seerstore.EncryptionConfig `mapstructure:"encryption"`

	ConnectTimeout time.Duration `mapstructure:"connect_timeout"`
	// QueryTimeout bounds one CQL request (a batch or a statement).
	QueryTimeout time.Duration `mapstructure:"query_timeout"`
	// NumConns is the number of connections per host.
	NumConns int `mapstructure:"num_conns"`
	// MaxConcurrentRequests bounds the CQL requests in flight per exporter.
	MaxConcurrentRequests int `mapstructure:"max_concurrent_requests"`
	// CQLBatch bounds the unlogged batches (rows of one partition) the exporter sends.
	CQLBatch CQLBatchConfig `mapstructure:"cql_batch"`

	TTL    TTLConfig        `mapstructure:"ttl"`
	Limits seerstore.Limits `mapstructure:"limits"`

	// SeriesMetricPrefix selects the metrics (gauges and sums) stored as series by a metrics
	// pipeline; the queuedepth processor's series use the seer.queue. names.
	SeriesMetricPrefix string `mapstructure:"series_metric_prefix"`

	// SeriesSource names a queuedepth processor (its component ID, e.g. "queuedepth") whose series
	// and dependency graph the exporter stores, taken in process from the processor's series hub and
	// graph feed. Empty: none (series can still come through a metrics pipeline).
	SeriesSource string `mapstructure:"series_source"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// ReplicationConfig is the keyspace's replication strategy.
type ReplicationConfig struct {
	// Class is SimpleStrategy (one data center, tests) or NetworkTopologyStrategy (production).
	Class string `mapstructure:"class"`
	// ReplicationFactor is the number of replicas with SimpleStrategy.
	ReplicationFactor int `mapstructure:"replication_factor"`
	// DataCenters maps data center to replicas with NetworkTopologyStrategy.
	DataCenters map[string]int `mapstructure:"data_centers"`
}

// cql returns the replication map of CREATE KEYSPACE.
func (r ReplicationConfig) cql() map[string]string {
	m := map[string]string{"class": r.Class}
	if r.Class == "SimpleStrategy" {
		m["replication_factor"] = strconv.Itoa(r.ReplicationFactor)
		return m
	}
	for dc, n := range r.DataCenters {
		m[dc] = strconv.Itoa(n)
	}
	return m
}

func (r ReplicationConfig) validate() error {
	switch r.Class {
	case "SimpleStrategy":
		if r.ReplicationFactor < 1 {
			return errors.New("replication: replication_factor must be at least 1")
		}
	case "NetworkTopologyStrategy":
		if len(r.DataCenters) == 0 {
			return errors.New("replication: data_centers must name at least one data center")
		}
		for dc, n := range r.DataCenters {
			if n < 1 {
				return fmt.Errorf("replication: data center %q needs at least 1 replica", dc)
			}
		}
	default:
		return fmt.Errorf("replication: class %q is neither SimpleStrategy nor NetworkTopologyStrategy", r.Class)
	}
	return nil
}

// CQLBatchConfig bounds an unlogged batch. Keep MaxBytes below the cluster's
// batch_size_fail_threshold (50 KiB by default).
type CQLBatchConfig struct {
	MaxRows  int `mapstructure:"max_rows"`
	MaxBytes int `mapstructure:"max_bytes"`
}

// TTLConfig sets how long rows live; 0 keeps them forever.
type TTLConfig struct {
	Spans  time.Duration `mapstructure:"spans"`
	Series time.Duration `mapstructure:"series"`
	Graph  time.Duration `mapstructure:"graph"`
}

// Validate checks the configuration; the embedded queue, retry, timeout and TLS configurations
// validate themselves.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Hosts) == 0 {
		errs = append(errs, errors.New("hosts: at least one contact point is required"))
	}
	if c.Keyspace == "" {
		errs = append(errs, errors.New("keyspace: must not be empty"))
	}
	if c.Encryption.KeyFile == "" {
		errs = append(errs, seerstore.ErrNoKeyFile)
	}
	if c.CreateSchema {
		if err := c.Replication.validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := gocql.ParseConsistencyWrapper(c.Consistency); err != nil {
		errs = append(errs, fmt.Errorf("consistency: %w", err))
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("password: set without a username"))
	}
	if c.ConnectTimeout <= 0 || c.QueryTimeout <= 0 {
		errs = append(errs, errors.New("connect_timeout and query_timeout must be positive"))
	}
	if c.NumConns <= 0 || c.MaxConcurrentRequests <= 0 {
		errs = append(errs, errors.New("num_conns and max_concurrent_requests must be positive"))
	}
	if c.CQLBatch.MaxRows <= 0 || c.CQLBatch.MaxBytes <= 0 {
		errs = append(errs, errors.New("cql_batch: max_rows and max_bytes must be positive"))
	}
	if c.Limits.MaxSpanBytes <= 0 || c.Limits.MaxAttributeBytes < 0 || c.Limits.MaxFutureSkew <= 0 || c.Limits.MaxDuration <= 0 {
		errs = append(errs, errors.New("limits: max_span_bytes, max_future_skew and max_duration must be positive, max_attribute_bytes not negative"))
	}
	if c.SeriesMetricPrefix == "" {
		errs = append(errs, errors.New("series_metric_prefix: must not be empty"))
	}
	// The store checks the keyspace name and TTL bounds; reuse it so the rules live in one place.
	st := cassandrastoreSettings(c)
	if err := st.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
