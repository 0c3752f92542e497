package seerlocalexporter

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/seer-qos/seer/exporter/seerlocalexporter/internal/metadata"
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
	assert.Equal(t, createDefaultConfig(), loadConfig(t, ""))
	require.NoError(t, confmap.Validate(loadConfig(t, "")))

	want := createDefaultConfig().(*Config)
	want.Directory = "/var/lib/seer"
	want.Retention = RetentionConfig{Spans: 24 * time.Hour, Series: 72 * time.Hour}
	want.RetentionCheck = time.Minute
	want.Limits = seerstore.Limits{MaxAttributeBytes: 2048, MaxSpanBytes: 65536, MaxFutureSkew: 5 * time.Minute, MaxDuration: time.Hour}
	want.SeriesMetricPrefix = "seer."
	want.SeriesSource = "queuedepth"
	q := *want.QueueConfig.Get()
	q.NumConsumers = 1
	want.QueueConfig = configoptional.Some(q)
	got := loadConfig(t, "custom")
	assert.Equal(t, want, got)
	require.NoError(t, confmap.Validate(got))

	assert.ErrorContains(t, confmap.Validate(loadConfig(t, "no_directory")), "directory: must not be empty")
	assert.ErrorContains(t, confmap.Validate(loadConfig(t, "bad_retention")), "retention:")
}
