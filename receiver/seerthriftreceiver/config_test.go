package seerthriftreceiver

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/seer-qos/seer/receiver/seerthriftreceiver/internal/metadata"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)

	// withDefaults returns the default config edited by edit. A protocol
	// the YAML leaves out keeps its default (but disabled) value.
	withDefaults := func(edit func(*Config)) *Config {
		cfg := createDefaultConfig().(*Config)
		edit(cfg)
		return cfg
	}

	tests := []struct {
		id      component.ID
		want    *Config
		wantErr string
	}{
		{
			id: component.NewID(metadata.Type),
			want: withDefaults(func(cfg *Config) {
				cfg.Protocols.TCP.GetOrInsertDefault()
				cfg.Protocols.HTTP.GetOrInsertDefault()
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "tcp_only"),
			want: withDefaults(func(cfg *Config) {
				tcp := cfg.Protocols.TCP.GetOrInsertDefault()
				tcp.Endpoint = "0.0.0.0:7833"
				tcp.MaxFrameSize = 1 << 20
				tcp.IdleTimeout = 30 * time.Second
				cfg.RetryAfter = 2500 * time.Millisecond
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "http_only"),
			want: withDefaults(func(cfg *Config) {
				http := cfg.Protocols.HTTP.GetOrInsertDefault()
				http.NetAddr.Endpoint = "0.0.0.0:7834"
				http.Path = "/v2/spans"
				http.MaxRequestBodySize = 2 << 20
				http.IncludeMetadata = true
				http.TLS = configoptional.Some(configtls.ServerConfig{
					Config: configtls.Config{CertFile: "server.crt", KeyFile: "server.key"},
				})
			}),
		},
		{
			id: component.NewIDWithName(metadata.Type, "tcp_disabled"),
			want: withDefaults(func(cfg *Config) {
				cfg.Protocols.TCP = configoptional.None[TCPConfig]()
				cfg.Protocols.HTTP.GetOrInsertDefault()
			}),
		},
		{
			id:      component.NewIDWithName(metadata.Type, "no_protocols"),
			wantErr: "at least one of protocols.tcp and protocols.http must be set",
		},
		{
			id:      component.NewIDWithName(metadata.Type, "invalid"),
			wantErr: "protocols.tcp: max_frame_size must be between 1 and 1073741823, got 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.id.String(), func(t *testing.T) {
			cfg := createDefaultConfig()
			sub, err := cm.Sub(tt.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			err = confmap.Validate(cfg)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
		})
	}
}

func TestValidateInvalidAll(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	tcp := cfg.Protocols.TCP.GetOrInsertDefault()
	tcp.Endpoint = ""
	tcp.MaxFrameSize = 1<<31 - 1
	tcp.IdleTimeout = -time.Second
	http := cfg.Protocols.HTTP.GetOrInsertDefault()
	http.NetAddr.Endpoint = ""
	http.Path = "spans"
	http.MaxRequestBodySize = -1
	cfg.RetryAfter = 0
	err := cfg.Validate()
	for _, want := range []string{
		"protocols.tcp: endpoint must not be empty",
		"protocols.tcp: max_frame_size must be between 1 and 1073741823, got 2147483647",
		"protocols.tcp: idle_timeout must not be negative",
		"protocols.http: endpoint must not be empty",
		`protocols.http: path must start with "/", got "spans"`,
		"protocols.http: max_request_body_size must not be negative",
		"retry_after must be positive",
	} {
		assert.ErrorContains(t, err, want)
	}
}

func TestDefaultConfig(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	// Nothing runs until the configuration names a protocol.
	assert.Nil(t, cfg.Protocols.TCP.Get())
	assert.Nil(t, cfg.Protocols.HTTP.Get())
	tcp := cfg.Protocols.TCP.GetOrInsertDefault()
	assert.Equal(t, "localhost:6833", tcp.Endpoint)
	assert.Equal(t, 4<<20, tcp.MaxFrameSize)
	http := cfg.Protocols.HTTP.GetOrInsertDefault()
	assert.Equal(t, "localhost:6834", http.NetAddr.Endpoint)
	assert.Equal(t, "/api/spans", http.Path)
	assert.Equal(t, int64(4<<20), http.MaxRequestBodySize)
	assert.Equal(t, time.Second, cfg.RetryAfter)
	require.NoError(t, cfg.Validate())
}
