package dataset

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// QoSHeader is the header row of qos.csv.
var QoSHeader = []string{"end_ns", "request_type", "window_count", "p50_ns", "p99_ns", "target_ns", "violated"}

// QoSPoint is the sliding-window end-to-end latency of one request type at
// the end of one tick: what violations are decided on.
type QoSPoint struct {
	// EndNs is the end of the tick; the window is (EndNs-QoSWindowNs, EndNs],
	// or longer with the manifest's params.qos_min_requests (FORMAT.md).
	EndNs       int64
	RequestType string
	// WindowCount is the requests completed in the window; P50Ns and P99Ns
	// (nearest rank) are 0 when it is 0.
	WindowCount int64
	P50Ns       int64
	P99Ns       int64
	TargetNs    int64
	Violated    bool
}

// QoSWriter appends rows to qos.csv.
type QoSWriter struct {
	f *os.File
	b *bufio.Writer
	w *csv.Writer
	n int64
}

// QoS returns the writer of qos.csv, creating it on first use.
func (w *Writer) QoS() (*QoSWriter, error) {
	if w.qos == nil {
		f, err := os.Create(filepath.Join(w.dir, QoSFile))
		if err != nil {
			return nil, fmt.Errorf("dataset: %w", err)
		}
		b := bufio.NewWriterSize(f, 1<<16)
		cw := csv.NewWriter(b)
		if err := cw.Write(QoSHeader); err != nil {
			f.Close()
			return nil, fmt.Errorf("dataset: write qos header: %w", err)
		}
		w.qos = &QoSWriter{f: f, b: b, w: cw}
		w.m.Files.QoS = QoSFile
	}
	return w.qos, nil
}

// Write appends one point.
func (q *QoSWriter) Write(p QoSPoint) error {
	v := "0"
	if p.Violated {
		v = "1"
	}
	err := q.w.Write([]string{
		strconv.FormatInt(p.EndNs, 10), p.RequestType, strconv.FormatInt(p.WindowCount, 10),
		strconv.FormatInt(p.P50Ns, 10), strconv.FormatInt(p.P99Ns, 10), strconv.FormatInt(p.TargetNs, 10), v,
	})
	if err != nil {
		return fmt.Errorf("write qos: %w", err)
	}
	q.n++
	return nil
}

func (q *QoSWriter) close() error {
	q.w.Flush()
	if err := errors.Join(q.w.Error(), q.b.Flush(), q.f.Close()); err != nil {
		return fmt.Errorf("close qos: %w", err)
	}
	return nil
}

// DecodeQoS parses qos.csv.
func DecodeQoS(r io.Reader) ([]QoSPoint, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(QoSHeader)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("decode qos: header: %w", err)
	}
	for i, h := range QoSHeader {
		if head[i] != h {
			return nil, fmt.Errorf("decode qos: column %d is %q, want %q", i, head[i], h)
		}
	}
	var out []QoSPoint
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode qos: %w", err)
		}
		var p QoSPoint
		var errs [5]error
		p.EndNs, errs[0] = strconv.ParseInt(rec[0], 10, 64)
		p.RequestType = rec[1]
		p.WindowCount, errs[1] = strconv.ParseInt(rec[2], 10, 64)
		p.P50Ns, errs[2] = strconv.ParseInt(rec[3], 10, 64)
		p.P99Ns, errs[3] = strconv.ParseInt(rec[4], 10, 64)
		p.TargetNs, errs[4] = strconv.ParseInt(rec[5], 10, 64)
		if err := errors.Join(errs[:]...); err != nil {
			return nil, fmt.Errorf("decode qos: line %d: %w", line, err)
		}
		switch rec[6] {
		case "0":
		case "1":
			p.Violated = true
		default:
			return nil, fmt.Errorf("decode qos: line %d: violated is %q, want 0 or 1", line, rec[6])
		}
		if p.WindowCount < 0 || p.P50Ns > p.P99Ns {
			return nil, fmt.Errorf("decode qos: line %d: negative count or p50 above p99", line)
		}
		out = append(out, p)
	}
}

// QoS reads qos.csv; nil when the dataset has none.
func (d *Dataset) QoS() ([]QoSPoint, error) {
	if d.Manifest.Files.QoS == "" {
		return nil, nil
	}
	f, err := os.Open(filepath.Join(d.Dir, d.Manifest.Files.QoS))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	defer f.Close()
	ps, err := DecodeQoS(f)
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	return ps, nil
}
