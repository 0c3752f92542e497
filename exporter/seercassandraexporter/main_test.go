package seercassandraexporter

import (
	"testing"

	"github.com/seer-qos/seer/internal/seerstore/cassandrastore/cassandratest"
)

// integrationMain starts or joins the Cassandra node for the package's tests (see
// cassandratest.Main); generated_package_test.go calls it from TestMain.
func integrationMain(m *testing.M) (code int, done bool) {
	return cassandratest.Main(m), true
}
