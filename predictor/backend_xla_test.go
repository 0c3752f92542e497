//go:build cgo && !seer_noxla

package predictor

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCPUXLAEnv(t *testing.T) {
	const w512 = "--xla_cpu_prefer_vector_width=512"
	for _, tc := range []struct {
		env, added string
		training   bool
		want       string // XLA_FLAGS
		wantAdded  string
	}{
		{env: "", want: w512, wantAdded: w512},
		{env: "  ", want: w512, wantAdded: w512},
		{env: "--xla_dump_to=/tmp/d", want: "--xla_dump_to=/tmp/d " + w512, wantAdded: w512},
		// The user's own setting wins.
		{env: "--xla_cpu_prefer_vector_width=128", want: "--xla_cpu_prefer_vector_width=128"},
		{env: "--a=1  --xla_cpu_prefer_vector_width=256", want: "--a=1 --xla_cpu_prefer_vector_width=256"},
		{env: "--xla_cpu_prefer_vector_width_x=1", want: "--xla_cpu_prefer_vector_width_x=1 " + w512, wantAdded: w512},
		// A file of flags is left alone, whatever was inherited.
		{env: "/etc/xla_flags", want: "/etc/xla_flags"},
		{env: " /etc/xla flags ", want: " /etc/xla flags "},
		{env: " /etc/xla  flags ", added: w512, want: " /etc/xla  flags "},
		{env: " /etc/xla  flags ", added: w512, training: true, want: " /etc/xla  flags "},
		// A child of a serving process inherits what it added.
		{env: "--a=1 " + w512, added: w512, want: "--a=1 " + w512, wantAdded: w512},
		// A process that trains gets the user's flags alone.
		{env: "", training: true, want: ""},
		{env: "--a=1 " + w512, added: w512, training: true, want: "--a=1"},
		{env: w512, added: w512, training: true, want: ""},
		{env: "--xla_cpu_prefer_vector_width=128", training: true, want: "--xla_cpu_prefer_vector_width=128"},
		{env: "--a=1  --b=2", training: true, want: "--a=1  --b=2"},
		{env: "--xla_cpu_prefer_vector_width=128 --xla_dump_to=/d", added: "", training: true,
			want: "--xla_cpu_prefer_vector_width=128 --xla_dump_to=/d"},
	} {
		got, added := cpuXLAEnv(tc.env, tc.added, tc.training)
		if got != tc.want || added != tc.wantAdded {
			t.Errorf("cpuXLAEnv(%q, %q, %v) = %q, %q; want %q, %q", tc.env, tc.added, tc.training, got, added, tc.want, tc.wantAdded)
		}
	}
}

// TestXLAFlagsReachPlugin runs the rules of cpuXLAEnv end to end, each in a
// child process (the plugin reads XLA_FLAGS once per process) that opens
// the plugin as serving or training does and compiles one graph with XLA
// dumping its debug options (the flags that differ from XLA's defaults):
// serving compiles with cpuXLAFlags and passes on what it added; a user's
// own setting wins; Train keeps XLA's defaults, also in a child that
// inherits a serving process's environment (the retraining worker).
func TestXLAFlagsReachPlugin(t *testing.T) {
	if mode := os.Getenv("SEER_XLA_FLAGS_CHILD"); mode != "" {
		xlaFlagsChild(t, mode)
		return
	}
	requireXLA(t)
	// run starts a child with env on top of this process's and returns the
	// options XLA compiled with and the environment the child ended with.
	run := func(mode string, env ...string) (opts string, childEnv map[string]string) {
		t.Helper()
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestXLAFlagsReachPlugin$")
		cmd.Env = append(os.Environ(), "SEER_XLA_FLAGS_CHILD="+mode, "SEER_XLA_FLAGS_DIR="+dir,
			"XLA_FLAGS=", addedXLAFlagsEnv+"=")
		cmd.Env = append(cmd.Env, env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s child %q: %v\n%s", mode, env, err, out)
		}
		dumped, _ := filepath.Glob(filepath.Join(dir, "dump", "*debug_options"))
		if len(dumped) == 0 {
			t.Fatalf("%s child %q: XLA dumped no debug options", mode, env)
		}
		data, err := os.ReadFile(dumped[0])
		if err != nil {
			t.Fatal(err)
		}
		ended, err := os.ReadFile(filepath.Join(dir, "env"))
		if err != nil {
			t.Fatal(err)
		}
		childEnv = map[string]string{}
		for _, kv := range strings.Split(string(ended), "\n") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				childEnv[k] = v
			}
		}
		return string(data), childEnv
	}
	const width = "xla_cpu_prefer_vector_width"
	opts, served := run("serve")
	if !strings.Contains(opts, width+": 512") {
		t.Errorf("serving compiled with\n%s\nwant %s: 512", opts, width)
	}
	if served[addedXLAFlagsEnv] != cpuXLAFlags[0] {
		t.Errorf("serving left %s=%q, want %q", addedXLAFlagsEnv, served[addedXLAFlagsEnv], cpuXLAFlags[0])
	}
	if opts, _ := run("serve", "XLA_FLAGS=--"+width+"=128"); !strings.Contains(opts, width+": 128") {
		t.Errorf("serving with the user's width 128 compiled with\n%s", opts)
	}
	for _, env := range [][]string{
		nil,
		// The retraining worker: what its serving parent ended with.
		{"XLA_FLAGS=" + served["XLA_FLAGS"], addedXLAFlagsEnv + "=" + served[addedXLAFlagsEnv]},
	} {
		if opts, _ := run("train", env...); strings.Contains(opts, width) {
			t.Errorf("training child %q compiled with\n%s\nwant XLA's default width", env, opts)
		}
	}
}

// xlaFlagsChild is TestXLAFlagsReachPlugin's child: it adds a dump
// directory to XLA_FLAGS (beside the flags under test), calls Train (mode
// train: with no traces, an error, after which the plugin must keep XLA's
// defaults), compiles one graph, and writes the environment it ended with.
func xlaFlagsChild(t *testing.T, mode string) {
	dir := os.Getenv("SEER_XLA_FLAGS_DIR")
	dump := "--xla_dump_to=" + filepath.Join(dir, "dump")
	os.Setenv("XLA_FLAGS", strings.TrimSpace(os.Getenv("XLA_FLAGS")+" "+dump))
	if mode == "train" {
		if _, err := Train(context.Background(), nil, DefaultTrainConfig()); err == nil {
			t.Fatal("Train with no traces did not fail")
		}
	}
	b, _, err := OpenBackend(BackendXLA)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewParams(testShape, 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(b, p)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Predict(randomInput(testShape, 1, 1), 1); err != nil {
		t.Fatal(err)
	}
	// What a child of this process would inherit, without the dump flag.
	env := fmt.Sprintf("XLA_FLAGS=%s\n%s=%s\n", strings.TrimSpace(strings.ReplaceAll(os.Getenv("XLA_FLAGS"), dump, "")),
		addedXLAFlagsEnv, os.Getenv(addedXLAFlagsEnv))
	if err := os.WriteFile(filepath.Join(dir, "env"), []byte(env), 0o644); err != nil {
		t.Fatal(err)
	}
}
