package cassandrastore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/seerstore"
)

// Settings configure a Store. The exporter's Config maps onto it; tools fill it directly.
type Settings struct {
	Hosts    []string // host or host:port
	Keyspace string
	// Replication is the CQL replication map used when the keyspace is created, for example
	// {"class": "NetworkTopologyStrategy", "dc1": "3"}.
	Replication map[string]string
	Username    string
	Password    string
	TLS         *tls.Config // nil: plain CQL
	// Sealer seals span records (required: traces are not stored in the
	// clear; see seerstore.Sealer).
	Sealer      *seerstore.Sealer
	Consistency gocql.Consistency

	ConnectTimeout time.Duration
	QueryTimeout   time.Duration
	NumConns       int // connections per host

	// MaxConcurrentRequests bounds the CQL requests (batches or statements) in flight per Store.
	MaxConcurrentRequests int
	// MaxBatchRows and MaxBatchBytes bound an unlogged batch (all rows of one partition).
	MaxBatchRows  int
	MaxBatchBytes int

	SpanTTL   time.Duration // 0: keep forever
	SeriesTTL time.Duration
	GraphTTL  time.Duration

	// CreateSchema creates or upgrades the keyspace and tables on Open; otherwise Open only
	// checks that the schema version is one this build can use.
	CreateSchema bool

	Logger *zap.Logger
}

// Validate checks the settings Open needs.
func (s *Settings) Validate() error {
	var errs []error
	if len(s.Hosts) == 0 {
		errs = append(errs, errors.New("no hosts"))
	}
	if !validIdent(s.Keyspace) {
		errs = append(errs, fmt.Errorf("keyspace %q is not a CQL identifier (letters, digits, _; 1-48)", s.Keyspace))
	}
	if s.MaxConcurrentRequests <= 0 {
		errs = append(errs, errors.New("max concurrent requests must be positive"))
	}
	if s.MaxBatchRows <= 0 || s.MaxBatchBytes <= 0 {
		errs = append(errs, errors.New("batch limits must be positive"))
	}
	for name, ttl := range map[string]time.Duration{"span": s.SpanTTL, "series": s.SeriesTTL, "graph": s.GraphTTL} {
		if ttl < 0 || ttl > maxTTL || ttl > 0 && ttl < time.Second {
			// Under a second would round to 0 s, which Cassandra reads as "forever".
			errs = append(errs, fmt.Errorf("%s TTL %s is outside [0, %s] or under a second (0 keeps forever)", name, ttl, maxTTL))
		}
	}
	return errors.Join(errs...)
}

// maxTTL is Cassandra's limit on a TTL (20 years).
const maxTTL = 20 * 365 * 24 * time.Hour

func validIdent(s string) bool {
	if len(s) == 0 || len(s) > 48 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func ttlSeconds(d time.Duration) int {
	return int(d / time.Second)
}
