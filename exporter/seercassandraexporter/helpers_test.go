package seercassandraexporter

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
)

var keyspaceSeq atomic.Int64

// testConfig returns a configuration for the test node (credentials and TLS included) in a
// keyspace of its own, with fast retries.
func testConfig(t testing.TB, n *cassandratest.Node) *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.Hosts = n.Hosts
	cfg.Username = n.Username
	cfg.Password = configopaqueString(n.Password)
	if n.CAFile != "" {
		cfg.TLS.CAFile = n.CAFile
	} else {
		cfg.TLS.Insecure = true
	}
	name := strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))
	if len(name) > 30 {
		name = name[:30]
	}
	cfg.Keyspace = fmt.Sprintf("t%d_%s", keyspaceSeq.Add(1), name)
	cfg.RetryConfig.InitialInterval = 50 * time.Millisecond
	cfg.RetryConfig.MaxInterval = 500 * time.Millisecond
	cfg.ConnectTimeout = 2 * time.Second
	cfg.Encryption.KeyFile = newKeyFile(t)
	return cfg
}

// newKeyFile makes a record key file for the test.
func newKeyFile(t testing.TB) string {
	path := filepath.Join(t.TempDir(), "record.key")
	if _, err := seerstore.CreateKey(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// withoutQueue makes ConsumeTraces return the export's own result.
func withoutQueue(cfg *Config) {
	cfg.QueueConfig = configoptional.None[exporterhelperQueueConfig]()
}

// openStore opens the test keyspace directly, to read what the exporter wrote, and drops the
// keyspace at the end of the test.
func openStore(t testing.TB, n *cassandratest.Node, cfg *Config) *cassandrastore.Store {
	t.Helper()
	s := cassandrastoreSettings(cfg)
	var err error
	if s.Sealer, _, err = cfg.Encryption.Sealer(false); err != nil {
		t.Fatal(err)
	}
	s.TLS = n.TLSConfig(t)
	s.Logger = cassandratest.Logger(t)
	st, err := cassandrastore.Open(context.Background(), s)
	require.NoError(t, err)
	t.Cleanup(func() {
		var err error
		for range 3 { // a busy 2-core node may take longer than one query timeout to drop
			if err = st.Session().Query("DROP KEYSPACE IF EXISTS " + cfg.Keyspace).Exec(); err == nil {
				break
			}
		}
		if err != nil {
			t.Logf("dropping %s: %v", cfg.Keyspace, err)
		}
		_ = st.Close()
	})
	return st
}

// storedIDs returns how many rows spans_by_trace holds per "trace/span" id.
func storedIDs(t testing.TB, st *cassandrastore.Store, keyspace string) (map[string]int, error) {
	t.Helper()
	ids := map[string]int{}
	iter := st.Session().Query("SELECT trace_id, span_id FROM " + keyspace + ".spans_by_trace").PageSize(10000).Iter()
	var tid, sid []byte
	for iter.Scan(&tid, &sid) {
		ids[fmt.Sprintf("%x/%x", tid, sid)]++
	}
	return ids, iter.Close()
}

// countRows counts a table's rows.
func countRows(t testing.TB, st *cassandrastore.Store, table string) (int64, error) {
	t.Helper()
	var n int64
	err := st.Session().Query("SELECT COUNT(*) FROM " + table).Scan(&n)
	return n, err
}

// idsOf lists the "trace/span" ids of the spans of td.
func idsOf(td ptrace.Traces) map[string]int {
	ids := map[string]int{}
	for i := 0; i < td.ResourceSpans().Len(); i++ {
		ss := td.ResourceSpans().At(i).ScopeSpans()
		for j := 0; j < ss.Len(); j++ {
			sp := ss.At(j).Spans()
			for k := 0; k < sp.Len(); k++ {
				ids[fmt.Sprintf("%x/%x", [16]byte(sp.At(k).TraceID()), [8]byte(sp.At(k).SpanID()))]++
			}
		}
	}
	return ids
}

// waitFor polls cond every 200 ms until it holds or the bound passes.
func waitFor(t testing.TB, bound time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %s (%s)", what, bound, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hostWith is a component.Host that offers extensions.
type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }
