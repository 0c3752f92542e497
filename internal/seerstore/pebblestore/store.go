package pebblestore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/seer-qos/seer/internal/seerstore"
)

const dayNs = int64(24 * time.Hour)

// Store is the embedded store in one directory. It is safe for concurrent use; one process at a
// time may open a directory.
type Store struct {
	db     *pebble.DB
	sealer *seerstore.Sealer
}

var (
	_ seerstore.Writer = (*Store)(nil)
	_ seerstore.Reader = (*Store)(nil)
)

// Open opens or creates the store in dir; span records are sealed with
// sealer (seerstore.Sealer: traces are not stored in the clear).
func Open(dir string, sealer *seerstore.Sealer) (*Store, error) {
	if sealer == nil {
		return nil, errors.New("opening the embedded store: no record key (traces are stored encrypted)")
	}
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		return nil, fmt.Errorf("opening the embedded store in %s: %w", dir, err)
	}
	return &Store{db: db, sealer: sealer}, nil
}

// DefaultKeyFile is where seerlocal keeps the record key of the store in
// dir when none is configured: beside the directory, not in it.
func DefaultKeyFile(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("embedded store directory: %w", err)
	}
	return abs + ".key", nil
}

// Close flushes and closes the store.
func (st *Store) Close() error { return st.db.Close() }

// WriteSpans writes the spans in one atomic, synced batch.
func (st *Store) WriteSpans(_ context.Context, spans []seerstore.Span) error {
	b := st.db.NewBatch()
	defer b.Close()
	for i := range spans {
		s := &spans[i]
		if err := errors.Join(
			b.Set(traceKey(s.TraceID, s.SpanID), st.sealer.SealRecord(s, true), nil),
			b.Set(serviceKey(s), st.sealer.SealRecord(s, false), nil),
			b.Set(dayKey(s.StartNs/dayNs, s.Service), nil, nil),
		); err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("embedded store: writing %d spans: %w", len(spans), err)
	}
	return nil
}

// WriteSeries writes the points in one synced batch.
func (st *Store) WriteSeries(_ context.Context, points []seerstore.SeriesPoint) error {
	b := st.db.NewBatch()
	defer b.Close()
	for i := range points {
		if err := b.Set(seriesKey(&points[i]), encodeFloat(points[i].Value), nil); err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("embedded store: writing %d points: %w", len(points), err)
	}
	return nil
}

// WriteGraph writes one snapshot.
func (st *Store) WriteGraph(_ context.Context, g seerstore.GraphSnapshot) error {
	edges, err := json.Marshal(g.Edges)
	if err != nil {
		return fmt.Errorf("encoding graph edges: %w", err)
	}
	if err := st.db.Set(graphKey(g.TsNs, g.Version), edges, pebble.Sync); err != nil {
		return fmt.Errorf("embedded store: writing graph: %w", err)
	}
	return nil
}

// each iterates [lower, upper) and calls fn with each key and value until fn fails or ctx ends.
func (st *Store) each(ctx context.Context, lower, upper []byte, fn func(k, v []byte) error) error {
	it, err := st.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("embedded store: %w", err)
	}
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n%1024 == 0 && ctx.Err() != nil {
			_ = it.Close()
			return ctx.Err()
		}
		v, err := it.ValueAndErr()
		if err == nil {
			err = fn(it.Key(), v)
		}
		if err != nil {
			_ = it.Close()
			return err
		}
	}
	return it.Close()
}

// Trace returns every span of a trace.
func (st *Store) Trace(ctx context.Context, id seerstore.TraceID) ([]seerstore.Span, error) {
	prefix := append([]byte{prefixTrace}, id[:]...)
	var out []seerstore.Span
	err := st.each(ctx, prefix, prefixEnd(prefix), func(k, v []byte) error {
		s, err := st.sealer.OpenRecord(v, k[1:]) // the key is the row: trace and span IDs
		if err != nil {
			return fmt.Errorf("embedded store: span %x: %w", k[1:], err)
		}
		out = append(out, s)
		return nil
	})
	return out, err
}

// ServiceSpans streams one service's spans that started in [from, to), in start order.
func (st *Store) ServiceSpans(ctx context.Context, service string, from, to time.Time, fn func(*seerstore.Span) error) error {
	p := servicePrefix(service)
	return st.each(ctx, timeBound(p, from.UnixNano()), timeBound(p, to.UnixNano()), func(k, v []byte) error {
		ids, start := decodeServiceKey(k)
		s, err := st.sealer.OpenRecord(v, seerstore.ServiceRow(ids, start, service))
		if err != nil {
			return fmt.Errorf("embedded store: service span %x: %w", k, err)
		}
		return fn(&s)
	})
}

// Series streams one service's series points in [from, to), in time order.
func (st *Store) Series(ctx context.Context, service string, from, to time.Time, fn func(*seerstore.SeriesPoint) error) error {
	p := seriesPrefix(service)
	return st.each(ctx, timeBound(p, from.UnixNano()), timeBound(p, to.UnixNano()), func(k, v []byte) error {
		pt := seerstore.SeriesPoint{Service: service}
		var err error
		if pt.TsNs, pt.Instance, pt.Metric, err = decodeSeriesKey(p, k); err == nil {
			pt.Value, err = decodeFloat(v)
		}
		if err != nil {
			return fmt.Errorf("embedded store: %w", err)
		}
		return fn(&pt)
	})
}

// Graphs streams the snapshots taken in [from, to), in time order.
func (st *Store) Graphs(ctx context.Context, from, to time.Time, fn func(*seerstore.GraphSnapshot) error) error {
	p := []byte{prefixGraph}
	return st.each(ctx, timeBound(p, from.UnixNano()), timeBound(p, to.UnixNano()), func(k, v []byte) error {
		if len(k) != 17 {
			return fmt.Errorf("embedded store: graph key of %d bytes", len(k))
		}
		g := seerstore.GraphSnapshot{TsNs: fromOrderedTime(beUint64(k[1:])), Version: fromOrderedTime(beUint64(k[9:]))}
		if err := json.Unmarshal(v, &g.Edges); err != nil {
			return fmt.Errorf("embedded store: graph at %d: %w", g.TsNs, err)
		}
		return fn(&g)
	})
}

// Services lists the services with spans on the days [from, to) touches.
func (st *Store) Services(ctx context.Context, from, to time.Time) ([]string, error) {
	if !to.After(from) {
		return nil, nil
	}
	p := []byte{prefixDay}
	set := map[string]struct{}{}
	err := st.each(ctx, timeBound(p, from.UnixNano()/dayNs), timeBound(p, (to.UnixNano()-1)/dayNs+1), func(k, _ []byte) error {
		set[string(k[9:])] = struct{}{}
		return nil
	})
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out, err
}

// DeleteBefore removes spans that started, and series points and graph snapshots taken, before t.
func (st *Store) DeleteBefore(ctx context.Context, spansBefore, seriesBefore time.Time) error {
	services, err := st.Services(ctx, time.Unix(0, 0), spansBefore.Add(24*time.Hour))
	if err != nil {
		return err
	}
	b := st.db.NewBatch()
	defer b.Close()
	for _, svc := range services {
		p := servicePrefix(svc)
		lo, hi := timeBound(p, 0), timeBound(p, spansBefore.UnixNano())
		if err := st.each(ctx, lo, hi, func(k, _ []byte) error {
			ids, _ := decodeServiceKey(k)
			return b.Delete(append([]byte{prefixTrace}, ids...), nil)
		}); err != nil {
			return err
		}
		if err := b.DeleteRange(lo, hi, nil); err != nil {
			return err
		}
	}
	// Series of every service that has any (one may have series and no
	// spans, or no spans any more), and every graph snapshot but the last
	// before seriesBefore: it is still the graph in force after it.
	prefixes, err := st.seriesPrefixes()
	if err != nil {
		return err
	}
	for _, q := range prefixes {
		if err := b.DeleteRange(timeBound(q, 0), timeBound(q, seriesBefore.UnixNano()), nil); err != nil {
			return err
		}
	}
	last, err := st.lastKey([]byte{prefixGraph}, timeBound([]byte{prefixGraph}, seriesBefore.UnixNano()))
	if err != nil {
		return err
	}
	if last != nil {
		if err := b.DeleteRange([]byte{prefixGraph}, last, nil); err != nil {
			return err
		}
	}
	if err := b.DeleteRange(timeBound([]byte{prefixDay}, 0), timeBound([]byte{prefixDay}, spansBefore.UnixNano()/dayNs), nil); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("embedded store: deleting old data: %w", err)
	}
	return nil
}

// seriesPrefixes returns the series key prefix of every service with
// series, seeking from one service to the next.
func (st *Store) seriesPrefixes() ([][]byte, error) {
	it, err := st.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixSeries}, UpperBound: []byte{prefixSeries + 1}})
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	var out [][]byte
	for ok := it.First(); ok; {
		k := it.Key()
		end := bytes.IndexByte(k[1:], 0) // keyPart leaves no 0 in a name
		if end < 0 {
			_ = it.Close()
			return nil, fmt.Errorf("embedded store: series key %q without a service", k)
		}
		p := bytes.Clone(k[:end+2])
		out = append(out, p)
		ok = it.SeekGE(prefixEnd(p))
	}
	return out, it.Close()
}

// lastKey returns the last key in [lower, upper), nil when there is none.
func (st *Store) lastKey(lower, upper []byte) ([]byte, error) {
	it, err := st.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("embedded store: %w", err)
	}
	var k []byte
	if it.Last() {
		k = bytes.Clone(it.Key())
	}
	return k, it.Close()
}

func beUint64(b []byte) uint64 {
	return uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
}

// quietLogger drops Pebble's informational logs; errors surface as returned errors.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
