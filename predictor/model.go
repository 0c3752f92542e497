package predictor

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/seer-qos/seer/dataset"
)

// ModelFormat names the model file format.
//
// Version 2: shared per-service cells and a call graph (seer-model/1 models
// had one dense read-out over all services and must be retrained).
const ModelFormat = "seer-model/2"

// Card describes a trained model: what it was trained on and how well it
// validated. It is written next to the model as MODEL.card.json and inside
// the model file.
type Card struct {
	Format string `json:"format"`
	// Fingerprint identifies the topology: a hash of the sorted services and
	// edges. Serving compares it to the live graph to decide on retraining.
	Fingerprint string     `json:"topology_fingerprint"`
	Topology    string     `json:"topology,omitempty"`
	Features    FeatureSet `json:"features"`
	// CallGraph is the dependency graph over Features.Services that the
	// network's convolution reads neighbours along.
	CallGraph []dataset.Edge `json:"call_graph"`
	Shape     Shape          `json:"shape"`
	HorizonMs int64          `json:"horizon_ms"`
	TickMs    int64          `json:"tick_ms"`
	// Threshold on the end-to-end violation probability above which Seer
	// warns, chosen on the validation split (an ensemble of different
	// splits: on its calibration datasets).
	Threshold float64 `json:"threshold"`
	// Train is the training report; an ensemble's is its first member's,
	// with, for members of different splits, the union of their training
	// datasets and the calibration datasets as its trace lists.
	Train TrainReport `json:"training"`
	// Members is, for an ensemble (Combine), each member's training; for
	// members of one split without the split's trace lists, which are
	// Train's.
	Members []TrainReport `json:"members,omitempty"`
	// MemberNorms is, for an ensemble of members trained on different
	// splits (Combine with calibration data), each member's feature scaling
	// (FeatureSet.Norms), member 1's being Features.Norms; absent when the
	// members share it. Serving lays the inputs out once per member in its
	// scaling (inputLayout).
	MemberNorms [][][]Norm `json:"member_norms,omitempty"`
	// Validation is the evaluation on the validation split (an ensemble of
	// different splits: on its calibration datasets).
	Validation *Report `json:"validation,omitempty"`
}

// Model is a trained predictor: its card, weights and the calibrated
// baselines.
type Model struct {
	Card      Card       `json:"card"`
	Baselines *Baselines `json:"baselines"`
	Params    *Params    `json:"-"`
}

type modelFile struct {
	Model
	Weights []string `json:"weights"` // per tensor: base64 of little-endian float32
}

// Fingerprint hashes a topology: sorted services and caller->callee edges.
func Fingerprint(services []string, edges []dataset.Edge) string {
	s := slices.Clone(services)
	slices.Sort(s)
	var e []string
	for _, x := range edges {
		e = append(e, x.Caller+">"+x.Callee)
	}
	slices.Sort(e)
	e = slices.Compact(e)
	h := sha256.Sum256([]byte(strings.Join(s, ",") + "|" + strings.Join(e, ",")))
	return hex.EncodeToString(h[:8])
}

// Save writes the model to path and its card to path.card.json.
func (m *Model) Save(path string) error {
	f := modelFile{Model: *m}
	for _, t := range m.Params.Tensors {
		b := make([]byte, 4*len(t))
		for i, x := range t {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
		}
		f.Weights = append(f.Weights, base64.StdEncoding.EncodeToString(b))
	}
	data, err := json.Marshal(&f)
	if err != nil {
		return fmt.Errorf("predictor: encode model: %w", err)
	}
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	card, err := json.MarshalIndent(&m.Card, "", " ")
	if err != nil {
		return fmt.Errorf("predictor: encode card: %w", err)
	}
	return writeFileAtomic(path+".card.json", append(card, '\n'))
}

// LoadModel reads a model written by Save.
func LoadModel(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("predictor: read model: %w", err)
	}
	m, err := DecodeModel(data)
	if err != nil {
		return nil, fmt.Errorf("predictor: model %s: %w", path, err)
	}
	return m, nil
}

// DecodeModel decodes a model file's contents (Save's format) and checks
// that its card and weights fit together, so that a model it returns can be
// served: every error names what is wrong.
func DecodeModel(data []byte) (*Model, error) {
	var f modelFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if f.Card.Format != ModelFormat {
		return nil, fmt.Errorf("format %q, want %q", f.Card.Format, ModelFormat)
	}
	switch c := &f.Card; {
	case c.TickMs <= 0 || c.HorizonMs <= 0:
		return nil, fmt.Errorf("tick %d ms and horizon %d ms must be positive", c.TickMs, c.HorizonMs)
	case !(c.Threshold >= 0 && c.Threshold <= 1):
		return nil, fmt.Errorf("threshold %v is not a probability", c.Threshold)
	}
	s := f.Card.Shape
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(f.Weights) != s.numTensors() || len(f.Card.Features.Services) != s.Services {
		return nil, fmt.Errorf("%d tensors for %d services, want %d for %d",
			len(f.Weights), len(f.Card.Features.Services), s.numTensors(), s.Services)
	}
	if err := f.Card.Features.fits(s); err != nil {
		return nil, err
	}
	p := &Params{Shape: s, Tensors: make([][]float32, s.numTensors())}
	for i, w := range f.Weights {
		b, err := base64.StdEncoding.DecodeString(w)
		if err != nil || len(b) != 4*size(s.dims(i)) {
			return nil, fmt.Errorf("tensor %s of member %d is malformed", paramNames[i%numParams], i/numParams+1)
		}
		t := make([]float32, len(b)/4)
		for j := range t {
			t[j] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:]))
		}
		p.Tensors[i] = t
	}
	p.Graph = NewCallGraph(f.Card.Features.Services, f.Card.CallGraph)
	var err error
	if p.Scales, err = f.Card.memberScales(); err != nil {
		return nil, err
	}
	m := f.Model
	m.Params = p
	return &m, nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("predictor: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("predictor: write %s: %w", path, err)
	}
	return nil
}
