package dataset

import (
	"bytes"
	"io"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

func FuzzDecodeManifest(f *testing.F) {
	f.Add([]byte(`{"format":"seer-dataset","version":"1.0","tick_ns":100000000,"files":{"series":"series.bin"},"series":[{"service":"a","instance":"a-0"}]}`))
	f.Add([]byte(`{"format":"seer-dataset","version":"9.0"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeManifest(b)
		if err != nil {
			return
		}
		if m.Validate() != nil {
			t.Fatal("decoded manifest does not validate")
		}
	})
}

func FuzzSeriesDecoder(f *testing.F) {
	var buf bytes.Buffer
	enc, _ := NewSeriesEncoder(&buf, time.Second)
	enc.Encode(&Record{StartNs: 1, Series: 0, Sample: sample("a", "a-0", 1)})
	enc.Encode(&Record{StartNs: 2, Series: 1, Sample: sample("b", "b-0", 2)})
	enc.Flush()
	f.Add(buf.Bytes(), 2)
	f.Add(buf.Bytes()[:40], 0)
	f.Add(asVersion(buf.Bytes(), 0, fieldsV10), 2)
	f.Add(asVersion(buf.Bytes(), 1, fieldsV11), 2)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		if n < 0 || n > 1<<20 {
			n = 0
		}
		dec, err := NewSeriesDecoder(bytes.NewReader(b), n)
		if err != nil {
			return
		}
		var r Record
		last := int64(-1 << 63)
		for i := 0; ; i++ {
			if err := dec.Decode(&r); err != nil {
				return
			}
			if r.StartNs < last || (n > 0 && int(r.Series) >= n) {
				t.Fatalf("decoder let through record %d: %+v", i, r)
			}
			last = r.StartNs
		}
	})
}

func FuzzDecodeLabels(f *testing.F) {
	f.Add([]byte(`[{"id":"f1","kind":"cpu","service":"a","start_ns":1,"ramp_ns":0,"duration_ns":5,"magnitude":2}]`))
	f.Add([]byte(`[{"request_type":"r","start_ns":1,"end_ns":2,"fault_ids":["f1"],"cause":"fault"}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if fs, err := DecodeFaults(b); err == nil {
			for _, x := range fs {
				if !knownKind(x.Kind) || x.RampNs < 0 {
					t.Fatalf("bad fault accepted: %+v", x)
				}
			}
		}
		if vs, err := DecodeViolations(b); err == nil {
			for _, v := range vs {
				if v.EndNs < v.StartNs {
					t.Fatalf("bad violation accepted: %+v", v)
				}
			}
		}
		DecodeActions(b)
	})
}

func FuzzDecodeSpanFrames(f *testing.F) {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("op")
	b, _ := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	frame := append([]byte{byte(len(b)), 0, 0, 0}, b...)
	f.Add(frame)
	f.Add([]byte{255, 255, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeSpanFrames(bytes.NewReader(b), func(ptrace.Traces) error { return nil })
		_ = io.EOF
	})
}

func FuzzDecodeQoS(f *testing.F) {
	f.Add([]byte("end_ns,request_type,window_count,p50_ns,p99_ns,target_ns,violated\n100,r,3,1,9,5,1\n200,r,0,0,0,5,0\n"))
	f.Add([]byte("end_ns,request_type,window_count,p50_ns,p99_ns,target_ns,violated\n1,\"a,b\",1,2,1,0,2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ps, err := DecodeQoS(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, p := range ps {
			if p.WindowCount < 0 || p.P50Ns > p.P99Ns {
				t.Fatalf("bad point accepted: %+v", p)
			}
		}
	})
}
