package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/confignet"
	"go.opentelemetry.io/collector/config/configoptional"
)

// Config is the configuration of the seerthrift receiver.
type Config struct {
	// Protocols says which transports to serve; at least one must be set.
	Protocols Protocols `mapstructure:"protocols"`

	// RetryAfter is the back-off hint given to a sender whose batch the
	// pipeline could not take for a transient reason: Overloaded.retry_after_ms
	// over TCP, the Retry-After header (rounded up to whole seconds) over HTTP.
	RetryAfter time.Duration `mapstructure:"retry_after"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// Protocols is the configuration of the receiver's transports.
type Protocols struct {
	// TCP is the framed Thrift TCP server (Collector.submitBatch).
	TCP configoptional.Optional[TCPConfig] `mapstructure:"tcp"`
	// HTTP is the HTTP server taking one serialized SpanBatch per POST.
	HTTP configoptional.Optional[HTTPConfig] `mapstructure:"http"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// TCPConfig is the configuration of the framed Thrift TCP server.
type TCPConfig struct {
	// TCPAddrConfig holds the endpoint to listen on.
	confignet.TCPAddrConfig `mapstructure:",squash"`

	// MaxFrameSize is the largest Thrift frame, in bytes, the server reads; a
	// larger frame closes the connection. It also bounds the size of a
	// message, of a string and of a container declared inside a frame.
	MaxFrameSize int `mapstructure:"max_frame_size"`

	// IdleTimeout closes a connection that sent nothing for this long; 0
	// disables it.
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// HTTPConfig is the configuration of the HTTP server.
type HTTPConfig struct {
	// ServerConfig is the common HTTP server configuration: endpoint, TLS,
	// auth, CORS, max_request_body_size, timeouts and so on.
	confighttp.ServerConfig `mapstructure:",squash"`

	// Path is the URL path that takes POSTed batches.
	Path string `mapstructure:"path"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// maxFrameSizeLimit is the largest max_frame_size accepted: the THeader
// transport's own limit (1 GiB - 1).
const maxFrameSizeLimit = int(thrift.THeaderMaxFrameSize)

// Validate checks the receiver configuration.
func (cfg *Config) Validate() error {
	var errs []error
	tcp := cfg.Protocols.TCP.Get()
	http := cfg.Protocols.HTTP.Get()
	if tcp == nil && http == nil {
		errs = append(errs, errors.New("at least one of protocols.tcp and protocols.http must be set"))
	}
	if tcp != nil {
		if tcp.Endpoint == "" {
			errs = append(errs, errors.New("protocols.tcp: endpoint must not be empty"))
		}
		if tcp.MaxFrameSize <= 0 || tcp.MaxFrameSize > maxFrameSizeLimit {
			errs = append(errs, fmt.Errorf("protocols.tcp: max_frame_size must be between 1 and %d, got %d", maxFrameSizeLimit, tcp.MaxFrameSize))
		}
		if tcp.IdleTimeout < 0 {
			errs = append(errs, fmt.Errorf("protocols.tcp: idle_timeout must not be negative, got %s", tcp.IdleTimeout))
		}
	}
	if http != nil {
		if http.NetAddr.Endpoint == "" {
			errs = append(errs, errors.New("protocols.http: endpoint must not be empty"))
		}
		if !strings.HasPrefix(http.Path, "/") {
			errs = append(errs, fmt.Errorf("protocols.http: path must start with \"/\", got %q", http.Path))
		}
		if http.MaxRequestBodySize < 0 {
			errs = append(errs, fmt.Errorf("protocols.http: max_request_body_size must not be negative, got %d", http.MaxRequestBodySize))
		}
	}
	if cfg.RetryAfter <= 0 {
		errs = append(errs, fmt.Errorf("retry_after must be positive, got %s", cfg.RetryAfter))
	}
	return errors.Join(errs...)
}
