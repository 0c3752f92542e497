package queuedepthprocessor

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/seer-qos/seer/internal/depgraph"
	"github.com/seer-qos/seer/internal/series"
)

// Config is the configuration of the queuedepth processor.
type Config struct {
	// Tick is the sampling period of the series, in event time.
	Tick time.Duration `mapstructure:"tick"`
	// AllowedLateness is how far (in event time) behind the newest span end a
	// span may end and still count in full; later spans are counted as late.
	// It also delays every tick by that much.
	AllowedLateness time.Duration `mapstructure:"allowed_lateness"`
	// SeriesExpiry removes a service instance after this much event time
	// without a span.
	SeriesExpiry time.Duration `mapstructure:"series_expiry"`
	// MaxServices caps the services with a series; spans of further services
	// go to the __overflow__ series.
	MaxServices int `mapstructure:"max_services"`
	// MaxInstances caps the instances with a series, over all services;
	// further instances go to the __overflow__ instance of their service
	// (so at most MaxInstances + MaxServices series exist).
	MaxInstances int `mapstructure:"max_instances"`
	// MaxClockSkew refuses (and counts) spans that end further than this in
	// the future of the collector's clock: one host with a clock far ahead
	// would otherwise move the watermark and make everyone else's spans
	// late. 0 turns the check off.
	MaxClockSkew time.Duration `mapstructure:"max_clock_skew"`
	// Graph configures the dependency graph.
	Graph depgraph.Config `mapstructure:"graph"`
	// HTTP serves /metrics (Prometheus), /graph and /graph/hotspots.
	HTTP configoptional.Optional[confighttp.ServerConfig] `mapstructure:"http"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if err := c.engineConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Graph.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("graph: %w", err))
	}
	if c.MaxClockSkew < 0 {
		errs = append(errs, fmt.Errorf("max_clock_skew must not be negative, got %v", c.MaxClockSkew))
	}
	if c.HTTP.HasValue() && c.HTTP.Get().NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("http: endpoint must not be empty"))
	}
	return errors.Join(errs...)
}

func (c *Config) engineConfig() series.EngineConfig {
	return series.EngineConfig{
		Tick:            c.Tick,
		AllowedLateness: c.AllowedLateness,
		Expiry:          c.SeriesExpiry,
		MaxServices:     c.MaxServices,
		MaxInstances:    c.MaxInstances,
	}
}
