package seerpredictorextension

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/seer-qos/seer/extension/seerpredictorextension/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	custom := createDefaultConfig().(*Config)
	custom.Source = "queuedepth/edge"
	custom.Model = "/var/lib/seer/model"
	custom.Backend = "simplego"
	custom.Buffer = 10
	custom.Recent = 20
	custom.PredictionsFile = "/tmp/predictions.jsonl"
	custom.Heuristic = HeuristicConfig{HalfLife: 30 * time.Second, Margin: 2, Warmup: 5 * time.Second}
	custom.Retraining = RetrainingConfig{Enabled: true, QoS: QoSConfig{Service: "nginx", Latency: 50 * time.Millisecond},
		Interval: 5 * time.Minute, History: 20 * time.Minute, MinHistory: time.Minute, OnCriticalPathChange: false,
		Features: []string{"depth"}, Window: 8, Channels: 4, Hidden: 16, Horizon: time.Second, Epochs: 3, Batch: 16,
		Chunks: 4, Seed: 9}
	custom.HTTP.Get().NetAddr.Endpoint = "0.0.0.0:19471"

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{id: component.NewID(metadata.Type), want: createDefaultConfig().(*Config)},
		{id: component.NewIDWithName(metadata.Type, "custom"), want: custom},
		{id: component.NewIDWithName(metadata.Type, "invalid"), wantErr: []string{
			"source must name the queuedepth processor", `backend "tpu"`, "retraining: qos needs a service",
			"window (2) must be at least 4"}},
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
	assert.Equal(t, "queuedepth", cfg.Source)
	assert.Equal(t, "localhost:9471", cfg.HTTP.Get().NetAddr.Endpoint)
	assert.False(t, cfg.Retraining.Enabled, "retraining needs a QoS target, which has no default")
}
