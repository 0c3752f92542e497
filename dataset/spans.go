package dataset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

// MaxSpanFrame bounds one spans.otlp frame (64 MiB).
const MaxSpanFrame = 64 << 20

// SpanWriter appends frames to spans.otlp: each frame is a uint32
// little-endian length followed by that many bytes of an OTLP
// ExportTraceServiceRequest (protobuf), the encoding of ptrace.Traces.
type SpanWriter struct {
	f     *os.File
	w     *bufio.Writer
	m     ptrace.ProtoMarshaler
	spans int64
	hdr   [4]byte
}

func newSpanWriter(f *os.File) *SpanWriter {
	return &SpanWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}
}

// Write appends td as one frame.
func (s *SpanWriter) Write(td ptrace.Traces) error {
	b, err := s.m.MarshalTraces(td)
	if err != nil {
		return fmt.Errorf("encode spans: %w", err)
	}
	if len(b) > MaxSpanFrame {
		return fmt.Errorf("encode spans: frame of %d bytes is over the %d limit; write smaller batches", len(b), MaxSpanFrame)
	}
	binary.LittleEndian.PutUint32(s.hdr[:], uint32(len(b)))
	if _, err := s.w.Write(s.hdr[:]); err != nil {
		return fmt.Errorf("write spans: %w", err)
	}
	if _, err := s.w.Write(b); err != nil {
		return fmt.Errorf("write spans: %w", err)
	}
	s.spans += int64(td.SpanCount())
	return nil
}

func (s *SpanWriter) close() (int64, error) {
	err := errors.Join(s.w.Flush(), s.f.Close())
	if err != nil {
		return s.spans, fmt.Errorf("close spans: %w", err)
	}
	return s.spans, nil
}

// DecodeSpanFrames reads spans.otlp frames from r and calls fn for each.
func DecodeSpanFrames(r io.Reader, fn func(ptrace.Traces) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var hdr [4]byte
	var um ptrace.ProtoUnmarshaler
	for i := 0; ; i++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("spans frame %d: %w", i, err)
		}
		n := binary.LittleEndian.Uint32(hdr[:])
		if n > MaxSpanFrame {
			return fmt.Errorf("spans frame %d: length %d over the %d limit", i, n, MaxSpanFrame)
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return fmt.Errorf("spans frame %d: %w", i, err)
		}
		td, err := um.UnmarshalTraces(b)
		if err != nil {
			return fmt.Errorf("spans frame %d: %w", i, err)
		}
		if err := fn(td); err != nil {
			return err
		}
	}
}

// Spans calls fn for each frame of spans.otlp; it does nothing when the
// dataset has no spans.
func (d *Dataset) Spans(fn func(ptrace.Traces) error) error {
	if d.Manifest.Files.Spans == "" {
		return nil
	}
	f, err := os.Open(filepath.Join(d.Dir, d.Manifest.Files.Spans))
	if err != nil {
		return fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	defer f.Close()
	var n int64
	if err := DecodeSpanFrames(f, func(td ptrace.Traces) error {
		n += int64(td.SpanCount())
		return fn(td)
	}); err != nil {
		return fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	// As for series.bin: a file cut between two frames would read as whole.
	if c := d.Manifest.Counts.Spans; c > 0 && n != c {
		return fmt.Errorf("dataset %s: spans.otlp holds %d spans, the manifest counts %d: the file was cut short or changed", d.Dir, n, c)
	}
	return nil
}
