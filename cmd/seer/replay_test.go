package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/seer-qos/seer/dataset"
)

// nezhaDay is one day of the shipped Nezha data, beside the repository.
func nezhaDay(t *testing.T) string {
	t.Helper()
	d := filepath.Join("..", "..", "..", "shared", "datasets", "nezha-online-boutique", "2022-08-22")
	if _, err := os.Stat(d); err != nil {
		t.Fatalf("the Nezha data must be at ../shared/datasets/nezha-online-boutique beside the repository: %v", err)
	}
	return d
}

func TestReplayWritesADatasetAndSendsOTLP(t *testing.T) {
	var mu sync.Mutex
	var received int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		received += req.Traces().SpanCount()
		mu.Unlock()
	}))
	defer srv.Close()

	dir := filepath.Join(t.TempDir(), "ds")
	out, err := runSeer(t, "replay", "--format", "nezha", nezhaDay(t), "--from", "2022-08-22T04:02:00Z", "--to", "2022-08-22T04:05:00Z",
		"--out", dir, "--otlp", srv.URL, "--speed", "0")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	ds, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Manifest.Source != dataset.SourceReplay || ds.Manifest.Counts.Faults != 1 || ds.Manifest.Params["format"] != "nezha" {
		t.Errorf("manifest %+v", ds.Manifest)
	}
	for _, s := range []string{"frontend -> cartservice", "2022-08-22 04:02:07 frontend", "full", "spans per second"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	var spans int
	if _, err := fmtSscanSpans(out, &spans); err != nil || spans == 0 || spans != received {
		t.Errorf("replayed %d spans (%v), the endpoint received %d", spans, err, received)
	}
	if _, err := runSeer(t, "replay", "--format", "nezha", nezhaDay(t), "--out", dir); err == nil || !strings.Contains(err.Error(), "already holds a dataset") {
		t.Errorf("overwrote a dataset without --overwrite: %v", err)
	}
}

// fmtSscanSpans reads the span count of the summary's first line.
func fmtSscanSpans(out string, n *int) (int, error) {
	_, rest, _ := strings.Cut(out, "]: ")
	return fmt.Sscan(rest, n)
}

func TestReplayFlagErrors(t *testing.T) {
	day := nezhaDay(t)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"replay", day, "--out", t.TempDir()}, `"format" not set`},
		{[]string{"replay", "--format", "jaeger", day, "--out", t.TempDir()}, "supported formats: nezha"},
		{[]string{"replay", "--format", "nezha", day}, "nothing to do"},
		{[]string{"replay", "--format", "nezha", day, "--otlp", "http://127.0.0.1:1", "--spans"}, "--spans needs --out"},
		{[]string{"replay", "--format", "nezha", day, "--out", t.TempDir(), "--from", "yesterday"}, "RFC 3339"},
		{[]string{"replay", "--format", "nezha", filepath.Join(t.TempDir(), "none"), "--out", t.TempDir()}, "no such file"},
		{[]string{"replay", "--format", "nezha", day, "--out", t.TempDir(), "--strict", "--from", "2022-08-22T07:09:00Z", "--to", "2022-08-22T07:11:00Z"}, "--strict: 1 input problems"},
	}
	for _, tt := range tests {
		out, err := runSeer(t, tt.args...)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("seer %v: err %v, want %q\n%s", tt.args, err, tt.msg, out)
		}
	}
}
