package cassandrastore

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

func TestMain(m *testing.M) { os.Exit(cassandratest.Main(m)) }

// testSettings returns settings for the test node in a keyspace of its own.
func testSettings(t *testing.T, keyspace string) Settings {
	n := cassandratest.Get(t)
	return Settings{
		Hosts: n.Hosts, Keyspace: keyspace,
		Replication: map[string]string{"class": "SimpleStrategy", "replication_factor": "1"},
		Username:    n.Username, Password: n.Password, TLS: n.TLSConfig(t), Sealer: seerstoretest.Sealer(t),
		Consistency: gocql.LocalQuorum, ConnectTimeout: 5 * time.Second, QueryTimeout: 10 * time.Second,
		MaxConcurrentRequests: 16, MaxBatchRows: 50, MaxBatchBytes: 48 << 10,
		SpanTTL: time.Hour, SeriesTTL: time.Hour, GraphTTL: time.Hour, CreateSchema: true,
		Logger: cassandratest.Logger(t),
	}
}

// openTestStore opens a store with s, and drops its keyspace when the test ends.
func openTestStore(t *testing.T, s Settings) *Store {
	t.Helper()
	st, err := Open(context.Background(), s)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, st.session.Query("DROP KEYSPACE IF EXISTS "+st.ks).Exec())
		st.Close()
	})
	return st
}

func TestStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	st := openTestStore(t, testSettings(t, "seer_store_roundtrip"))

	g := seerstoretest.Gen{Seed: 1, Start: time.Date(2026, 3, 1, 10, 59, 0, 0, time.UTC), Step: 10 * time.Millisecond}
	td := g.Traces(12000) // two minutes and more: several spans_by_service partitions
	v := seerstore.FromTraces(td, seerstore.DefaultLimits(), time.Now())
	require.NoError(t, v.Err())
	require.Len(t, v.Spans, 60000)
	require.NoError(t, st.WriteSpans(ctx, v.Spans))

	// A whole trace, lossless.
	got, err := st.Trace(ctx, seerstore.TraceID(g.TraceID(7)))
	require.NoError(t, err)
	require.Len(t, got, 5)
	back, err := seerstore.ToTraces(got)
	require.NoError(t, err)
	assert.Equal(t, 5, back.SpanCount())
	want := map[string]ptrace.Span{}
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans().At(0).Spans()
		for j := 0; j < ss.Len(); j++ {
			if ss.At(j).TraceID() == g.TraceID(7) {
				want[ss.At(j).SpanID().String()] = ss.At(j)
			}
		}
	}
	for i := 0; i < back.ResourceSpans().Len(); i++ {
		sp := back.ResourceSpans().At(i).ScopeSpans().At(0).Spans().At(0)
		w, ok := want[sp.SpanID().String()]
		require.True(t, ok)
		assert.Equal(t, w.Attributes().AsRaw(), sp.Attributes().AsRaw())
		assert.Equal(t, w.StartTimestamp(), sp.StartTimestamp())
	}

	// One service over a time range, in order, with the training fields.
	from := g.Start.Add(30 * time.Second)
	to := g.Start.Add(90 * time.Second)
	var n int
	var last int64
	require.NoError(t, st.ServiceSpans(ctx, "frontend", from, to, func(s *seerstore.Span) error {
		require.GreaterOrEqual(t, s.StartNs, last)
		require.GreaterOrEqual(t, s.StartNs, from.UnixNano())
		require.Less(t, s.StartNs, to.UnixNano())
		require.NotEqual(t, int64(seerstore.NoDepth), s.OutstandingRequests)
		require.NotZero(t, s.AppReceiveNs)
		last = s.StartNs
		n++
		return nil
	}))
	assert.Equal(t, 6000, n) // one frontend span per trace, one trace per 10 ms

	services, err := st.Services(ctx, g.Start, g.Start.Add(time.Hour))
	require.NoError(t, err)
	assert.Equal(t, []string{"compose-post", "frontend", "post-storage", "text", "user-timeline"}, services)

	// Series and graphs.
	var pts []seerstore.SeriesPoint
	for i := 0; i < 7200; i++ { // two hours at one point a second: two partitions
		pts = append(pts, seerstore.SeriesPoint{Service: "text", Instance: "text-0", Metric: "seer.queue.outstanding_requests",
			TsNs: g.Start.Add(time.Duration(i) * time.Second).UnixNano(), Value: float64(i % 13)})
	}
	require.NoError(t, st.WriteSeries(ctx, pts))
	n = 0
	require.NoError(t, st.Series(ctx, "text", g.Start, g.Start.Add(2*time.Hour), func(p *seerstore.SeriesPoint) error {
		require.Equal(t, pts[n].TsNs, p.TsNs)
		require.Equal(t, pts[n].Value, p.Value)
		n++
		return nil
	}))
	assert.Equal(t, 7200, n)

	snap := seerstore.GraphSnapshot{TsNs: g.Start.UnixNano(), Version: 3, Edges: []seerstore.GraphEdge{{Caller: "frontend", Callee: "text", Calls: 10}}}
	require.NoError(t, st.WriteGraph(ctx, snap))
	var graphs []seerstore.GraphSnapshot
	require.NoError(t, st.Graphs(ctx, g.Start.Add(-time.Hour), g.Start.Add(time.Hour), func(gs *seerstore.GraphSnapshot) error {
		graphs = append(graphs, *gs)
		return nil
	}))
	assert.Equal(t, []seerstore.GraphSnapshot{snap}, graphs)

	// Writing again is an upsert: still one row per span.
	require.NoError(t, st.WriteSpans(ctx, v.Spans[:1000]))
	var count int64
	require.NoError(t, st.session.Query("SELECT COUNT(*) FROM "+st.ks+".spans_by_trace").Scan(&count))
	assert.Equal(t, int64(60000), count)
}

func TestOpenRejectsWrongPassword(t *testing.T) {
	s := testSettings(t, "seer_store_badpw")
	if s.Username == "" {
		t.Skip("the node does not require authentication")
	}
	s.Password = "wrong"
	_, err := Open(context.Background(), s)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "connecting to Cassandra")
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	s := testSettings(t, "seer_store_newer")
	st := openTestStore(t, s)
	require.NoError(t, st.session.Query("INSERT INTO "+st.ks+".schema_migrations (version, description) VALUES (?, ?)",
		SchemaVersion+1, "from the future").Exec())
	_, err := Open(ctx, s)
	require.ErrorContains(t, err, fmt.Sprintf("schema version %d, newer than this build's %d", SchemaVersion+1, SchemaVersion))
	s.CreateSchema = false
	_, err = Open(ctx, s)
	require.ErrorContains(t, err, "this build needs 1")
}

// TestCanceledContext checks that the caller's context reaches every kind of
// statement: a cancelled one fails reads, single-row writes and batches
// instead of running them.
func TestCanceledContext(t *testing.T) {
	st := openTestStore(t, testSettings(t, "seer_store_canceled"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	g := seerstoretest.Gen{Seed: 2, Start: time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC), Step: 10 * time.Millisecond}
	v := seerstore.FromTraces(g.Traces(20), seerstore.DefaultLimits(), time.Now())
	require.NoError(t, v.Err())
	require.ErrorIs(t, st.WriteSpans(ctx, v.Spans[:1]), context.Canceled)
	require.ErrorIs(t, st.WriteSpans(ctx, v.Spans), context.Canceled)

	_, err := st.Trace(ctx, seerstore.TraceID(g.TraceID(1)))
	require.ErrorIs(t, err, context.Canceled)
	err = st.ServiceSpans(ctx, v.Spans[0].Service, g.Start, g.Start.Add(time.Minute), func(*seerstore.Span) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
}

// TestRecordsStoredSealed: the span records in Cassandra hold nothing of the
// span in the clear, and a store with another key refuses them.
func TestRecordsStoredSealed(t *testing.T) {
	ctx := context.Background()
	s := testSettings(t, "seer_store_sealed")
	st := openTestStore(t, s)
	g := seerstoretest.Gen{Seed: 3, Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Step: 10 * time.Millisecond}
	spans := seerstoretest.SecretSpans(t, g, 10)
	const secret = seerstoretest.Secret
	require.NoError(t, st.WriteSpans(ctx, spans))
	for _, table := range []string{"spans_by_trace", "spans_by_service"} {
		iter := st.session.Query("SELECT record FROM " + st.ks + "." + table).IterContext(ctx)
		var rec []byte
		n := 0
		for iter.Scan(&rec) {
			n++
			require.NotContains(t, string(rec), secret, table)
		}
		require.NoError(t, iter.Close())
		require.Equal(t, len(spans), n, table)
	}
	got, err := st.Trace(ctx, seerstore.TraceID(g.TraceID(1)))
	require.NoError(t, err)
	require.NotEmpty(t, got)
	assert.Equal(t, secret, got[0].StatusMessage)

	s.Sealer, s.CreateSchema = seerstoretest.Sealer(t), false
	other, err := Open(ctx, s)
	require.NoError(t, err)
	defer other.Close()
	_, err = other.Trace(ctx, seerstore.TraceID(g.TraceID(1)))
	require.ErrorIs(t, err, seerstore.ErrRecordKey)
}
