package seercassandraexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/seer-qos/seer/exporter/seercassandraexporter/internal/metadata"
	"github.com/seer-qos/seer/internal/seerstore"
)

func loadConfig(t *testing.T, name string) *Config {
	t.Helper()
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	cfg := NewFactory().CreateDefaultConfig()
	sub, err := cm.Sub(component.NewIDWithName(metadata.Type, name).String())
	require.NoError(t, err)
	require.NoError(t, sub.Unmarshal(cfg))
	return cfg.(*Config)
}

func TestLoadConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		cfg := loadConfig(t, "")
		assert.Equal(t, createDefaultConfig(), cfg)
		// The one setting without a default: spans are stored encrypted.
		require.ErrorContains(t, confmap.Validate(cfg), "encryption: key_file must name the record key")
		cfg.Encryption.KeyFile = "/etc/seer/record.key"
		require.NoError(t, confmap.Validate(cfg))
		assert.False(t, cfg.TLS.Insecure, "TLS must be on by default")
		assert.Equal(t, time.Duration(0), cfg.RetryConfig.MaxElapsedTime, "retry until Cassandra is back")
	})

	t.Run("full", func(t *testing.T) {
		cfg := loadConfig(t, "full")
		want := createDefaultConfig().(*Config)
		want.Hosts = []string{"cassandra-0.seer-cassandra:9042", "cassandra-1.seer-cassandra:9042"}
		want.Keyspace = "seer_prod"
		want.Encryption.KeyFile = "/etc/seer/record.key"
		want.Replication = ReplicationConfig{Class: "NetworkTopologyStrategy", ReplicationFactor: 1, DataCenters: map[string]int{"dc1": 3}}
		want.CreateSchema = false
		want.Consistency = "QUORUM"
		want.Username = "seer"
		want.Password = "s3cret"
		want.TLS.CAFile = "/etc/seer/cassandra-ca.pem"
		want.TLS.ServerName = "cassandra.example"
		want.ConnectTimeout = 3 * time.Second
		want.QueryTimeout = 7 * time.Second
		want.NumConns = 4
		want.MaxConcurrentRequests = 128
		want.CQLBatch = CQLBatchConfig{MaxRows: 50, MaxBytes: 20000}
		want.TTL = TTLConfig{Spans: 168 * time.Hour, Series: 720 * time.Hour, Graph: 8760 * time.Hour}
		want.Limits = seerstore.Limits{MaxAttributeBytes: 1024, MaxSpanBytes: 65536, MaxFutureSkew: 10 * time.Minute, MaxDuration: time.Hour}
		want.SeriesMetricPrefix = "seer."
		want.SeriesSource = "queuedepth"
		want.TimeoutConfig = exporterhelper.TimeoutConfig{Timeout: 20 * time.Second}
		q := *want.QueueConfig.Get()
		storage := component.MustNewID("file_storage")
		q.StorageID = &storage
		q.NumConsumers = 4
		q.QueueSize = 5000
		want.QueueConfig = configoptional.Some(q)
		want.RetryConfig = configretry.BackOffConfig{Enabled: true, InitialInterval: time.Second, MaxInterval: 10 * time.Second,
			MaxElapsedTime: 0, Multiplier: 1.5, RandomizationFactor: 0.5}
		assert.Equal(t, want, cfg)
		require.NoError(t, confmap.Validate(cfg))
		assert.Equal(t, "[REDACTED]", cfg.Password.String(), "the password must not appear in logs")
	})

	t.Run("plain", func(t *testing.T) {
		cfg := loadConfig(t, "plain")
		assert.True(t, cfg.TLS.Insecure)
		require.NoError(t, confmap.Validate(cfg))
	})

	for name, msg := range map[string]string{
		"bad_consistency": "consistency:",
		"no_hosts":        "hosts: at least one contact point",
		"bad_keyspace":    "is not a CQL identifier",
		"password_only":   "password: set without a username",
		"bad_limits":      "limits:",
		"bad_ttl":         "span TTL -1h0m0s is outside",
		"subsecond_ttl":   "series TTL 500ms is outside [0, 175200h0m0s] or under a second",
		"bad_replication": "data center \"dc1\" needs at least 1 replica",
	} {
		t.Run(name, func(t *testing.T) {
			err := confmap.Validate(loadConfig(t, name))
			require.Error(t, err)
			assert.Contains(t, err.Error(), msg)
		})
	}
}
