package threeservices

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeMatchesIDL fails when demothrift is not what Debian's
// thrift compiler generates from demo.thrift (gofmt'ed).
func TestGeneratedCodeMatchesIDL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the thrift compiler")
	}
	compiler, err := exec.LookPath("thrift")
	if err != nil {
		t.Fatal("the thrift compiler is not installed: `make deps` installs Debian's thrift-compiler")
	}
	out := t.TempDir()
	cmd := exec.Command(compiler, "-r", "--gen",
		"go:skip_remote,package_prefix=github.com/seer-qos/seer/examples/threeservices/", "-out", out, "demo.thrift")
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("thrift: %v\n%s", err, log)
	}
	generated, err := filepath.Glob(filepath.Join(out, "demothrift", "*.go"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("thrift wrote no Go files (%v)", err)
	}
	committed, _ := filepath.Glob(filepath.Join("demothrift", "*.go"))
	if len(committed) != len(generated) {
		t.Errorf("demothrift/ has %d files, the compiler writes %d", len(committed), len(generated))
	}
	for _, path := range generated {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := format.Source(raw)
		if err != nil {
			t.Fatalf("gofmt %s: %v", path, err)
		}
		name := filepath.Base(path)
		got, err := os.ReadFile(filepath.Join("demothrift", name))
		if err != nil {
			t.Errorf("demothrift/%s is missing", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("demothrift/%s differs from what demo.thrift generates", name)
		}
	}
}
