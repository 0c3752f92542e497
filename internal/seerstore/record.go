package seerstore

import (
	"encoding/binary"
	"errors"
)

// recordVersion is the first byte of every span record.
const recordVersion = 1

// EncodeRecord encodes a span as the stores keep it: ids, typed fields and strings, and Raw only
// when withRaw (the time-range tables keep the training fields only). DecodeRecord reverses it.
func EncodeRecord(s *Span, withRaw bool) []byte {
	b := make([]byte, 0, 128+len(s.Raw))
	b = append(b, recordVersion)
	b = append(b, s.TraceID[:]...)
	b = append(b, s.SpanID[:]...)
	b = append(b, s.ParentSpanID[:]...)
	b = append(b, byte(s.Kind), byte(s.StatusCode))
	for _, v := range []int64{s.StartNs, s.EndNs, s.ServerReceiveNs, s.AppReceiveNs, s.ProcessingStartNs,
		s.ProcessingEndNs, s.ClientSendNs, s.ClientReceiveNs, s.OutstandingRequests, s.NICQueueDepth} {
		b = binary.AppendVarint(b, v)
	}
	for _, str := range []string{s.Service, s.Instance, s.Name, s.StatusMessage, s.PeerService, s.RPCMethod} {
		b = binary.AppendUvarint(b, uint64(len(str)))
		b = append(b, str...)
	}
	raw := s.Raw
	if !withRaw {
		raw = nil
	}
	b = binary.AppendUvarint(b, uint64(len(raw)))
	return append(b, raw...)
}

// ErrCorruptRecord is returned by DecodeRecord for bytes that are not a span record.
var ErrCorruptRecord = errors.New("corrupt span record")

// DecodeRecord decodes a record of EncodeRecord. It fails, never panics, on corrupt input.
func DecodeRecord(b []byte) (Span, error) {
	var s Span
	if len(b) < 1+16+8+8+2 || b[0] != recordVersion {
		return s, ErrCorruptRecord
	}
	b = b[1:]
	copy(s.TraceID[:], b[:16])
	copy(s.SpanID[:], b[16:24])
	copy(s.ParentSpanID[:], b[24:32])
	s.Kind, s.StatusCode = int8(b[32]), int8(b[33])
	b = b[34:]
	for _, p := range []*int64{&s.StartNs, &s.EndNs, &s.ServerReceiveNs, &s.AppReceiveNs, &s.ProcessingStartNs,
		&s.ProcessingEndNs, &s.ClientSendNs, &s.ClientReceiveNs, &s.OutstandingRequests, &s.NICQueueDepth} {
		v, n := binary.Varint(b)
		if n <= 0 {
			return s, ErrCorruptRecord
		}
		*p, b = v, b[n:]
	}
	for _, p := range []*string{&s.Service, &s.Instance, &s.Name, &s.StatusMessage, &s.PeerService, &s.RPCMethod} {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return s, ErrCorruptRecord
		}
		*p, b = string(b[n:n+int(l)]), b[n+int(l):]
	}
	l, n := binary.Uvarint(b)
	if n <= 0 || l != uint64(len(b)-n) {
		return s, ErrCorruptRecord
	}
	if l > 0 {
		s.Raw = append([]byte(nil), b[n:]...)
	}
	return s, nil
}
