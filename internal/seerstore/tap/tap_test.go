package tap

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/series"
)

type memWriter struct {
	mu     sync.Mutex
	points []seerstore.SeriesPoint
	fail   int // fail this many writes first
}

func (m *memWriter) WriteSpans(context.Context, []seerstore.Span) error        { return nil }
func (m *memWriter) WriteGraph(context.Context, seerstore.GraphSnapshot) error { return nil }
func (m *memWriter) Close() error                                              { return nil }
func (m *memWriter) WriteSeries(_ context.Context, p []seerstore.SeriesPoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail > 0 {
		m.fail--
		return errors.New("store down")
	}
	m.points = append(m.points, p...)
	return nil
}

func (m *memWriter) n() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.points)
}

func TestTapStoresSeriesAndRetries(t *testing.T) {
	w := &memWriter{fail: 2}
	tp := Start("queuedepth/taptest", func(context.Context) (seerstore.Writer, error) { return w, nil }, nil, zaptest.NewLogger(t))
	hub := series.DefaultRegistry.Acquire("queuedepth/taptest")
	defer series.DefaultRegistry.Release("queuedepth/taptest")
	start := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		hub.Publish(series.Batch{Start: start.Add(time.Duration(i) * time.Second), Samples: []series.Sample{{
			Key: series.Key{Service: "text", Instance: "text-0"}, Depth: float64(i), MeanDepth: float64(i), InstantDepth: float64(i),
			ReportedDepth: float64(i), NICDepth: float64(i), ListenBacklog: float64(i), Arrivals: 1, Completions: 1,
		}}})
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.n() < 24 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	tp.Stop()
	require.Equal(t, 24, w.n(), "3 ticks x 8 measured fields")
	st := tp.Stats()
	assert.Equal(t, int64(3), st.SeriesBatches)
	assert.Equal(t, int64(2), st.Failures)
}

var errRefused = errors.New("refused for good")

// refusingWriter refuses the series of service "bad" for good.
type refusingWriter struct{ memWriter }

func (m *refusingWriter) WriteSeries(ctx context.Context, p []seerstore.SeriesPoint) error {
	if len(p) > 0 && p[0].Service == "bad" {
		return errRefused
	}
	return m.memWriter.WriteSeries(ctx, p)
}

// TestTapDropsWhatIsRefusedForGood: a tick the store refuses for good is
// counted and given up, and the ticks after it are stored.
func TestTapDropsWhatIsRefusedForGood(t *testing.T) {
	w := &refusingWriter{}
	tp := Start("queuedepth/taprefused", func(context.Context) (seerstore.Writer, error) { return w, nil },
		func(err error) bool { return errors.Is(err, errRefused) }, zaptest.NewLogger(t))
	hub := series.DefaultRegistry.Acquire("queuedepth/taprefused")
	defer series.DefaultRegistry.Release("queuedepth/taprefused")
	start := time.Unix(1000, 0)
	for i, svc := range []string{"bad", "good"} {
		hub.Publish(series.Batch{Start: start.Add(time.Duration(i) * time.Second), Samples: []series.Sample{{
			Key: series.Key{Service: svc, Instance: svc + "-0"}, Depth: 1, MeanDepth: 1, InstantDepth: 1,
			ReportedDepth: math.NaN(), NICDepth: math.NaN(), ListenBacklog: math.NaN(), Arrivals: 1, Completions: 1,
		}}})
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.n() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	tp.Stop()
	require.Positive(t, w.n(), "the tick after the refused one was not stored")
	st := tp.Stats()
	assert.Equal(t, int64(1), st.Dropped)
	assert.Positive(t, st.DroppedPoints)
	assert.Equal(t, int64(1), st.SeriesBatches)
}
