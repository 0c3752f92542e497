package seerpredictorextension

import "golang.org/x/sys/unix"

// lowerPriority sets the calling OS thread (Linux: priorities are per
// thread) to nice 19.
func lowerPriority() error {
	return unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19)
}
