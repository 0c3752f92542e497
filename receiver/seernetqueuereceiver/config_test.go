package seernetqueuereceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/seer-qos/seer/receiver/seernetqueuereceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	def := createDefaultConfig().(*Config)
	def.Services = []ServiceConfig{{Name: "frontend", Ports: []uint16{8080}}}
	tests := []struct {
		id      component.ID
		want    *Config
		wantErr []string
	}{
		{id: component.NewID(metadata.Type), want: def},
		{id: component.NewIDWithName(metadata.Type, "custom"), want: &Config{
			Tick: 50 * time.Millisecond, ProcRoot: "/host/proc/1", Instance: "node-7", Hub: "queuedepth/edge",
			Services: []ServiceConfig{{Name: "user", Ports: []uint16{9090, 9091}}, {Name: "storage", Ports: []uint16{9100}}},
		}},
		{id: component.NewIDWithName(metadata.Type, "invalid"), wantErr: []string{
			"tick must be positive", `service "user" listed twice`, "port 9090 already belongs to user", "port 0 is not a listening port",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != nil {
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

func TestDefaultConfigNeedsServices(t *testing.T) {
	err := confmap.Validate(createDefaultConfig())
	assert.ErrorContains(t, err, "services must name at least one service")
}
