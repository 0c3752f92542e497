package queuedepthprocessor

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seer-qos/seer/internal/httpserve"
)

// Paths served on the processor's HTTP endpoint.
const (
	MetricsPath  = "/metrics"
	GraphPath    = "/graph"
	HotspotsPath = "/graph/hotspots"
)

func (sh *shared) registry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(promCollector{sh: sh})
	return reg
}

func (sh *shared) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+MetricsPath, promhttp.HandlerFor(sh.registry(), promhttp.HandlerOpts{}))
	mux.HandleFunc("GET "+GraphPath, func(w http.ResponseWriter, _ *http.Request) {
		httpserve.WriteJSON(w, sh.graph.Snapshot())
	})
	mux.HandleFunc("GET "+HotspotsPath, func(w http.ResponseWriter, _ *http.Request) {
		httpserve.WriteJSON(w, sh.graph.Hotspots())
	})
	return mux
}
