package socialnetwork

import (
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/examples/internal/thriftpool"
)

// connPool is a pool of Thrift connections to one service.
type connPool[C any] = thriftpool.Pool[C]

// callTimeout bounds each read and write of a call, and connecting.
const callTimeout = 5 * time.Second

func newConnPool[C any](addr string, newClient func(thrift.TClient) C, mw ...thrift.ClientMiddleware) *connPool[C] {
	return thriftpool.New(addr, newClient, callTimeout, mw...)
}
