package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/spf13/cobra"

	"github.com/seer-qos/seer/dataset"
	"github.com/seer-qos/seer/internal/seerstore"
	"github.com/seer-qos/seer/internal/seerstore/cassandrastore"
	"github.com/seer-qos/seer/internal/seerstore/export"
	"github.com/seer-qos/seer/internal/seerstore/pebblestore"
)

// envCassandraPassword names the environment variable holding the Cassandra password (never a
// flag: flags show up in process lists and shell history).
const envCassandraPassword = "SEER_CASSANDRA_PASSWORD"

// datasetExportOptions are the flags of `seer dataset export`.
type datasetExportOptions struct {
	from       string
	start, end string
	out        string
	overwrite  bool
	services   []string
	spans      bool
	tick       time.Duration
	allowEmpty bool
	dir        string
	hosts      []string
	keyspace   string
	username   string
	caFile     string
	timeout    time.Duration
	keyFile    string
}

func newDatasetCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dataset",
		Short: "Work with Seer datasets (dataset/FORMAT.md)",
	}
	cmd.AddCommand(newDatasetExportCommand())
	return cmd
}

func newDatasetExportCommand() *cobra.Command {
	o := datasetExportOptions{}
	cmd := &cobra.Command{
		Use:   "export --from cassandra|local --start TIME --end TIME --out DIR",
		Short: "Write stored history (series, graph, optionally spans) as a dataset for training",
		Long: `export reads what a Seer store holds in [--start, --end) (RFC 3339, event
time) and writes a dataset (dataset/FORMAT.md): series.bin from the stored
queue-depth series (seercassandra/seerlocal with series_source), the edges of
the latest dependency-graph snapshot in the range (or, when the graph did not
change in it, the one in force at its start) in the manifest, and with
--spans spans.otlp rebuilt from the stored training fields. Stored history has
no ground truth: faults.json and violations.json are empty and the manifest
says so.

The series tick is read from the stored series; --tick, when given, must
equal it. The latency minimum is not stored (written as 0); the latency count
is the completions. A range without series is an error unless --allow-empty.

Stores: --from cassandra (--cassandra-hosts, --cassandra-keyspace,
--cassandra-username, the password from $SEER_CASSANDRA_PASSWORD,
--cassandra-ca-file for TLS); --from local --dir DIR (the embedded store of
seerlocal, e.g. .cache/run/seer-data; stop the collector using it first).
Stored spans are sealed: --key-file names the record key the exporter used
(default for --from local: DIR.key, beside the store, as seerlocal makes it).`,
		Example: `  seer dataset export --from local --dir .cache/run/seer-data --start 2026-11-26T04:00:00Z --end 2026-11-26T05:00:00Z --out /tmp/history
  SEER_CASSANDRA_PASSWORD=... seer dataset export --from cassandra --cassandra-hosts db1,db2 --cassandra-username seer \
      --start 2026-11-25T00:00:00Z --end 2026-11-26T00:00:00Z --services frontend,text --spans --out /tmp/day`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDatasetExport(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "store to read: cassandra or local")
	f.StringVar(&o.start, "start", "", "start of the range, inclusive (RFC 3339)")
	f.StringVar(&o.end, "end", "", "end of the range, exclusive (RFC 3339)")
	f.StringVarP(&o.out, "out", "o", "", "dataset directory to write")
	f.BoolVar(&o.overwrite, "overwrite", false, "replace an existing dataset in --out")
	f.StringSliceVar(&o.services, "services", nil, "export only these services (comma-separated; default: every service in the range)")
	f.BoolVar(&o.spans, "spans", false, "also write spans.otlp")
	f.DurationVar(&o.tick, "tick", 0, "series period; must equal the stored tick (default: read from the stored series)")
	f.BoolVar(&o.allowEmpty, "allow-empty", false, "write a dataset without series records when the range holds none")
	f.StringVar(&o.dir, "dir", "", "with --from local: the embedded store's directory")
	f.StringSliceVar(&o.hosts, "cassandra-hosts", []string{"localhost:9042"}, "with --from cassandra: contact points (host or host:port)")
	f.StringVar(&o.keyspace, "cassandra-keyspace", "seer", "with --from cassandra: keyspace")
	f.StringVar(&o.username, "cassandra-username", os.Getenv("SEER_CASSANDRA_USERNAME"), "with --from cassandra: user name (password from $"+envCassandraPassword+"; default $SEER_CASSANDRA_USERNAME)")
	f.StringVar(&o.caFile, "cassandra-ca-file", "", "with --from cassandra: PEM CA file; connects with TLS")
	f.DurationVar(&o.timeout, "cassandra-timeout", 30*time.Second, "with --from cassandra: query timeout")
	f.StringVar(&o.keyFile, "key-file", "", "record key of the stored spans (the exporter's encryption.key_file; default with --from local: DIR.key)")
	return cmd
}

// validate checks the flags and returns the parsed range.
func (o *datasetExportOptions) validate() (start, end time.Time, err error) {
	var errs []error
	switch o.from {
	case "":
		errs = append(errs, errors.New("--from is required: cassandra or local"))
	case "local":
		if o.dir == "" {
			errs = append(errs, errors.New("--from local needs --dir (the embedded store's directory)"))
		} else if st, err := os.Stat(o.dir); err != nil {
			errs = append(errs, fmt.Errorf("--dir: %w", err))
		} else if !st.IsDir() {
			errs = append(errs, fmt.Errorf("--dir %s is not a directory", o.dir))
		} else if m, _ := filepath.Glob(filepath.Join(o.dir, "OPTIONS-*")); len(m) == 0 {
			// Opening would create a new, empty store there.
			errs = append(errs, fmt.Errorf("--dir %s holds no embedded store", o.dir))
		}
	case "cassandra":
		if len(o.hosts) == 0 {
			errs = append(errs, errors.New("--from cassandra needs --cassandra-hosts"))
		}
		if o.keyFile == "" {
			errs = append(errs, errors.New("--from cassandra needs --key-file (the record key of the stored spans)"))
		}
	default:
		errs = append(errs, fmt.Errorf("--from %q: want cassandra or local", o.from))
	}
	parse := func(name, v string) time.Time {
		if v == "" {
			errs = append(errs, fmt.Errorf("--%s is required (RFC 3339, e.g. 2026-11-26T04:00:00Z)", name))
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			errs = append(errs, fmt.Errorf("--%s %q is not an RFC 3339 time (e.g. 2026-11-26T04:00:00Z)", name, v))
		}
		return t
	}
	start, end = parse("start", o.start), parse("end", o.end)
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		errs = append(errs, fmt.Errorf("--end %s is not after --start %s", o.end, o.start))
	}
	if o.out == "" {
		errs = append(errs, errors.New("--out is required"))
	} else if _, err := os.Stat(filepath.Join(o.out, dataset.ManifestFile)); err == nil && !o.overwrite {
		errs = append(errs, fmt.Errorf("--out %s already holds a dataset: give --overwrite to replace it", o.out))
	}
	if o.tick < 0 {
		errs = append(errs, fmt.Errorf("--tick %s is negative", o.tick))
	}
	for _, s := range o.services {
		if strings.TrimSpace(s) == "" {
			errs = append(errs, errors.New("--services has an empty name"))
			break
		}
	}
	return start, end, errors.Join(errs...)
}

func runDatasetExport(cmd *cobra.Command, o datasetExportOptions) error {
	start, end, err := o.validate()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	enc := seerstore.EncryptionConfig{KeyFile: o.keyFile}
	if enc.KeyFile == "" && o.from == "local" {
		if enc.KeyFile, err = pebblestore.DefaultKeyFile(o.dir); err != nil {
			return fmt.Errorf("--dir: %w", err)
		}
	}
	sealer, _, err := enc.Sealer(false)
	if err != nil {
		return fmt.Errorf("--key-file: %w", err)
	}
	var r seerstore.Reader
	var location string
	switch o.from {
	case "local":
		st, err := pebblestore.Open(o.dir, sealer)
		if err != nil {
			return fmt.Errorf("%w (is a collector using the store? stop it, or export a copy of the directory)", err)
		}
		r, location = st, o.dir
	case "cassandra":
		s := cassandrastore.Settings{
			Hosts: o.hosts, Keyspace: o.keyspace, Username: o.username, Password: os.Getenv(envCassandraPassword),
			Consistency: gocql.LocalQuorum, ConnectTimeout: 10 * time.Second, QueryTimeout: o.timeout, Sealer: sealer,
			MaxConcurrentRequests: 8, MaxBatchRows: 50, MaxBatchBytes: 48 << 10,
		}
		if o.caFile != "" {
			if s.TLS, err = tlsFromCA(o.caFile); err != nil {
				return err
			}
		}
		st, err := cassandrastore.Open(ctx, s)
		if err != nil {
			return fmt.Errorf("opening keyspace %s (--cassandra-keyspace) on %s: %w", o.keyspace, strings.Join(o.hosts, ","), err)
		}
		r, location = st, fmt.Sprintf("hosts %s keyspace %s", strings.Join(o.hosts, ","), o.keyspace)
	}
	defer r.Close()
	if o.overwrite {
		if err := dataset.Remove(o.out); err != nil {
			return err
		}
	}
	t0 := time.Now()
	res, err := export.Export(ctx, r, o.out, export.Options{
		Start: start, End: end, Services: o.services, Tick: o.tick, Spans: o.spans, AllowEmpty: o.allowEmpty,
		Store: o.from, StoreLocation: location, Generator: "seer dataset export " + version,
	})
	if err != nil {
		return err
	}
	m := res.Manifest
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "exported %s of %d services, %d series, tick %s: %d records in %d ticks, %d spans, %d edges in %s\n",
		end.Sub(start), len(m.Services), len(m.Series), res.Tick, m.Counts.SeriesRecords, m.Counts.Ticks, m.Counts.Spans, len(m.Edges),
		time.Since(t0).Round(time.Millisecond))
	if res.Skipped > 0 {
		fmt.Fprintf(w, "skipped %d of %d stored series points (unknown metrics, or off the tick grid)\n", res.Skipped, res.Points)
	}
	fmt.Fprintf(w, "dataset written to %s (no ground truth: faults and violations are empty)\n", o.out)
	return nil
}

func tlsFromCA(file string) (*tls.Config, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--cassandra-ca-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--cassandra-ca-file %s: no PEM certificate in it", file)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
