package main

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// generatedFiles are the sources the Collector Builder writes from manifest.yaml.
var generatedFiles = []string{"components.go", "main.go", "main_others.go", "main_windows.go"}

// TestGeneratedSourcesMatchManifest fails when the committed main of the
// distribution no longer is what manifest.yaml generates (`make generate`).
func TestGeneratedSourcesMatchManifest(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Collector Builder")
	}
	manifest, err := os.ReadFile("manifest.yaml")
	if err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	out := t.TempDir()
	outputPath := regexp.MustCompile(`(?m)^(\s*output_path:).*$`)
	if !outputPath.Match(manifest) {
		t.Fatal("manifest.yaml has no dist.output_path")
	}
	manifest = outputPath.ReplaceAll(manifest, []byte("${1} "+out))
	cfg := filepath.Join(t.TempDir(), "manifest.yaml")
	if err := os.WriteFile(cfg, manifest, 0o600); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command("go", "tool", "builder", "--config", cfg, "--skip-compilation", "--skip-get-modules")
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go tool builder: %v\n%s", err, log)
	}

	for _, name := range generatedFiles {
		raw, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatalf("builder did not write %s: %v", name, err)
		}
		want, err := format.Source(raw)
		if err != nil {
			t.Fatalf("gofmt generated %s: %v", name, err)
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("read committed %s: %v", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what manifest.yaml generates: run `make generate` and commit the result", name)
		}
	}
}
