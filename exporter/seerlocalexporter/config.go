package seerlocalexporter

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"

	"github.com/seer-qos/seer/internal/seerstore"
)

// Config is the seerlocal exporter's configuration. Defaults are in factory.go.
type Config struct {
	exporterhelper.TimeoutConfig `mapstructure:",squash"`
	QueueConfig                  configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`
	RetryConfig                  configretry.BackOffConfig                                `mapstructure:"retry_on_failure"`

	// Directory holds the store; one Collector at a time may use it.
	Directory string `mapstructure:"directory"`
	// Encryption names the record key that seals the stored spans; empty:
	// the file DIRECTORY.key beside the store, created on first start.
	Encryption seerstore.EncryptionConfig `mapstructure:"encryption"`
	// Retention is how long data is kept; older data is deleted every RetentionCheck.
	Retention      RetentionConfig  `mapstructure:"retention"`
	RetentionCheck time.Duration    `mapstructure:"retention_check"`
	Limits         seerstore.Limits `mapstructure:"limits"`
	// SeriesMetricPrefix selects the metrics stored as series.
	SeriesMetricPrefix string `mapstructure:"series_metric_prefix"`
	// SeriesSource names a queuedepth processor (component ID, e.g. "queuedepth") whose series and
	// dependency graph are stored, taken in process from its hub and feed. Empty: none.
	SeriesSource string `mapstructure:"series_source"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RetentionConfig sets how long spans and series are kept.
type RetentionConfig struct {
	Spans  time.Duration `mapstructure:"spans"`
	Series time.Duration `mapstructure:"series"`
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	var errs []error
	if c.Directory == "" {
		errs = append(errs, errors.New("directory: must not be empty"))
	}
	if c.Retention.Spans <= 0 || c.Retention.Series <= 0 || c.RetentionCheck <= 0 {
		errs = append(errs, errors.New("retention: spans, series and retention_check must be positive"))
	}
	if c.Limits.MaxSpanBytes <= 0 || c.Limits.MaxAttributeBytes < 0 || c.Limits.MaxFutureSkew <= 0 || c.Limits.MaxDuration <= 0 {
		errs = append(errs, errors.New("limits: max_span_bytes, max_future_skew and max_duration must be positive, max_attribute_bytes not negative"))
	}
	if c.SeriesMetricPrefix == "" {
		errs = append(errs, errors.New("series_metric_prefix: must not be empty"))
	}
	return errors.Join(errs...)
}
