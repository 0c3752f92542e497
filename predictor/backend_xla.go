//go:build cgo && !seer_noxla

package predictor

import (
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

func init() {
	openXLA = func(plugin string) (backends.Backend, error) {
		// Never download plugins: these machines cannot reach GitHub, and the
		// CPU plugin is installed by predictor/pjrt/install.sh. A plugin is
		// found as pjrt_c_api_<plugin>_plugin.so under PJRT_PLUGIN_LIBRARY_PATH.
		xla.EnableAutoInstall(false)
		if plugin == "cpu" {
			b, err := xla.NewWithOptions(plugin, cpuPluginOptions)
			if err != nil {
				return nil, err // not a nil *xla.Backend in a non-nil interface
			}
			return b, nil
		}
		return xla.New(plugin)
	}
}
