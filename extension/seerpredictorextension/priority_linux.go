package seerpredictorextension

import (
	"errors"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// lowerPriority puts every thread of this process in the SCHED_IDLE class
// (at nice 19 where that is refused). Linux scheduling attributes are per
// thread and a new thread inherits its creator's, so calling it before the
// backend starts its threads covers them too.
//
// SCHED_IDLE rather than nice alone: a serving thread that wakes on a CPU
// running a nice-19 thread may wait for that thread's time slice (measured:
// inference p99 1 ms idle, 3 ms beside a nice-19 training process on two
// cores), while a SCHED_IDLE thread is preempted at once.
func lowerPriority() error {
	tids := []int{0}
	if tasks, err := os.ReadDir("/proc/self/task"); err == nil {
		tids = tids[:0]
		for _, t := range tasks {
			if tid, err := strconv.Atoi(t.Name()); err == nil {
				tids = append(tids, tid)
			}
		}
	}
	var errs []error
	for _, tid := range tids {
		attr := unix.SchedAttr{Size: uint32(unsafe.Sizeof(unix.SchedAttr{})), Policy: unix.SCHED_IDLE, Nice: 19}
		err := unix.SchedSetAttr(tid, &attr, 0)
		if err != nil {
			err = unix.Setpriority(unix.PRIO_PROCESS, tid, 19)
		}
		if err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
