package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apache/thrift/lib/go/thrift"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/otel/propagation"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// submitBatchMethod is the Thrift name of Collector.submitBatch.
const submitBatchMethod = "submitBatch"

// readAhead is how far past a message the THeader transport's buffered
// reader may read (bufio's default size).
const readAhead = 4096

// keepFrameBuffer is the largest frame buffer a connection keeps between
// messages.
const keepFrameBuffer = 256 << 10

// errConnDone ends a connection without counting an error: the peer closed
// it between messages.
var errConnDone = errors.New("connection closed by peer")

// tcpServer accepts framed Thrift connections and serves each in its own
// goroutine. It is its own accept loop, rather than thrift.TSimpleServer, so
// that every bad frame is counted and only its connection is closed.
type tcpServer struct {
	ln     net.Listener
	t      *transport
	next   consumer.Traces
	logger *zap.Logger
	tconf  *thrift.TConfiguration
	// budget bounds the bytes read from the socket for one message.
	budget int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
	done   chan struct{}
}

func newTCPServer(ln net.Listener, cfg *TCPConfig, t *transport, next consumer.Traces, logger *zap.Logger) *tcpServer {
	limit := int32(cfg.MaxFrameSize)
	return &tcpServer{
		ln:     ln,
		t:      t,
		next:   next,
		logger: logger,
		tconf: &thrift.TConfiguration{
			MaxFrameSize:   limit,
			MaxMessageSize: limit,
			// A container cannot have more elements than its frame has bytes.
			MaxContainerSize: limit,
			SocketTimeout:    cfg.IdleTimeout,
		},
		budget: int64(cfg.MaxFrameSize) + 4 + readAhead,
		conns:  map[net.Conn]struct{}{},
		done:   make(chan struct{}),
	}
}

// serve accepts connections until close is called.
func (s *tcpServer) serve() {
	defer s.wg.Wait()
	var backoff time.Duration
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait a little, as
			// net/http does, rather than spin.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.logger.Warn("Accepting a Thrift connection failed; retrying", zap.Error(err), zap.Duration("backoff", backoff))
			select {
			case <-time.After(backoff):
			case <-s.done:
				return
			}
			continue
		}
		backoff = 0
		if !s.track(conn) {
			_ = conn.Close()
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.untrack(conn)
			s.serveConn(conn)
		}()
	}
}

func (s *tcpServer) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	return true
}

func (s *tcpServer) untrack(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, conn)
}

// close stops accepting and closes every open connection; serve returns
// once their goroutines are done.
func (s *tcpServer) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	err := s.ln.Close()
	for conn := range s.conns {
		_ = conn.Close()
	}
	s.mu.Unlock()
	return err
}

// budgetTransport is the socket under the THeader transport. It fails a
// read that takes one message past its byte budget: framed clients are
// bounded by max_frame_size already, this bounds unframed ones too.
type budgetTransport struct {
	*thrift.TSocket
	read, budget int64
}

// Read reads from the socket within the budget.
func (b *budgetTransport) Read(p []byte) (int, error) {
	if b.read >= b.budget {
		return 0, thrift.NewTProtocolExceptionWithType(thrift.SIZE_LIMIT,
			fmt.Errorf("%w (%d bytes read)", errFrameTooLarge, b.read))
	}
	if left := b.budget - b.read; int64(len(p)) > left {
		p = p[:left]
	}
	n, err := b.TSocket.Read(p)
	b.read += int64(n)
	return n, err
}

// tcpConn is the state of one connection.
type tcpConn struct {
	sock  *budgetTransport
	trans *thrift.THeaderTransport
	proto *thrift.THeaderProtocol
	// frame holds the payload of the current frame; binary and compact
	// read it. Decoding a frame on its own makes a message cut short
	// inside its frame fail, where reading on through the THeader
	// transport would wait for the next frame.
	frame *bytes.Buffer
	wire  *bytesWire
}

// errFrameTooLarge marks a message larger than max_frame_size.
var errFrameTooLarge = errors.New("message larger than max_frame_size")

// serveConn serves the messages of one connection until it fails or ends.
func (s *tcpServer) serveConn(conn net.Conn) {
	c := &tcpConn{
		sock:  &budgetTransport{TSocket: thrift.NewTSocketFromConnConf(conn, s.tconf), budget: s.budget},
		frame: bytes.NewBuffer(make([]byte, 0, readAhead)),
		wire:  newBytesWire(false),
	}
	c.trans = thrift.NewTHeaderTransportConf(c.sock, s.tconf)
	c.proto = thrift.NewTHeaderProtocolConf(c.trans, s.tconf)
	defer c.trans.Close()

	ctx := client.NewContext(context.Background(), client.Info{Addr: conn.RemoteAddr()})
	for {
		c.sock.read = 0
		err := s.serveMessage(ctx, c)
		if c.frame.Cap() > keepFrameBuffer {
			// Do not keep a rare huge frame's buffer for the life of
			// the connection.
			c.frame = bytes.NewBuffer(make([]byte, 0, readAhead))
		}
		if err == nil {
			continue
		}
		if !errors.Is(err, errConnDone) {
			s.logger.Warn("Closing Thrift connection after a bad request",
				zap.Stringer("remote", conn.RemoteAddr()), zap.Error(err))
		}
		return
	}
}

// body returns the protocol to read the rest of the current message with:
// the frame's payload, read whole, or the stream itself for unframed
// clients and compressed THeader frames, whose size is not known.
func (s *tcpServer) body(ctx context.Context, c *tcpConn) (wire, error) {
	rem := c.trans.RemainingBytes()
	if rem == thrift.UnknownRemainingBytes {
		return protoWire{ctx: ctx, p: c.proto}, nil
	}
	c.frame.Reset()
	if _, err := io.CopyN(c.frame, c.trans, int64(rem)); err != nil {
		return nil, fmt.Errorf("%w: reading frame: %w", errMalformed, err)
	}
	c.wire.compact = c.trans.Protocol() == thrift.THeaderProtocolCompact
	c.wire.reset(c.frame.Bytes())
	return c.wire, nil
}

// isEOF says whether err is the peer closing the connection.
func isEOF(err error) bool {
	if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var te thrift.TTransportException
	return errors.As(err, &te) && te.TypeId() == thrift.END_OF_FILE
}

// isTimeout says whether err is a read deadline (idle_timeout) expiring.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// isTooLarge says whether err is a frame or message over max_frame_size.
func isTooLarge(err error) bool {
	if errors.Is(err, errFrameTooLarge) {
		return true
	}
	// The THeader transport refuses a frame header over the limit.
	var pe thrift.TProtocolException
	return errors.As(err, &pe) && pe.TypeId() == thrift.SIZE_LIMIT && strings.Contains(pe.Error(), "frame too large")
}

var traceContext = propagation.TraceContext{}

// serveMessage reads one message and answers it. A nil error means the
// connection can go on; any other error closes it.
func (s *tcpServer) serveMessage(ctx context.Context, c *tcpConn) error {
	proto := c.proto
	name, typ, seq, err := proto.ReadMessageBegin(ctx)
	if err != nil {
		if isEOF(err) && c.sock.read == 0 {
			return errConnDone // closed between messages
		}
		if isTimeout(err) && c.sock.read == 0 {
			// Idle between messages: not an error of the peer.
			return fmt.Errorf("%w: idle for idle_timeout", errConnDone)
		}
		if isTooLarge(err) {
			s.t.malformed(ctx, reasonTooLarge)
		} else {
			s.t.malformed(ctx, reasonDecode)
		}
		return fmt.Errorf("reading thrift message header: %w", err)
	}
	body, err := s.body(ctx, c)
	if err != nil {
		s.t.malformed(ctx, reasonDecode)
		return err
	}
	if h := proto.GetReadHeaders(); len(h) > 0 {
		ctx = traceContext.Extract(ctx, propagation.MapCarrier(h))
	}

	if typ != thrift.CALL && typ != thrift.ONEWAY {
		s.t.malformed(ctx, reasonDecode)
		err := fmt.Errorf("unexpected thrift message type %d for %q", typ, name)
		_ = s.writeException(ctx, proto, name, seq, thrift.INVALID_MESSAGE_TYPE_EXCEPTION, err)
		return err
	}
	if name != submitBatchMethod {
		s.t.malformed(ctx, reasonUnknownMethod)
		if err := body.skip(thrift.STRUCT); err != nil {
			return fmt.Errorf("skipping arguments of unknown method %q: %w", name, err)
		}
		if err := endMessage(ctx, c, body); err != nil {
			return fmt.Errorf("reading end of unknown method %q: %w", name, err)
		}
		if typ == thrift.CALL {
			return s.writeException(ctx, proto, name, seq, thrift.UNKNOWN_METHOD, fmt.Errorf("unknown method %q", name))
		}
		return nil
	}

	n, err := s.t.receive(ctx, s.next, func(td ptrace.Traces) (batchMeta, error) {
		meta, err := decodeSubmitArgs(body, td)
		if errors.Is(err, errMalformed) {
			return meta, err
		}
		if endErr := endMessage(ctx, c, body); endErr != nil {
			return meta, endErr
		}
		return meta, err
	})
	if errors.Is(err, errMalformed) {
		// The stream position is lost: answer if possible, then close.
		_ = s.writeException(ctx, proto, name, seq, thrift.PROTOCOL_ERROR, err)
		return err
	}
	if typ == thrift.ONEWAY {
		return nil
	}
	res := seerthrift.CollectorSubmitBatchResult{}
	switch {
	case err == nil:
		res.Success = &seerthrift.SubmitResult_{AcceptedSpans: int32(n)}
	case consumererror.IsPermanent(err):
		res.Invalid = &seerthrift.InvalidBatch{Message: err.Error()}
	default:
		ms := s.t.retryAfterMs()
		res.Overloaded = &seerthrift.Overloaded{Message: err.Error(), RetryAfterMs: &ms}
	}
	if err := writeReply(ctx, proto, name, seq, &res); err != nil {
		return fmt.Errorf("writing submitBatch reply: %w", err)
	}
	return nil
}

// endMessage checks the end of a message: nothing may follow it in its
// frame; a stream is asked for its message end.
func endMessage(ctx context.Context, c *tcpConn, body wire) error {
	if body == wire(c.wire) {
		if n := c.wire.remaining(); n > 0 {
			return malformedf("%d bytes after the message in its frame", n)
		}
		return nil
	}
	if err := c.proto.ReadMessageEnd(ctx); err != nil {
		return wrapProto("message end", err)
	}
	return nil
}

func writeReply(ctx context.Context, proto thrift.TProtocol, name string, seq int32, res *seerthrift.CollectorSubmitBatchResult) error {
	if err := proto.WriteMessageBegin(ctx, name, thrift.REPLY, seq); err != nil {
		return err
	}
	if err := res.Write(ctx, proto); err != nil {
		return err
	}
	if err := proto.WriteMessageEnd(ctx); err != nil {
		return err
	}
	return proto.Flush(ctx)
}

// writeException answers a call with a TApplicationException. Errors of
// the write are returned but the connection is closed anyway by callers
// that had a bad frame.
func (s *tcpServer) writeException(ctx context.Context, proto thrift.TProtocol, name string, seq int32, typ int32, cause error) error {
	exc := thrift.NewTApplicationException(typ, cause.Error())
	if err := proto.WriteMessageBegin(ctx, name, thrift.EXCEPTION, seq); err != nil {
		return err
	}
	if err := exc.Write(ctx, proto); err != nil {
		return err
	}
	if err := proto.WriteMessageEnd(ctx); err != nil {
		return err
	}
	return proto.Flush(ctx)
}
