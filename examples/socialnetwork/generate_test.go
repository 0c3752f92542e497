package socialnetwork

import (
	"testing"

	"github.com/seer-qos/seer/internal/thriftgentest"
)

// TestGeneratedCodeMatchesIDL fails when socialthrift is not what
// social.thrift generates (`make generate`).
func TestGeneratedCodeMatchesIDL(t *testing.T) {
	thriftgentest.Check(t, "social.thrift", "github.com/seer-qos/seer/examples/socialnetwork/", "socialthrift")
}
