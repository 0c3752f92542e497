package socialnetwork

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/seer-qos/seer/dataset"
)

// maxAdminBody bounds a POST /faults body.
const maxAdminBody = 1 << 16

// AdminHandler serves the admin endpoint:
//
//	POST   /faults       inject a fault: {"kind", "service", "duration", "magnitude"} → 201 and the Fault
//	GET    /faults       the active and recent faults (ground truth) → 200 and a JSON array
//	DELETE /faults/{id}  end a fault now → 200 and the Fault, 404 if unknown
//	GET    /violations   the QoS violations so far, with the faults behind them (if mon is not nil)
//
// Errors are 4xx with a JSON body {"error": "..."}.
func AdminHandler(in *Injector, mon *Monitor) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var spec FaultSpec
		dec := json.NewDecoder(io.LimitReader(r.Body, maxAdminBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			writeError(w, http.StatusBadRequest, fmt.Errorf("decode fault: %w", err))
			return
		}
		if dec.More() {
			writeError(w, http.StatusBadRequest, errors.New("decode fault: trailing data after the JSON object"))
			return
		}
		f, err := in.Inject(spec, "admin")
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusCreated, f)
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, in.Faults())
	})
	mux.HandleFunc("DELETE /faults/{id}", func(w http.ResponseWriter, r *http.Request) {
		f, err := in.Remove(r.PathValue("id"))
		if errors.Is(err, ErrNoFault) {
			writeError(w, http.StatusNotFound, err)
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, err)
			return
		}
		writeJSON(w, http.StatusOK, f)
	})
	mux.HandleFunc("GET /violations", func(w http.ResponseWriter, r *http.Request) {
		vs := []dataset.Violation{}
		if mon != nil {
			vs = append(vs, mon.Violations()...)
		}
		writeJSON(w, http.StatusOK, vs)
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
