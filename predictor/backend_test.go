package predictor

import (
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
)

// testShape is the conv+LSTM size the issue measures: 3x1 kernel, 8
// channels, LSTM 64, T=32, 4 features, 20 services.
var testShape = Shape{Services: 20, Features: 4, Window: 32, Kernel: 3, Channels: 8, Hidden: 64}

func randomInput(s Shape, batch int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, batch*s.Steps()*s.Services*s.Kernel*s.Features)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// requireXLA skips unless the CPU PJRT plugin is installed, or fails when
// SEER_REQUIRE_XLA=1 (make test after predictor/pjrt/install.sh).
func requireXLA(t testing.TB) {
	t.Helper()
	if _, _, err := OpenBackend(BackendXLA); err != nil {
		if os.Getenv("SEER_REQUIRE_XLA") == "1" {
			t.Fatalf("SEER_REQUIRE_XLA=1 but: %v", err)
		}
		t.Skipf("no XLA backend (run predictor/pjrt/install.sh and set PJRT_PLUGIN_LIBRARY_PATH): %v", err)
	}
}

// TestBackendsAgree runs the same conv+LSTM graph on XLA (the CPU PJRT
// plugin) and on simplego and compares the probabilities.
func TestBackendsAgree(t *testing.T) {
	requireXLA(t)
	p, err := NewParams(testShape, 7)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 3
	x := randomInput(testShape, batch, 11)
	var got [2][]float32
	for i, name := range []string{BackendXLA, BackendSimpleGo} {
		b, _, err := OpenBackend(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRunner(b, p)
		if err != nil {
			t.Fatal(err)
		}
		got[i], err = r.Predict(x, batch)
		r.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if len(got[0]) != batch*testShape.Outputs() {
		t.Fatalf("xla returned %d values, want %d", len(got[0]), batch*testShape.Outputs())
	}
	for i := range got[0] {
		if d := math.Abs(float64(got[0][i] - got[1][i])); d > 1e-4 || math.IsNaN(float64(got[0][i])) {
			t.Fatalf("output %d: xla %v simplego %v", i, got[0][i], got[1][i])
		}
	}
}

// TestXLAOneCPUDevice: the CPU plugin is opened with one device, so a
// window runs on one thread (cpuPluginOptions); the plugin's default of 4
// fanned every op out to 4 threads, and the one-core p99 at 500 services
// was 1.6x what it is now.
func TestXLAOneCPUDevice(t *testing.T) {
	requireXLA(t)
	b, _, err := OpenBackend(BackendXLA)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.NumDevices(); n != 1 {
		t.Errorf("CPU plugin opened with %d devices, want 1 (%s)", n, b.Description())
	}
}

// TestOpenBackendNames: a named PJRT plugin that is not installed is a
// clear error, not a fallback; malformed names are refused.
func TestOpenBackendNames(t *testing.T) {
	if _, _, err := OpenBackend(BackendXLAPrefix + "nosuchplugin"); err == nil {
		t.Error("xla:nosuchplugin opened")
	} else if !strings.Contains(err.Error(), "nosuchplugin") {
		t.Errorf("error does not name the plugin: %v", err)
	}
	for _, name := range []string{"xla:", "tpu", "XLA"} {
		if _, _, err := OpenBackend(name); err == nil || !strings.Contains(err.Error(), "unknown backend") {
			t.Errorf("%q: %v, want an unknown-backend error", name, err)
		}
	}
}
