package seerpredictorextension

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"
)

// Paths served on the extension's HTTP endpoint.
const (
	MetricsPath     = "/metrics"
	PredictionsPath = "/predictions"
)

func (e *predictorExtension) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(e.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET "+PredictionsPath, func(w http.ResponseWriter, _ *http.Request) {
		recent := e.out.snapshot()
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(recent); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}

func (e *predictorExtension) startHTTP(ctx context.Context, host component.Host) error {
	if !e.cfg.HTTP.HasValue() {
		return nil
	}
	httpCfg := e.cfg.HTTP.Get()
	ln, err := httpCfg.ToListener(ctx)
	if err != nil {
		return fmt.Errorf("seerpredictor %s: listen on %q: %w", e.set.ID, httpCfg.NetAddr.Endpoint, err)
	}
	srv, err := httpCfg.ToServer(ctx, host.GetExtensions(), e.set.TelemetrySettings, e.handler())
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("seerpredictor %s: http server: %w", e.set.ID, err)
	}
	e.server = srv
	e.logger.Info("Serving predictions", zap.String("endpoint", ln.Addr().String()))
	e.serveWG.Add(1)
	go func() {
		defer e.serveWG.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logger.Error("Prediction endpoint stopped", zap.Error(err))
		}
	}()
	return nil
}
