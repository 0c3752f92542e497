package cassandrastore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/seer-qos/seer/internal/seerstore"
)

// statements are the store's CQL statements. They have bind markers, so the driver prepares each
// once per connection and caches it; every execution sends only the statement id and values.
type statements struct {
	insertByTrace, insertByService, insertSeries, insertGraph, insertServiceDay string
}

func newStatements(ks string) statements {
	return statements{
		insertByTrace:    `INSERT INTO ` + ks + `.spans_by_trace (trace_id, span_id, record) VALUES (?, ?, ?) USING TTL ?`,
		insertByService:  `INSERT INTO ` + ks + `.spans_by_service (service, bucket, start_ns, trace_id, span_id, record) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`,
		insertSeries:     `INSERT INTO ` + ks + `.series (service, bucket, ts_ns, instance, metric, value) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?`,
		insertGraph:      `INSERT INTO ` + ks + `.graph_snapshots (bucket, ts_ns, version, edges) VALUES (?, ?, ?, ?) USING TTL ?`,
		insertServiceDay: `INSERT INTO ` + ks + `.services_by_day (day, service) VALUES (?, ?) USING TTL ?`,
	}
}

// row is one statement execution: its partition, its values and its estimated size.
type row struct {
	stmt  string
	args  []any
	bytes int
}

// partitions groups rows by partition key, keeping first-seen order of partitions.
type partitions struct {
	order []string
	rows  map[string][]row
}

func (p *partitions) add(key string, r row) {
	if p.rows == nil {
		p.rows = map[string][]row{}
	}
	if _, ok := p.rows[key]; !ok {
		p.order = append(p.order, key)
	}
	p.rows[key] = append(p.rows[key], r)
}

// WriteSpans writes each span to spans_by_trace and spans_by_service, and each new (day, service)
// to services_by_day, in unlogged batches of one partition each.
func (st *Store) WriteSpans(ctx context.Context, spans []seerstore.Span) error {
	var p partitions
	ttl := ttlSeconds(st.set.SpanTTL)
	newDays := map[serviceDay]struct{}{}
	st.mu.Lock()
	for i := range spans {
		s := &spans[i]
		full := st.set.Sealer.SealRecord(s, true)
		p.add("t"+string(s.TraceID[:]), row{stmt: st.stmts.insertByTrace, bytes: 40 + len(full),
			args: []any{s.TraceID[:], s.SpanID[:], full, ttl}})
		bucket := s.StartNs / spanBucket
		short := st.set.Sealer.SealRecord(s, false)
		p.add(fmt.Sprintf("s%d/%s", bucket, s.Service), row{stmt: st.stmts.insertByService, bytes: 50 + len(s.Service) + len(short),
			args: []any{s.Service, bucket, s.StartNs, s.TraceID[:], s.SpanID[:], short, ttl}})
		sd := serviceDay{s.StartNs / dayBucket, s.Service}
		if _, ok := st.servicesSeen[sd]; !ok {
			if _, ok := newDays[sd]; !ok {
				newDays[sd] = struct{}{}
				p.add(fmt.Sprintf("d%d", sd.day), row{stmt: st.stmts.insertServiceDay, bytes: 50 + len(s.Service),
					args: []any{sd.day, sd.service, ttlSeconds(st.set.SpanTTL)}})
			}
		}
	}
	st.mu.Unlock()
	if err := st.execute(ctx, &p); err != nil {
		return err
	}
	st.mu.Lock()
	for sd := range newDays {
		st.servicesSeen[sd] = struct{}{}
	}
	st.mu.Unlock()
	return nil
}

// WriteSeries writes series points, batched by (service, hour) partition.
func (st *Store) WriteSeries(ctx context.Context, points []seerstore.SeriesPoint) error {
	var p partitions
	ttl := ttlSeconds(st.set.SeriesTTL)
	for i := range points {
		pt := &points[i]
		bucket := pt.TsNs / seriesBucket
		p.add(fmt.Sprintf("%d/%s", bucket, pt.Service), row{stmt: st.stmts.insertSeries, bytes: 60 + len(pt.Service) + len(pt.Instance) + len(pt.Metric),
			args: []any{pt.Service, bucket, pt.TsNs, pt.Instance, pt.Metric, pt.Value, ttl}})
	}
	return st.execute(ctx, &p)
}

// WriteGraph writes one graph snapshot; its edges are stored as JSON (see DecodeEdges).
func (st *Store) WriteGraph(ctx context.Context, g seerstore.GraphSnapshot) error {
	edges, err := json.Marshal(g.Edges)
	if err != nil {
		return fmt.Errorf("encoding graph edges: %w", err)
	}
	var p partitions
	p.add("g", row{stmt: st.stmts.insertGraph, bytes: len(edges),
		args: []any{g.TsNs / dayBucket, g.TsNs, g.Version, string(edges), ttlSeconds(st.set.GraphTTL)}})
	return st.execute(ctx, &p)
}

// DecodeEdges decodes the edges column of graph_snapshots.
func DecodeEdges(b []byte) ([]seerstore.GraphEdge, error) {
	var edges []seerstore.GraphEdge
	if err := json.Unmarshal(b, &edges); err != nil {
		return nil, fmt.Errorf("decoding graph edges: %w", err)
	}
	return edges, nil
}

// execute sends every partition's rows as unlogged batches of at most MaxBatchRows rows and about
// MaxBatchBytes bytes (a single row goes as a plain statement), at most MaxConcurrentRequests at a
// time across the Store. It waits for all and returns every distinct error, joined.
func (st *Store) execute(ctx context.Context, p *partitions) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		seen = map[string]bool{}
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if msg := err.Error(); !seen[msg] {
			seen[msg] = true
			errs = append(errs, err)
		}
	}
	send := func(rows []row) {
		defer wg.Done()
		defer func() { <-st.sem }()
		var err error
		if len(rows) == 1 {
			err = st.session.Query(rows[0].stmt, rows[0].args...).ExecContext(ctx)
		} else {
			b := st.session.Batch(gocql.UnloggedBatch)
			for _, r := range rows {
				b.Query(r.stmt, r.args...)
			}
			err = b.ExecContext(ctx)
		}
		if err != nil {
			fail(err)
		}
	}
	for _, key := range p.order {
		rows := p.rows[key]
		for len(rows) > 0 {
			n, size := 0, 0
			for n < len(rows) && n < st.set.MaxBatchRows && (n == 0 || size+rows[n].bytes <= st.set.MaxBatchBytes) {
				size += rows[n].bytes
				n++
			}
			select {
			case st.sem <- struct{}{}:
			case <-ctx.Done():
				fail(ctx.Err())
				wg.Wait()
				return wrapWrite(errs)
			}
			wg.Add(1)
			go send(rows[:n])
			rows = rows[n:]
		}
	}
	wg.Wait()
	return wrapWrite(errs)
}

func wrapWrite(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("writing to Cassandra: %w", errors.Join(errs...))
}
