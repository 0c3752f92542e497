package thrifttracing

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
)

// DefaultEndpoint is where the seerthrift receiver listens by default.
const DefaultEndpoint = "localhost:6833"

// Drop reasons, the values of the reason label of
// seer_instrumentation_spans_dropped_total.
const (
	DropBufferFull       = "buffer_full"       // the buffer was full when the span ended
	DropInvalidBatch     = "invalid_batch"     // the collector answered InvalidBatch
	DropRetriesExhausted = "retries_exhausted" // Overloaded or transport errors outlasted the retries
	DropShutdown         = "shutdown"          // Shutdown's deadline passed, or the span ended after Shutdown
)

// ExporterConfig configures an Exporter. Zero fields take the defaults.
type ExporterConfig struct {
	// Endpoint is the host:port of the seerthrift receiver's Thrift TCP
	// listener. Default DefaultEndpoint.
	Endpoint string
	// ServiceName is the service the spans belong to (required).
	ServiceName string
	// Instance identifies the service instance. Default "<host>-<pid>".
	Instance string
	// Host is the host name sent with the spans. Default os.Hostname().
	Host string
	// BufferSize is how many spans wait for export before new ones are
	// dropped, rounded up to a power of two. Default 8192.
	BufferSize int
	// MaxBatchSize is the most spans sent in one batch. Default 512.
	MaxBatchSize int
	// FlushInterval is about the longest a span waits for its batch to
	// fill (at most twice it). Default 1s.
	FlushInterval time.Duration
	// MaxRetries is how many times a batch is retried after Overloaded or a
	// transport error before it is dropped. Default 5; negative means none.
	MaxRetries int
	// InitialBackoff is the first wait before a retry; it doubles up to
	// MaxBackoff. A collector's RetryAfterMs hint lengthens the wait, but
	// never beyond MaxBackoff. Defaults 100ms and 5s.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// DialTimeout bounds connecting to the collector; IOTimeout bounds each
	// read and write on the connection. Defaults 2s and 10s.
	DialTimeout time.Duration
	IOTimeout   time.Duration

	// OnDrop, if set, is called on the export goroutine with the reason
	// whenever a batch is dropped (it must not block): the metrics count
	// drops, this says why.
	OnDrop func(err error)

	// sleep waits between retries; tests replace it to observe the waits.
	sleep func(ctx context.Context, d time.Duration) error
}

func (c *ExporterConfig) setDefaults() error {
	if c.ServiceName == "" {
		return errors.New("span exporter: ServiceName is required")
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.Host == "" {
		c.Host, _ = os.Hostname()
	}
	if c.Instance == "" {
		c.Instance = fmt.Sprintf("%s-%d", c.Host, os.Getpid())
	}
	if c.BufferSize <= 0 {
		c.BufferSize = 8192
	}
	if c.MaxBatchSize <= 0 {
		c.MaxBatchSize = 512
	}
	if c.FlushInterval <= 0 {
		c.FlushInterval = time.Second
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = 5
	} else if c.MaxRetries < 0 {
		c.MaxRetries = 0
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
	if c.MaxBackoff < c.InitialBackoff {
		c.MaxBackoff = c.InitialBackoff
	}
	if c.DialTimeout <= 0 {
		c.DialTimeout = 2 * time.Second
	}
	if c.IOTimeout <= 0 {
		c.IOTimeout = 10 * time.Second
	}
	if c.sleep == nil {
		c.sleep = sleepCtx
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ErrExporterShutdown is returned by ForceFlush after Shutdown.
var ErrExporterShutdown = errors.New("span exporter is shut down")

// Exporter is a SpanSink that sends spans to the seerthrift receiver in
// SpanBatches over framed compact Thrift. Record never blocks: spans go to a
// bounded buffer, and one goroutine batches, sends, retries and reconnects.
// Every dropped span is counted, by reason, in the Prometheus metrics (the
// Exporter is a prometheus.Collector) and in the next batch's dropped_spans.
type Exporter struct {
	cfg     ExporterConfig
	process *seerthrift.Process
	buf     *spanRing
	// wake, signaled and wakeAt: see Record.
	wake     chan struct{}
	signaled atomic.Bool
	wakeAt   int
	flushCh  chan chan error
	stop     chan struct{}
	done     chan struct{}
	closed   atomic.Bool
	once     sync.Once
	// runCtx is cancelled when Shutdown gives up; it aborts backoff waits,
	// dials and, by closing the socket, reads and writes.
	runCtx    context.Context
	runCancel context.CancelFunc

	dropped      [4]atomic.Int64 // by dropReasons index
	exported     atomic.Int64
	batches      atomic.Int64
	retriesOver  atomic.Int64
	retriesTrans atomic.Int64
	connects     atomic.Int64

	// Owned by the export goroutine.
	seq             int64
	droppedReported int64
	conn            *collectorConn
	processBytes    []byte // the Process struct, compact-encoded once
	args            rawArgs
	metrics         exporterMetrics
}

var dropReasons = [4]string{DropBufferFull, DropInvalidBatch, DropRetriesExhausted, DropShutdown}

const (
	dropIdxBufferFull = iota
	dropIdxInvalid
	dropIdxRetries
	dropIdxShutdown
)

// NewExporter starts an Exporter. It connects lazily, on the first batch, so
// the collector need not be up yet.
func NewExporter(cfg ExporterConfig) (*Exporter, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	e := &Exporter{
		cfg: cfg,
		process: &seerthrift.Process{
			ServiceName: cfg.ServiceName,
			Instance:    cfg.Instance,
			Host:        &cfg.Host,
		},
		buf:     newSpanRing(cfg.BufferSize),
		wake:    make(chan struct{}, 1),
		flushCh: make(chan chan error),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	e.wakeAt = max(1, min(cfg.MaxBatchSize, e.buf.cap()/2))
	e.processBytes = encodeProcess(e.process)
	e.runCtx, e.runCancel = context.WithCancel(context.Background())
	e.metrics = newExporterMetrics(cfg.ServiceName, cfg.Instance)
	go e.run()
	return e, nil
}

// Record enqueues a copy of s for export, or drops and counts it if the
// buffer is full or the Exporter is shut down. It never blocks.
func (e *Exporter) Record(s *SpanData) {
	if e.closed.Load() {
		e.dropped[dropIdxShutdown].Add(1)
		return
	}
	fill, ok := e.buf.push(s)
	if !ok {
		e.dropped[dropIdxBufferFull].Add(1)
		return
	}
	// Wake the export goroutine once a full batch is waiting, once: the
	// flag keeps the RPC path off the channel until the goroutine collects.
	if fill >= e.wakeAt && !e.signaled.Load() && e.signaled.CompareAndSwap(false, true) {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

// Dropped returns how many spans were dropped for reason (one of the Drop
// constants).
func (e *Exporter) Dropped(reason string) int64 {
	for i, r := range dropReasons {
		if r == reason {
			return e.dropped[i].Load()
		}
	}
	return 0
}

// Exported returns how many spans the collector accepted.
func (e *Exporter) Exported() int64 { return e.exported.Load() }

func (e *Exporter) totalDropped() int64 {
	var n int64
	for i := range e.dropped {
		n += e.dropped[i].Load()
	}
	return n
}

// ForceFlush sends every span recorded before the call and waits until they
// are sent or dropped; the error says why the last batch failed, if it did.
func (e *Exporter) ForceFlush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case e.flushCh <- reply:
	case <-e.done:
		return ErrExporterShutdown
	case <-ctx.Done():
		return fmt.Errorf("flush spans: %w", ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("flush spans: %w", ctx.Err())
	}
}

// Shutdown stops accepting spans, sends those buffered and closes the
// connection. If ctx ends first, the rest are dropped (reason "shutdown") and
// ctx's error is returned.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.once.Do(func() {
		e.closed.Store(true)
		close(e.stop)
	})
	var err error
	select {
	case <-e.done:
	case <-ctx.Done():
		e.runCancel()
		<-e.done
		err = fmt.Errorf("shut down span exporter: %w", ctx.Err())
	}
	// A Record that passed the closed check as Shutdown began may have
	// landed after the last drain: count it rather than lose it silently.
	var s SpanData
	for e.buf.pop(&s) {
		e.dropped[dropIdxShutdown].Add(1)
	}
	return err
}

// run is the export goroutine. Record does not wake it for every span,
// which would cost more than recording the span: it wakes when a full batch
// is waiting (Record signals once per batch), every FlushInterval for a
// partial batch, and for ForceFlush and Shutdown.
func (e *Exporter) run() {
	defer close(e.done)
	defer e.runCancel()
	defer e.closeConn()
	ticker := time.NewTicker(e.cfg.FlushInterval)
	defer ticker.Stop()
	batch := make([]SpanData, 0, e.cfg.MaxBatchSize)
	for {
		select {
		case <-e.wake:
			batch = e.collect(batch)
		case <-ticker.C:
			// Spans wait at most about one FlushInterval: the ticker sends
			// what the previous tick, or the last full batch, left.
			batch = e.collect(batch)
			if len(batch) > 0 {
				_ = e.send(batch)
				batch = batch[:0]
			}
		case reply := <-e.flushCh:
			reply <- e.drainAndSend(batch)
			batch = batch[:0]
		case <-e.stop:
			_ = e.drainAndSend(batch)
			return
		}
	}
}

// collect moves buffered spans into batch, sending each batch that fills,
// and returns the partial rest.
func (e *Exporter) collect(batch []SpanData) []SpanData {
	// Re-arm the signal first: spans recorded from now on may signal again.
	e.signaled.Store(false)
	for n := e.buf.len(); n > 0; n-- {
		batch = append(batch, SpanData{})
		if !e.buf.pop(&batch[len(batch)-1]) {
			batch = batch[:len(batch)-1]
			break
		}
		if len(batch) >= e.cfg.MaxBatchSize {
			_ = e.send(batch)
			batch = batch[:0]
		}
	}
	return batch
}

// drainAndSend sends batch plus whatever the buffer holds now.
func (e *Exporter) drainAndSend(batch []SpanData) error {
	var last error
	for n := e.buf.len(); n > 0; n-- {
		batch = append(batch, SpanData{})
		if !e.buf.pop(&batch[len(batch)-1]) {
			batch = batch[:len(batch)-1]
			break
		}
		if len(batch) >= e.cfg.MaxBatchSize {
			if err := e.send(batch); err != nil {
				last = err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := e.send(batch); err != nil {
			last = err
		}
	}
	return last
}

// send delivers one batch (see trySend) and reports a drop to OnDrop.
func (e *Exporter) send(spans []SpanData) error {
	err := e.trySend(spans)
	if err != nil && e.cfg.OnDrop != nil {
		e.cfg.OnDrop(err)
	}
	return err
}

// trySend delivers one batch, retrying Overloaded and transport errors with
// capped exponential backoff, and accounts for the spans either way.
func (e *Exporter) trySend(spans []SpanData) error {
	n := int64(len(spans))
	e.seq++
	reported := e.totalDropped() - e.droppedReported
	e.args.b = appendSubmitArgs(e.args.b[:0], e.processBytes, spans, e.seq, reported)
	backoff := e.cfg.InitialBackoff
	for attempt := 0; ; attempt++ {
		err := e.submit()
		if err == nil {
			e.exported.Add(n)
			e.batches.Add(1)
			e.droppedReported += reported
			return nil
		}
		if e.runCtx.Err() != nil {
			e.dropped[dropIdxShutdown].Add(n)
			return fmt.Errorf("drop %d spans at shutdown: send span batch %d: %w", n, e.seq, err)
		}
		var over *seerthrift.Overloaded
		var invalid *seerthrift.InvalidBatch
		wait := backoff
		switch {
		case errors.As(err, &invalid):
			e.dropped[dropIdxInvalid].Add(n)
			return fmt.Errorf("drop %d spans: collector rejected span batch %d: %w", n, e.seq, err)
		case errors.As(err, &over):
			if hint := time.Duration(over.GetRetryAfterMs()) * time.Millisecond; hint > wait {
				wait = hint
			}
			if attempt < e.cfg.MaxRetries {
				e.retriesOver.Add(1)
			}
		default:
			// The connection may be half-written or desynchronised: start
			// the retry on a fresh one.
			e.closeConn()
			if attempt < e.cfg.MaxRetries {
				e.retriesTrans.Add(1)
			}
		}
		if attempt >= e.cfg.MaxRetries {
			e.dropped[dropIdxRetries].Add(n)
			return fmt.Errorf("drop %d spans: send span batch %d after %d attempts: %w", n, e.seq, attempt+1, err)
		}
		if err := e.cfg.sleep(e.runCtx, min(wait, e.cfg.MaxBackoff)); err != nil {
			e.dropped[dropIdxShutdown].Add(n)
			return fmt.Errorf("drop %d spans at shutdown: retry span batch %d: %w", n, e.seq, err)
		}
		backoff = min(2*backoff, e.cfg.MaxBackoff)
	}
}

func (e *Exporter) submit() error {
	if e.conn == nil {
		c, err := e.dial()
		if err != nil {
			return err
		}
		e.conn = c
	}
	return submitRaw(e.runCtx, e.conn.client, &e.args)
}

// collectorConn is one connection to the collector.
type collectorConn struct {
	nc     net.Conn
	trans  thrift.TTransport
	client thrift.TClient
	// stopAfter unregisters the close-on-shutdown hook.
	stopAfter func() bool
}

func (e *Exporter) dial() (*collectorConn, error) {
	d := net.Dialer{Timeout: e.cfg.DialTimeout}
	nc, err := d.DialContext(e.runCtx, "tcp", e.cfg.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("dial collector %s: %w", e.cfg.Endpoint, err)
	}
	e.connects.Add(1)
	conf := &thrift.TConfiguration{SocketTimeout: e.cfg.IOTimeout}
	trans := thrift.NewTFramedTransportConf(thrift.NewTSocketFromConnConf(nc, conf), conf)
	proto := thrift.NewTCompactProtocolConf(trans, conf)
	return &collectorConn{
		nc:     nc,
		trans:  trans,
		client: thrift.NewTStandardClient(proto, proto),
		// Thrift's socket ignores contexts; closing the conn is what
		// interrupts a blocked read when Shutdown gives up.
		stopAfter: context.AfterFunc(e.runCtx, func() { _ = nc.Close() }),
	}, nil
}

func (e *Exporter) closeConn() {
	if e.conn == nil {
		return
	}
	e.conn.stopAfter()
	_ = e.conn.trans.Close()
	e.conn = nil
}
