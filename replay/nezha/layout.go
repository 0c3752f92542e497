package nezha

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// FaultListFile and TraceDir are the names of a day directory's parts.
const (
	FaultListFile = "fault_list.json"
	TraceDir      = "trace"
	dayLayout     = "2006-01-02"
)

// Day is one day directory.
type Day struct {
	Name string // 2022-08-22
	Dir  string
	Date time.Time
	// Files are the trace files in minute order.
	Files []TraceFile
	// Ignored are files under trace/ that are not HH_MM_trace.csv[.gz].
	Ignored []string
}

// TraceFile is one minute file. Its Minute is the one of its name: it holds
// spans from about a minute before it (README of the data).
type TraceFile struct {
	Path   string
	Minute time.Time
}

// Segment is a run of trace files of consecutive minutes: spans of one
// trace never cross a gap, so each segment is classified and ordered on its
// own.
type Segment struct {
	Day   string
	Files []TraceFile
}

// Discover finds the days under dir: dir itself when it is a day (it has
// trace/ or fault_list.json), else its subdirectories named by date.
func Discover(dir string) ([]Day, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("nezha data: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("nezha data: %s is not a directory", dir)
	}
	if isDay(dir) {
		d, err := readDay(dir)
		if err != nil {
			return nil, err
		}
		return []Day{d}, nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("nezha data: %w", err)
	}
	var days []Day
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if !e.IsDir() || !isDay(p) {
			continue
		}
		d, err := readDay(p)
		if err != nil {
			return nil, err
		}
		days = append(days, d)
	}
	if len(days) == 0 {
		return nil, fmt.Errorf("nezha data: no day directory (YYYY-MM-DD with %s/ or %s) in %s", TraceDir, FaultListFile, dir)
	}
	sort.Slice(days, func(i, j int) bool { return days[i].Date.Before(days[j].Date) })
	return days, nil
}

func isDay(dir string) bool {
	for _, n := range []string{TraceDir, FaultListFile} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

func readDay(dir string) (Day, error) {
	name := filepath.Base(filepath.Clean(dir))
	date, err := time.Parse(dayLayout, name)
	if err != nil {
		return Day{}, fmt.Errorf("nezha day %s: the directory name must be the date (YYYY-MM-DD): %w", dir, err)
	}
	d := Day{Name: name, Dir: dir, Date: date}
	ents, err := os.ReadDir(filepath.Join(dir, TraceDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Day{}, fmt.Errorf("nezha day %s: %w", dir, err)
	}
	for _, e := range ents {
		m, ok := fileMinute(date, e.Name())
		if e.IsDir() || !ok {
			d.Ignored = append(d.Ignored, filepath.Join(dir, TraceDir, e.Name()))
			continue
		}
		d.Files = append(d.Files, TraceFile{Path: filepath.Join(dir, TraceDir, e.Name()), Minute: m})
	}
	sort.Slice(d.Files, func(i, j int) bool { return d.Files[i].Minute.Before(d.Files[j].Minute) })
	return d, nil
}

// fileMinute parses HH_MM_trace.csv or HH_MM_trace.csv.gz.
func fileMinute(date time.Time, name string) (time.Time, bool) {
	base, ok := strings.CutSuffix(name, "_trace.csv.gz")
	if !ok {
		if base, ok = strings.CutSuffix(name, "_trace.csv"); !ok {
			return time.Time{}, false
		}
	}
	t, err := time.Parse("15_04", base)
	if err != nil || len(base) != 5 {
		return time.Time{}, false
	}
	return date.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute), true
}

// Segments groups the day's files within [from, to) (zero: unbounded) into
// runs of consecutive minutes.
func (d Day) Segments(from, to time.Time) []Segment {
	var segs []Segment
	var last time.Time
	for _, f := range d.Files {
		if (!from.IsZero() && f.Minute.Before(from)) || (!to.IsZero() && !f.Minute.Before(to)) {
			continue
		}
		if len(segs) == 0 || f.Minute.Sub(last) != time.Minute {
			segs = append(segs, Segment{Day: d.Name})
		}
		s := &segs[len(segs)-1]
		s.Files = append(s.Files, f)
		last = f.Minute
	}
	return segs
}

// HasMinute reports whether the day has the file named for minute m.
func (d Day) HasMinute(m time.Time) bool {
	i := sort.Search(len(d.Files), func(i int) bool { return !d.Files[i].Minute.Before(m) })
	return i < len(d.Files) && d.Files[i].Minute.Equal(m)
}
