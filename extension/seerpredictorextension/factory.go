package seerpredictorextension

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/extension"

	"github.com/seer-qos/seer/extension/seerpredictorextension/internal/metadata"
	"github.com/seer-qos/seer/predictor"
)

// NewFactory returns the factory of the seerpredictor extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(metadata.Type, createDefaultConfig, create, metadata.ExtensionStability)
}

func createDefaultConfig() component.Config {
	httpCfg := confighttp.NewDefaultServerConfig()
	// Next to the queuedepth processor's 9470.
	httpCfg.NetAddr.Endpoint = "localhost:9471"
	train := predictor.DefaultTrainConfig()
	return &Config{
		Source:  "queuedepth",
		Backend: predictor.BackendAuto,
		// 10 s of 100 ms ticks: inference keeps up with a tick in
		// milliseconds, so only a stall fills it.
		Buffer: 100,
		// One minute of 100 ms ticks.
		Recent: 600,
		Heuristic: HeuristicConfig{
			// Slow enough that a fault's ramp (seconds) stands out against it.
			HalfLife: time.Minute,
			// z - 3: a service three standard deviations above its usual
			// depth scores 0.5.
			Margin: 3,
			// Mean and variance of fewer samples are noise.
			Warmup: 10 * time.Second,
		},
		Retraining: RetrainingConfig{
			Interval: 10 * time.Minute,
			// 10 min of 100 ms ticks of 30 services is about 8.6 MB.
			History: 10 * time.Minute,
			// Enough windows for a validation chunk of a few hundred ticks.
			MinHistory:           2 * time.Minute,
			OnCriticalPathChange: true,
			Features:             train.Features,
			Window:               train.Window,
			Channels:             train.Channels,
			Hidden:               train.Hidden,
			Horizon:              time.Duration(train.HorizonNs),
			// Few epochs: live history is small and a stale model costs more
			// than a slightly undertrained one.
			Epochs: 2,
			Batch:  train.Batch,
			// 5 pieces: one (20%) held out for validation, as seer train.
			Chunks: 5,
			Seed:   train.Seed,
		},
		HTTP: configoptional.Some(httpCfg),
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newPredictorExtension(set, cfg.(*Config)), nil
}
