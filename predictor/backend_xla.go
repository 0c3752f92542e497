//go:build cgo && !seer_noxla

package predictor

import (
	"fmt"
	"os"
	"slices"
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
// registers unless told to prefer 512 (a preference: LLVM splits wider
// vectors for a CPU without AVX-512; not measured on one). On this AVX-512
// machine the p50 of one window is 0.86-0.92x with it (predictor/README.md,
// Backends). Not for a process that trains first (trainsFirst).
var cpuXLAFlags = []string{"--xla_cpu_prefer_vector_width=512"}

// addedXLAFlagsEnv names the environment variable that lists the flags a
// Seer process added to XLA_FLAGS. Child processes inherit both; one that
// trains (the retraining worker) takes them out again, so it trains as
// `seer train` does.
const addedXLAFlagsEnv = "SEER_XLA_FLAGS_ADDED"

// cpuXLAEnv returns the XLA_FLAGS value for this process's CPU plugin and the
// flags added to the user's (the new value of addedXLAFlagsEnv), given the
// inherited values of both. The user's own flags stay and win over
// cpuXLAFlags; a process that trains gets the user's value alone; a file
// name is returned as it is.
func cpuXLAEnv(env, added string, training bool) (flags, addedOut string) {
	if !xlaFlagsInline(env) {
		return env, "" // Seer never adds to a file name: nothing to take out
	}
	ours := strings.Fields(added)
	user := slices.DeleteFunc(strings.Fields(env), func(f string) bool { return slices.Contains(ours, f) })
	if training {
		if len(ours) == 0 {
			return env, "" // as the user set it, spaces and all
		}
		return strings.Join(user, " "), ""
	}
	name := func(f string) string {
		n, _, _ := strings.Cut(strings.TrimLeft(f, "-"), "=")
		return n
	}
	var add []string
	for _, f := range cpuXLAFlags {
		if !slices.ContainsFunc(user, func(u string) bool { return name(u) == name(f) }) {
			add = append(add, f)
		}
	}
	return strings.Join(append(user, add...), " "), strings.Join(add, " ")
}

// xlaFlagsInline reports whether env, a value of XLA_FLAGS, holds the
// flags themselves: one that does not start with "-" names a file XLA reads them from,
// and anything appended would become part of the file name (XLA exits when
// it cannot open it).
func xlaFlagsInline(env string) bool {
	t := strings.TrimSpace(env)
	return t == "" || strings.HasPrefix(t, "-")
}

// setenvIfChanged sets (or, to "", unsets) an environment variable only when
// its value changes.
func setenvIfChanged(key, value string) error {
	if os.Getenv(key) == value {
		return nil
	}
	if value == "" {
		return os.Unsetenv(key)
	}
	return os.Setenv(key, value)
}

func init() {
	openXLA = func(plugin string) (backends.Backend, error) {
		// Never download plugins: these machines cannot reach GitHub, and the
		// CPU plugin is installed by predictor/pjrt/install.sh. A plugin is
		// found as pjrt_c_api_<plugin>_plugin.so under PJRT_PLUGIN_LIBRARY_PATH.
		xla.EnableAutoInstall(false)
		if plugin == "cpu" {
			// The plugin reads XLA_FLAGS once, when it first compiles; cgo
			// builds pass os.Setenv on to the C environment it reads. A
			// process that trains first keeps XLA's defaults (trainsFirst).
			flags, added := cpuXLAEnv(os.Getenv("XLA_FLAGS"), os.Getenv(addedXLAFlagsEnv), trainsFirst.Load())
			if err := setenvIfChanged("XLA_FLAGS", flags); err != nil {
				return nil, fmt.Errorf("set XLA_FLAGS: %w", err)
			}
			if err := setenvIfChanged(addedXLAFlagsEnv, added); err != nil {
				return nil, fmt.Errorf("set %s: %w", addedXLAFlagsEnv, err)
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
