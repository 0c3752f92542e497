// Package thriftpool is the connection pool the example applications use to
// call each other over Thrift with THeader (which carries the traceparent).
package thriftpool

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/instrumentation/thrifttracing"
)

// Pool hands out connections to one service. A Thrift client carries one
// call at a time, so each call borrows a connection; the pool grows to the
// calls' concurrency.
type Pool[C any] struct {
	addr      string
	newClient func(thrift.TClient) C
	conf      *thrift.TConfiguration
	mw        []thrift.ClientMiddleware

	mu     sync.Mutex
	idle   []*conn[C]
	closed bool
}

type conn[C any] struct {
	trans  thrift.TTransport
	client C
}

// ErrClosed is returned by Call after Close.
var ErrClosed = errors.New("connection pool closed")

// New returns a pool of clients of the service at addr, made by newClient
// around a THeader client wrapped in mw. timeout bounds connecting and each
// read and write of a call (0: none): Thrift's sockets ignore the context's
// deadline, so the socket timeout is what ends a call to a stuck server.
func New[C any](addr string, newClient func(thrift.TClient) C, timeout time.Duration, mw ...thrift.ClientMiddleware) *Pool[C] {
	return &Pool[C]{
		addr:      addr,
		newClient: newClient,
		conf:      &thrift.TConfiguration{ConnectTimeout: timeout, SocketTimeout: timeout},
		mw:        mw,
	}
}

func (p *Pool[C]) get() (*conn[C], error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if n := len(p.idle); n > 0 {
		c := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return c, nil
	}
	p.mu.Unlock()

	sock := thrift.NewTSocketConf(p.addr, p.conf)
	if err := sock.Open(); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.addr, err)
	}
	// The instrumentation's HeaderProtocol speaks standard THeader without
	// thrift's per-call allocations.
	proto := thrifttracing.NewHeaderProtocol(sock, p.conf)
	tc := thrift.WrapClient(thrift.NewTStandardClient(proto, proto), p.mw...)
	return &conn[C]{trans: proto.Transport(), client: p.newClient(tc)}, nil
}

// put returns c after a call that ended with err. A connection whose call
// failed below the application (transport or protocol error) may be out of
// step with the server, so it is closed instead of reused.
func (p *Pool[C]) put(c *conn[C], err error) {
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

// Call runs f on a borrowed connection.
func (p *Pool[C]) Call(f func(C) error) error {
	c, err := p.get()
	if err != nil {
		return err
	}
	err = f(c.client)
	p.put(c, err)
	return err
}

// Close closes the idle connections now and the borrowed ones when they come
// back.
func (p *Pool[C]) Close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, c := range idle {
		_ = c.trans.Close()
	}
}
