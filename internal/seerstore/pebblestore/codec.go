package pebblestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/seer-qos/seer/internal/seerstore"
)

const (
	prefixTrace   = 't'
	prefixService = 's'
	prefixSeries  = 'q'
	prefixGraph   = 'g'
	prefixDay     = 'd'
)

// keyPart makes a string safe as a 0-terminated key part.
func keyPart(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

// orderedTime maps a signed time to an unsigned one with the same order.
func orderedTime(ns int64) uint64 { return uint64(ns) ^ (1 << 63) }

func fromOrderedTime(u uint64) int64 { return int64(u ^ (1 << 63)) }

func traceKey(t seerstore.TraceID, s seerstore.SpanID) []byte {
	k := make([]byte, 0, 25)
	k = append(k, prefixTrace)
	k = append(k, t[:]...)
	return append(k, s[:]...)
}

func servicePrefix(service string) []byte {
	k := append([]byte{prefixService}, keyPart(service)...)
	return append(k, 0)
}

func serviceKey(s *seerstore.Span) []byte {
	k := servicePrefix(s.Service)
	k = binary.BigEndian.AppendUint64(k, orderedTime(s.StartNs))
	k = append(k, s.TraceID[:]...)
	return append(k, s.SpanID[:]...)
}

// decodeServiceKey returns the trace and span IDs (seerstore.TraceRow) and
// the start of a service key.
func decodeServiceKey(k []byte) (ids []byte, startNs int64) {
	n := len(k)
	return k[n-24:], fromOrderedTime(binary.BigEndian.Uint64(k[n-32 : n-24]))
}

func seriesPrefix(service string) []byte {
	k := append([]byte{prefixSeries}, keyPart(service)...)
	return append(k, 0)
}

func seriesKey(p *seerstore.SeriesPoint) []byte {
	k := seriesPrefix(p.Service)
	k = binary.BigEndian.AppendUint64(k, orderedTime(p.TsNs))
	k = append(k, keyPart(p.Instance)...)
	k = append(k, 0)
	return append(k, keyPart(p.Metric)...)
}

// decodeSeriesKey returns the time, instance and metric of a series key under prefix.
func decodeSeriesKey(prefix, k []byte) (ts int64, instance, metric string, err error) {
	rest := k[len(prefix):]
	if len(rest) < 9 {
		return 0, "", "", fmt.Errorf("series key of %d bytes", len(k))
	}
	ts = fromOrderedTime(binary.BigEndian.Uint64(rest))
	instance, metric, ok := strings.Cut(string(rest[8:]), "\x00")
	if !ok {
		return 0, "", "", errors.New("series key without a metric")
	}
	return ts, instance, metric, nil
}

func graphKey(ts, version int64) []byte {
	k := []byte{prefixGraph}
	k = binary.BigEndian.AppendUint64(k, orderedTime(ts))
	return binary.BigEndian.AppendUint64(k, orderedTime(version))
}

func dayKey(day int64, service string) []byte {
	k := []byte{prefixDay}
	k = binary.BigEndian.AppendUint64(k, orderedTime(day))
	return append(k, keyPart(service)...)
}

func timeBound(prefix []byte, ns int64) []byte {
	k := append([]byte(nil), prefix...)
	return binary.BigEndian.AppendUint64(k, orderedTime(ns))
}

func encodeFloat(v float64) []byte { return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)) }

func decodeFloat(b []byte) (float64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("series value of %d bytes", len(b))
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
}

// prefixEnd returns the smallest key greater than every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}
