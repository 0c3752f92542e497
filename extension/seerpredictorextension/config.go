package seerpredictorextension

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"

	"github.com/seer-qos/seer/predictor"
)

// Config is the configuration of the seerpredictor extension.
type Config struct {
	// Source is the component ID of the queuedepth processor whose series
	// and dependency graph the extension reads in process.
	Source string `mapstructure:"source"`
	// Model is a model file written by `seer train`; empty serves the
	// fallback heuristic until retraining produces a model.
	Model string `mapstructure:"model"`
	// Backend runs the model: auto (XLA if the PJRT plugin loads, else
	// simplego), xla or simplego.
	Backend string `mapstructure:"backend"`
	// Buffer is the number of series ticks the subscription holds; ticks
	// beyond it are dropped by the hub and counted.
	Buffer int `mapstructure:"buffer"`
	// Recent is how many per-tick predictions /predictions returns.
	Recent int `mapstructure:"recent"`
	// PredictionsFile, when set, receives one JSON line per tick.
	PredictionsFile string `mapstructure:"predictions_file"`
	// Heuristic tunes the fallback heuristic.
	Heuristic HeuristicConfig `mapstructure:"heuristic"`
	// Retraining configures background retraining.
	Retraining RetrainingConfig `mapstructure:"retraining"`
	// HTTP serves /metrics (Prometheus) and /predictions (JSON).
	HTTP configoptional.Optional[confighttp.ServerConfig] `mapstructure:"http"`
}

// HeuristicConfig tunes the fallback heuristic (see README.md).
type HeuristicConfig struct {
	// HalfLife of the per-service exponentially weighted mean and variance
	// of log1p(queue depth), in event time of the series.
	HalfLife time.Duration `mapstructure:"half_life"`
	// Margin is subtracted from the z-score before the sigmoid.
	Margin float64 `mapstructure:"margin"`
	// Warmup is the time a service must have been seen before it scores.
	Warmup time.Duration `mapstructure:"warmup"`
}

// RetrainingConfig configures background retraining.
type RetrainingConfig struct {
	// Enabled turns retraining on; it needs a QoS target.
	Enabled bool `mapstructure:"enabled"`
	// QoS labels live history: a tick whose mean latency at the service
	// exceeds the latency is a violation tick.
	QoS QoSConfig `mapstructure:"qos"`
	// Interval between incremental fine-tunings of the serving model.
	Interval time.Duration `mapstructure:"interval"`
	// History is how much recent live history is kept (bounded memory).
	History time.Duration `mapstructure:"history"`
	// MinHistory is the history needed before training, counted from the
	// last graph change for a retraining from scratch.
	MinHistory time.Duration `mapstructure:"min_history"`
	// OnCriticalPathChange retrains from scratch when a critical path
	// changes (not only when services come or go).
	OnCriticalPathChange bool `mapstructure:"on_critical_path_change"`
	// Training knobs (see `seer train`).
	Features []string      `mapstructure:"features"`
	Window   int           `mapstructure:"window"`
	Channels int           `mapstructure:"channels"`
	Hidden   int           `mapstructure:"hidden"`
	Horizon  time.Duration `mapstructure:"horizon"`
	Epochs   int           `mapstructure:"epochs"`
	Batch    int           `mapstructure:"batch"`
	// Chunks is how many consecutive pieces the history is cut into; whole
	// pieces are held out for validation.
	Chunks int    `mapstructure:"chunks"`
	Seed   uint64 `mapstructure:"seed"`
}

// QoSConfig is a latency target at one service.
type QoSConfig struct {
	Service string        `mapstructure:"service"`
	Latency time.Duration `mapstructure:"latency"`
}

var backends = []string{predictor.BackendAuto, predictor.BackendXLA, predictor.BackendSimpleGo}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Source == "" {
		errs = append(errs, errors.New("source must name the queuedepth processor"))
	}
	if !slices.Contains(backends, c.Backend) {
		errs = append(errs, fmt.Errorf("backend %q: want one of %v", c.Backend, backends))
	}
	if c.Buffer < 1 || c.Recent < 1 {
		errs = append(errs, fmt.Errorf("buffer (%d) and recent (%d) must be positive", c.Buffer, c.Recent))
	}
	h := c.Heuristic
	if h.HalfLife <= 0 || h.Warmup < 0 || h.Margin < 0 {
		errs = append(errs, fmt.Errorf("heuristic: half_life must be positive, warmup and margin not negative"))
	}
	if err := c.Retraining.validate(); err != nil {
		errs = append(errs, fmt.Errorf("retraining: %w", err))
	}
	if c.HTTP.HasValue() && c.HTTP.Get().NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("http: endpoint must not be empty"))
	}
	return errors.Join(errs...)
}

func (r *RetrainingConfig) validate() error {
	if !r.Enabled {
		return nil
	}
	var errs []error
	if r.QoS.Service == "" || r.QoS.Latency <= 0 {
		errs = append(errs, errors.New("qos needs a service and a positive latency"))
	}
	if r.Interval <= 0 || r.History <= 0 || r.MinHistory <= 0 || r.MinHistory > r.History || r.Horizon <= 0 {
		errs = append(errs, errors.New("interval, history, horizon and min_history must be positive, min_history at most history"))
	}
	if r.Window < 4 || r.Channels < 1 || r.Hidden < 1 || r.Epochs < 1 || r.Batch < 1 || r.Chunks < 2 {
		errs = append(errs, fmt.Errorf("window (%d) must be at least 4, chunks (%d) at least 2, channels, hidden, epochs and batch positive",
			r.Window, r.Chunks))
	}
	cfg := predictor.DefaultTrainConfig()
	cfg.Features = r.Features
	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
