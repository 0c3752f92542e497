package socialnetwork

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGeneratedCodeMatchesIDL fails when socialthrift is not what Debian's
// thrift compiler generates from social.thrift (gofmt'ed).
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
		"go:package_prefix=github.com/seer-qos/seer/examples/socialnetwork/,skip_remote", "-out", out, "social.thrift")
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("thrift: %v\n%s", err, log)
	}
	generated, err := filepath.Glob(filepath.Join(out, "socialthrift", "*.go"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("thrift wrote no Go files (%v)", err)
	}
	committed, _ := filepath.Glob(filepath.Join("socialthrift", "*.go"))
	if len(committed) != len(generated) {
		t.Errorf("socialthrift/ has %d files, the compiler writes %d", len(committed), len(generated))
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
		got, err := os.ReadFile(filepath.Join("socialthrift", name))
		if err != nil {
			t.Errorf("socialthrift/%s is missing", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("socialthrift/%s differs from what social.thrift generates", name)
		}
	}
}
