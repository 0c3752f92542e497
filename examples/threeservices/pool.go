package threeservices

import (
	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/examples/internal/thriftpool"
)

// connPool is a pool of Thrift connections to one service.
type connPool[C any] = thriftpool.Pool[C]

// newConnPool returns a pool without call timeouts: the tests hold calls
// inside services for as long as they need.
func newConnPool[C any](addr string, newClient func(thrift.TClient) C, mw ...thrift.ClientMiddleware) *connPool[C] {
	return thriftpool.New(addr, newClient, 0, mw...)
}
