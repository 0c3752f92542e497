package threeservices

import (
	"testing"

	"github.com/seer-qos/seer/internal/thriftgentest"
)

// TestGeneratedCodeMatchesIDL fails when demothrift is not what demo.thrift
// generates (`make generate`).
func TestGeneratedCodeMatchesIDL(t *testing.T) {
	thriftgentest.Check(t, "demo.thrift", "github.com/seer-qos/seer/examples/threeservices/", "demothrift")
}
