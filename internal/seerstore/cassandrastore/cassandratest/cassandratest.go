// Package cassandratest gives integration tests a real Cassandra node: the local node of
// deploy/cassandra/cassandra.sh (started on demand and stopped when the last test process using it
// ends), or a cluster named by SEER_CASSANDRA_HOSTS.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(cassandratest.Main(m)) }
//
// Environment: SEER_CASSANDRA_SKIP=1 skips the integration tests (Node returns nil and tests call
// t.Skip); SEER_CASSANDRA_HOSTS, SEER_CASSANDRA_USERNAME, SEER_CASSANDRA_PASSWORD and
// SEER_CASSANDRA_CA_FILE name an external cluster, which is never stopped or restarted.
package cassandratest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
)

// Node describes the Cassandra the tests use.
type Node struct {
	Hosts    []string
	Username string
	Password string
	CAFile   string // PEM of the node's certificate authority; "" when TLS is not offered
	// Local is true for the node of cassandra.sh, which tests may stop and restart.
	Local  bool
	script string
	env    []string // extra environment of the script (ports of a private node)
}

var node *Node

// Main starts (or joins) the node, runs the tests and releases the node. It returns the exit code.
func Main(m *testing.M) int {
	if os.Getenv("SEER_CASSANDRA_SKIP") == "1" {
		return m.Run()
	}
	if hosts := os.Getenv("SEER_CASSANDRA_HOSTS"); hosts != "" {
		node = &Node{Hosts: strings.Split(hosts, ","), Username: os.Getenv("SEER_CASSANDRA_USERNAME"),
			Password: os.Getenv("SEER_CASSANDRA_PASSWORD"), CAFile: os.Getenv("SEER_CASSANDRA_CA_FILE")}
		return m.Run()
	}
	script, err := scriptPath()
	if err != nil {
		fmt.Fprintln(os.Stderr, "cassandratest:", err)
		return 1
	}
	pid := strconv.Itoa(os.Getpid())
	t0 := time.Now()
	if out, err := run(nil, script, "acquire", pid); err != nil {
		fmt.Fprintf(os.Stderr, "cassandratest: starting Cassandra: %v\n%s\n", err, out)
		return 1
	}
	fmt.Fprintf(os.Stderr, "cassandratest: Cassandra ready after %s\n", time.Since(t0).Round(100*time.Millisecond))
	code := func() int {
		env, err := run(nil, script, "env")
		if err != nil {
			fmt.Fprintf(os.Stderr, "cassandratest: %v\n%s\n", err, env)
			return 1
		}
		vars := parseEnv(env)
		node = &Node{Hosts: strings.Split(vars["SEER_CASSANDRA_HOSTS"], ","), Username: vars["SEER_CASSANDRA_USERNAME"],
			Password: vars["SEER_CASSANDRA_PASSWORD"], CAFile: vars["SEER_CASSANDRA_CA_FILE"], Local: true, script: script}
		t1 := time.Now()
		if err := node.waitLogin(loginTimeout); err != nil {
			fmt.Fprintf(os.Stderr, "cassandratest: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "cassandratest: logged in %s later\n", time.Since(t1).Round(10*time.Millisecond))
		return m.Run()
	}()
	if out, err := run(nil, script, "release", pid); err != nil {
		fmt.Fprintf(os.Stderr, "cassandratest: releasing Cassandra: %v\n%s\n", err, out)
	}
	return code
}

// Private starts a node of the test's own on the given ports (data in the cache, next to the
// shared node's) and stops it when the test ends. Tests that stop and restart Cassandra use one,
// so that other test packages running at the same time on the shared node are not disturbed. It
// skips the test when integration tests are skipped or run against an external cluster.
func Private(t testing.TB, nativePort, storagePort int) *Node {
	t.Helper()
	if node == nil || !node.Local {
		t.Skip("needs the local cassandra.sh node (not SEER_CASSANDRA_SKIP=1, not SEER_CASSANDRA_HOSTS)")
	}
	// group: a write is acknowledged once fsynced, so a SIGKILLed node keeps every write it
	// acknowledged (with the default periodic sync it loses the last ~100 ms of them: the
	// commit log after the last sync marker is not replayed).
	env := []string{fmt.Sprintf("SEER_CASSANDRA_PORT=%d", nativePort), fmt.Sprintf("SEER_CASSANDRA_STORAGE_PORT=%d", storagePort),
		"SEER_CASSANDRA_COMMITLOG_SYNC=group"}
	pid := strconv.Itoa(os.Getpid())
	t0 := time.Now()
	if out, err := run(env, node.script, "acquire", pid); err != nil {
		t.Fatalf("starting a private Cassandra on port %d: %v\n%s", nativePort, err, out)
	}
	t.Cleanup(func() {
		if out, err := run(env, node.script, "release", pid); err != nil {
			t.Errorf("stopping the private Cassandra: %v\n%s", err, out)
		}
	})
	t.Logf("private Cassandra on 127.0.0.1:%d ready after %s", nativePort, time.Since(t0).Round(100*time.Millisecond))
	out, err := run(env, node.script, "env")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	vars := parseEnv(out)
	n := &Node{Hosts: strings.Split(vars["SEER_CASSANDRA_HOSTS"], ","), Username: vars["SEER_CASSANDRA_USERNAME"],
		Password: vars["SEER_CASSANDRA_PASSWORD"], CAFile: vars["SEER_CASSANDRA_CA_FILE"], Local: true,
		script: node.script, env: env}
	if err := n.waitLogin(loginTimeout); err != nil {
		t.Fatal(err)
	}
	return n
}

// loginTimeout bounds waitLogin: the superuser appears well under a second after the node
// answers, but a loaded 2-core machine is slow.
const loginTimeout = 60 * time.Second

// waitLogin waits until the node accepts n's credentials. A node on a fresh data directory
// answers CQL before it has created its default superuser (CassandraRoleManager's setup task,
// ~0.5 s later even with superuser_setup_delay_ms=0), and a test that connects in between fails
// with "Provided username cassandra and/or password are incorrect".
func (n *Node) waitLogin(timeout time.Duration) error {
	c := gocql.NewCluster(n.Hosts...)
	c.Authenticator = gocql.PasswordAuthenticator{Username: n.Username, Password: n.Password}
	c.ConnectTimeout, c.Timeout = 2*time.Second, 2*time.Second
	c.Logger = gocql.NewLogger(gocql.LogLevelNone)
	if n.CAFile != "" {
		cfg, err := n.tlsConfig()
		if err != nil {
			return err
		}
		c.SslOpts = &gocql.SslOptions{Config: cfg, EnableHostVerification: true}
	}
	deadline := time.Now().Add(timeout)
	for {
		s, err := c.CreateSession()
		if err == nil {
			s.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("logging in to Cassandra %v as %s within %v: %w", n.Hosts, n.Username, timeout, err)
		}
		time.Sleep(250 * time.Millisecond) // polling the node's state, bounded by the deadline
	}
}

// Env returns the variables that make a child test process use this node as an external cluster.
func (n *Node) Env() []string {
	return []string{"SEER_CASSANDRA_HOSTS=" + strings.Join(n.Hosts, ","), "SEER_CASSANDRA_USERNAME=" + n.Username,
		"SEER_CASSANDRA_PASSWORD=" + n.Password, "SEER_CASSANDRA_CA_FILE=" + n.CAFile}
}

// Get returns the node, or skips the test when there is none (SEER_CASSANDRA_SKIP=1).
func Get(t testing.TB) *Node {
	t.Helper()
	if node == nil {
		t.Skip("no Cassandra: SEER_CASSANDRA_SKIP=1 or TestMain does not call cassandratest.Main")
	}
	return node
}

// TLSConfig returns a client TLS configuration trusting the node's CA, or nil without one.
func (n *Node) TLSConfig(t testing.TB) *tls.Config {
	t.Helper()
	if n.CAFile == "" {
		return nil
	}
	cfg, err := n.tlsConfig()
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func (n *Node) tlsConfig() (*tls.Config, error) {
	pem, err := os.ReadFile(n.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate in %s", n.CAFile)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// Stop stops the local node gracefully (kill: SIGKILL at once); the test is skipped on an external
// cluster.
func (n *Node) Stop(t testing.TB, kill bool) {
	t.Helper()
	n.requireLocal(t)
	cmd := "stop-keep-lease"
	if kill {
		cmd = "kill"
	}
	if out, err := run(n.env, n.script, cmd); err != nil {
		t.Fatalf("stopping Cassandra: %v\n%s", err, out)
	}
}

// Start starts the stopped local node again and waits until it answers.
func (n *Node) Start(t testing.TB) {
	t.Helper()
	n.requireLocal(t)
	if out, err := run(n.env, n.script, "resume"); err != nil {
		t.Fatalf("restarting Cassandra: %v\n%s", err, out)
	}
}

func (n *Node) requireLocal(t testing.TB) {
	t.Helper()
	if !n.Local {
		t.Skip("the test stops and restarts Cassandra: only done on the local node of cassandra.sh")
	}
}

func run(env []string, script string, args ...string) ([]byte, error) {
	var out bytes.Buffer
	cmd := exec.Command(script, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

func parseEnv(b []byte) map[string]string {
	vars := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			vars[k] = v
		}
	}
	return vars
}

// scriptPath finds deploy/cassandra/cassandra.sh from this source file's module root.
func scriptPath() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("cannot locate the source of cassandratest")
	}
	dir := filepath.Dir(file)
	for {
		p := filepath.Join(dir, "deploy", "cassandra", "cassandra.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("deploy/cassandra/cassandra.sh not found above %s", filepath.Dir(file))
		}
		dir = parent
	}
}

// Logger returns a logger that writes to t's log until t ends and drops what comes after: the
// driver's pool-filling goroutines may still log once Session.Close has returned, and testing
// panics on a log after its test has completed (zaptest.NewLogger alone made CI fail so).
func Logger(t testing.TB) *zap.Logger {
	return zap.New(untilTestEnds(t, zaptest.NewLogger(t).Core()))
}

// untilTestEnds wraps core so that it stops writing when t ends.
func untilTestEnds(t testing.TB, core zapcore.Core) zapcore.Core {
	c := &untilDone{Core: core, done: new(atomic.Bool)}
	t.Cleanup(func() { c.done.Store(true) })
	return c
}

// untilDone is a zapcore.Core that stops writing once done is set.
type untilDone struct {
	zapcore.Core
	done *atomic.Bool
}

func (c *untilDone) With(fields []zapcore.Field) zapcore.Core {
	return &untilDone{Core: c.Core.With(fields), done: c.done}
}

func (c *untilDone) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.done.Load() || !c.Enabled(e.Level) {
		return ce
	}
	return ce.AddCore(e, c)
}

func (c *untilDone) Write(e zapcore.Entry, fields []zapcore.Field) error {
	if c.done.Load() {
		return nil
	}
	return c.Core.Write(e, fields)
}
