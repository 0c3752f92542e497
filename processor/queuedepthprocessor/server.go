package queuedepthprocessor

import (
	"encoding/json"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
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
		writeJSON(w, sh.graph.Snapshot())
	})
	mux.HandleFunc("GET "+HotspotsPath, func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, sh.graph.Hotspots())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
