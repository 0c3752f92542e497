package predictor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Shape is the architecture of a model: how many services and input
// features, the window, and the layer widths.
type Shape struct {
	Services int `json:"services"`
	Features int `json:"features"`
	Window   int `json:"window"`   // ticks per input window (T)
	Kernel   int `json:"kernel"`   // temporal kernel of the convolution (3)
	Channels int `json:"channels"` // convolution output channels (C)
	Hidden   int `json:"hidden"`   // LSTM units (H)
	// Members is the number of networks of this shape whose predictions
	// are averaged (an ensemble, see Combine); 0 (absent) or 1: one.
	Members int `json:"members,omitempty"`
}

// members is the number of networks: Members, or 1.
func (s Shape) members() int { return max(1, s.Members) }

// numTensors is the number of weight tensors: numParams per member, member
// after member.
func (s Shape) numTensors() int { return numParams * s.members() }

// MaxWindow bounds a model's window (ticks). The weights do not grow with
// it, so a model file could otherwise ask serving for any amount of memory;
// the paper's windows span a few seconds, this 410 s at 100 ms ticks.
const MaxWindow = 4096

// Validate reports an unusable shape.
func (s Shape) Validate() error {
	switch {
	case s.Services < 1:
		return fmt.Errorf("shape: services %d < 1", s.Services)
	case s.Features < 1:
		return fmt.Errorf("shape: features %d < 1", s.Features)
	case s.Kernel < 1:
		return fmt.Errorf("shape: kernel %d < 1", s.Kernel)
	case s.Window < s.Kernel+1:
		return fmt.Errorf("shape: window %d must exceed the kernel %d", s.Window, s.Kernel)
	case s.Window > MaxWindow:
		return fmt.Errorf("shape: window %d above %d ticks", s.Window, MaxWindow)
	case s.Channels < 1 || s.Hidden < 1:
		return fmt.Errorf("shape: channels %d and hidden %d must be positive", s.Channels, s.Hidden)
	case s.Members < 0:
		return fmt.Errorf("shape: members %d < 0", s.Members)
	}
	return nil
}

// Steps is the number of LSTM steps: the window after a valid convolution.
func (s Shape) Steps() int { return s.Window - s.Kernel + 1 }

// Outputs is the number of logits: one per service, then the end-to-end
// violation.
func (s Shape) Outputs() int { return s.Services + 1 }

// Param names, in the order the graphs take them. Every weight except the
// per-service output biases is shared by all services: the network learns
// what a service about to cause a violation looks like, not which service
// did so in the training data, so it needs far fewer examples per service.
const (
	pConvW = iota // [3*Kernel*Features, Channels]: self, callees' mean, callers' mean
	pConvB        // [Channels]
	pXi           // [Channels, Hidden], input gate, from the convolution
	pXf           // forget gate
	pXg           // cell candidate
	pXo           // output gate
	pHi           // [Hidden, Hidden], input gate, from the previous state
	pHf
	pHg
	pHo
	pBi // [Hidden]
	pBf
	pBg
	pBo
	pCulW // [Hidden, 1]: a service's culprit logit from its state
	pCulB // [Services]: per-service culprit prior
	pVioW // [Hidden, 1]: a service's contribution to the violation logit
	pVioB // [Services]: per-service violation prior
	pCtxW // [Hidden, 1]: the mean state over services, into the violation logit
	numParams
)

var paramNames = [numParams]string{"conv_w", "conv_b", "x_i", "x_f", "x_g", "x_o",
	"h_i", "h_f", "h_g", "h_o", "b_i", "b_f", "b_g", "b_o", "culprit_w", "culprit_b",
	"violation_w", "violation_b", "context_w"}

// Params are a model's weights, row-major float32, in graph-input order.
type Params struct {
	Shape   Shape       `json:"shape"`
	Tensors [][]float32 `json:"-"`
	// Graph is the call graph over the model's services that the
	// convolution reads neighbours along; nil reads as no edges.
	Graph *CallGraph `json:"-"`
	// Scales, for an ensemble of members trained on other splits (each with
	// its own feature scaling, Card.MemberNorms), maps the inputs scaled
	// for member 1 to each member's scaling; nil when every member reads
	// the same inputs. Immutable once built, shared by clones.
	Scales []memberScale `json:"-"`
}

// dims returns the dimensions of weight tensor i (of parameter i mod
// numParams, in member i / numParams).
func (s Shape) dims(i int) []int {
	switch i % numParams {
	case pConvW:
		return []int{s.convInputs(), s.Channels}
	case pConvB:
		return []int{s.Channels}
	case pXi, pXf, pXg, pXo:
		return []int{s.Channels, s.Hidden}
	case pHi, pHf, pHg, pHo:
		return []int{s.Hidden, s.Hidden}
	case pBi, pBf, pBg, pBo:
		return []int{s.Hidden}
	case pCulW, pVioW, pCtxW:
		return []int{s.Hidden, 1}
	case pCulB, pVioB:
		return []int{s.Services}
	}
	panic(fmt.Sprintf("predictor: no parameter %d", i))
}

// windowInputs is the number of values per step and service of an im2col
// window: Kernel ticks x Features.
func (s Shape) windowInputs() int { return s.Kernel * s.Features }

// convInputs is the number of values per step and service the convolution
// reads: the service's own window, its callees' mean and its callers' mean.
func (s Shape) convInputs() int { return 3 * s.windowInputs() }

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

// NumWeights is the number of scalar weights of a model of this shape.
func (s Shape) NumWeights() int {
	n := 0
	for i := range s.numTensors() {
		n += size(s.dims(i))
	}
	return n
}

// NewParams initialises weights for shape s from seed: Glorot-uniform
// matrices, zero biases except the forget gate's (1, the usual LSTM trick)
// and the output biases (a prior of a rare positive); the members of an
// ensemble shape draw one after the other. The model has no call graph
// until Params.Graph is set.
func NewParams(s Shape, seed uint64) (*Params, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	p := &Params{Shape: s, Tensors: make([][]float32, s.numTensors())}
	for i := range s.numTensors() {
		dims := s.dims(i)
		t := make([]float32, size(dims))
		switch i % numParams {
		case pConvW, pXi, pXf, pXg, pXo, pHi, pHf, pHg, pHo, pCulW, pVioW, pCtxW:
			limit := math.Sqrt(6 / float64(dims[0]+dims[1]))
			for j := range t {
				t[j] = float32((rng.Float64()*2 - 1) * limit)
			}
		case pBf:
			for j := range t {
				t[j] = 1
			}
		case pCulB, pVioB:
			// A prior of a rare positive: sigmoid(-3) ~ 5%.
			for j := range t {
				t[j] = -3
			}
		}
		p.Tensors[i] = t
	}
	return p, nil
}

// blend moves p towards q: p = decay*p + (1-decay)*q, weight by weight
// (Polyak averaging of the training weights).
func (p *Params) blend(q *Params, decay float64) {
	d, e := float32(decay), float32(1-decay)
	for i, t := range p.Tensors {
		for j, v := range q.Tensors[i] {
			t[j] = d*t[j] + e*v
		}
	}
}

// Clone returns a deep copy.
func (p *Params) Clone() *Params {
	q := &Params{Shape: p.Shape, Tensors: make([][]float32, len(p.Tensors)), Graph: p.Graph, Scales: p.Scales}
	for i, t := range p.Tensors {
		q.Tensors[i] = append([]float32(nil), t...)
	}
	return q
}

// Member returns member k of an ensemble as a model of one network (its
// tensors shared, not copied; Shape.Members 0, as Train makes them);
// Member(0) of a single network is p. Of members with their own scaling
// (Scales), member k > 0 reads inputs in its scaling, not the card's.
func (p *Params) Member(k int) *Params {
	if p.Shape.Members == 0 {
		return p
	}
	s := p.Shape
	s.Members = 0
	return &Params{Shape: s, Tensors: p.Tensors[k*numParams : (k+1)*numParams], Graph: p.Graph}
}
