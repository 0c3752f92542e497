package cassandrastore

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// SchemaVersion is the newest schema this build writes and reads.
const SchemaVersion = 1

// Bucket sizes of the time-partitioned tables, part of schema version 1.
const (
	spanBucket   = int64(time.Minute)
	seriesBucket = int64(time.Hour)
	dayBucket    = int64(24 * time.Hour)
)

type migration struct {
	version     int
	description string
	statements  []string // {{ks}} is the keyspace
}

// twcs is the compaction for append-only, TTL-expired time series: whole SSTables expire at once.
const twcs = `compaction = {'class': 'TimeWindowCompactionStrategy', 'compaction_window_unit': 'HOURS', 'compaction_window_size': 6}
  AND gc_grace_seconds = 10800`

// migrations lists every schema version; a new version appends, never edits an applied one.
var migrations = []migration{{
	version:     1,
	description: "spans by trace and by service, series, graph snapshots, services by day",
	statements: []string{
		// A span is one record blob (seerstore.EncodeRecord) per row: Cassandra's cost is per cell,
		// and typed columns would make 22 cells of each row. Readers decode records; the ids and
		// times that queries select on are key columns.
		`CREATE TABLE IF NOT EXISTS {{ks}}.spans_by_trace (
  trace_id blob, span_id blob, record blob,
  PRIMARY KEY ((trace_id), span_id)
) WITH ` + twcs,
		`CREATE TABLE IF NOT EXISTS {{ks}}.spans_by_service (
  service text, bucket bigint, start_ns bigint, trace_id blob, span_id blob, record blob,
  PRIMARY KEY ((service, bucket), start_ns, trace_id, span_id)
) WITH CLUSTERING ORDER BY (start_ns ASC, trace_id ASC, span_id ASC) AND ` + twcs,
		`CREATE TABLE IF NOT EXISTS {{ks}}.series (
  service text, bucket bigint, ts_ns bigint, instance text, metric text, value double,
  PRIMARY KEY ((service, bucket), ts_ns, instance, metric)
) WITH ` + twcs,
		`CREATE TABLE IF NOT EXISTS {{ks}}.graph_snapshots (
  bucket bigint, ts_ns bigint, version bigint, edges text,
  PRIMARY KEY ((bucket), ts_ns, version)
)`,
		`CREATE TABLE IF NOT EXISTS {{ks}}.services_by_day (
  day bigint, service text,
  PRIMARY KEY ((day), service)
)`,
	},
}}

func expand(stmt, keyspace string) string { return strings.ReplaceAll(stmt, "{{ks}}", keyspace) }

// replicationCQL renders a replication map as a CQL map literal in a stable order.
func replicationCQL(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("'%s': '%s'", strings.ReplaceAll(k, "'", "''"), strings.ReplaceAll(m[k], "'", "''")))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// currentVersion returns the highest applied schema version, 0 when none is (no table yet).
func currentVersion(ctx context.Context, s *gocql.Session, keyspace string) (int, error) {
	iter := s.Query(`SELECT version FROM ` + keyspace + `.schema_migrations`).IterContext(ctx)
	v, maxV := 0, 0
	for iter.Scan(&v) {
		if v > maxV {
			maxV = v
		}
	}
	if err := iter.Close(); err != nil {
		var re gocql.RequestError
		if asRequestError(err, &re) && re.Code() == gocql.ErrCodeInvalid {
			return 0, nil // keyspace or table does not exist yet
		}
		return 0, fmt.Errorf("reading %s.schema_migrations: %w", keyspace, err)
	}
	return maxV, nil
}

// migrate creates the keyspace and applies the migrations newer than the applied version.
func migrate(ctx context.Context, s *gocql.Session, st *Settings) error {
	ks := st.Keyspace
	if err := s.Query(fmt.Sprintf(`CREATE KEYSPACE IF NOT EXISTS %s WITH replication = %s`, ks, replicationCQL(st.Replication))).
		ExecContext(ctx); err != nil {
		return fmt.Errorf("creating keyspace %s: %w", ks, err)
	}
	if err := s.Query(expand(`CREATE TABLE IF NOT EXISTS {{ks}}.schema_migrations (
  version int PRIMARY KEY, description text, applied_at timestamp)`, ks)).ExecContext(ctx); err != nil {
		return fmt.Errorf("creating %s.schema_migrations: %w", ks, err)
	}
	cur, err := currentVersion(ctx, s, ks)
	if err != nil {
		return err
	}
	if cur > SchemaVersion {
		return fmt.Errorf("keyspace %s has schema version %d, newer than this build's %d: upgrade Seer", ks, cur, SchemaVersion)
	}
	for _, m := range migrations {
		if m.version <= cur {
			continue
		}
		for _, stmt := range m.statements {
			if err := s.Query(expand(stmt, ks)).ExecContext(ctx); err != nil {
				return fmt.Errorf("schema version %d: %w", m.version, err)
			}
		}
		if err := s.AwaitSchemaAgreement(ctx); err != nil {
			return fmt.Errorf("schema version %d: waiting for schema agreement: %w", m.version, err)
		}
		if err := s.Query(`INSERT INTO `+ks+`.schema_migrations (version, description, applied_at) VALUES (?, ?, ?)`,
			m.version, m.description, time.Now()).ExecContext(ctx); err != nil {
			return fmt.Errorf("recording schema version %d: %w", m.version, err)
		}
	}
	return nil
}

// checkSchema fails unless the keyspace holds exactly the schema version this build uses.
func checkSchema(ctx context.Context, s *gocql.Session, ks string) error {
	cur, err := currentVersion(ctx, s, ks)
	if err != nil {
		return err
	}
	if cur != SchemaVersion {
		return fmt.Errorf("keyspace %s has schema version %d, this build needs %d (set create_schema: true or migrate)", ks, cur, SchemaVersion)
	}
	return nil
}
