package nezha

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const header = "TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\n"

const goodRow = "0087f677c0a2cf3f80a551987167911b,ee744a66e6efcb2e,root,frontend-579b9bff58-t2dbm,hipstershop.Frontend/Recv.,1661140374351773094,1661140374362982609,11209\n"

// readAll reads a CSV and returns the spans and the refused rows.
func readAll(t *testing.T, data []byte, gz bool) (rows []Row, bad []error, err error) {
	t.Helper()
	err = ReadTrace(bytes.NewReader(data), gz, nil, func(r *Row) { rows = append(rows, *r) }, func(e error) { bad = append(bad, e) })
	return rows, bad, err
}

func TestReadTraceRows(t *testing.T) {
	tests := []struct {
		name string
		row  string
		want error // nil: a span
	}{
		{"good", goodRow, nil},
		{"child", "0087f677c0a2cf3f80a551987167911b,a23660ca2e7cc4c8,ee744a66e6efcb2e,frontend-579b9bff58-t2dbm,hipstershop.ProductCatalogService/GetProduct,1661140374351910124,1661140374357482580,5572\n", nil},
		{"short ids are right-aligned", "1,2,3,p-1,op,1661140374351910124,1661140374351910124,0\n", nil},
		{"too few fields", "0087f677c0a2cf3f80a551987167911b,ee744a66e6efcb2e,root\n", errMalformed},
		{"too many fields", strings.TrimSuffix(goodRow, "\n") + ",x\n", errMalformed},
		{"trace id not hex", strings.Replace(goodRow, "0087f677", "zz87f677", 1), errMalformed},
		{"trace id too long", strings.Replace(goodRow, "0087f677", "00087f677", 1), errMalformed},
		{"span id zero", strings.Replace(goodRow, "ee744a66e6efcb2e", "0000000000000000", 1), errMalformed},
		{"parent id not hex", strings.Replace(goodRow, ",root,", ",parent,", 1), errMalformed},
		{"empty parent", strings.Replace(goodRow, ",root,", ",,", 1), errMalformed},
		{"empty pod", strings.Replace(goodRow, "frontend-579b9bff58-t2dbm", "", 1), errMalformed},
		{"bare quote", strings.Replace(goodRow, "Recv.", "Re\"cv.", 1), errMalformed},
		{"start not a number", strings.Replace(goodRow, "1661140374351773094", "1661140374.351773094", 1), errTimestamp},
		{"start in seconds", "1,2,root,p-1,op,1661140374,1661140374,0\n", errTimestamp},
		{"end before start", "1,2,root,p-1,op,1661140374351910124,1661140374351910123,0\n", errTimestamp},
		{"duration disagrees", strings.Replace(goodRow, ",11209\n", ",99999\n", 1), errTimestamp},
		{"overflow", strings.Replace(goodRow, "1661140374351773094", "99999999999999999999", 1), errTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, bad, err := readAll(t, []byte(header+tt.row+goodRow), false)
			if err != nil {
				t.Fatalf("stream error: %v", err)
			}
			if tt.want == nil {
				if len(bad) != 0 || len(rows) != 2 {
					t.Fatalf("got %d spans and refused %v, want 2 spans", len(rows), bad)
				}
				return
			}
			if len(rows) != 1 || len(bad) != 1 {
				t.Fatalf("got %d spans and %d refused rows (%v), want 1 and 1", len(rows), len(bad), bad)
			}
			var re *RowError
			if !errors.As(bad[0], &re) || re.Line != 2 {
				t.Errorf("refusal %v: want a RowError on line 2", bad[0])
			}
			if !errors.Is(bad[0], tt.want) {
				t.Errorf("refusal %v: want class %v", bad[0], tt.want)
			}
			var st Stats
			st.countRowError(bad[0])
			if (tt.want == errTimestamp) != (st.BadTimestamps == 1) || st.MalformedRows+st.BadTimestamps != 1 {
				t.Errorf("counted as %+v", st)
			}
		})
	}
}

func TestReadTraceHeader(t *testing.T) {
	tests := []struct {
		name, data string
		ok         bool
	}{
		{"empty", "", false},
		{"missing column", strings.Replace(header, "Duration", "Dur", 1), false},
		{"columns reordered", "SpanID,TraceID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration\nee744a66e6efcb2e,0087f677c0a2cf3f80a551987167911b,root,p-1,op,1661140374351773094,1661140374362982609,11209\n", true},
		{"byte order mark", "\xef\xbb\xbf" + header + goodRow, true},
	}
	for _, tt := range tests {
		rows, _, err := readAll(t, []byte(tt.data), false)
		if (err == nil) != tt.ok || (tt.ok && len(rows) != 1) {
			t.Errorf("%s: %d spans, err %v; want ok=%v", tt.name, len(rows), err, tt.ok)
		}
	}
}

// A truncated or corrupted gzip stream is an error of the file (even a bad
// checksum after the last row), and the rows read before it are kept.
func TestReadTraceCorruptGzip(t *testing.T) {
	path := filepath.Join(day(t, "2022-08-22"), TraceDir, "04_03_trace.csv.gz")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	full, bad, err := readAll(t, data, true)
	if err != nil || len(bad) != 0 || len(full) == 0 {
		t.Fatalf("intact file: %d spans, %d refused, err %v", len(full), len(bad), err)
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0xff
	tests := []struct {
		name string
		data []byte
	}{
		{"truncated", data[:len(data)/2]},
		{"flipped byte", flipped},
		{"crc", append(bytes.Clone(data[:len(data)-8]), 0, 0, 0, 0, 0, 0, 0, 0)},
		{"header only", data[:10]},
	}
	for _, tt := range tests {
		rows, _, err := readAll(t, tt.data, true)
		if err == nil {
			t.Errorf("%s: no error (%d spans)", tt.name, len(rows))
			continue
		}
		if len(rows) > len(full) {
			t.Errorf("%s: %d spans of %d", tt.name, len(rows), len(full))
		}
		for i := range rows {
			if rows[i] != full[i] {
				t.Fatalf("%s: span %d differs from the intact file's", tt.name, i)
			}
		}
	}
}

// Plain CSV is read too, and gzip is recognised by its magic number.
func TestReadTraceDetectsGzip(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(header + goodRow))
	zw.Close()
	for _, tt := range []struct {
		name string
		data []byte
	}{{"plain", []byte(header + goodRow)}, {"gzip without .gz", buf.Bytes()}} {
		rows, bad, err := readAll(t, tt.data, false)
		if err != nil || len(bad) != 0 || len(rows) != 1 {
			t.Errorf("%s: %d spans, %v, %v", tt.name, len(rows), bad, err)
		}
	}
}
