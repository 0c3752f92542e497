package seerpredictorextension

import "syscall"

// workerProcAttr makes the kernel kill the training process when the
// Collector dies: Shutdown kills it on a clean exit, but a crashed or killed
// Collector would leave it behind, perhaps stopped by the gate for good,
// holding its heap.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
