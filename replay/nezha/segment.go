package nezha

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// loadSegment reads the files of seg into spans (duplicates removed),
// counting and logging every problem.
func loadSegment(seg Segment, intern map[string]string, st *Stats, log *problemLog) []Span {
	var spans []Span
	seen := make(map[spanRef]struct{})
	for _, f := range seg.Files {
		st.Files++
		n0 := len(spans)
		err := readTraceFile(f.Path, intern, func(r *Row) {
			st.Rows++
			k := spanRef{r.TraceID, r.SpanID}
			if _, dup := seen[k]; dup {
				st.Duplicates++
				return
			}
			seen[k] = struct{}{}
			spans = append(spans, Span{Row: *r})
		}, func(err error) {
			st.Rows++
			st.countRowError(err)
			log.add("%s: %v", f.Path, err)
		})
		if err != nil {
			st.CorruptFiles++
			log.add("%s: %v (after %d spans; the rest of the file is lost)", f.Path, err, len(spans)-n0)
		}
	}
	return spans
}

// readTraceFile calls row for every span and bad for every refused row of
// a trace CSV (gzip when the name ends in .gz or the content starts with
// the gzip magic). It returns an error when the file cannot be read to its
// end.
func readTraceFile(path string, intern map[string]string, row func(*Row), bad func(error)) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	return ReadTrace(f, strings.HasSuffix(path, ".gz"), intern, row, bad)
}

// ReadTrace reads one trace CSV from r, gunzipping it when gz is set or the
// stream starts with the gzip magic number; see readTraceFile.
func ReadTrace(r io.Reader, gz bool, intern map[string]string, row func(*Row), bad func(error)) error {
	br := bufio.NewReaderSize(r, 256<<10)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz = true
	}
	var in io.Reader = br
	if gz {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w", err)
		}
		defer zr.Close()
		in = zr
	}
	tr, err := NewTraceReader(in, intern)
	if err != nil {
		return err
	}
	var rw Row
	for {
		err := tr.Next(&rw)
		if err == io.EOF {
			return nil
		}
		var re *RowError
		if errors.As(err, &re) {
			bad(re)
			continue
		}
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		row(&rw)
	}
}

// sortByEnd puts spans in the order a collector sees them finish: by end
// time, ties by trace and span ID so that the order is fully determined.
func sortByEnd(spans []Span) {
	slices.SortFunc(spans, func(a, b Span) int {
		if a.End != b.End {
			if a.End < b.End {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(a.TraceID[:], b.TraceID[:]); c != 0 {
			return c
		}
		return bytes.Compare(a.SpanID[:], b.SpanID[:])
	})
}
