// Package local holds run.sh, what `make run` starts, and its test.
package local

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// acceptedSpans matches the collector's own count of spans seerthrift took.
var acceptedSpans = regexp.MustCompile(`(?m)^otelcol_receiver_accepted_spans(?:_total)?\{[^}]*receiver="seerthrift"[^}]*\} (\d+(?:\.\d+)?(?:e\+\d+)?)$`)

// TestMakeRunShowsSpansArriving is the acceptance check of `make run`: the
// collector on its default config with the example services under load, and
// within 30 s the received-span counter on the printed Prometheus endpoint is
// rising.
func TestMakeRunShowsSpansArriving(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs otelcol-seer")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	for _, pkg := range []string{"otelcol-seer", "cmd/seer"} {
		build := exec.Command("go", "build", "-o", bin, "./"+pkg)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}

	// A Seer already running here would answer for the one under test.
	for _, addr := range []string{"localhost:13133", "localhost:8888", "localhost:6833"} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s is already in use: stop what serves it (another `make run`?) and run again", addr)
		}
	}

	run := exec.Command(filepath.Join(root, "deploy/local/run.sh"))
	run.Dir = root
	run.Env = append(os.Environ(), "BIN="+bin)
	// Its own process group, so that the test can stop the script and
	// everything it started even if the script cannot run its trap.
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := run.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	run.Stderr = run.Stdout
	if err := run.Start(); err != nil {
		t.Fatalf("start run.sh: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-run.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = syscall.Kill(-run.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	})

	// The script prints the endpoint it serves; use what it says.
	endpoint := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		re := regexp.MustCompile(`received spans\):\s+(http://\S+/metrics)`)
		for lines.Scan() {
			t.Log(lines.Text())
			if m := re.FindStringSubmatch(lines.Text()); m != nil {
				endpoint <- m[1]
			}
		}
	}()
	var url string
	select {
	case url = <-endpoint:
	case err := <-exited:
		t.Fatalf("run.sh exited before printing its URLs: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("run.sh printed no metrics URL within 60 s")
	}

	started := time.Now()
	first, err := scrapeAccepted(url)
	for err != nil && time.Since(started) < 30*time.Second {
		time.Sleep(500 * time.Millisecond) // polling an HTTP endpoint, not synchronising goroutines
		first, err = scrapeAccepted(url)
	}
	if err != nil {
		t.Fatalf("no seerthrift span counter at %s within 30 s: %v", url, err)
	}
	for time.Since(started) < 30*time.Second {
		time.Sleep(500 * time.Millisecond)
		now, err := scrapeAccepted(url)
		if err == nil && now > first {
			t.Logf("accepted spans rose from %v to %v within %v", first, now, time.Since(started).Round(time.Millisecond))
			return
		}
	}
	t.Fatalf("accepted spans did not rise above %v within 30 s", first)
}

func scrapeAccepted(url string) (float64, error) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", url, err)
	}
	m := acceptedSpans.FindSubmatch(body)
	if m == nil {
		return 0, fmt.Errorf("no otelcol_receiver_accepted_spans for seerthrift yet")
	}
	return strconv.ParseFloat(string(m[1]), 64)
}
