//go:build cgo && !seer_noxla

package predictor

import (
	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/xla"
)

func init() {
	openXLA = func(plugin string) (backends.Backend, error) {
		// Never download plugins: these machines cannot reach GitHub, and the
		// CPU plugin is installed by predictor/pjrt/install.sh. A plugin is
		// found as pjrt_c_api_<plugin>_plugin.so under PJRT_PLUGIN_LIBRARY_PATH.
		xla.EnableAutoInstall(false)
		return xla.New(plugin)
	}
}
