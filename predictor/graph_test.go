package predictor

import (
	"fmt"
	"math"
	"testing"

	"github.com/gomlx/gomlx/pkg/core/graph"
	"github.com/gomlx/gomlx/pkg/core/tensors"
)

// TestFusedForwardAgrees checks that the inference form of the network
// (fused products) computes what the training form does, for one network
// and an ensemble, with a batch of more than one window (the fused form
// reorders rows step-major).
func TestFusedForwardAgrees(t *testing.T) {
	for _, members := range []int{0, 3} {
		s := Shape{Services: 5, Features: 2, Window: 7, Kernel: 3, Channels: 3, Hidden: 4, Members: members}
		p, err := NewParams(s, 11)
		if err != nil {
			t.Fatal(err)
		}
		const batch = 3
		wide := s
		wide.Features *= 3 // randomInput's layout with the widened width: own, callees', callers' slices
		x := randomInput(wide, batch, 5)
		for _, name := range []string{BackendSimpleGo, BackendXLA} {
			t.Run(fmt.Sprintf("%s/members=%d", name, members), func(t *testing.T) {
				if name == BackendXLA {
					requireXLA(t)
				}
				b, _, err := OpenBackend(name)
				if err != nil {
					t.Fatal(err)
				}
				exec, err := graph.NewExec(b, func(in []*graph.Node) []*graph.Node {
					c1, v1 := ensembleGraph(s, in[0], in[1:], true)
					c2, v2 := ensembleGraph(s, in[0], in[1:], false)
					return []*graph.Node{c1, v1, c2, v2}
				})
				if err != nil {
					t.Fatal(err)
				}
				defer exec.Finalize()
				args := append([]any{tensors.FromFlatDataAndDimensions(x, s.inputShape(batch).Dimensions...)}, weightTensors(p)...)
				out, err := exec.Exec(args...)
				if err != nil {
					t.Fatal(err)
				}
				defer finalize(out)
				for k, what := range []string{"culprit", "violation"} {
					fused, err := tensors.CopyFlatData[float32](out[k])
					if err != nil {
						t.Fatal(err)
					}
					plain, err := tensors.CopyFlatData[float32](out[k+2])
					if err != nil {
						t.Fatal(err)
					}
					for i := range plain {
						if math.Abs(float64(fused[i]-plain[i])) > 1e-5 {
							t.Fatalf("%s logit %d: fused %v, training form %v", what, i, fused[i], plain[i])
						}
					}
				}
			})
		}
	}
}
