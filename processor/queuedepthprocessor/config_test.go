package queuedepthprocessor

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/processor/queuedepthprocessor/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.Tick = 10 * time.Millisecond
	custom.AllowedLateness = 500 * time.Millisecond
	custom.SeriesExpiry = time.Minute
	custom.MaxServices = 50
	custom.MaxInstances = 500
	custom.MaxClockSkew = 0
	custom.Graph = depgraph.Config{
		TraceWait: time.Second, Window: 5 * time.Second, Expiry: 2 * time.Minute,
		MaxPendingSpans: 1000, MaxServices: 60, MaxOperations: 600, MaxEdges: 700,
		FanOutThreshold: 3, ChattyCallsPerTrace: 6, BlockingMinFraction: 0.8, MinInvocations: 5, SampleRatio: 0.5,
	}
	custom.HTTP.Get().NetAddr.Endpoint = "0.0.0.0:19470"

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "custom"), want: custom},
		{id: component.NewIDWithName(metadata.Type, "invalid"), wantErr: []string{"tick must be positive", "max_services and max_instances must be positive", "graph: window must be positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != nil {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					assert.ErrorContains(t, err, w)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	require.NoError(t, confmap.Validate(cfg))
	assert.Equal(t, 100*time.Millisecond, cfg.Tick)
	assert.Equal(t, "localhost:9470", cfg.HTTP.Get().NetAddr.Endpoint)
}
