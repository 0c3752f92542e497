package cassandrastore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/apache/cassandra-gocql-driver/v2/gocqlzap"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/seerstore"
)

// Store is Seer's Cassandra store: a seerstore.Writer and seerstore.Reader on one session.
type Store struct {
	set     Settings
	session *gocql.Session
	sem     chan struct{} // bounds the CQL requests in flight
	ks      string
	stmts   statements

	mu           sync.Mutex
	servicesSeen map[serviceDay]struct{} // services_by_day rows written by this Store
}

var (
	_ seerstore.Writer = (*Store)(nil)
	_ seerstore.Reader = (*Store)(nil)
)

type serviceDay struct {
	day     int64
	service string
}

// NewCluster returns the driver configuration for the settings.
func NewCluster(s *Settings) *gocql.ClusterConfig {
	c := gocql.NewCluster(s.Hosts...)
	c.Consistency = s.Consistency
	c.ConnectTimeout = s.ConnectTimeout
	c.Timeout = s.QueryTimeout
	c.WriteTimeout = s.QueryTimeout
	if s.NumConns > 0 {
		c.NumConns = s.NumConns
	}
	c.PoolConfig.HostSelectionPolicy = gocql.TokenAwareHostPolicy(gocql.RoundRobinHostPolicy(), gocql.ShuffleReplicas())
	// A node that comes back is found within seconds, not the driver's default minute.
	c.ReconnectInterval = time.Second
	c.ReconnectionPolicy = &gocql.ExponentialReconnectionPolicy{MaxRetries: 1 << 20, InitialInterval: s.ConnectTimeout / 4, MaxInterval: 2 * s.ConnectTimeout}
	c.DefaultIdempotence = true // every statement of the store is an upsert
	c.MaxWaitSchemaAgreement = s.QueryTimeout * 6
	if s.Username != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: s.Username, Password: s.Password}
	}
	if s.TLS != nil {
		c.SslOpts = &gocql.SslOptions{Config: s.TLS, EnableHostVerification: !s.TLS.InsecureSkipVerify}
	}
	if s.Logger != nil {
		c.Logger = gocqlzap.NewZapLogger(s.Logger)
	}
	return c
}

// Open connects, creates or checks the schema and returns the Store. It fails when no host
// answers: callers that must start without Cassandra retry Open later (see the exporter).
func Open(ctx context.Context, s Settings) (*Store, error) {
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("cassandra store settings: %w", err)
	}
	if s.Sealer == nil {
		return nil, errors.New("cassandra store settings: no record key (traces are stored encrypted)")
	}
	if s.Logger == nil {
		s.Logger = zap.NewNop()
	}
	session, err := NewCluster(&s).CreateSession()
	if err != nil {
		return nil, fmt.Errorf("connecting to Cassandra %v: %w", s.Hosts, err)
	}
	if s.CreateSchema {
		err = migrate(ctx, session, &s)
	} else {
		err = checkSchema(ctx, session, s.Keyspace)
	}
	if err != nil {
		session.Close()
		return nil, err
	}
	return &Store{
		set:          s,
		session:      session,
		sem:          make(chan struct{}, s.MaxConcurrentRequests),
		ks:           s.Keyspace,
		stmts:        newStatements(s.Keyspace),
		servicesSeen: map[serviceDay]struct{}{},
	}, nil
}

// Session returns the driver session, for tests and tools.
func (st *Store) Session() *gocql.Session { return st.session }

// Close closes the session.
func (st *Store) Close() error {
	st.session.Close()
	return nil
}
