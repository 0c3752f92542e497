package export

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/seer-qos/seer/idl/seerthrift"
	"github.com/seer-qos/seer/sim"
)

// SeerThrift sends spans as seer.thrift SpanBatches (one per instance) over
// framed compact Thrift TCP, as instrumented services do.
type SeerThrift struct {
	// OmitOutstanding leaves OutstandingRequests unset on SERVER spans, as a
	// service that does not report its queue depth sends them.
	OmitOutstanding bool

	trans   thrift.TTransport
	client  *seerthrift.CollectorClient
	batches map[[2]string]*seerthrift.SpanBatch
	order   [][2]string
	n, max  int
	seq     int64
}

// DialSeerThrift connects to a seerthrift receiver at addr (host:port);
// batchSize spans are buffered before sending.
func DialSeerThrift(addr string, batchSize int) (*SeerThrift, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("dial seerthrift %s: %w", addr, err)
	}
	conf := &thrift.TConfiguration{SocketTimeout: 30 * time.Second}
	trans := thrift.NewTFramedTransportConf(thrift.NewTSocketFromConnConf(nc, conf), conf)
	proto := thrift.NewTCompactProtocolConf(trans, conf)
	if batchSize <= 0 {
		batchSize = 1024
	}
	return &SeerThrift{trans: trans, client: seerthrift.NewCollectorClient(thrift.NewTStandardClient(proto, proto)),
		batches: map[[2]string]*seerthrift.SpanBatch{}, max: batchSize}, nil
}

func id8(x uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, x)
	return b
}

func i64(v int64) *int64 { return &v }

// Span converts and buffers one span.
func (s *SeerThrift) Span(sp *sim.Span) error {
	k := [2]string{sp.Service, sp.Instance}
	b, ok := s.batches[k]
	if !ok {
		b = &seerthrift.SpanBatch{Process: &seerthrift.Process{ServiceName: sp.Service, Instance: sp.Instance}}
		s.batches[k] = b
		s.order = append(s.order, k)
	}
	x := &seerthrift.Span{TraceID: append([]byte(nil), sp.TraceID[:]...), SpanID: id8(sp.SpanID), Operation: sp.Operation, Status: seerthrift.StatusCode_OK}
	if sp.ParentID != 0 {
		x.ParentSpanID = id8(sp.ParentID)
	}
	if sp.Error {
		x.Status = seerthrift.StatusCode_ERROR
	}
	if sp.Kind == sim.KindServer {
		x.Kind = seerthrift.SpanKind_SERVER
		x.ServerReceiveNs, x.AppReceiveNs = i64(sp.Start), i64(sp.Start)
		x.ProcessingStartNs, x.ProcessingEndNs = i64(sp.ProcessingStart), i64(sp.End)
		if !s.OmitOutstanding {
			o := sp.Outstanding
			x.OutstandingRequests = &o
		}
	} else {
		x.Kind = seerthrift.SpanKind_CLIENT
		x.ClientSendNs, x.ClientReceiveNs = i64(sp.Start), i64(sp.End)
		p := sp.Peer
		x.PeerService = &p
	}
	b.Spans = append(b.Spans, x)
	s.n++
	if s.n >= s.max {
		return s.Flush()
	}
	return nil
}

// Flush sends the buffered batches.
func (s *SeerThrift) Flush() error {
	for _, k := range s.order {
		b := s.batches[k]
		if len(b.Spans) == 0 {
			continue
		}
		s.seq++
		seq := s.seq
		b.SeqNo = &seq
		if _, err := s.client.SubmitBatch(context.Background(), b); err != nil {
			return fmt.Errorf("seerthrift submit: %w", err)
		}
		b.Spans = b.Spans[:0]
	}
	s.n = 0
	return nil
}

// Close flushes and closes the connection.
func (s *SeerThrift) Close() error {
	err := s.Flush()
	if cerr := s.trans.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("seerthrift close: %w", cerr)
	}
	return err
}
