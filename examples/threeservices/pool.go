package threeservices

import (
	"errors"
	"fmt"
	"sync"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// connPool hands out connections to one service. A Thrift client carries one
// call at a time, so each call borrows a connection; the pool grows to the
// calls' concurrency.
type connPool[C any] struct {
	addr      string
	newClient func(thrift.TClient) C
	mw        []thrift.ClientMiddleware

	mu     sync.Mutex
	idle   []*pooledConn[C]
	closed bool
}

type pooledConn[C any] struct {
	trans  thrift.TTransport
	client C
}

func newConnPool[C any](addr string, newClient func(thrift.TClient) C, mw ...thrift.ClientMiddleware) *connPool[C] {
	return &connPool[C]{addr: addr, newClient: newClient, mw: mw}
}

var errPoolClosed = errors.New("connection pool closed")

func (p *connPool[C]) get() (*pooledConn[C], error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errPoolClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()

	conf := &thrift.TConfiguration{}
	sock := thrift.NewTSocketConf(p.addr, conf)
	if err := sock.Open(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.addr, err)
	}
	// THeader both ways: it carries the traceparent header. The
	// instrumentation's HeaderProtocol speaks it without thrift's per-call
	// allocations.
	proto := thrifttracing.NewHeaderProtocol(sock, conf)
	tc := thrift.WrapClient(thrift.NewTStandardClient(proto, proto), p.mw...)
	return &pooledConn[C]{trans: proto.Transport(), client: p.newClient(tc)}, nil
}

// put returns c after a call that ended with err. A connection whose call
// failed below the application (transport or protocol error) may be out of
// step with the server, so it is closed instead of reused.
func (p *connPool[C]) put(c *pooledConn[C], err error) {
	broken := err != nil
	var tex thrift.TException
	if errors.As(err, &tex) {
		switch tex.TExceptionType() {
		case thrift.TExceptionTypeApplication, thrift.TExceptionTypeCompiled:
			broken = false // a whole reply was read: the connection is fine
		}
	}
	p.mu.Lock()
	if broken || p.closed {
		p.mu.Unlock()
		_ = c.trans.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// call runs f on a borrowed connection.
func (p *connPool[C]) call(f func(C) error) error {
	c, err := p.get()
	if err != nil {
		return err
	}
	err = f(c.client)
	p.put(c, err)
	return err
}

// close closes the idle connections now and the borrowed ones when they come
// back.
func (p *connPool[C]) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.trans.Close()
	}
}
