package cassandratest

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestLoggerStopsWhenTheTestEnds: what is logged after the test has ended
// (as the driver's goroutines do) is dropped, also through a child logger;
// zaptest's logger alone would pass it to testing, which panics.
func TestLoggerStopsWhenTheTestEnds(t *testing.T) {
	core, logs := observer.New(zap.DebugLevel)
	var l *zap.Logger
	t.Run("inner", func(t *testing.T) {
		l = zap.New(untilTestEnds(t, core)).With(zap.String("host", "127.0.0.1"))
		l.Info("during the test")
	})
	l.Info("after the test")
	if got := logs.All(); len(got) != 1 || got[0].Message != "during the test" {
		t.Fatalf("logged %v, want only the entry made during the test", got)
	}
}
