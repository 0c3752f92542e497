// Package predictor is Seer's model: a convolution over the services x time
// window of per-service features (queue depth first), an LSTM over the
// window, and per service the probability that it initiates a QoS violation
// within the horizon, plus the probability of an end-to-end violation.
//
// The network is expressed as GoMLX graphs (see Graphs) whose weights are
// graph inputs, not context variables: the weights live in Go (Params), so
// the same model file runs on any backend (XLA through a PJRT plugin, or the
// pure-Go simplego backend when no plugin is installed), Adam runs in Go,
// and a new model can replace a serving one atomically by swapping a
// pointer.
//
// The training graph avoids every operation whose gradient simplego lacks
// (Reverse, Pad): the 3x1 temporal convolution is a matrix product over a
// window the caller lays out in Go (im2col), each LSTM gate has its own
// weights instead of slices of one fused product, and only graph inputs are
// sliced. Inference on XLA runs a fused form of the same network with
// fewer, larger products (forwardGraph).
//
// Services are mapped to model inputs by name (Card.Services), so a model
// survives reordered series; services it does not know are ignored and
// services it knows but that are absent read as zero.
package predictor
