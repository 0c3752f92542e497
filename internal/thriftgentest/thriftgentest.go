// Package thriftgentest checks that committed Go code generated from a Thrift
// IDL is what Debian's thrift compiler generates from it today, the way
// `make generate` runs it (then gofmt).
package thriftgentest

import (
	"bytes"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Check compiles idl (a .thrift file in the test's directory) with
// `thrift -r --gen go:skip_remote,package_prefix=<packagePrefix>` and fails t
// when a file in genDir differs from the gofmt'ed output, or is missing or
// extra. It skips in -short mode, and fails when no compiler is installed.
func Check(t *testing.T, idl, packagePrefix, genDir string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the thrift compiler")
	}
	compiler, err := exec.LookPath("thrift")
	if err != nil {
		t.Fatal("the thrift compiler is not installed: `make deps` installs Debian's thrift-compiler")
	}
	out := t.TempDir()
	cmd := exec.Command(compiler, "-r", "--gen", "go:skip_remote,package_prefix="+packagePrefix, "-out", out, idl)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("thrift %s: %v\n%s", idl, err, log)
	}
	generated, err := filepath.Glob(filepath.Join(out, genDir, "*.go"))
	if err != nil || len(generated) == 0 {
		t.Fatalf("thrift wrote no Go files into %s (%v)", genDir, err)
	}
	committed, _ := filepath.Glob(filepath.Join(genDir, "*.go"))
	if len(committed) != len(generated) {
		t.Errorf("%s/ has %d files, the compiler writes %d: run `make generate`", genDir, len(committed), len(generated))
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
		name := filepath.Join(genDir, filepath.Base(path))
		got, err := os.ReadFile(name)
		if err != nil {
			t.Errorf("%s is missing: run `make generate`", name)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what %s generates: run `make generate`", name, idl)
		}
	}
}
