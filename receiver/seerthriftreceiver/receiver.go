package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componentstatus"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/receiver"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/receiver/seerthriftreceiver/internal/metadata"
)

// seerReceiver is the seerthrift receiver: a TCP server, an HTTP server or
// both, feeding one traces consumer.
type seerReceiver struct {
	cfg      *Config
	settings receiver.Settings
	next     consumer.Traces
	tb       *metadata.TelemetryBuilder

	tcp  *transport
	http *transport

	tcpServer  *tcpServer
	httpServer *http.Server
	httpAddr   net.Addr
	wg         sync.WaitGroup
}

func newReceiver(cfg *Config, set receiver.Settings, next consumer.Traces) (*seerReceiver, error) {
	tb, err := metadata.NewTelemetryBuilder(set.TelemetrySettings)
	if err != nil {
		return nil, fmt.Errorf("creating seerthrift telemetry: %w", err)
	}
	r := &seerReceiver{cfg: cfg, settings: set, next: next, tb: tb}
	if r.tcp, err = newTransport("tcp", set, tb, cfg.RetryAfter); err != nil {
		return nil, err
	}
	if r.http, err = newTransport("http", set, tb, cfg.RetryAfter); err != nil {
		return nil, err
	}
	return r, nil
}

// Start starts the configured servers. A server that fails later reports a
// fatal error to the host.
func (r *seerReceiver) Start(ctx context.Context, host component.Host) error {
	if tcpCfg := r.cfg.Protocols.TCP.Get(); tcpCfg != nil {
		ln, err := tcpCfg.Listen(ctx)
		if err != nil {
			return fmt.Errorf("seerthrift: listening on tcp %q: %w", tcpCfg.Endpoint, err)
		}
		r.settings.Logger.Info("Starting Thrift TCP server", zap.String("endpoint", ln.Addr().String()))
		r.tcpServer = newTCPServer(ln, tcpCfg, r.tcp, r.next, r.settings.Logger)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.tcpServer.serve()
		}()
	}
	if httpCfg := r.cfg.Protocols.HTTP.Get(); httpCfg != nil {
		if err := r.startHTTP(ctx, host, httpCfg); err != nil {
			return errors.Join(err, r.Shutdown(ctx))
		}
	}
	return nil
}

func (r *seerReceiver) startHTTP(ctx context.Context, host component.Host, cfg *HTTPConfig) error {
	mux := http.NewServeMux()
	mux.Handle(cfg.Path, &httpHandler{t: r.http, next: r.next, logger: r.settings.Logger})
	srv, err := cfg.ToServer(ctx, host.GetExtensions(), r.settings.TelemetrySettings, mux)
	if err != nil {
		return fmt.Errorf("seerthrift: creating http server: %w", err)
	}
	ln, err := cfg.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("seerthrift: listening on http %q: %w", cfg.NetAddr.Endpoint, err)
	}
	r.settings.Logger.Info("Starting HTTP server", zap.String("endpoint", ln.Addr().String()), zap.String("path", cfg.Path))
	r.httpServer = srv
	r.httpAddr = ln.Addr()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			componentstatus.ReportStatus(host, componentstatus.NewFatalErrorEvent(fmt.Errorf("seerthrift http server: %w", err)))
		}
	}()
	return nil
}

// Shutdown stops the servers, closes open connections and waits for the
// requests in progress to finish.
func (r *seerReceiver) Shutdown(context.Context) error {
	var errs []error
	if r.tcpServer != nil {
		if err := r.tcpServer.close(); err != nil {
			errs = append(errs, fmt.Errorf("seerthrift: closing tcp server: %w", err))
		}
	}
	if r.httpServer != nil {
		if err := r.httpServer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("seerthrift: closing http server: %w", err))
		}
	}
	r.wg.Wait()
	r.tb.Shutdown()
	return errors.Join(errs...)
}

// tcpAddr is the address the TCP server listens on, for tests.
func (r *seerReceiver) tcpAddr() net.Addr { return r.tcpServer.ln.Addr() }
