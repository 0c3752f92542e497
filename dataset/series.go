package dataset

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

// SeriesMagic opens series.bin.
const SeriesMagic = "SEERSRS\n"

// SeriesHeaderSize is the size of the series.bin header in bytes.
const SeriesHeaderSize = 32

// SeriesFields names the float64 fields of a series record, in order. A
// record is: start_ns int64, series uint32, sources uint32, then these.
var SeriesFields = []string{
	"depth", "mean_depth", "instant_depth", "reported_depth", "nic_depth", "listen_backlog",
	"arrivals", "completions",
	"latency_count", "latency_sum_ns", "latency_min_ns", "latency_max_ns",
	// 1.1
	"network_count", "network_sum_ns", "network_min_ns", "network_max_ns",
	// 1.2
	"calls_failed",
}

// fieldsV10 is the number of fields of version 1.0; a 1.0 file has no
// network fields, which then read as zero (no call measured).
const fieldsV10 = 12

// fieldsV11 is the number of fields of version 1.1; a 1.1 file has no
// calls_failed, which then reads as zero.
const fieldsV11 = 16

// RecordSize is the size of one series record in bytes (this version).
var RecordSize = 16 + 8*len(SeriesFields)

// Record is one tick of one series.
type Record struct {
	// StartNs is the start of the tick, Unix ns of event time.
	StartNs int64
	// Series indexes Manifest.Series.
	Series uint32
	// Sample is the tick; its Key is filled in by Reader from the manifest.
	Sample series.Sample
}

// SeriesEncoder writes series.bin records to a stream.
type SeriesEncoder struct {
	w   *bufio.Writer
	buf []byte
	n   int64
	// last start written, for the ordering check
	last    int64
	started bool
}

// NewSeriesEncoder writes the header and returns an encoder.
func NewSeriesEncoder(w io.Writer, tick time.Duration) (*SeriesEncoder, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	h := make([]byte, SeriesHeaderSize)
	copy(h, SeriesMagic)
	binary.LittleEndian.PutUint16(h[8:], Major)
	binary.LittleEndian.PutUint16(h[10:], Minor)
	binary.LittleEndian.PutUint16(h[12:], uint16(len(SeriesFields)))
	binary.LittleEndian.PutUint16(h[14:], uint16(RecordSize))
	binary.LittleEndian.PutUint64(h[16:], uint64(tick))
	if _, err := bw.Write(h); err != nil {
		return nil, fmt.Errorf("write series header: %w", err)
	}
	return &SeriesEncoder{w: bw, buf: make([]byte, RecordSize)}, nil
}

// Encode appends one record. Records must come in non-decreasing StartNs.
func (e *SeriesEncoder) Encode(r *Record) error {
	if e.started && r.StartNs < e.last {
		return fmt.Errorf("series record at %d after one at %d: records must be in time order", r.StartNs, e.last)
	}
	e.started, e.last = true, r.StartNs
	b := e.buf
	binary.LittleEndian.PutUint64(b[0:], uint64(r.StartNs))
	binary.LittleEndian.PutUint32(b[8:], r.Series)
	binary.LittleEndian.PutUint32(b[12:], uint32(r.Sample.Sources))
	s := &r.Sample
	vals := [...]float64{
		s.Depth, s.MeanDepth, s.InstantDepth, s.ReportedDepth, s.NICDepth, s.ListenBacklog,
		s.Arrivals, s.Completions,
		s.Latency.Count, float64(s.Latency.Sum), float64(s.Latency.Min), float64(s.Latency.Max),
		s.Network.Count, float64(s.Network.Sum), float64(s.Network.Min), float64(s.Network.Max),
		s.Failed,
	}
	for i, v := range vals {
		binary.LittleEndian.PutUint64(b[16+8*i:], math.Float64bits(v))
	}
	if _, err := e.w.Write(b); err != nil {
		return fmt.Errorf("write series record: %w", err)
	}
	e.n++
	return nil
}

// Count returns the records encoded so far.
func (e *SeriesEncoder) Count() int64 { return e.n }

// Flush writes buffered records.
func (e *SeriesEncoder) Flush() error {
	if err := e.w.Flush(); err != nil {
		return fmt.Errorf("flush series: %w", err)
	}
	return nil
}

// SeriesHeader is the decoded series.bin header.
type SeriesHeader struct {
	Major, Minor int
	Fields       int
	RecordSize   int
	Tick         time.Duration
}

// SeriesDecoder reads series.bin records from a stream.
type SeriesDecoder struct {
	r      *bufio.Reader
	h      SeriesHeader
	buf    []byte
	last   int64
	nrec   int64
	maxIdx uint32 // records with Series >= maxIdx are refused; 0: no check
}

// NewSeriesDecoder reads and checks the header. nseries, when positive, is
// the size of the manifest's series table; records pointing past it are
// refused.
func NewSeriesDecoder(r io.Reader, nseries int) (*SeriesDecoder, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	h := make([]byte, SeriesHeaderSize)
	if _, err := io.ReadFull(br, h); err != nil {
		return nil, fmt.Errorf("read series header: %w", err)
	}
	if string(h[:8]) != SeriesMagic {
		return nil, errors.New("series: bad magic, not a seer series.bin file")
	}
	sh := SeriesHeader{
		Major:      int(binary.LittleEndian.Uint16(h[8:])),
		Minor:      int(binary.LittleEndian.Uint16(h[10:])),
		Fields:     int(binary.LittleEndian.Uint16(h[12:])),
		RecordSize: int(binary.LittleEndian.Uint16(h[14:])),
		Tick:       time.Duration(binary.LittleEndian.Uint64(h[16:])),
	}
	if sh.Major != Major {
		return nil, fmt.Errorf("series: %w: file is version %d.%d, this reader reads %d.x", ErrUnsupportedVersion, sh.Major, sh.Minor, Major)
	}
	// A later minor version may append fields; the known ones stay first.
	if sh.Fields < fieldsV10 || sh.RecordSize != 16+8*sh.Fields {
		return nil, fmt.Errorf("series: header has %d fields and %d-byte records, want at least %d fields and 16+8*fields bytes", sh.Fields, sh.RecordSize, fieldsV10)
	}
	if sh.Tick <= 0 {
		return nil, fmt.Errorf("series: tick must be positive, got %d", sh.Tick)
	}
	d := &SeriesDecoder{r: br, h: sh, buf: make([]byte, sh.RecordSize), last: math.MinInt64}
	if nseries > 0 {
		d.maxIdx = uint32(nseries)
	}
	return d, nil
}

// Header returns the decoded header.
func (d *SeriesDecoder) Header() SeriesHeader { return d.h }

// Decode reads the next record into r; it returns io.EOF at a clean end and
// an error for a truncated record, out-of-order time or unknown series.
// r.Sample.Key is left empty.
func (d *SeriesDecoder) Decode(r *Record) error {
	if _, err := io.ReadFull(d.r, d.buf); err != nil {
		if err == io.EOF {
			return io.EOF
		}
		return fmt.Errorf("series record %d: %w", d.nrec, err)
	}
	b := d.buf
	r.StartNs = int64(binary.LittleEndian.Uint64(b[0:]))
	r.Series = binary.LittleEndian.Uint32(b[8:])
	if r.StartNs < d.last {
		return fmt.Errorf("series record %d: start %d before previous %d", d.nrec, r.StartNs, d.last)
	}
	if d.maxIdx > 0 && r.Series >= d.maxIdx {
		return fmt.Errorf("series record %d: series index %d outside the table of %d", d.nrec, r.Series, d.maxIdx)
	}
	d.last = r.StartNs
	f := func(i int) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b[16+8*i:])) }
	s := &r.Sample
	s.Sources = series.Source(binary.LittleEndian.Uint32(b[12:]))
	s.Depth, s.MeanDepth, s.InstantDepth, s.ReportedDepth = f(0), f(1), f(2), f(3)
	s.NICDepth, s.ListenBacklog = f(4), f(5)
	s.Arrivals, s.Completions = f(6), f(7)
	s.Latency.Count = f(8)
	s.Latency.Sum = durationOf(f(9))
	s.Latency.Min = durationOf(f(10))
	s.Latency.Max = durationOf(f(11))
	s.Network, s.Failed = series.Latency{}, 0
	if d.h.Fields >= fieldsV11 {
		s.Network.Count = f(12)
		s.Network.Sum = durationOf(f(13))
		s.Network.Min = durationOf(f(14))
		s.Network.Max = durationOf(f(15))
	}
	if d.h.Fields > fieldsV11 {
		s.Failed = f(16)
	}
	d.nrec++
	return nil
}

func durationOf(v float64) time.Duration {
	switch {
	case math.IsNaN(v):
		return 0
	case v >= math.MaxInt64:
		return math.MaxInt64
	case v <= math.MinInt64:
		return math.MinInt64
	}
	return time.Duration(v)
}
