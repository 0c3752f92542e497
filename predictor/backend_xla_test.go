//go:build cgo && !seer_noxla

package predictor

import (
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
		// The user's own setting wins, in either spelling.
		{env: "--xla_cpu_prefer_vector_width=128", want: "--xla_cpu_prefer_vector_width=128"},
		{env: "-xla_cpu_prefer_vector_width=256 --a=1", want: "-xla_cpu_prefer_vector_width=256 --a=1"},
		{env: "--xla_cpu_prefer_vector_width_x=1", want: "--xla_cpu_prefer_vector_width_x=1 " + w512, wantAdded: w512},
		// A file of flags is left alone.
		{env: "/etc/xla_flags", want: "/etc/xla_flags"},
		{env: " /etc/xla flags ", want: " /etc/xla flags "},
		// A child of a serving process inherits what it added.
		{env: "--a=1 " + w512, added: w512, want: "--a=1 " + w512, wantAdded: w512},
		// A process that trains gets the user's flags alone.
		{env: "", training: true, want: ""},
		{env: "--a=1 " + w512, added: w512, training: true, want: "--a=1"},
		{env: w512, added: w512, training: true, want: ""},
		{env: "--xla_cpu_prefer_vector_width=128", training: true, want: "--xla_cpu_prefer_vector_width=128"},
	} {
		got, added := cpuXLAEnv(tc.env, tc.added, tc.training)
		if got != tc.want || added != tc.wantAdded {
			t.Errorf("cpuXLAEnv(%q, %q, %v) = %q, %q; want %q, %q", tc.env, tc.added, tc.training, got, added, tc.want, tc.wantAdded)
		}
	}
}

// TestXLAFlagsReachPlugin: the plugin compiles with cpuXLAFlags, a user's
// own setting of one of them wins, and a process that trains first keeps
// XLA's defaults. Each case runs in a child process (the plugin reads
// XLA_FLAGS once per process) that compiles one graph with XLA dumping its
// debug options, which list the flags that differ from XLA's defaults.
func TestXLAFlagsReachPlugin(t *testing.T) {
	if mode := os.Getenv("SEER_XLA_FLAGS_CHILD"); mode != "" {
		if mode == "train" {
			trainsFirst.Store(true) // as Train does before it opens a backend
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
		return
	}
	requireXLA(t)
	w512 := cpuXLAFlags[0]
	for _, tc := range []struct {
		mode, user, added, want string // want "": the width is XLA's default (not dumped)
	}{
		{"serve", "", "", "xla_cpu_prefer_vector_width: 512"},
		{"serve", "--xla_cpu_prefer_vector_width=128", "", "xla_cpu_prefer_vector_width: 128"},
		{"train", "", "", ""},
		// The retraining worker, a child of a serving process.
		{"train", w512, w512, ""},
	} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestXLAFlagsReachPlugin$")
		cmd.Env = append(os.Environ(), "SEER_XLA_FLAGS_CHILD="+tc.mode, addedXLAFlagsEnv+"="+tc.added,
			"XLA_FLAGS="+strings.TrimSpace(tc.user+" --xla_dump_to="+dir))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child (XLA_FLAGS %q): %v\n%s", tc.user, err, out)
		}
		opts, _ := filepath.Glob(filepath.Join(dir, "*debug_options"))
		if len(opts) == 0 {
			t.Fatalf("XLA_FLAGS %q: XLA dumped no debug options into %s", tc.user, dir)
		}
		data, err := os.ReadFile(opts[0])
		if err != nil {
			t.Fatal(err)
		}
		got := string(data)
		if tc.want == "" && strings.Contains(got, "xla_cpu_prefer_vector_width") || !strings.Contains(got, tc.want) {
			t.Errorf("%s, XLA_FLAGS %q: plugin compiled with\n%s\nwant %q", tc.mode, tc.user, got, tc.want)
		}
	}
}
