package nezha

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// RowError is a row that was not replayed, with its line in the file.
type RowError struct {
	Line int
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// TraceReader reads the rows of one trace CSV (already decompressed).
type TraceReader struct {
	r      *csv.Reader
	idx    [8]int // column positions, in the order of columns
	nf     int    // fields in the header
	intern map[string]string
}

// NewTraceReader reads and checks the header. intern (may be nil) shares
// pod and operation strings across files.
func NewTraceReader(r io.Reader, intern map[string]string) (*TraceReader, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	hdr, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, errors.New("empty file: no header")
		}
		return nil, fmt.Errorf("header: %w", err)
	}
	t := &TraceReader{r: cr, nf: len(hdr), intern: intern}
	if t.intern == nil {
		t.intern = map[string]string{}
	}
	pos := map[string]int{}
	for i, h := range hdr {
		if i == 0 {
			h = trimBOM(h)
		}
		pos[h] = i
	}
	for i, c := range columns {
		p, ok := pos[c]
		if !ok {
			return nil, fmt.Errorf("header %q: no column %s", hdr, c)
		}
		t.idx[i] = p
	}
	return t, nil
}

func trimBOM(s string) string {
	if len(s) >= 3 && s[:3] == "\xef\xbb\xbf" {
		return s[3:]
	}
	return s
}

// Next reads one row into row. It returns io.EOF at the end, a *RowError
// for a row that is not a span (the reader goes on with the next row on the
// following call), and any other error when the stream itself is broken
// (truncated or corrupt gzip): the rest of the file is lost.
func (t *TraceReader) Next(row *Row) error {
	rec, err := t.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return &RowError{Line: pe.Line, Err: fmt.Errorf("%w: %v", errMalformed, pe.Err)}
		}
		return err
	}
	line, _ := t.r.FieldPos(0)
	if len(rec) != t.nf {
		return &RowError{Line: line, Err: fmt.Errorf("%w: %d fields, header has %d", errMalformed, len(rec), t.nf)}
	}
	f := func(i int) string { return rec[t.idx[i]] }
	if err := parseID(row.TraceID[:], f(0)); err != nil {
		return &RowError{Line: line, Err: fmt.Errorf("TraceID: %w", err)}
	}
	if err := parseID(row.SpanID[:], f(1)); err != nil {
		return &RowError{Line: line, Err: fmt.Errorf("SpanID: %w", err)}
	}
	row.Root = f(2) == "root"
	row.ParentID = [8]byte{}
	if !row.Root {
		if err := parseID(row.ParentID[:], f(2)); err != nil {
			return &RowError{Line: line, Err: fmt.Errorf("ParentID: %w", err)}
		}
	}
	if f(3) == "" || f(4) == "" {
		return &RowError{Line: line, Err: fmt.Errorf("%w: empty PodName or OperationName", errMalformed)}
	}
	row.Pod, row.Operation = t.str(f(3)), t.str(f(4))
	row.Start, row.End, err = parseTimes(f(5), f(6), f(7))
	if err != nil {
		return &RowError{Line: line, Err: err}
	}
	return nil
}

func (t *TraceReader) str(s string) string {
	if v, ok := t.intern[s]; ok {
		return v
	}
	if len(t.intern) >= 1<<16 {
		return s // adversarial input: stop growing
	}
	s = string([]byte(s)) // do not keep the reused record alive
	t.intern[s] = s
	return s
}
