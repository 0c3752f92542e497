package nezha

import (
	"errors"
	"fmt"
)

// Stats counts what the replay read and did. Every data row of a trace
// file ends in exactly one of Spans, Duplicates, MalformedRows or
// BadTimestamps.
type Stats struct {
	Files        int   // trace files read
	CorruptFiles int   // files whose gzip or CSV stream broke (rows before the break are kept)
	Rows         int64 // data rows read
	Spans        int64 // spans replayed
	Duplicates   int64 // rows whose trace and span ID an earlier row of the segment had

	MalformedRows  int64 // wrong field count, bad IDs, empty names, broken quoting
	BadTimestamps  int64 // not integers, outside 2000-2100, end before start, duration disagrees
	UnknownParents int64 // spans whose parent is not in the data (replayed as SERVER spans)

	Server, Client, Internal int64 // spans by kind

	FaultLists int // fault_list.json files read
	BadFaults  int // entries refused (also in Problems)
	// FaultWarnings are entries kept despite a problem (inject_time and
	// inject_timestamp disagree).
	FaultWarnings int
	// IgnoredFiles are files under trace/ that are not minute files.
	IgnoredFiles int
}

// Problems returns the number of input problems: everything counted except
// duplicates, which lose nothing.
func (s Stats) Problems() int64 {
	return int64(s.CorruptFiles) + s.MalformedRows + s.BadTimestamps + s.UnknownParents + int64(s.BadFaults) + int64(s.FaultWarnings) + int64(s.IgnoredFiles)
}

// problemLog keeps the first messages of input problems and counts the rest.
type problemLog struct {
	max     int
	list    []string
	omitted int
}

func (p *problemLog) add(format string, args ...any) {
	if len(p.list) < p.max {
		p.list = append(p.list, fmt.Sprintf(format, args...))
		return
	}
	p.omitted++
}

// countRowError counts a row error by its class.
func (s *Stats) countRowError(err error) {
	if errors.Is(err, errTimestamp) {
		s.BadTimestamps++
	} else {
		s.MalformedRows++
	}
}
