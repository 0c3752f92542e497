package sim

import (
	"hash/fnv"
	"math"
	"math/rand/v2"

	"github.com/seer-qos/seer/sim/topology"
)

// newStream returns the PRNG of one named stream of the master seed.
func newStream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// dist draws durations in ns.
type dist struct {
	kind     uint8
	mean     float64
	mu, sig  float64
	min, max float64
}

const (
	dExp uint8 = iota
	dConst
	dLognormal
	dUniform
)

func newDist(d topology.Dist) dist {
	switch d.Dist {
	case topology.DistConst:
		return dist{kind: dConst, mean: float64(d.Mean)}
	case topology.DistLognormal:
		cv := d.CV
		if cv == 0 {
			cv = 1
		}
		s2 := math.Log(1 + cv*cv)
		return dist{kind: dLognormal, mean: float64(d.Mean), mu: math.Log(float64(d.Mean)) - s2/2, sig: math.Sqrt(s2)}
	case topology.DistUniform:
		return dist{kind: dUniform, min: float64(d.Min), max: float64(d.Max), mean: float64(d.Min+d.Max) / 2}
	}
	return dist{kind: dExp, mean: float64(d.Mean)}
}

func (d *dist) draw(r *rand.Rand) float64 {
	switch d.kind {
	case dConst:
		return d.mean
	case dLognormal:
		return math.Exp(d.mu + d.sig*r.NormFloat64())
	case dUniform:
		return d.min + (d.max-d.min)*r.Float64()
	}
	return d.mean * r.ExpFloat64()
}
