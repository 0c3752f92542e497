//go:build soak

package queuedepthprocessor

import (
	"testing"
	"time"
)

// TestSoak is the 10-minute soak: a churning set of 10k instances (each
// replaced after a minute, so about 167 new instances per second and about
// 100k distinct instances in all) under 20k spans/s that follow the wall
// clock. Run it with
//
//	go test -tags soak -run 'TestSoak$' -timeout 15m -v ./processor/queuedepthprocessor/
func TestSoak(t *testing.T) {
	sc := soakConfig{
		eventTime: 10 * time.Minute, paced: true, spansPerSec: 20_000, instances: 10_000, services: 50,
		lifetime: time.Minute, warmup: 2 * time.Minute, sampleEvery: 15 * time.Second, maxInstances: 12_000,
	}
	checkSoak(t, sc, runSoak(t, sc))
}
