package nezha

import (
	"os"
	"path/filepath"
	"testing"
)

// dataRoot returns the shipped Nezha data: ../shared/datasets/
// nezha-online-boutique beside the repository root (the directory with
// go.mod). It fails the test when the data is absent.
func dataRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found above the test directory")
		}
		dir = parent
	}
	root := filepath.Join(dir, "..", "shared", "datasets", "nezha-online-boutique")
	if _, err := os.Stat(filepath.Join(root, "2022-08-22", FaultListFile)); err != nil {
		t.Fatalf("the Nezha Online Boutique data must be at %s (../shared beside the repository root): %v", root, err)
	}
	return root
}

// day returns one day directory of the shipped data.
func day(t testing.TB, name string) string { return filepath.Join(dataRoot(t), name) }
