package seerstore

import (
	"context"
	"time"
)

// Writer stores spans, series and graph snapshots. Writes are idempotent: writing the same span
// (same trace and span id) or the same series point again overwrites it, so a retried batch is
// stored exactly once.
type Writer interface {
	// WriteSpans stores valid spans (see FromTraces for validation).
	WriteSpans(ctx context.Context, spans []Span) error
	// WriteSeries stores series points.
	WriteSeries(ctx context.Context, points []SeriesPoint) error
	// WriteGraph stores one dependency-graph snapshot.
	WriteGraph(ctx context.Context, g GraphSnapshot) error
	// Close releases the store's resources.
	Close() error
}

// Reader reads what a Writer stored. The range methods call fn in ascending time order and stop
// at the first error fn returns, which they return; from is inclusive, to exclusive.
type Reader interface {
	// Trace returns every span of a trace, in no particular order; none is not an error.
	Trace(ctx context.Context, id TraceID) ([]Span, error)
	// ServiceSpans streams the spans of one service that started in [from, to). Raw is empty:
	// the time-range table keeps the typed training fields only; Trace gives the whole span.
	ServiceSpans(ctx context.Context, service string, from, to time.Time, fn func(*Span) error) error
	// Series streams the series points of one service in [from, to).
	Series(ctx context.Context, service string, from, to time.Time, fn func(*SeriesPoint) error) error
	// Graphs streams the graph snapshots taken in [from, to).
	Graphs(ctx context.Context, from, to time.Time, fn func(*GraphSnapshot) error) error
	// Services lists the services that had spans in [from, to), sorted.
	Services(ctx context.Context, from, to time.Time) ([]string, error)
	// Close releases the store's resources.
	Close() error
}
