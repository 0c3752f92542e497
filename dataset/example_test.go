package dataset_test

import (
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/series"
)

// A writer (the simulator, replay, the storage export) creates a dataset,
// writes every tick's samples, its labels, and closes it; a reader opens it
// and streams the records.
func Example() {
	dir, _ := os.MkdirTemp("", "dataset")
	defer os.RemoveAll(dir)

	w, err := dataset.Create(dir, dataset.Manifest{Source: dataset.SourceReplay, TickNs: int64(100 * time.Millisecond), StartNs: 0})
	if err != nil {
		log.Fatal(err)
	}
	for tick := int64(0); tick < 3; tick++ {
		samples := []series.Sample{{Key: series.Key{Service: "frontend", Instance: "frontend-0"}, Depth: float64(tick), Arrivals: 10}}
		if err := w.WriteTick(tick*int64(100*time.Millisecond), samples); err != nil {
			log.Fatal(err)
		}
	}
	w.SetFaults([]dataset.Fault{{ID: "f1", Kind: dataset.FaultCPU, Service: "frontend", StartNs: 1e8, DurationNs: 1e8, Magnitude: 2}})
	if err := w.Close(3 * int64(100*time.Millisecond)); err != nil {
		log.Fatal(err)
	}

	ds, err := dataset.Open(dir)
	if err != nil {
		log.Fatal(err)
	}
	r, err := ds.Series()
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for {
		var rec dataset.Record
		if err := r.Next(&rec); err == io.EOF {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		fmt.Println(rec.StartNs, rec.Sample.Instance, rec.Sample.Depth)
	}
	faults, _ := ds.Faults()
	fmt.Println(ds.Manifest.Version, len(faults), "fault")
	// Output:
	// 0 frontend-0 0
	// 100000000 frontend-0 1
	// 200000000 frontend-0 2
	// 1.2 1 fault
}
