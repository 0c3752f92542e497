package predictor

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gomlx/gomlx/backends"
	"github.com/gomlx/gomlx/backends/simplego"
)

// Backend names accepted by OpenBackend.
const (
	BackendAuto     = "auto"     // XLA if a CPU PJRT plugin loads, else simplego
	BackendXLA      = "xla"      // XLA through the CPU PJRT plugin (cgo)
	BackendSimpleGo = "simplego" // GoMLX's pure-Go backend
	// BackendXLAPrefix followed by a PJRT plugin name ("xla:cuda") runs XLA
	// on that plugin, found as pjrt_c_api_<name>_plugin.so under
	// PJRT_PLUGIN_LIBRARY_PATH: the way to a GPU where one is installed.
	BackendXLAPrefix = "xla:"
)

// BackendInfo says which backend runs the model and, when it is not the one
// asked for, why.
type BackendInfo struct {
	Name     string `json:"name"`
	Fallback string `json:"fallback,omitempty"`
}

// openXLA is set by backend_xla.go in cgo builds; plugin "cpu" is the
// CPU plugin of BackendXLA.
var openXLA func(plugin string) (backends.Backend, error)

// trainsFirst is set by Train before it opens a backend. XLA reads its
// flags once per process, and the CPU plugin's inference flags (cpuXLAFlags)
// change training's rounding (the same seed gave weights up to 0.03 apart
// after one epoch) without making it faster; so a process that trains
// before it opens the plugin keeps XLA's defaults, and `seer train` gives
// the models it gave before those flags.
var trainsFirst atomic.Bool

var (
	backendMu    sync.Mutex
	backendCache = map[string]backends.Backend{}
)

// OpenBackend returns a (shared, cached) GoMLX backend by name. With "auto"
// it tries XLA and falls back to simplego, saying why in the info.
func OpenBackend(name string) (backends.Backend, BackendInfo, error) {
	backendMu.Lock()
	defer backendMu.Unlock()
	switch name {
	case BackendSimpleGo:
		b, err := openBackendLocked(name, "")
		return b, BackendInfo{Name: name}, err
	case BackendXLA:
		b, err := openBackendLocked(name, "cpu")
		return b, BackendInfo{Name: name}, err
	case BackendAuto, "":
		b, err := openBackendLocked(BackendXLA, "cpu")
		if err == nil {
			return b, BackendInfo{Name: BackendXLA}, nil
		}
		g, gerr := openBackendLocked(BackendSimpleGo, "")
		return g, BackendInfo{Name: BackendSimpleGo, Fallback: err.Error()}, gerr
	}
	if plugin, ok := strings.CutPrefix(name, BackendXLAPrefix); ok && plugin != "" {
		b, err := openBackendLocked(name, plugin)
		return b, BackendInfo{Name: name}, err
	}
	return nil, BackendInfo{}, fmt.Errorf("predictor: unknown backend %q (want auto, xla, xla:PLUGIN or simplego)", name)
}

// openBackendLocked opens (once) backend name: simplego, or XLA on a PJRT
// plugin.
func openBackendLocked(name, plugin string) (backends.Backend, error) {
	if b, ok := backendCache[name]; ok {
		return b, nil
	}
	var (
		b   backends.Backend
		err error
	)
	switch name {
	case BackendSimpleGo:
		// ops_sequential: with parallel ops, simplego v0.26 deadlocks on 2 CPUs
		// (parallel node tasks fill the worker pool and DotGeneral waits on it).
		b, err = simplego.New("ops_sequential")
	default: // BackendXLA, or BackendXLAPrefix and a plugin name
		if openXLA == nil {
			return nil, fmt.Errorf("predictor: backend %s: xla not built in (needs cgo, without tag seer_noxla)", name)
		}
		b, err = openXLA(plugin)
	}
	if err != nil {
		return nil, fmt.Errorf("predictor: open backend %s: %w", name, err)
	}
	backendCache[name] = b
	return b, nil
}
