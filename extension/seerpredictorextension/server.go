package seerpredictorextension

import (
	"context"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/collector/component"
	"go.uber.org/zap"

	"github.com/seer-qos/seer/internal/httpserve"
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
		httpserve.WriteJSON(w, e.out.snapshot())
	})
	return mux
}

func (e *predictorExtension) startHTTP(ctx context.Context, host component.Host) error {
	if !e.cfg.HTTP.HasValue() {
		return nil
	}
	srv, err := httpserve.Start(ctx, e.cfg.HTTP.Get(), host, e.set.TelemetrySettings, e.handler())
	if err != nil {
		return fmt.Errorf("seerpredictor %s: %w", e.set.ID, err)
	}
	e.server = srv
	e.logger.Info("Serving predictions", zap.String("endpoint", srv.Addr().String()))
	return nil
}
