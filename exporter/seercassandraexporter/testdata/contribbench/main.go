// Command contribbench measures the write path of the contrib cassandraexporter on the local node,
// for comparison with BenchmarkExportSpans of seercassandra (see run.sh, which runs both).
//
// The Go module proxy reachable here refuses every version of
// github.com/open-telemetry/opentelemetry-collector-contrib/exporter/cassandraexporter (403, "not
// available"), so this program reproduces its traces write path instead of importing it: the same
// table (primary key SpanId alone, text ids, attribute maps of text, Duration int), the old driver
// (github.com/gocql/gocql), QUORUM, and one synchronous INSERT per span, errors logged and dropped,
// behind the Collector's exporterhelper with its default sending queue (10 consumers), as the
// contrib exporter is. The spans are the ones BenchmarkExportSpans writes (same generator).
//
// It lives under testdata so that it is not part of the seer module; run.sh builds it in a
// throwaway module.
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/gocql/gocql"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

const (
	createKeyspace = `CREATE KEYSPACE IF NOT EXISTS %s WITH REPLICATION = { 'class' : 'SimpleStrategy', 'replication_factor' : 1 }`
	createEvents   = `CREATE TYPE IF NOT EXISTS %s.Events (Timestamp Date, Name text, Attributes map<text, text>)`
	createLinks    = `CREATE TYPE IF NOT EXISTS %s.Links (TraceId text, SpanId text, TraceState text, Attributes map<text, text>)`
	createTable    = `CREATE TABLE IF NOT EXISTS %s.otel_spans (TimeStamp DATE, TraceId text, SpanId text, ParentSpanId text,
 TraceState text, SpanName text, SpanKind text, ServiceName text, ResourceAttributes map<text, text>,
 SpanAttributes map<text, text>, Duration int, StatusCode text, StatusMessage text, Events frozen<Events>,
 Links frozen<Links>, PRIMARY KEY (SpanId)) WITH COMPRESSION = {'class': 'LZ4Compressor'}`
	insertSpan = `INSERT INTO %s.otel_spans (timestamp, traceid, spanid, parentspanid, tracestate, spanname, spankind,
 servicename, resourceattributes, spanattributes, duration, statuscode, statusmessage) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

func main() {
	hosts := flag.String("host", "127.0.0.1", "Cassandra host")
	port := flag.Int("port", 9042, "CQL port")
	user := flag.String("user", "cassandra", "username")
	pass := flag.String("pass", "cassandra", "password")
	keyspace := flag.String("keyspace", "contribbench", "keyspace (dropped first)")
	spans := flag.Int("spans", 200000, "spans to write")
	flag.Parse()

	cluster := gocql.NewCluster(*hosts)
	cluster.Port = *port
	cluster.Consistency = gocql.Quorum
	cluster.Timeout = 10 * time.Second
	cluster.Authenticator = gocql.PasswordAuthenticator{Username: *user, Password: *pass}
	session, err := cluster.CreateSession()
	if err != nil {
		log.Fatalf("connecting: %v", err)
	}
	defer session.Close()
	for _, q := range []string{"DROP KEYSPACE IF EXISTS %s", createKeyspace, createEvents, createLinks, createTable} {
		if err := session.Query(fmt.Sprintf(q, *keyspace)).Exec(); err != nil {
			log.Fatalf("schema: %v", err)
		}
	}
	insert := fmt.Sprintf(insertSpan, *keyspace)
	var dropped int
	push := func(ctx context.Context, td ptrace.Traces) error {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			resAttr := toMap(rs.Resource().Attributes())
			service, _ := rs.Resource().Attributes().Get("service.name")
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				ss := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < ss.Len(); k++ {
					r := ss.At(k)
					err := session.Query(insert, r.StartTimestamp().AsTime(), r.TraceID().String(), r.SpanID().String(),
						r.ParentSpanID().String(), r.TraceState().AsRaw(), r.Name(), r.Kind().String(), service.AsString(),
						resAttr, toMap(r.Attributes()), int32(r.EndTimestamp()-r.StartTimestamp()),
						r.Status().Code().String(), r.Status().Message()).WithContext(ctx).Exec()
					if err != nil { // the contrib exporter logs and drops
						dropped++
						log.Printf("insert span error: %v", err)
					}
				}
			}
		}
		return nil
	}

	q := exporterhelper.NewDefaultQueueConfig()
	q.BlockOnOverflow = true
	q.Batch = configoptional.None[exporterhelper.BatchConfig]()
	set := exportertest.NewNopSettings(component.MustNewType("cassandra"))
	ctx := context.Background()
	exp, err := exporterhelper.NewTraces(ctx, set, &struct{}{}, push, exporterhelper.WithQueue(configoptional.Some(q)))
	if err != nil {
		log.Fatal(err)
	}
	if err := exp.Start(ctx, componenttest.NewNopHost()); err != nil {
		log.Fatal(err)
	}
	reqs := requests(*spans)
	t0 := time.Now()
	for _, td := range reqs {
		if err := exp.ConsumeTraces(ctx, td); err != nil {
			log.Fatal(err)
		}
	}
	if err := exp.Shutdown(ctx); err != nil {
		log.Fatal(err)
	}
	elapsed := time.Since(t0)
	var rows int64
	if err := session.Query(fmt.Sprintf("SELECT COUNT(*) FROM %s.otel_spans", *keyspace)).Scan(&rows); err != nil {
		log.Printf("counting: %v", err)
	}
	fmt.Printf("contrib-path: %d spans in %s: %.0f spans/s; %d rows stored, %d inserts failed\n",
		*spans, elapsed.Round(time.Millisecond), float64(*spans)/elapsed.Seconds(), rows, dropped)
	if err := session.Query(fmt.Sprintf("DROP KEYSPACE IF EXISTS %s", *keyspace)).Exec(); err != nil {
		log.Printf("dropping: %v", err)
	}
	if rows != int64(*spans) {
		os.Exit(1)
	}
}

func toMap(m pcommon.Map) map[string]string {
	out := make(map[string]string, m.Len())
	m.Range(func(k string, v pcommon.Value) bool {
		out[k] = v.AsString()
		return true
	})
	return out
}

// requests reproduces seerstoretest.Gen with seed 100, as BenchmarkExportSpans sends: requests of
// 100 traces of 5 spans, one ResourceSpans per service, the seer.* attributes on every span.
func requests(spans int) []ptrace.Traces {
	services := []string{"frontend", "compose-post", "text", "user-timeline", "post-storage"}
	const seed = 100
	start := time.Now().Add(-time.Hour)
	var out []ptrace.Traces
	var next uint64
	for n := 0; n < spans; n += 500 {
		td := ptrace.NewTraces()
		bySvc := map[string]ptrace.SpanSlice{}
		for _, svc := range services {
			rs := td.ResourceSpans().AppendEmpty()
			rs.Resource().Attributes().PutStr("service.name", svc)
			rs.Resource().Attributes().PutStr("service.instance.id", svc+"-0")
			ss := rs.ScopeSpans().AppendEmpty()
			ss.Scope().SetName("seer.test")
			bySvc[svc] = ss.Spans()
		}
		for t := 0; t < 100; t++ {
			tn := next
			next++
			var tid pcommon.TraceID
			binary.BigEndian.PutUint64(tid[:8], seed+1)
			binary.BigEndian.PutUint64(tid[8:], tn+1)
			sid := func(i int) pcommon.SpanID {
				var id pcommon.SpanID
				binary.BigEndian.PutUint32(id[:4], uint32(tn+1))
				binary.BigEndian.PutUint32(id[4:], uint32(i+1)^uint32(seed<<16))
				return id
			}
			t0 := start.Add(time.Duration(tn) * 50 * time.Microsecond)
			for i := 0; i < 5; i++ {
				svc := services[i]
				sp := bySvc[svc].AppendEmpty()
				sp.SetTraceID(tid)
				sp.SetSpanID(sid(i))
				if i > 0 {
					sp.SetParentSpanID(sid(i - 1))
				}
				sp.SetName(fmt.Sprintf("%s/op%d", svc, i))
				sp.SetKind(ptrace.SpanKindServer)
				s := t0.Add(time.Duration(i) * 100 * time.Microsecond)
				e := s.Add(time.Duration(1000-i*100) * time.Microsecond)
				sp.SetStartTimestamp(pcommon.NewTimestampFromTime(s))
				sp.SetEndTimestamp(pcommon.NewTimestampFromTime(e))
				a := sp.Attributes()
				a.PutStr("rpc.system", "thrift")
				a.PutStr("rpc.method", fmt.Sprintf("op%d", i))
				a.PutInt("seer.server_receive_time_unix_nano", s.UnixNano())
				a.PutInt("seer.app_receive_time_unix_nano", s.UnixNano()+2000)
				a.PutInt("seer.processing_start_time_unix_nano", s.UnixNano()+5000)
				a.PutInt("seer.processing_end_time_unix_nano", e.UnixNano()-1000)
				a.PutInt("seer.queue.outstanding_requests", int64((tn+uint64(i))%17))
				a.PutInt("seer.queue.nic_depth", int64((tn*3+uint64(i))%5))
			}
		}
		out = append(out, td)
	}
	return out
}
