package seerpredictorextension

import (
	"path/filepath"
	"testing"

	"go.uber.org/zap"
)

// TestPredictionsFileErrorsCounted: a tick the file cannot take is counted,
// and still served from memory.
func TestPredictionsFileErrorsCounted(t *testing.T) {
	o := newPredictionsOut(4)
	if err := o.openFile(filepath.Join(t.TempDir(), "p.jsonl")); err != nil {
		t.Fatal(err)
	}
	o.add(Prediction{StartNs: 1}, zap.NewNop())
	if n := o.fileErrors(); n != 0 {
		t.Fatalf("%d write errors on a good file", n)
	}
	_ = o.f.Close() // the disk goes away under the writer
	o.add(Prediction{StartNs: 2}, zap.NewNop())
	if n := o.fileErrors(); n != 1 {
		t.Errorf("write errors = %d, want 1", n)
	}
	if recent, last := o.snapshot(); len(recent) != 2 || last.StartNs != 2 {
		t.Errorf("served %d predictions, last %+v; want 2, the second", len(recent), last)
	}
}
