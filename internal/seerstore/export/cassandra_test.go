package export

import (
	"context"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seer-qos/seer/internal/seerstore/cassandrastore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
	"github.com/seer-qos/seer/internal/seerstore/seerstoretest"
)

// openCassandra opens a store in a keyspace of the test's own, dropped when the test ends.
func openCassandra(t *testing.T, n *cassandratest.Node, keyspace string) *cassandrastore.Store {
	t.Helper()
	st, err := cassandrastore.Open(context.Background(), cassandrastore.Settings{
		Hosts: n.Hosts, Keyspace: keyspace,
		Replication: map[string]string{"class": "SimpleStrategy", "replication_factor": "1"},
		Username:    n.Username, Password: n.Password, TLS: n.TLSConfig(t), Sealer: seerstoretest.Sealer(t),
		Consistency: gocql.LocalQuorum, ConnectTimeout: 5 * time.Second, QueryTimeout: 20 * time.Second,
		MaxConcurrentRequests: 16, MaxBatchRows: 50, MaxBatchBytes: 48 << 10,
		SpanTTL: time.Hour, SeriesTTL: time.Hour, GraphTTL: time.Hour, CreateSchema: true,
	})
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, st.Session().Query("DROP KEYSPACE IF EXISTS "+keyspace).Exec())
		st.Close()
	})
	return st
}
