package cassandrastore

import (
	"context"
	"fmt"
	"sort"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/seer-qos/seer/internal/seerstore"
)

// readPageSize is the page size of range reads; the driver fetches the next page while the caller
// consumes a quarter of the current one.
const readPageSize = 5000

// Trace returns every stored span of a trace.
func (st *Store) Trace(ctx context.Context, id seerstore.TraceID) ([]seerstore.Span, error) {
	iter := st.session.Query(`SELECT span_id, record FROM `+st.ks+`.spans_by_trace WHERE trace_id = ?`, id[:]).
		PageSize(readPageSize).IterContext(ctx)
	var out []seerstore.Span
	var spanID, rec []byte
	for iter.Scan(&spanID, &rec) {
		s, err := st.set.Sealer.OpenRecord(rec, append(id[:], spanID...))
		if err != nil {
			_ = iter.Close()
			return nil, fmt.Errorf("reading trace %s: %w", id, err)
		}
		out = append(out, s)
	}
	if err := iter.Close(); err != nil {
		return nil, fmt.Errorf("reading trace %s: %w", id, err)
	}
	return out, nil
}

// buckets returns the partition buckets of size that [from, to) touches, in order.
func buckets(from, to time.Time, size int64) (first, last int64, ok bool) {
	f, t := from.UnixNano(), to.UnixNano()
	if t <= f {
		return 0, 0, false
	}
	return f / size, (t - 1) / size, true
}

// ServiceSpans streams one service's spans that started in [from, to), in start order.
func (st *Store) ServiceSpans(ctx context.Context, service string, from, to time.Time, fn func(*seerstore.Span) error) error {
	first, last, ok := buckets(from, to, spanBucket)
	if !ok {
		return nil
	}
	q := `SELECT start_ns, trace_id, span_id, record FROM ` + st.ks + `.spans_by_service WHERE service = ? AND bucket = ? AND start_ns >= ? AND start_ns < ?`
	var startNs int64
	var traceID, spanID, rec []byte
	return st.eachBucket(ctx, first, last, func(b int64) *gocql.Query {
		return st.session.Query(q, service, b, from.UnixNano(), to.UnixNano())
	}, func(iter *gocql.Iter) (bool, error) {
		if !iter.Scan(&startNs, &traceID, &spanID, &rec) {
			return false, nil
		}
		s, err := st.set.Sealer.OpenRecord(rec, seerstore.ServiceRow(append(traceID, spanID...), startNs, service))
		if err != nil {
			return true, fmt.Errorf("reading spans of service %s: %w", service, err)
		}
		return true, fn(&s)
	}, "spans of service "+service)
}

// Series streams one service's series points in [from, to), in time order.
func (st *Store) Series(ctx context.Context, service string, from, to time.Time, fn func(*seerstore.SeriesPoint) error) error {
	first, last, ok := buckets(from, to, seriesBucket)
	if !ok {
		return nil
	}
	q := `SELECT ts_ns, instance, metric, value FROM ` + st.ks + `.series
 WHERE service = ? AND bucket = ? AND ts_ns >= ? AND ts_ns < ?`
	return st.eachBucket(ctx, first, last, func(b int64) *gocql.Query {
		return st.session.Query(q, service, b, from.UnixNano(), to.UnixNano())
	}, func(iter *gocql.Iter) (bool, error) {
		p := seerstore.SeriesPoint{Service: service}
		if !iter.Scan(&p.TsNs, &p.Instance, &p.Metric, &p.Value) {
			return false, nil
		}
		return true, fn(&p)
	}, "series of service "+service)
}

// Graphs streams the graph snapshots taken in [from, to), in time order.
func (st *Store) Graphs(ctx context.Context, from, to time.Time, fn func(*seerstore.GraphSnapshot) error) error {
	first, last, ok := buckets(from, to, dayBucket)
	if !ok {
		return nil
	}
	q := `SELECT ts_ns, version, edges FROM ` + st.ks + `.graph_snapshots WHERE bucket = ? AND ts_ns >= ? AND ts_ns < ?`
	return st.eachBucket(ctx, first, last, func(b int64) *gocql.Query {
		return st.session.Query(q, b, from.UnixNano(), to.UnixNano())
	}, func(iter *gocql.Iter) (bool, error) {
		var g seerstore.GraphSnapshot
		var edges string
		if !iter.Scan(&g.TsNs, &g.Version, &edges) {
			return false, nil
		}
		var err error
		if g.Edges, err = DecodeEdges([]byte(edges)); err != nil {
			return true, fmt.Errorf("graph snapshot at %d: %w", g.TsNs, err)
		}
		return true, fn(&g)
	}, "graph snapshots")
}

// Services lists the services that had spans on the days [from, to) touches.
func (st *Store) Services(ctx context.Context, from, to time.Time) ([]string, error) {
	first, last, ok := buckets(from, to, dayBucket)
	if !ok {
		return nil, nil
	}
	set := map[string]struct{}{}
	err := st.eachBucket(ctx, first, last, func(b int64) *gocql.Query {
		return st.session.Query(`SELECT service FROM `+st.ks+`.services_by_day WHERE day = ?`, b)
	}, func(iter *gocql.Iter) (bool, error) {
		var s string
		if !iter.Scan(&s) {
			return false, nil
		}
		set[s] = struct{}{}
		return true, nil
	}, "services")
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, err
}

// eachBucket runs the query of every bucket in [first, last] in order and hands each row to scan.
// The next bucket's first page is requested while the current one is consumed, so that reading a
// range of many small partitions is not a sequence of round trips.
func (st *Store) eachBucket(ctx context.Context, first, last int64, query func(int64) *gocql.Query,
	scan func(*gocql.Iter) (bool, error), what string) error {
	start := func(b int64) <-chan *gocql.Iter {
		ch := make(chan *gocql.Iter, 1)
		go func() { ch <- query(b).PageSize(readPageSize).Prefetch(0.25).IterContext(ctx) }()
		return ch
	}
	next := start(first)
	drain := func(b int64) {
		if b < last {
			_ = (<-next).Close()
		}
	}
	for b := first; b <= last; b++ {
		iter := <-next
		if b < last {
			next = start(b + 1)
		}
		for {
			more, err := scan(iter)
			if err != nil {
				_ = iter.Close()
				drain(b)
				return err
			}
			if !more {
				break
			}
		}
		if err := iter.Close(); err != nil {
			drain(b)
			return fmt.Errorf("reading %s: %w", what, err)
		}
	}
	return nil
}
