package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/series"
)

func sample(svc, inst string, depth float64) series.Sample {
	return series.Sample{
		Key:   series.Key{Service: svc, Instance: inst},
		Depth: depth, MeanDepth: depth / 2, InstantDepth: 3, ReportedDepth: depth,
		NICDepth: math.NaN(), ListenBacklog: math.NaN(),
		Arrivals: 10, Completions: 9,
		Latency: series.Latency{Count: 9, Sum: 9 * time.Millisecond, Min: time.Microsecond, Max: 3 * time.Millisecond},
		Network: series.Latency{Count: 4, Sum: 2 * time.Millisecond, Min: 100 * time.Microsecond, Max: time.Millisecond},
		Sources: series.SourceSpans | series.SourceReported,
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Manifest{Source: SourceSim, Topology: "t", Seed: 7, TickNs: int64(100 * time.Millisecond), StartNs: 1000})
	if err != nil {
		t.Fatal(err)
	}
	ticks := [][]series.Sample{
		{sample("a", "a-0", 1), sample("b", "b-0", 2)},
		{sample("b", "b-0", 4), sample("c", "c-0", 5), sample("a", "a-0", 6)},
	}
	for i, s := range ticks {
		if err := w.WriteTick(1000+int64(i)*int64(100*time.Millisecond), s); err != nil {
			t.Fatal(err)
		}
	}
	faults := []Fault{{ID: "f1", Kind: FaultCPU, Service: "b", StartNs: 5, RampNs: 1, DurationNs: 10, Magnitude: 2}}
	w.SetFaults(faults)
	w.SetViolations([]Violation{{RequestType: "r", StartNs: 10, EndNs: 20, TargetNs: 5, PeakP99Ns: 9, FaultIDs: []string{"f1"}, Culprits: []SeriesKey{{Service: "b"}}, Cause: "fault"}})
	w.SetTopology([]byte("name: t\n"))
	qw, err := w.QoS()
	if err != nil {
		t.Fatal(err)
	}
	qp := QoSPoint{EndNs: 1100, RequestType: "r,\"odd\"", WindowCount: 3, P50Ns: 2, P99Ns: 9, TargetNs: 5, Violated: true}
	if err := qw.Write(qp); err != nil {
		t.Fatal(err)
	}
	sw, err := w.Spans()
	if err != nil {
		t.Fatal(err)
	}
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("op")
	if err := sw.Write(td); err != nil {
		t.Fatal(err)
	}
	d := closeAndOpen(t, w, dir)
	m := d.Manifest
	if m.Counts.SeriesRecords != 5 || m.Counts.Ticks != 2 || m.Counts.Spans != 1 || m.Counts.Faults != 1 || m.Counts.Violations != 1 {
		t.Errorf("counts = %+v", m.Counts)
	}
	if len(m.Series) != 3 || m.Series[2] != (SeriesKey{"c", "c-0"}) {
		t.Errorf("series table = %v", m.Series)
	}
	recs, err := d.ReadAllSeries()
	if err != nil {
		t.Fatal(err)
	}
	var got []series.Sample
	for _, r := range recs {
		got = append(got, r.Sample)
	}
	want := append(append([]series.Sample{}, ticks[0]...), ticks[1]...)
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, x := got[i], want[i]
		if g.Key != x.Key || g.Depth != x.Depth || g.MeanDepth != x.MeanDepth || g.Latency != x.Latency || g.Sources != x.Sources || !math.IsNaN(g.NICDepth) {
			t.Errorf("record %d = %+v, want %+v", i, g, x)
		}
	}
	if recs[2].StartNs != 1000+int64(100*time.Millisecond) {
		t.Errorf("record 2 start = %d", recs[2].StartNs)
	}
	fs, err := d.Faults()
	if err != nil || len(fs) != 1 || fs[0] != faults[0] {
		t.Errorf("faults = %v, %v", fs, err)
	}
	vs, err := d.Violations()
	if err != nil || len(vs) != 1 || vs[0].Culprits[0].Service != "b" {
		t.Errorf("violations = %v, %v", vs, err)
	}
	topo, err := d.Topology()
	if err != nil || string(topo) != "name: t\n" {
		t.Errorf("topology = %q, %v", topo, err)
	}
	qs, err := d.QoS()
	if err != nil || len(qs) != 1 || qs[0] != qp {
		t.Errorf("qos = %+v, %v", qs, err)
	}
	n := 0
	if err := d.Spans(func(td ptrace.Traces) error { n += td.SpanCount(); return nil }); err != nil || n != 1 {
		t.Errorf("spans = %d, %v", n, err)
	}
	if _, err := Create(dir, Manifest{TickNs: 1}); err == nil {
		t.Error("Create over an existing dataset succeeded")
	}
}

func TestWriterRefusesOutOfOrderTicks(t *testing.T) {
	w, err := Create(t.TempDir(), Manifest{TickNs: 10})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTick(100, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteTick(100, nil); err == nil {
		t.Error("repeated tick accepted")
	}
}

func TestManifestVersions(t *testing.T) {
	tests := []struct {
		name    string
		version string
		wantErr error
		errText string
	}{
		{"current", "1.2", nil, ""},
		{"earlier minor 1.1", "1.1", nil, ""},
		{"earlier minor", "1.0", nil, ""},
		{"later minor", "1.7", nil, ""},
		{"next major", "2.0", ErrUnsupportedVersion, "version 2.0"},
		{"older major", "0.3", ErrUnsupportedVersion, "reads 1.x"},
		{"garbage", "x", nil, "major.minor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := []byte(`{"format":"seer-dataset","version":"` + tt.version + `","tick_ns":1,"files":{"series":"series.bin"},"series":[]}`)
			_, err := DecodeManifest(b)
			switch {
			case tt.wantErr == nil && tt.errText == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			case tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)):
				t.Fatalf("error %v, want one containing %q", err, tt.errText)
			}
		})
	}
}

func TestManifestRefusesPathsOutsideTheDirectory(t *testing.T) {
	b := []byte(`{"format":"seer-dataset","version":"1.0","tick_ns":1,"files":{"series":"../x"}}`)
	if _, err := DecodeManifest(b); err == nil {
		t.Fatal("accepted a series file outside the directory")
	}
}

func TestSeriesDecoderRefusesOtherMajorVersion(t *testing.T) {
	var buf bytes.Buffer
	enc, err := NewSeriesEncoder(&buf, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	b[8] = 2
	if _, err := NewSeriesDecoder(bytes.NewReader(b), 0); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("error %v, want ErrUnsupportedVersion", err)
	}
}

// TestSeriesDecoderReadsEarlierMinors: a 1.0 file (12 fields, no network
// fields) and a 1.1 file (16, no calls_failed) read with the fields they
// have and zero for the rest.
func TestSeriesDecoderReadsEarlierMinors(t *testing.T) {
	for _, v := range []struct{ minor, fields int }{{0, fieldsV10}, {1, fieldsV11}} {
		var buf bytes.Buffer
		enc, err := NewSeriesEncoder(&buf, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		want := sample("a", "a-0", 3)
		want.Failed = 2.5
		if err := enc.Encode(&Record{StartNs: 5, Sample: want}); err != nil {
			t.Fatal(err)
		}
		enc.Flush()
		dec, err := NewSeriesDecoder(bytes.NewReader(asVersion(buf.Bytes(), v.minor, v.fields)), 0)
		if err != nil {
			t.Fatal(err)
		}
		// A reused record's old values must go.
		got := Record{Sample: series.Sample{Network: series.Latency{Count: 7}, Failed: 9}}
		if err := dec.Decode(&got); err != nil {
			t.Fatal(err)
		}
		if got.Sample.Latency != want.Latency || got.Sample.Depth != want.Depth {
			t.Errorf("1.%d record read as %+v, want the fields of %+v", v.minor, got.Sample, want)
		}
		wantNet := want.Network
		if v.fields < fieldsV11 {
			wantNet = series.Latency{}
		}
		if got.Sample.Network != wantNet || got.Sample.Failed != 0 {
			t.Errorf("1.%d record: network %+v failed %v, want %+v and 0", v.minor, got.Sample.Network, got.Sample.Failed, wantNet)
		}
		if err := dec.Decode(&got); err != io.EOF {
			t.Errorf("after the record: %v, want EOF", err)
		}
	}
}

// asVersion rewrites series.bin bytes of this version as version 1.minor
// with its number of fields: each record cut to them.
func asVersion(b []byte, minor, fields int) []byte {
	h := append([]byte(nil), b[:SeriesHeaderSize]...)
	binary.LittleEndian.PutUint16(h[10:], uint16(minor))
	binary.LittleEndian.PutUint16(h[12:], uint16(fields))
	binary.LittleEndian.PutUint16(h[14:], uint16(16+8*fields))
	for r := b[SeriesHeaderSize:]; len(r) >= RecordSize; r = r[RecordSize:] {
		h = append(h, r[:16+8*fields]...)
	}
	return h
}

func TestSeriesDecoderErrors(t *testing.T) {
	var buf bytes.Buffer
	enc, _ := NewSeriesEncoder(&buf, time.Second)
	for _, r := range []Record{{StartNs: 5, Series: 0}, {StartNs: 5, Series: 1}} {
		if err := enc.Encode(&r); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(&Record{StartNs: 4}); err == nil {
		t.Error("encoder accepted a record out of time order")
	}
	enc.Flush()
	full := buf.Bytes()
	tests := []struct {
		name    string
		data    []byte
		nseries int
	}{
		{"truncated record", full[:len(full)-3], 0},
		{"index outside table", full, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec, err := NewSeriesDecoder(bytes.NewReader(tt.data), tt.nseries)
			if err != nil {
				t.Fatal(err)
			}
			var r Record
			for {
				err = dec.Decode(&r)
				if err != nil {
					break
				}
			}
			if err.Error() == "EOF" {
				t.Fatal("decoded to a clean end")
			}
		})
	}
}

func TestOpenMissingManifest(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, SeriesFile), nil, 0o644)
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Fatalf("Open without manifest: %v", err)
	}
}

func TestWriterSetsEdgesAndParamsAfterCreate(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Manifest{TickNs: 10, Edges: []Edge{{Caller: "x", Callee: "y"}}, Params: map[string]string{"old": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	w.SetEdges([]Edge{{Caller: "a", Callee: "b"}})
	w.SetParams(map[string]string{"k": "v"})
	if err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	m, err := ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Edges, []Edge{{Caller: "a", Callee: "b"}}) || !reflect.DeepEqual(m.Params, map[string]string{"k": "v"}) {
		t.Fatalf("edges %v, params %v", m.Edges, m.Params)
	}
}

func TestRemoveDeletesOnlyDatasetFiles(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Manifest{TickNs: 10})
	if err != nil {
		t.Fatal(err)
	}
	w.SetTopology([]byte("x"))
	if err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Remove(dir); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "notes.txt" {
		t.Fatalf("left %v, want only notes.txt", entries)
	}
	if _, err := Create(dir, Manifest{TickNs: 10}); err != nil {
		t.Fatalf("create after remove: %v", err)
	}
}

// TestSeriesCutBetweenRecords: series.bin cut exactly between two records
// (every record still whole) does not read as the whole dataset.
func TestSeriesCutBetweenRecords(t *testing.T) {
	write := func(n int) *Dataset {
		dir := t.TempDir()
		w, err := Create(dir, Manifest{Source: SourceSim, Topology: "t", Seed: 7, TickNs: int64(100 * time.Millisecond), StartNs: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if err := w.WriteTick(1000+int64(i)*int64(100*time.Millisecond), []series.Sample{sample("a", "a-0", float64(i))}); err != nil {
				t.Fatal(err)
			}
		}
		return closeAndOpen(t, w, dir)
	}
	whole, short := write(10), write(7)
	if recs, err := whole.ReadAllSeries(); err != nil || len(recs) != 10 {
		t.Fatalf("whole file: %d records, %v", len(recs), err)
	}
	// The first 7 records of the 10, and nothing cut inside a record.
	data, err := os.ReadFile(filepath.Join(short.Dir, short.Manifest.Files.Series))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(whole.Dir, whole.Manifest.Files.Series), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := whole.ReadAllSeries(); err == nil || !strings.Contains(err.Error(), "holds 7 records, the manifest counts 10") {
		t.Fatalf("cut file: %v", err)
	}
}

// TestSpansCutBetweenFrames: spans.otlp cut exactly between two frames does
// not read as the whole file.
func TestSpansCutBetweenFrames(t *testing.T) {
	dir := t.TempDir()
	w, err := Create(dir, Manifest{Source: SourceSim, Topology: "t", Seed: 7, TickNs: int64(100 * time.Millisecond), StartNs: 1000})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := w.Spans()
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for range 3 {
		td := ptrace.NewTraces()
		td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("op")
		if err := sw.Write(td); err != nil {
			t.Fatal(err)
		}
		if err := sw.w.Flush(); err != nil {
			t.Fatal(err)
		}
		fi, err := sw.f.Stat()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, fi.Size())
	}
	d := closeAndOpen(t, w, dir)
	count := func() error { return d.Spans(func(ptrace.Traces) error { return nil }) }
	if err := count(); err != nil {
		t.Fatalf("whole file: %v", err)
	}
	if err := os.Truncate(filepath.Join(dir, d.Manifest.Files.Spans), sizes[1]); err != nil {
		t.Fatal(err)
	}
	if err := count(); err == nil || !strings.Contains(err.Error(), "holds 2 spans, the manifest counts 3") {
		t.Fatalf("cut file: %v", err)
	}
}

// closeAndOpen closes w (ending at 2000) and opens the dataset it wrote in dir.
func closeAndOpen(t *testing.T, w *Writer, dir string) *Dataset {
	t.Helper()
	if err := w.Close(2000); err != nil {
		t.Fatal(err)
	}
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
