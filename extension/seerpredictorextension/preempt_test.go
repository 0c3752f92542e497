//go:build linux

package seerpredictorextension

import (
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// waitState blocks until the child pid reports the state asked for
// (unix.WSTOPPED or unix.WCONTINUED) without reaping it.
func waitState(t *testing.T, pid, state int) {
	t.Helper()
	var info unix.Siginfo
	if err := unix.Waitid(unix.P_PID, pid, &info, state|unix.WNOWAIT, nil); err != nil {
		t.Fatalf("waitid: %v", err)
	}
}

func TestPreempterPausesAheadOfTheTick(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var g gate
	g.set(cmd.Process)
	warms := 0
	p := newPreempter(&g, func() { warms++ })
	p.maxHold = 10 * time.Millisecond

	if p.C() != nil {
		t.Fatal("armed before any tick")
	}
	p.end(time.Now(), 100*time.Millisecond, time.Millisecond)
	if p.C() == nil {
		t.Fatal("not armed after a tick")
	}
	<-p.C()
	p.fire() // ahead of the next tick: pause and warm up
	if warms != 1 || !p.held {
		t.Fatalf("after the first fire: warms %d, held %v; want 1, true", warms, p.held)
	}
	waitState(t, cmd.Process.Pid, unix.WSTOPPED)

	<-p.C()
	p.fire() // the tick is late: training resumes
	if p.held || p.C() != nil {
		t.Fatalf("after the give-up: held %v, armed %v", p.held, p.C() != nil)
	}
	waitState(t, cmd.Process.Pid, unix.WCONTINUED)

	p.begin() // a tick with nothing scheduled pauses for the inference alone
	waitState(t, cmd.Process.Pid, unix.WSTOPPED)
	p.end(time.Now(), 100*time.Millisecond, time.Millisecond)
	waitState(t, cmd.Process.Pid, unix.WCONTINUED)
	if warms != 1 {
		t.Fatalf("warms %d, want 1", warms)
	}

	// Ticks too close together for a pause between them: nothing is armed.
	p.end(time.Now(), 10*time.Millisecond, 2*time.Millisecond)
	if p.C() != nil {
		t.Fatal("armed although the lead exceeds a quarter of the tick")
	}
	p.stop()

	// Nothing training: it warms ahead of the tick only if inference is
	// cheap (at most 1/50 of the tick).
	g.set(nil)
	p.end(time.Now(), 100*time.Millisecond, 3*time.Millisecond)
	if p.C() != nil {
		t.Error("armed while idle although an inference takes 3% of the tick")
	}
	p.end(time.Now(), 100*time.Millisecond, time.Millisecond)
	if p.C() == nil {
		t.Fatal("not armed while idle with a cheap inference")
	}
	<-p.C()
	p.fire()
	if warms != 2 {
		t.Errorf("warms %d, want 2", warms)
	}
	p.stop()
}
