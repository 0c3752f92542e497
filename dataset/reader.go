package dataset

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/seer-qos/seer/internal/series"
)

// Dataset is an open dataset directory.
type Dataset struct {
	Dir      string
	Manifest *Manifest
}

// Open reads and checks the manifest of the dataset in dir.
func Open(dir string) (*Dataset, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return &Dataset{Dir: dir, Manifest: m}, nil
}

func (d *Dataset) readFile(name string) ([]byte, error) {
	if name == "" {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(d.Dir, name))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	return b, nil
}

// Faults reads the faults; nil when the dataset has none.
func (d *Dataset) Faults() ([]Fault, error) {
	b, err := d.readFile(d.Manifest.Files.Faults)
	if err != nil || b == nil {
		return nil, err
	}
	return DecodeFaults(b)
}

// Violations reads the violations; nil when the dataset has none.
func (d *Dataset) Violations() ([]Violation, error) {
	b, err := d.readFile(d.Manifest.Files.Violations)
	if err != nil || b == nil {
		return nil, err
	}
	return DecodeViolations(b)
}

// Actions reads the actions; nil when the dataset has none.
func (d *Dataset) Actions() ([]Action, error) {
	b, err := d.readFile(d.Manifest.Files.Actions)
	if err != nil || b == nil {
		return nil, err
	}
	return DecodeActions(b)
}

// Topology returns the topology document, nil when absent.
func (d *Dataset) Topology() ([]byte, error) { return d.readFile(d.Manifest.Files.Topology) }

// SeriesReader iterates over series.bin.
type SeriesReader struct {
	f   *os.File
	dec *SeriesDecoder
	m   *Manifest
	n   int64 // records read
}

// Series opens series.bin.
func (d *Dataset) Series() (*SeriesReader, error) {
	f, err := os.Open(filepath.Join(d.Dir, d.Manifest.Files.Series))
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	dec, err := NewSeriesDecoder(f, len(d.Manifest.Series))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dataset %s: %w", d.Dir, err)
	}
	if int64(dec.Header().Tick) != d.Manifest.TickNs {
		f.Close()
		return nil, fmt.Errorf("dataset %s: series tick %d differs from manifest tick %d", d.Dir, dec.Header().Tick, d.Manifest.TickNs)
	}
	return &SeriesReader{f: f, dec: dec, m: d.Manifest}, nil
}

// Next reads the next record, with its Key, or returns io.EOF. A file that
// ends before the manifest's counts.series_records (where set) is an error:
// cut short between two records, it would otherwise read as whole.
func (r *SeriesReader) Next(rec *Record) error {
	if err := r.dec.Decode(rec); err != nil {
		if err == io.EOF && r.m.Counts.SeriesRecords > 0 && r.n != r.m.Counts.SeriesRecords {
			return fmt.Errorf("series.bin holds %d records, the manifest counts %d: the file was cut short or changed", r.n, r.m.Counts.SeriesRecords)
		}
		return err
	}
	r.n++
	if int(rec.Series) >= len(r.m.Series) {
		return fmt.Errorf("series record: index %d outside the table of %d", rec.Series, len(r.m.Series))
	}
	k := r.m.Series[rec.Series]
	rec.Sample.Key = series.Key{Service: k.Service, Instance: k.Instance}
	return nil
}

// Close closes the file.
func (r *SeriesReader) Close() error { return r.f.Close() }

// ReadAllSeries reads every record.
func (d *Dataset) ReadAllSeries() ([]Record, error) {
	r, err := d.Series()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []Record
	for {
		var rec Record
		err := r.Next(&rec)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", d.Dir, err)
		}
		out = append(out, rec)
	}
}
