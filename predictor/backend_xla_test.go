//go:build cgo && !seer_noxla

package predictor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWithXLAFlags(t *testing.T) {
	const w512 = "--xla_cpu_prefer_vector_width=512"
	for _, tc := range []struct {
		env, want string
	}{
		{"", w512},
		{"  ", w512},
		{"--xla_dump_to=/tmp/d", "--xla_dump_to=/tmp/d " + w512},
		{"--xla_cpu_prefer_vector_width=256", "--xla_cpu_prefer_vector_width=256"},
		{"-xla_cpu_prefer_vector_width=256 --a=1", "-xla_cpu_prefer_vector_width=256 --a=1"},
		{"--xla_cpu_prefer_vector_width_x=1", "--xla_cpu_prefer_vector_width_x=1 " + w512},
		{"/etc/xla_flags", "/etc/xla_flags"}, // a file of flags: left alone
		{" /etc/xla_flags ", " /etc/xla_flags "},
	} {
		if got := withXLAFlags(tc.env, w512); got != tc.want {
			t.Errorf("withXLAFlags(%q) = %q, want %q", tc.env, got, tc.want)
		}
	}
}

// TestXLAFlagsReachPlugin: the plugin compiles with cpuXLAFlags, and a
// user's own setting of one of them wins. Each case runs in a child process
// (the plugin reads XLA_FLAGS once per process) that compiles one graph with
// XLA dumping its debug options, which list the flags it took.
func TestXLAFlagsReachPlugin(t *testing.T) {
	if os.Getenv("SEER_XLA_FLAGS_CHILD") == "1" {
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
	for _, tc := range []struct {
		user, want string
	}{
		{"", "xla_cpu_prefer_vector_width: 512"},
		{"--xla_cpu_prefer_vector_width=128", "xla_cpu_prefer_vector_width: 128"},
	} {
		dir := t.TempDir()
		cmd := exec.Command(os.Args[0], "-test.run=^TestXLAFlagsReachPlugin$")
		cmd.Env = append(os.Environ(), "SEER_XLA_FLAGS_CHILD=1", "XLA_FLAGS="+strings.TrimSpace(tc.user+" --xla_dump_to="+dir))
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
		if !strings.Contains(string(data), tc.want) {
			t.Errorf("XLA_FLAGS %q: plugin compiled with\n%s\nwant %q", tc.user, data, tc.want)
		}
	}
}
