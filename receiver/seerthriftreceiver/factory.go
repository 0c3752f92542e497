package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/confignet"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/seer-qos/seer/receiver/seerthriftreceiver/internal/metadata"
)

const (
	// defaultTCPEndpoint is the Thrift TCP endpoint. It listens on localhost
	// only, like the core receivers; set 0.0.0.0:6833 to take remote senders.
	defaultTCPEndpoint = "localhost:6833"
	// defaultHTTPEndpoint is the HTTP endpoint (localhost only, as above).
	defaultHTTPEndpoint = "localhost:6834"
	// defaultHTTPPath is the URL path that takes batches.
	defaultHTTPPath = "/api/spans"
	// defaultMaxFrameSize bounds one TCP frame (one batch): 4 MiB holds some
	// ten thousand spans of a few attributes each, far more than a sender
	// batches, while keeping the per-connection buffer small.
	defaultMaxFrameSize = 4 * 1024 * 1024
	// defaultMaxBodySize bounds one HTTP body, matching the TCP frame limit
	// so that a batch accepted on one transport is accepted on the other.
	defaultMaxBodySize = defaultMaxFrameSize
	// defaultIdleTimeout closes TCP connections silent for this long, so
	// that senders that vanished without a FIN do not hold goroutines and
	// buffers forever; a live sender sends at least one batch a few seconds.
	defaultIdleTimeout = 5 * time.Minute
	// defaultRetryAfter is the back-off hint for an overloaded pipeline: long
	// enough for a memory limiter or a queue to drain a little, short enough
	// that senders with small buffers do not drop.
	defaultRetryAfter = time.Second
)

// NewFactory returns the factory of the seerthrift receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithTraces(createTraces, metadata.TracesStability),
	)
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultServerConfig()
	httpCfg.NetAddr.Endpoint = defaultHTTPEndpoint
	httpCfg.MaxRequestBodySize = defaultMaxBodySize
	// Like the OTLP receiver: no write or header timeout by default, since
	// senders batch and the bodies are small; keep-alive stays as confighttp
	// sets it.
	httpCfg.WriteTimeout = 0
	httpCfg.ReadHeaderTimeout = 0

	return &Config{
		Protocols: Protocols{
			// As in the OTLP receiver, a transport runs only when the
			// configuration names it: "protocols: {tcp:, http:}" enables
			// both with the values below, and a protocol left out (or with
			// enabled: false) does not run.
			TCP: configoptional.Default(TCPConfig{
				TCPAddrConfig: confignet.TCPAddrConfig{Endpoint: defaultTCPEndpoint},
				MaxFrameSize:  defaultMaxFrameSize,
				IdleTimeout:   defaultIdleTimeout,
			}),
			HTTP: configoptional.Default(HTTPConfig{
				ServerConfig: httpCfg,
				Path:         defaultHTTPPath,
			}),
		},
		RetryAfter: defaultRetryAfter,
	}
}

func createTraces(
	_ context.Context,
	set receiver.Settings,
	cfg component.Config,
	next consumer.Traces,
) (receiver.Traces, error) {
	return newReceiver(cfg.(*Config), set, next)
}
