package nezha

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzReadTrace: any bytes give spans, counted refusals or an error of the
// stream, never a panic; every span obeys the row invariants.
func FuzzReadTrace(f *testing.F) {
	f.Add([]byte(header + goodRow))
	f.Add([]byte(header + goodRow + "0087f677c0a2cf3f80a551987167911b,a,ee744a66e6efcb2e,p-1,\"op,x\",1661140374351910124,1661140374357482580,5572\n"))
	f.Add([]byte(header + "\"unterminated\n"))
	f.Add([]byte(header + strings3))
	f.Add([]byte("\xef\xbb\xbf" + header))
	f.Add(gzipped(header + goodRow))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		var spans, refused int
		err := ReadTrace(bytes.NewReader(data), false, nil, func(r *Row) {
			spans++
			if r.End < r.Start || r.Start < minTimeNs || r.End > maxTimeNs || r.Pod == "" || r.Operation == "" {
				t.Fatalf("span breaks the row invariants: %+v", r)
			}
			if r.Root != (r.ParentID == [8]byte{}) || r.SpanID == [8]byte{} || r.TraceID == [16]byte{} {
				t.Fatalf("span with bad IDs: %+v", r)
			}
		}, func(err error) {
			refused++
			var re *RowError
			if !errors.As(err, &re) || !(errors.Is(err, errMalformed) || errors.Is(err, errTimestamp)) {
				t.Fatalf("refusal without a class: %v", err)
			}
		})
		if spans+refused > len(data) {
			t.Fatalf("%d rows from %d bytes", spans+refused, len(data))
		}
		_ = err
	})
}

const strings3 = "1,2,root,p-1,op,1661140374351910124,1661140374351910124,0\n1,2,3,p-1,op,1,2,3\n,,,,,,,\n"

func gzipped(s string) []byte {
	var b bytes.Buffer
	w := gzipWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// FuzzDecodeFaultList: any document gives faults, refused entries or an
// error, never a panic; every fault is complete.
func FuzzDecodeFaultList(f *testing.F) {
	f.Add([]byte(`{"04":[{"inject_time":"2022-08-22 04:27:03","inject_timestamp":"1661142423","inject_pod":"cartservice-579f59597d-wc2lz","inject_type":"network_delay"}]}`))
	f.Add([]byte(`{"04":[{"inject_timestamp":"1661142423","inject_pod":"x","inject_type":"return"},7,null,{}]}`))
	f.Add([]byte(`{"04":null,"05":[]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"04":[{"inject_timestamp":"-9223372036854775808","inject_pod":"x","inject_type":"return"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, bad, err := DecodeFaultList(data, "2022-08-22")
		if err != nil {
			if len(fs) != 0 || len(bad) != 0 {
				t.Fatalf("error %v with results", err)
			}
			if json.Valid(data) && bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) && !bytes.Contains(data, []byte("\\")) {
				var m map[string]any
				if json.Unmarshal(data, &m) == nil {
					for _, v := range m {
						if _, ok := v.([]any); !ok && v != nil {
							return // an hour that is not a list
						}
					}
					t.Fatalf("a JSON object of lists refused: %v", err)
				}
			}
			return
		}
		for i, f := range fs {
			if f.Pod == "" || f.Service == "" || f.At.Before(time.Unix(minTimeNs/1e9, 0)) || f.At.After(time.Unix(maxTimeNs/1e9, 0)) {
				t.Fatalf("incomplete fault %+v", f)
			}
			if KindOf(f.Type) == "" {
				t.Fatalf("fault type %q has no dataset kind", f.Type)
			}
			if i > 0 && f.At.Before(fs[i-1].At) {
				t.Fatal("faults out of order")
			}
		}
	})
}

// FuzzClassify: any set of rows of one trace is classified by the rules,
// without a panic.
func FuzzClassify(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 2, 1, 2, 3, 2, 3, 4, 9})
	f.Fuzz(func(t *testing.T, data []byte) {
		pods := []string{"frontend-579b9bff58-t2dbm", "cartservice-579f59597d-wc2lz", "productcatalogservice-668d5f85fb-wckp8", "redis-0"}
		ops := []string{"hipstershop.CartService/GetCart", "sql.rows", "/hipstershop.ProductCatalogService/GetProduct", "hipstershop.Frontend/Recv."}
		var spans []Span
		for i := 0; i+2 < len(data) && len(spans) < 64; i += 3 {
			s := Span{Row: Row{SpanID: id8(data[i]), Pod: pods[int(data[i+1])%len(pods)], Operation: ops[int(data[i+2])%len(ops)]}}
			if p := data[i+1] / 4 % 8; p == 0 {
				s.Root = true
			} else {
				s.ParentID = id8(p)
			}
			spans = append(spans, s)
		}
		seen := map[[8]byte]bool{}
		uniq := spans[:0]
		for _, s := range spans {
			if !seen[s.SpanID] && s.SpanID != [8]byte{} {
				seen[s.SpanID] = true
				uniq = append(uniq, s)
			}
		}
		orphans := Classify(uniq, map[string]bool{})
		n := 0
		for _, s := range uniq {
			switch s.Kind {
			case KindServer:
				if s.Peer != "" {
					t.Fatalf("server span with a peer: %+v", s)
				}
			case KindClient:
				if s.Peer == "" || s.Peer == s.Service {
					t.Fatalf("client span without another service as peer: %+v", s)
				}
			case KindInternal:
			default:
				t.Fatalf("unclassified span %+v", s)
			}
			if s.Orphan {
				n++
			}
		}
		if n != orphans {
			t.Fatalf("%d orphans marked, %d returned", n, orphans)
		}
	})
}

func gzipWriter(b *bytes.Buffer) *gzip.Writer { return gzip.NewWriter(b) }
