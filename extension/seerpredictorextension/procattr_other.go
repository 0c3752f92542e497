//go:build !linux

package seerpredictorextension

import "syscall"

// workerProcAttr is empty outside Linux, which has no parent-death signal:
// a training process outlives a Collector that crashes there.
func workerProcAttr() *syscall.SysProcAttr { return nil }
