package main

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/pebblestore"
	"github.com/seer-qos/seer/internal/series"
)

func TestDatasetExportFlags(t *testing.T) {
	store := t.TempDir()
	st, err := openLocalStore(store)
	require.NoError(t, err)
	require.NoError(t, st.Close())
	notStore := t.TempDir()
	out := filepath.Join(t.TempDir(), "ds")
	const start, end = "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--start", start, "--end", end, "--out", out}, "--from is required"},
		{[]string{"--from", "mysql", "--start", start, "--end", end, "--out", out}, `--from "mysql": want cassandra or local`},
		{[]string{"--from", "local", "--start", start, "--end", end, "--out", out}, "--from local needs --dir"},
		{[]string{"--from", "local", "--dir", filepath.Join(store, "nope"), "--start", start, "--end", end, "--out", out}, "--dir: stat"},
		{[]string{"--from", "local", "--dir", notStore, "--start", start, "--end", end, "--out", out}, "holds no embedded store"},
		{[]string{"--from", "local", "--dir", store, "--end", end, "--out", out}, "--start is required"},
		{[]string{"--from", "local", "--dir", store, "--start", "yesterday", "--end", end, "--out", out}, `--start "yesterday" is not an RFC 3339 time`},
		{[]string{"--from", "local", "--dir", store, "--start", end, "--end", start, "--out", out}, "is not after --start"},
		{[]string{"--from", "local", "--dir", store, "--start", start, "--end", end}, "--out is required"},
		{[]string{"--from", "local", "--dir", store, "--start", start, "--end", end, "--out", out, "--tick", "-1s"}, "--tick -1s is negative"},
		{[]string{"--from", "local", "--dir", store, "--start", start, "--end", end, "--out", out, "--services", "a,,b"}, "--services has an empty name"},
		{[]string{"--from", "cassandra", "--start", start, "--end", end, "--out", out}, "--from cassandra needs --key-file"},
		{[]string{"--from", "cassandra", "--key-file", store + ".key", "--cassandra-ca-file", filepath.Join(store, "none.pem"), "--start", start, "--end", end, "--out", out}, "--cassandra-ca-file"},
		{[]string{"--from", "local", "--dir", store, "--key-file", filepath.Join(store, "none.key"), "--start", start, "--end", end, "--out", out}, "--key-file: encryption: record key"},
		{[]string{"--from", "local", "--dir", store, "--start", start, "--end", end, "--out", out}, "no stored series in the range"},
		{[]string{"--from", "local", "--dir", store, "extra", "--start", start, "--end", end, "--out", out}, "unknown command"},
	} {
		_, err := runSeer(t, append([]string{"dataset", "export"}, c.args...)...)
		if assert.Error(t, err, "%v", c.args) {
			assert.Contains(t, err.Error(), c.want, "%v", c.args)
		}
	}
	// Every problem is reported at once.
	_, err = runSeer(t, "dataset", "export", "--start", "x")
	require.Error(t, err)
	for _, w := range []string{"--from is required", "--start \"x\"", "--end is required", "--out is required"} {
		assert.Contains(t, err.Error(), w)
	}
}

func TestDatasetExportLocal(t *testing.T) {
	store := t.TempDir()
	st, err := openLocalStore(store)
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var pts []seerstore.SeriesPoint
	for i := 0; i < 50; i++ {
		pts = append(pts, seerstore.FromSeriesBatch(series.Batch{Start: t0.Add(time.Duration(i) * time.Second), Samples: []series.Sample{{
			Key: series.Key{Service: "api", Instance: "api-0"}, Depth: float64(i), MeanDepth: float64(i), InstantDepth: 1,
			ReportedDepth: math.NaN(), NICDepth: math.NaN(), ListenBacklog: math.NaN(), Arrivals: 2, Completions: 2}}})...)
	}
	require.NoError(t, st.WriteSeries(context.Background(), pts))
	require.NoError(t, st.Close())

	out := filepath.Join(t.TempDir(), "ds")
	args := []string{"dataset", "export", "--from", "local", "--dir", store, "--start", "2026-03-01T10:00:10Z", "--end", "2026-03-01T10:00:20Z", "--out", out}
	_, err = runSeer(t, args...)
	require.ErrorContains(t, err, "name series-only services with --services") // no spans: the store lists no service
	args = append(args, "--services", "api")
	stdout, err := runSeer(t, args...)
	require.NoError(t, err)
	assert.Contains(t, stdout, "tick 1s: 10 records in 10 ticks")
	m, err := dataset.ReadManifest(out)
	require.NoError(t, err)
	assert.Equal(t, int64(time.Second), m.TickNs)
	assert.Equal(t, "local", m.Params["store"])
	assert.Equal(t, store, m.Params["store_location"])
	assert.True(t, strings.HasPrefix(m.Generator, "seer dataset export "))

	_, err = runSeer(t, args...)
	require.ErrorContains(t, err, "already holds a dataset: give --overwrite")
	_, err = runSeer(t, append(args, "--overwrite", "--tick", "100ms")...)
	require.ErrorContains(t, err, "stored series tick is 1s, not the 100ms of --tick")
	_, err = runSeer(t, append(args, "--overwrite", "--tick", "1s")...)
	require.NoError(t, err)
}

// openLocalStore opens the embedded store in dir with the key seerlocal
// keeps beside it (DIR.key, made here when missing), which seer dataset
// export reads by default.
func openLocalStore(dir string) (*pebblestore.Store, error) {
	keyFile, err := pebblestore.DefaultKeyFile(dir)
	if err != nil {
		return nil, err
	}
	sealer, _, err := seerstore.EncryptionConfig{KeyFile: keyFile}.Sealer(true)
	if err != nil {
		return nil, err
	}
	return pebblestore.Open(dir, sealer)
}
