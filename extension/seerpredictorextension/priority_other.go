//go:build !linux

package seerpredictorextension

// lowerPriority is a no-op where priorities are not per thread.
func lowerPriority() error { return nil }
