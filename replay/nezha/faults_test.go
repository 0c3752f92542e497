package nezha

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seer-qos/seer/dataset"
)

func TestDecodeFaultList(t *testing.T) {
	entry := func(tm, ts, pod, typ string) string {
		return `{"inject_time":"` + tm + `","inject_timestamp":"` + ts + `","inject_pod":"` + pod + `","inject_type":"` + typ + `"}`
	}
	const pod = "cartservice-579f59597d-wc2lz"
	tests := []struct {
		name   string
		doc    string
		faults int
		bad    int
		skew   time.Duration
		err    bool
	}{
		{"good", `{"04":[` + entry("2022-08-22 04:27:03", "1661142423", pod, "network_delay") + `]}`, 1, 0, 0, false},
		{"empty", `{}`, 0, 0, 0, false},
		{"not an object", `[]`, 0, 0, 0, true},
		{"syntax", `{"04":[`, 0, 0, 0, true},
		{"timestamp a number", `{"04":[{"inject_timestamp":1661142423,"inject_pod":"p","inject_type":"return"}]}`, 0, 1, 0, false},
		{"entry not an object", `{"04":[7]}`, 0, 1, 0, false},
		{"hour not a list", `{"04":{}}`, 0, 0, 0, true},
		{"unknown type", `{"04":[` + entry("2022-08-22 04:27:03", "1661142423", pod, "disk_fill") + `]}`, 0, 1, 0, false},
		{"empty pod", `{"04":[` + entry("2022-08-22 04:27:03", "1661142423", "", "return") + `]}`, 0, 1, 0, false},
		{"timestamp in ms", `{"04":[` + entry("", "1661142423000", pod, "return") + `]}`, 0, 1, 0, false},
		{"timestamp not a number", `{"04":[` + entry("", "soon", pod, "return") + `]}`, 0, 1, 0, false},
		{"bad inject_time", `{"04":[` + entry("22/08/2022 04:27", "1661142423", pod, "return") + `]}`, 0, 1, 0, false},
		{"times disagree", `{"04":[` + entry("2022-08-22 04:28:03", "1661142423", pod, "return") + `]}`, 1, 0, time.Minute, false},
		{"no inject_time", `{"04":[` + entry("", "1661142423", pod, "return") + `]}`, 1, 0, 0, false},
		{"one bad of two", `{"04":[` + entry("", "x", pod, "return") + `,` + entry("", "1661142423", pod, "return") + `]}`, 1, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, bad, err := DecodeFaultList([]byte(tt.doc), "2022-08-22")
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if len(fs) != tt.faults || len(bad) != tt.bad {
				t.Fatalf("%d faults, bad %v; want %d, %d", len(fs), bad, tt.faults, tt.bad)
			}
			for _, f := range fs {
				if f.Service != "cartservice" || f.At.Unix() != 1661142423 || f.TimeSkew != tt.skew {
					t.Errorf("fault %+v", f)
				}
			}
		})
	}
}

// The shipped lists: every entry is valid; one has an inject_time a minute
// after its inject_timestamp, and its culprit's latency jumps at the
// timestamp (TestReplayFaultTimeFollowsTimestamp).
func TestDecodeShippedFaultLists(t *testing.T) {
	total := 0
	for _, d := range []string{"2022-08-22", "2022-08-23"} {
		b, err := os.ReadFile(filepath.Join(day(t, d), FaultListFile))
		if err != nil {
			t.Fatal(err)
		}
		fs, bad, err := DecodeFaultList(b, d)
		if err != nil || len(bad) != 0 {
			t.Fatalf("%s: %v %v", d, err, bad)
		}
		total += len(fs)
		for i, f := range fs {
			if i > 0 && f.At.Before(fs[i-1].At) {
				t.Errorf("%s: faults not in injection order at %d", d, i)
			}
			if f.Service == f.Pod || f.Service == "" || f.At.Format("2006-01-02") != d {
				t.Errorf("%s: fault %+v", d, f)
			}
		}
		var skewed []Fault
		for _, f := range fs {
			if f.TimeSkew != 0 {
				skewed = append(skewed, f)
			}
		}
		if d == "2022-08-22" && (len(skewed) != 1 || skewed[0].TimeSkew != time.Minute || skewed[0].At != time.Unix(1661152183, 0).UTC()) {
			t.Errorf("%s: faults with a time skew %+v, want the one of 07:10:43 (inject_time)", d, skewed)
		}
		if d != "2022-08-22" && len(skewed) != 0 {
			t.Errorf("%s: faults with a time skew %+v", d, skewed)
		}
	}
	if total != 56 { // README: "Of the 56 faults"
		t.Errorf("%d faults, the README counts 56", total)
	}
}

func TestFaultID(t *testing.T) {
	f := Fault{At: time.Unix(1661142423, 0), Service: "cartservice", Type: TypeNetworkDelay}
	if got, want := f.ID(), "2022-08-22T04:27:03Z-cartservice-network_delay"; got != want {
		t.Errorf("ID = %q, want %q", got, want)
	}
}

func TestKindOf(t *testing.T) {
	for typ, want := range map[string]string{
		TypeCPUContention: dataset.FaultCPU,
		TypeCPUConsumed:   dataset.FaultCPU,
		TypeNetworkDelay:  dataset.FaultNetworkDelay,
		TypeReturn:        dataset.FaultCodeError,
		TypeException:     dataset.FaultCodeError,
	} {
		if got := KindOf(typ); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", typ, got, want)
		}
	}
}
