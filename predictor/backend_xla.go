//go:build cgo && !seer_noxla

package predictor

import (
	"fmt"
	"os"
	"strings"

	"github.com/gomlx/go-xla/pkg/pjrt"
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

// cpuPluginOptions are the CPU plugin's client options. By default the
// plugin makes 4 CPU devices and runs a window's ops on 4 intra-op threads
// (XLAEigen), about 12 context switches per call; on one core they queue
// behind each other and the p99 was 1.7-2.1x the p50 (500 services, four
// runs). With one device a window runs on one thread (predictor/README.md,
// Backends).
var cpuPluginOptions = pjrt.NamedValuesMap{"cpu_device_count": int64(1)}

// cpuXLAFlags are XLA compiler flags for the CPU plugin. XLA vectorises the
// loops it generates (the LSTM gates' exp, divide and tanh) for 256-bit
// registers unless told to prefer 512; where the CPU has no AVX-512 LLVM
// keeps to what it has. On this AVX-512 machine the p50 of one window is
// 0.86-0.92x with it (predictor/README.md, Backends).
var cpuXLAFlags = []string{"--xla_cpu_prefer_vector_width=512"}

// withXLAFlags returns env, a value of XLA_FLAGS, with each of flags
// appended whose name env does not already set: the user's own XLA_FLAGS
// win. A value that does not start with "-" names a file XLA reads the
// flags from, and is returned as it is (anything appended would become
// part of the file name, and XLA exits when it cannot open it).
func withXLAFlags(env string, flags ...string) string {
	if trimmed := strings.TrimSpace(env); trimmed != "" && !strings.HasPrefix(trimmed, "-") {
		return env
	}
	name := func(f string) string {
		n, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		return n
	}
	set := map[string]bool{}
	for _, f := range strings.Fields(env) {
		set[name(f)] = true
	}
	out := strings.Fields(env)
	for _, f := range flags {
		if !set[name(f)] {
			out = append(out, f)
		}
	}
	return strings.Join(out, " ")
}

func init() {
	openXLA = func(plugin string) (backends.Backend, error) {
		// Never download plugins: these machines cannot reach GitHub, and the
		// CPU plugin is installed by predictor/pjrt/install.sh. A plugin is
		// found as pjrt_c_api_<plugin>_plugin.so under PJRT_PLUGIN_LIBRARY_PATH.
		xla.EnableAutoInstall(false)
		if plugin == "cpu" {
			// The plugin reads XLA_FLAGS once, when it first compiles; cgo
			// builds pass os.Setenv on to the C environment it reads.
			cur := os.Getenv("XLA_FLAGS")
			if want := withXLAFlags(cur, cpuXLAFlags...); want != cur {
				if err := os.Setenv("XLA_FLAGS", want); err != nil {
					return nil, fmt.Errorf("set XLA_FLAGS: %w", err)
				}
			}
			b, err := xla.NewWithOptions(plugin, cpuPluginOptions)
			if err != nil {
				return nil, err // not a nil *xla.Backend in a non-nil interface
			}
			return b, nil
		}
		return xla.New(plugin)
	}
}
