package seerpredictorextension

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// deathTestRole makes this test binary play the Collector ("parent") or
// its training process ("child") in TestTrainingProcessDiesWithCollector.
const deathTestRole = "SEER_TEST_PARENT_DEATH_ROLE"

// TestTrainingProcessDiesWithCollector: a training process started as
// runWorker starts it ends when the Collector is killed (no Shutdown).
func TestTrainingProcessDiesWithCollector(t *testing.T) {
	self := []string{"-test.run=^TestTrainingProcessDiesWithCollector$"}
	switch os.Getenv(deathTestRole) {
	case "child":
		time.Sleep(time.Hour) // stands for training; killed long before
		return
	case "parent":
		cmd := exec.Command(os.Args[0], self...)
		cmd.Env = append(os.Environ(), deathTestRole+"=child")
		cmd.SysProcAttr = workerProcAttr()
		if err := cmd.Start(); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(cmd.Process.Pid)
		time.Sleep(time.Hour) // stands for serving; killed by the test
		return
	}
	parent := exec.Command(os.Args[0], self...)
	parent.Env = append(os.Environ(), deathTestRole+"=parent")
	stdout, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("no child pid from the parent: %v", err)
	}
	child, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("parent said %q", line)
	}
	if !running(child) {
		t.Fatalf("child %d is not running before the parent dies", child)
	}
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for running(child) {
		if time.Now().After(deadline) {
			t.Fatalf("child %d still runs 10 s after its parent was killed", child)
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
}

// running reports whether process pid exists and is not a zombie (a
// reparented child may not be reaped at once).
func running(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}
