//go:build !linux

package seerpredictorextension

// lowerPriority is a no-op outside Linux: training processes keep the
// default priority there.
func lowerPriority() error { return nil }
