package idl

import (
	"testing"

	"github.com/seer-qos/seer/internal/thriftgentest"
)

// TestGeneratedCodeMatchesIDL fails when idl/seerthrift is not what
// seer.thrift generates (`make generate`).
func TestGeneratedCodeMatchesIDL(t *testing.T) {
	thriftgentest.Check(t, "seer.thrift", "github.com/seer-qos/seer/idl/", "seerthrift")
}
