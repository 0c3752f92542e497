package pebblestore

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	sealer := seerstoretest.Sealer(t)
	st, err := Open(dir, sealer)
	require.NoError(t, err)

	g := seerstoretest.Gen{Seed: 1, Start: time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC), Step: 10 * time.Millisecond}
	td := g.Traces(12000)
	v := seerstore.FromTraces(td, seerstore.DefaultLimits(), time.Now())
	require.NoError(t, v.Err())
	require.NoError(t, st.WriteSpans(ctx, v.Spans))
	require.NoError(t, st.WriteSpans(ctx, v.Spans[:100]), "writing again is an upsert")

	got, err := st.Trace(ctx, seerstore.TraceID(g.TraceID(7)))
	require.NoError(t, err)
	require.Len(t, got, 5)
	back, err := seerstore.ToTraces(got)
	require.NoError(t, err)
	assert.Equal(t, 5, back.SpanCount())

	from, to := g.Start.Add(30*time.Second), g.Start.Add(90*time.Second)
	var n int
	var last int64
	require.NoError(t, st.ServiceSpans(ctx, "frontend", from, to, func(s *seerstore.Span) error {
		require.GreaterOrEqual(t, s.StartNs, last)
		require.GreaterOrEqual(t, s.StartNs, from.UnixNano())
		require.Less(t, s.StartNs, to.UnixNano())
		require.Empty(t, s.Raw)
		require.Equal(t, "frontend", s.Service)
		last = s.StartNs
		n++
		return nil
	}))
	assert.Equal(t, 6000, n)

	services, err := st.Services(ctx, g.Start, g.Start.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"compose-post", "frontend", "post-storage", "text", "user-timeline"}, services)

	var pts []seerstore.SeriesPoint
	for i := 0; i < 7200; i++ {
		pts = append(pts, seerstore.SeriesPoint{Service: "text", Instance: "text-0", Metric: "seer.queue.outstanding_requests",
			TsNs: g.Start.Add(time.Duration(i) * time.Second).UnixNano(), Value: float64(i % 13)})
	}
	require.NoError(t, st.WriteSeries(ctx, pts))
	n = 0
	require.NoError(t, st.Series(ctx, "text", g.Start, g.Start.Add(2*time.Hour), func(p *seerstore.SeriesPoint) error {
		require.Equal(t, pts[n], *p)
		n++
		return nil
	}))
	assert.Equal(t, 7200, n)

	snap := seerstore.GraphSnapshot{TsNs: g.Start.UnixNano(), Version: 2, Edges: []seerstore.GraphEdge{{Caller: "a", Callee: "b", Calls: 1}}}
	require.NoError(t, st.WriteGraph(ctx, snap))
	var graphs []seerstore.GraphSnapshot
	require.NoError(t, st.Graphs(ctx, g.Start.Add(-time.Hour), g.Start.Add(time.Hour), func(gs *seerstore.GraphSnapshot) error {
		graphs = append(graphs, *gs)
		return nil
	}))
	assert.Equal(t, []seerstore.GraphSnapshot{snap}, graphs)

	// Reopen: durable.
	require.NoError(t, st.Close())
	st, err = Open(dir, sealer)
	require.NoError(t, err)
	defer st.Close()
	got, err = st.Trace(ctx, seerstore.TraceID(g.TraceID(7)))
	require.NoError(t, err)
	assert.Len(t, got, 5)

	// Retention: everything that started before the cut goes, by trace too.
	cut := g.Start.Add(60 * time.Second)
	require.NoError(t, st.DeleteBefore(ctx, cut, g.Start.Add(time.Hour)))
	got, err = st.Trace(ctx, seerstore.TraceID(g.TraceID(0)))
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = st.Trace(ctx, seerstore.TraceID(g.TraceID(11000)))
	require.NoError(t, err)
	assert.Len(t, got, 5)
	n = 0
	require.NoError(t, st.ServiceSpans(ctx, "frontend", g.Start, g.Start.Add(time.Hour), func(s *seerstore.Span) error {
		require.GreaterOrEqual(t, s.StartNs, cut.UnixNano())
		n++
		return nil
	}))
	assert.Equal(t, 6000, n)
	n = 0
	require.NoError(t, st.Series(ctx, "text", g.Start, g.Start.Add(2*time.Hour), func(*seerstore.SeriesPoint) error { n++; return nil }))
	assert.Equal(t, 3600, n)
}

func TestOrderedTime(t *testing.T) {
	for _, pair := range [][2]int64{{-5, 3}, {-1, 0}, {0, 1}, {1 << 40, 1 << 41}} {
		assert.Less(t, orderedTime(pair[0]), orderedTime(pair[1]))
		assert.Equal(t, pair[0], fromOrderedTime(orderedTime(pair[0])))
	}
}

func TestPrefixEnd(t *testing.T) {
	assert.Equal(t, []byte{'t', 2}, prefixEnd([]byte{'t', 1}))
	assert.Equal(t, []byte{'u'}, prefixEnd([]byte{'t', 0xff}))
	assert.Nil(t, prefixEnd([]byte{0xff}))
}

// FuzzSeriesKey: keys built from arbitrary strings decode to the same (NUL-free) parts.
func FuzzSeriesKey(f *testing.F) {
	f.Add("text", "text-0", "seer.queue.outstanding_requests", int64(5))
	f.Add("a\x00b", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, svc, inst, metric string, ts int64) {
		p := seerstore.SeriesPoint{Service: svc, Instance: inst, Metric: metric, TsNs: ts}
		prefix := seriesPrefix(svc)
		gotTs, gotInst, gotMetric, err := decodeSeriesKey(prefix, seriesKey(&p))
		require.NoError(t, err)
		assert.Equal(t, ts, gotTs)
		assert.Equal(t, keyPart(inst), gotInst)
		assert.Equal(t, keyPart(metric), gotMetric)
	})
}

// TestSpansStoredSealed: what a span carries is nowhere in the store's files
// in the clear, and the store read with another key refuses the records.
func TestSpansStoredSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := Open(dir, seerstoretest.Sealer(t))
	require.NoError(t, err)
	g := seerstoretest.Gen{Seed: 2, Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Step: 10 * time.Millisecond}
	spans := seerstoretest.SecretSpans(t, g, 20)
	const secret = seerstoretest.Secret
	require.NoError(t, st.WriteSpans(ctx, spans))
	require.NoError(t, st.Close())
	files := 0
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		files++
		assert.NotContains(t, string(data), secret, path)
		return err
	}))
	require.Positive(t, files)

	st, err = Open(dir, seerstoretest.Sealer(t))
	require.NoError(t, err)
	defer st.Close()
	_, err = st.Trace(ctx, seerstore.TraceID(g.TraceID(1)))
	require.ErrorIs(t, err, seerstore.ErrRecordKey)
}

// TestMovedRecordRefused: a sealed record put under another span's row
// (another trace here) does not open there.
func TestMovedRecordRefused(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	g := seerstoretest.Gen{Seed: 4, Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Step: 10 * time.Millisecond}
	spans := seerstoretest.SecretSpans(t, g, 2)
	require.NoError(t, st.WriteSpans(ctx, spans))
	a, b := spans[0], spans[len(spans)-1]
	require.NotEqual(t, a.TraceID, b.TraceID)
	rec, closer, err := st.db.Get(traceKey(a.TraceID, a.SpanID))
	require.NoError(t, err)
	moved := bytes.Clone(rec)
	require.NoError(t, closer.Close())
	require.NoError(t, st.db.Set(traceKey(b.TraceID, b.SpanID), moved, nil))
	_, err = st.Trace(ctx, b.TraceID)
	require.ErrorIs(t, err, seerstore.ErrRecordKey)
}

// TestRetentionOfSeriesAndGraphs: old series points go also for a service
// that never had a span, and old graph snapshots go but the last one before
// the cut, which is still in force after it.
func TestRetentionOfSeriesAndGraphs(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t)
	day := 24 * time.Hour
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	var pts []seerstore.SeriesPoint
	for _, age := range []time.Duration{60 * day, 50 * day, day} {
		pts = append(pts, seerstore.SeriesPoint{Service: "series-only", Instance: "i", Metric: "depth", TsNs: now.Add(-age).UnixNano(), Value: 1})
	}
	require.NoError(t, st.WriteSeries(ctx, pts))
	for v, age := range []time.Duration{60 * day, 40 * day, 35 * day} {
		require.NoError(t, st.WriteGraph(ctx, seerstore.GraphSnapshot{TsNs: now.Add(-age).UnixNano(), Version: int64(v + 1),
			Edges: []seerstore.GraphEdge{{Caller: "a", Callee: "b", Calls: 1}}}))
	}
	cut := now.Add(-30 * day)
	require.NoError(t, st.DeleteBefore(ctx, now.Add(-7*day), cut))

	var left []int64
	require.NoError(t, st.Series(ctx, "series-only", time.Unix(0, 0), now, func(p *seerstore.SeriesPoint) error {
		left = append(left, p.TsNs)
		return nil
	}))
	assert.Equal(t, []int64{now.Add(-day).UnixNano()}, left)
	var versions []int64
	require.NoError(t, st.Graphs(ctx, time.Unix(0, 0), now, func(g *seerstore.GraphSnapshot) error {
		versions = append(versions, g.Version)
		return nil
	}))
	assert.Equal(t, []int64{3}, versions, "the last snapshot before the cut stays")
}

// openTestStore opens a store in a new directory with a new key, closed
// when the test ends.
func openTestStore(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.TempDir(), seerstoretest.Sealer(t))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}
