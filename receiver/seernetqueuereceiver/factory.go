package seernetqueuereceiver

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/procfs"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"

	"github.com/seer-qos/seer/receiver/seernetqueuereceiver/internal/metadata"
)

// NewFactory returns the factory of the seernetqueue receiver.
func NewFactory() receiver.Factory {
	return receiver.NewFactory(
		metadata.Type,
		createDefaultConfig,
		receiver.WithMetrics(createMetrics, metadata.MetricsStability),
	)
}

func createDefaultConfig() component.Config {
	return &Config{
		// The queuedepth processor's default tick, so samples line up.
		Tick:     100 * time.Millisecond,
		ProcRoot: procfs.DefaultMountPoint,
		// The default ID of the queuedepth processor.
		Hub: "queuedepth",
	}
}

func createMetrics(_ context.Context, set receiver.Settings, cfg component.Config, next consumer.Metrics) (receiver.Metrics, error) {
	c := cfg.(*Config)
	instance := c.Instance
	if instance == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("seernetqueue %s: instance not set and no host name: %w", set.ID, err)
		}
		instance = h
	}
	return newReceiver(set, c, instance, next), nil
}
