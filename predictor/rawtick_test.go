package predictor

import (
	"bytes"
	"encoding/gob"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seer-qos/seer/internal/series"
)

func testRawTick() RawTick {
	start := time.Unix(1700000000, 0)
	b := series.Batch{Start: start, End: start.Add(100 * time.Millisecond)}
	for i, svc := range []string{"b", "a", "c"} {
		b.Samples = append(b.Samples, series.Sample{Key: series.Key{Service: svc, Instance: "i"}, Depth: float64(i + 1),
			Arrivals: 3, Latency: series.Latency{Count: 2, Sum: 5 * time.Millisecond}, ReportedDepth: math.NaN(), NICDepth: math.NaN()})
	}
	return NewRawTick(b)
}

// TestRawTickGob: a tick handed to the training process arrives whole, and
// a tick that could not have been encoded is refused with what is wrong.
func TestRawTickGob(t *testing.T) {
	rt := testRawTick()
	data, err := rt.GobEncode()
	if err != nil {
		t.Fatal(err)
	}
	var back RawTick
	if err := back.GobDecode(data); err != nil {
		t.Fatal(err)
	}
	if !back.Start.Equal(rt.Start) || !back.End.Equal(rt.End) || !slices.Equal(back.Services, rt.Services) || !slices.Equal(back.raw, rt.raw) {
		t.Fatalf("got %+v, want %+v", back, rt)
	}
	if v, ok := back.Value("b", "depth"); !ok || v != 1 {
		t.Fatalf("b's depth %v %v, want 1", v, ok)
	}
	wire := func(services []string, raw []float32) []byte {
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(rawTickWire{Services: services, Raw: raw}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	nan := slices.Clone(rt.raw)
	nan[numRaw+rawLatency] = float32(math.NaN())
	tests := []struct {
		name  string
		data  []byte
		error string
	}{
		{"short", data[:len(data)/2], "decode tick"},
		{"values", wire(rt.Services, rt.raw[1:]), "23 values for 3 services, want 24"},
		{"order", wire([]string{"a", "c", "b"}, rt.raw), `services "c", "b" not in strictly increasing order`},
		{"twice", wire([]string{"a", "a", "b"}, rt.raw), `services "a", "a"`},
		{"nan", wire(rt.Services, nan), "service b: latency is NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got RawTick
			if err := got.GobDecode(tt.data); err == nil || !strings.Contains(err.Error(), tt.error) {
				t.Fatalf("got %v, want an error with %q", err, tt.error)
			}
		})
	}
}

// FuzzRawTickGobDecode: any bytes decode to a tick whose values fit its
// services, or to an error; never a panic.
func FuzzRawTickGobDecode(f *testing.F) {
	rt := testRawTick()
	data, err := rt.GobEncode()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(data[:len(data)-3])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var got RawTick
		if err := got.GobDecode(data); err != nil {
			return
		}
		if len(got.raw) != len(got.Services)*numRaw {
			t.Fatalf("%d values for %d services", len(got.raw), len(got.Services))
		}
		for s := range got.Services {
			if _, ok := got.Value(got.Services[s], "depth"); !ok {
				t.Fatalf("service %q not found", got.Services[s])
			}
		}
	})
}
