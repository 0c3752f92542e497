package seercassandraexporter

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/seer-qos/seer/internal/seerstore/cassandrastore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

// Ports of the fault tests' private node: they stop and kill it, so they do not use the node other
// test packages may be using at the same time.
const faultPort, faultStoragePort = 9142, 7142

// TestFaults sends known spans through the exporter while Cassandra is killed and restarted, and
// while the Collector itself is killed (a real SIGKILL of a process) with a persistent queue; each
// time every span must end up in Cassandra exactly once.
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests start a private Cassandra node")
	}
	n := cassandratest.Private(t, faultPort, faultStoragePort)
	t.Run("cassandra_killed_mid_stream", func(t *testing.T) { testCassandraKilled(t, n) })
	t.Run("collector_killed_persistent_queue", func(t *testing.T) { testCollectorKilled(t, n) })
}

// exactlyOnce waits until spans_by_trace holds the wanted ids, then checks it holds each once and
// nothing else, and that spans_by_service holds as many rows.
func exactlyOnce(t *testing.T, st *cassandrastore.Store, keyspace string, want map[string]int, bound time.Duration) {
	t.Helper()
	waitFor(t, bound, "every span stored", func() (bool, string) {
		n, err := countRows(t, st, keyspace+".spans_by_trace")
		if err != nil {
			return false, err.Error()
		}
		return n >= int64(len(want)), fmt.Sprintf("%d of %d rows", n, len(want))
	})
	got, err := storedIDs(t, st, keyspace)
	require.NoError(t, err)
	require.Equal(t, len(want), len(got), "distinct span ids stored")
	assert.Equal(t, want, got, "each span stored once, and no other")
	byService, err := countRows(t, st, keyspace+".spans_by_service")
	require.NoError(t, err)
	assert.Equal(t, int64(len(want)), byService, "rows in spans_by_service")
}

func testCassandraKilled(t *testing.T, n *cassandratest.Node) {
	ctx := context.Background()
	cfg := testConfig(t, n)
	st := openStore(t, n, cfg)
	f := NewFactory()
	exp, err := f.CreateTraces(ctx, exportertestSettings(f), cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, componenttest.NewNopHost()))

	g := seerstoretest.Gen{Seed: 11, Start: time.Now().Add(-30 * time.Minute), Step: time.Millisecond}
	want := map[string]int{}
	send := func(requests int) {
		for range requests {
			td := g.Traces(100)
			for id := range idsOf(td) {
				want[id] = 1
			}
			require.NoError(t, exp.ConsumeTraces(ctx, td))
		}
	}
	send(10)
	waitFor(t, 60*time.Second, "first spans stored", func() (bool, string) {
		c, err := countRows(t, st, cfg.Keyspace+".spans_by_trace")
		return err == nil && c > 0, fmt.Sprint(c, err)
	})
	n.Stop(t, true) // SIGKILL while requests are being written
	t.Log("Cassandra killed")
	send(20) // queued while Cassandra is down; the queue keeps retrying
	n.Start(t)
	t.Log("Cassandra restarted")
	send(10)
	exactlyOnce(t, st, cfg.Keyspace, want, 3*time.Minute)
	require.NoError(t, exp.Shutdown(ctx))
	assert.Len(t, want, 40*100*5)
}

// Environment of the child collector process.
const (
	childEnv         = "SEER_FAULT_CHILD"
	childDirEnv      = "SEER_FAULT_QUEUE_DIR"
	childKeyspaceEnv = "SEER_FAULT_KEYSPACE"
	childRequests    = 20
	childTraces      = 100 // per request, 5 spans each
)

var storageID = component.MustNewID("file_storage")

// persistentExporter creates a file_storage extension on dir and a traces exporter whose sending
// queue lives in it, both started.
func persistentExporter(t *testing.T, cfg *Config, dir string) (exporter.Traces, extension.Extension) {
	t.Helper()
	ctx := context.Background()
	sf := filestorage.NewFactory()
	scfg := sf.CreateDefaultConfig().(*filestorage.Config)
	scfg.Directory = dir
	ext, err := sf.Create(ctx, extensiontest.NewNopSettings(sf.Type()), scfg)
	require.NoError(t, err)
	host := hostWith{storageID: ext}
	require.NoError(t, ext.Start(ctx, host))
	q := cfg.QueueConfig.Get()
	id := storageID
	q.StorageID = &id
	f := NewFactory()
	set := exportertestSettings(f)
	set.ID = component.NewID(f.Type()) // the queue's storage key derives from the id: keep it across runs
	exp, err := f.CreateTraces(ctx, set, cfg)
	require.NoError(t, err)
	require.NoError(t, exp.Start(ctx, host))
	return exp, ext
}

// TestFaultChildCollector is the Collector that testCollectorKilled starts as a process of its own
// and kills: it queues known spans in a persistent queue and writes them slowly (one row per
// request, one request at a time) until it is killed. It is skipped unless started that way.
func TestFaultChildCollector(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		t.Skip("run by testCollectorKilled")
	}
	n := cassandratest.Get(t)
	cfg := testConfig(t, n)
	cfg.Keyspace = os.Getenv(childKeyspaceEnv)
	q := cfg.QueueConfig.Get()
	q.NumConsumers = 1
	q.Batch = configoptional.None[exporterhelperBatchConfig]()
	cfg.MaxConcurrentRequests = 1
	cfg.CQLBatch.MaxRows = 1
	exp, _ := persistentExporter(t, cfg, os.Getenv(childDirEnv))
	g := seerstoretest.Gen{Seed: 21, Start: time.Now().Add(-20 * time.Minute), Step: time.Millisecond}
	for range childRequests {
		require.NoError(t, exp.ConsumeTraces(context.Background(), g.Traces(childTraces)))
	}
	fmt.Println("ENQUEUED")
	select {} // write until killed
}

func testCollectorKilled(t *testing.T, n *cassandratest.Node) {
	ctx := context.Background()
	cfg := testConfig(t, n)
	st := openStore(t, n, cfg)
	dir := t.TempDir()

	// The spans the child sends: the same generator, seed and start.
	g := seerstoretest.Gen{Seed: 21, Step: time.Millisecond}
	want := map[string]int{}

	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChildCollector$", "-test.v", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), append(n.Env(), childEnv+"=1", childDirEnv+"="+dir, childKeyspaceEnv+"="+cfg.Keyspace)...)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	enqueued := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == "ENQUEUED" {
				enqueued <- true
				return
			}
		}
		enqueued <- false
	}()
	select {
	case ok := <-enqueued:
		require.True(t, ok, "child exited before queuing its spans: %s", stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("child did not queue its spans within 2 min: %s", stderr.String())
	}
	waitFor(t, time.Minute, "child writing", func() (bool, string) {
		c, err := countRows(t, st, cfg.Keyspace+".spans_by_trace")
		return err == nil && c > 0, fmt.Sprint(c, err)
	})
	require.NoError(t, cmd.Process.Kill()) // SIGKILL: no shutdown, no drain
	_ = cmd.Wait()
	killed = true
	atKill, err := countRows(t, st, cfg.Keyspace+".spans_by_trace")
	require.NoError(t, err)
	total := childRequests * childTraces * 5
	t.Logf("collector killed with %d of %d spans written", atKill, total)
	require.Less(t, atKill, int64(total), "the child finished before it was killed: the test proves nothing")

	// A new Collector on the same queue directory writes the rest.
	for range childRequests {
		for id := range idsOf(g.Traces(childTraces)) {
			want[id] = 1
		}
	}
	cfg2 := testConfig(t, n)
	cfg2.Keyspace = cfg.Keyspace
	exp, ext := persistentExporter(t, cfg2, dir)
	exactlyOnce(t, st, cfg.Keyspace, want, 2*time.Minute)
	require.NoError(t, exp.Shutdown(ctx))
	require.NoError(t, ext.Shutdown(ctx))
}
