package seerpredictorextension

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"go.uber.org/zap"
)

// Prediction is the output of one tick, as /predictions and the
// predictions file give it.
type Prediction struct {
	StartNs int64  `json:"start_ns"`
	EndNs   int64  `json:"end_ns"`
	State   string `json:"state"`
	Version string `json:"version"`
	// Ready is false while a model's window is filling (probabilities 0).
	Ready bool `json:"ready"`
	// Gap marks a tick no series arrived for.
	Gap       bool               `json:"gap,omitempty"`
	Violation float64            `json:"violation_probability"`
	Culprits  map[string]float64 `json:"culprit_probability"`
	// InferenceNs is the model's time on the tick (0 for the heuristic).
	InferenceNs int64 `json:"inference_ns,omitempty"`
	// Training names the retraining job under way, if any.
	Training string `json:"training,omitempty"`
}

// predictionsOut keeps the recent predictions and writes the file.
type predictionsOut struct {
	mu     sync.Mutex
	recent []Prediction // ring
	next   int
	full   bool
	f      *os.File
	w      *bufio.Writer
	enc    *json.Encoder
	// writeErrors counts ticks the file could not take
	// (seer_predictor_file_write_errors_total).
	writeErrors uint64
}

func newPredictionsOut(recent int) *predictionsOut {
	return &predictionsOut{recent: make([]Prediction, recent)}
}

func (o *predictionsOut) openFile(path string) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("predictions file: %w", err)
	}
	o.f, o.w = f, bufio.NewWriter(f)
	o.enc = json.NewEncoder(o.w)
	return nil
}

func (o *predictionsOut) add(p Prediction, logger *zap.Logger) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recent[o.next] = p
	o.next = (o.next + 1) % len(o.recent)
	o.full = o.full || o.next == 0
	if o.enc != nil {
		// Flushed per tick: a reader (or a crash) sees every finished tick.
		err := o.enc.Encode(&p)
		if err == nil {
			err = o.w.Flush()
		}
		if err != nil {
			o.writeErrors++
			logger.Warn("Cannot write the predictions file", zap.Error(err))
		}
	}
}

// snapshot returns the recent predictions, oldest first.
func (o *predictionsOut) snapshot() []Prediction {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []Prediction
	if o.full {
		out = append(out, o.recent[o.next:]...)
	}
	return append(out, o.recent[:o.next]...)
}

// latest returns the newest prediction, false before the first.
func (o *predictionsOut) latest() (Prediction, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.full && o.next == 0 {
		return Prediction{}, false
	}
	return o.recent[(o.next+len(o.recent)-1)%len(o.recent)], true
}

// fileErrors is how many ticks the predictions file could not take.
func (o *predictionsOut) fileErrors() uint64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.writeErrors
}

func (o *predictionsOut) close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	err := o.w.Flush()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	return err
}
