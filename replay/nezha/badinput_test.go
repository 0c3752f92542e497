package nezha

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seer-qos/seer/dataset"
)

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A day with every kind of bad input is replayed, and every problem is
// counted and described: nothing crashes, nothing is lost silently.
func TestReplayBadInput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "2022-08-22")
	trace := filepath.Join(dir, TraceDir)
	if err := os.MkdirAll(trace, 0o755); err != nil {
		t.Fatal(err)
	}
	real, err := os.ReadFile(filepath.Join(day(t, "2022-08-22"), TraceDir, "04_03_trace.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	const tr = "00000000000000000000000000000abc"
	rows := header +
		tr + ",0000000000000001,root,frontend-579b9bff58-t2dbm,hipstershop.Frontend/Recv.,1661140800000000000,1661140800002000000,2000\n" +
		tr + ",0000000000000002,0000000000000001,frontend-579b9bff58-t2dbm,hipstershop.CartService/GetCart,1661140800000100000,1661140800001900000,1800\n" +
		tr + ",0000000000000003,00000000000000ff,cartservice-579f59597d-wc2lz,hipstershop.CartService/GetCart,1661140800000200000,1661140800001800000,1600\n" + // unknown parent
		tr + ",0000000000000004,0000000000000001,frontend-579b9bff58-t2dbm,op,1661140800000200000,1661140800000100000,0\n" + // end before start
		tr + ",0000000000000005,0000000000000001,frontend-579b9bff58-t2dbm,op,16611408000,16611408000,0\n" + // seconds
		tr + ",000000000000000g,0000000000000001,frontend-579b9bff58-t2dbm,op,1661140800000200000,1661140800000300000,100\n" + // not hex
		tr + ",0000000000000006\n" + // short row
		tr + ",0000000000000001,root,frontend-579b9bff58-t2dbm,hipstershop.Frontend/Recv.,1661140800000000000,1661140800002000000,2000\n" // duplicate
	files := map[string][]byte{
		"04_00_trace.csv.gz": gz(t, rows),
		"04_03_trace.csv.gz": real[:len(real)/3], // truncated gzip
		"04_10_trace.csv.gz": []byte("not gzip at all"),
		"04_20_trace.csv":    []byte("a,b\n1,2\n"), // no such columns
		"notes.txt":          []byte("x"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(trace, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	faults := `{"04":[{"inject_time":"2022-08-22 04:00:10","inject_timestamp":"1661140810","inject_pod":"cartservice-579f59597d-wc2lz","inject_type":"network_delay"},
		{"inject_time":"","inject_timestamp":"later","inject_pod":"cartservice-579f59597d-wc2lz","inject_type":"network_delay"},
		{"inject_time":"","inject_timestamp":"1661141000","inject_pod":"cartservice-579f59597d-wc2lz","inject_type":"fire"}]}`
	if err := os.WriteFile(filepath.Join(dir, FaultListFile), []byte(faults), 0o644); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	res, err := Replay(Config{Dir: dir, Out: out})
	if err != nil {
		t.Fatal(err)
	}
	st := res.Stats
	want := Stats{Files: 4, CorruptFiles: 3, MalformedRows: 2, BadTimestamps: 2, UnknownParents: 1, Duplicates: 1, BadFaults: 2, IgnoredFiles: 1, FaultLists: 1}
	got := Stats{Files: st.Files, CorruptFiles: st.CorruptFiles, MalformedRows: st.MalformedRows, BadTimestamps: st.BadTimestamps,
		UnknownParents: st.UnknownParents, Duplicates: st.Duplicates, BadFaults: st.BadFaults, IgnoredFiles: st.IgnoredFiles, FaultLists: st.FaultLists}
	if got != want {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
	if st.Rows != st.Spans+st.Duplicates+st.MalformedRows+st.BadTimestamps {
		t.Errorf("rows %d are not spans %d + duplicates + refused: %+v", st.Rows, st.Spans, st)
	}
	if st.Spans <= 3 {
		t.Errorf("%d spans: the rows before the truncation of 04_03 are lost", st.Spans)
	}
	if n := st.Problems(); n != int64(3+2+2+1+2+1) {
		t.Errorf("Problems() = %d", n)
	}
	all := strings.Join(res.Problems, "\n")
	for _, s := range []string{"04_00_trace.csv.gz: line 5", "line 7", "04_03_trace.csv.gz", "the rest of the file is lost",
		"04_10_trace.csv.gz: gzip", "04_20_trace.csv: header", "notes.txt", "parent ID not in the data", `"later"`, `"fire"`} {
		if !strings.Contains(all, s) {
			t.Errorf("problems do not mention %q:\n%s", s, all)
		}
	}
	if len(res.Faults) != 1 || res.Faults[0].Service != "cartservice" {
		t.Errorf("faults %+v", res.Faults)
	}
	if _, err := dataset.Open(out); err != nil {
		t.Errorf("dataset: %v", err)
	}
}

func TestReplayRefusesWhatIsNoData(t *testing.T) {
	tmp := t.TempDir()
	notDay := filepath.Join(tmp, "yesterday")
	os.MkdirAll(filepath.Join(notDay, TraceDir), 0o755)
	file := filepath.Join(tmp, "f")
	os.WriteFile(file, nil, 0o644)
	tests := []struct{ name, dir, msg string }{
		{"missing", filepath.Join(tmp, "nope"), "no such file"},
		{"a file", file, "not a directory"},
		{"empty root", t.TempDir(), "no day directory"},
		{"day not named by date", notDay, "must be the date"},
	}
	for _, tt := range tests {
		_, err := Replay(Config{Dir: tt.dir})
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: err %v, want %q", tt.name, err, tt.msg)
		}
	}
}
