// Package httpserve runs a component's own HTTP endpoint (metrics, JSON
// views) from its confighttp settings, so that the queuedepth processor and
// the seerpredictor extension start, serve and stop it the same way.
package httpserve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
)

// Server is a started endpoint.
type Server struct {
	srv  *http.Server
	addr net.Addr
	done chan error // Serve's result, nil after a normal Shutdown
}

// Start listens where cfg says and serves h in the background.
func Start(ctx context.Context, cfg *confighttp.ServerConfig, host component.Host, set component.TelemetrySettings, h http.Handler) (*Server, error) {
	ln, err := cfg.ToListener(ctx)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", cfg.NetAddr.Endpoint, err)
	}
	srv, err := cfg.ToServer(ctx, host.GetExtensions(), set, h)
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("http server: %w", err)
	}
	s := &Server{srv: srv, addr: ln.Addr(), done: make(chan error, 1)}
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// Addr is where the server listens.
func (s *Server) Addr() net.Addr { return s.addr }

// Shutdown stops the server gracefully and returns its error and, if
// serving had failed, that error too.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	return errors.Join(err, <-s.done)
}

// WriteJSON answers with v as indented JSON, or a 500 if it cannot be
// encoded.
func WriteJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
