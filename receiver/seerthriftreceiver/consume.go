package seerthriftreceiver // import "github.com/seer-qos/seer/receiver/seerthriftreceiver"

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/receiver"
	"go.opentelemetry.io/collector/receiver/receiverhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/seer-qos/seer/receiver/seerthriftreceiver/internal/metadata"
)

// dataFormat is the format name the receiver reports to receiverhelper.
const dataFormat = "seerthrift"

// Reasons of the malformed-requests counter.
const (
	reasonDecode        = "decode"
	reasonInvalidBatch  = "invalid_batch"
	reasonUnknownMethod = "unknown_method"
	reasonTooLarge      = "too_large"
	reasonMediaType     = "media_type"
)

// transport holds what the receive path of one transport (tcp or http)
// shares: its ObsReport, its metric attributes and the retry hint.
type transport struct {
	name       string
	obs        *receiverhelper.ObsReport
	tb         *metadata.TelemetryBuilder
	attrs      metric.MeasurementOption
	reasons    map[string]metric.MeasurementOption
	retryAfter time.Duration
}

func newTransport(name string, set receiver.Settings, tb *metadata.TelemetryBuilder, retryAfter time.Duration) (*transport, error) {
	obs, err := receiverhelper.NewObsReport(receiverhelper.ObsReportSettings{
		ReceiverID:             set.ID,
		Transport:              name,
		ReceiverCreateSettings: set,
	})
	if err != nil {
		return nil, fmt.Errorf("creating %s obsreport: %w", name, err)
	}
	t := &transport{
		name:       name,
		obs:        obs,
		tb:         tb,
		attrs:      metric.WithAttributeSet(attribute.NewSet(attribute.String("transport", name))),
		reasons:    map[string]metric.MeasurementOption{},
		retryAfter: retryAfter,
	}
	for _, reason := range []string{reasonDecode, reasonInvalidBatch, reasonUnknownMethod, reasonTooLarge, reasonMediaType} {
		t.reasons[reason] = metric.WithAttributeSet(attribute.NewSet(
			attribute.String("transport", name), attribute.String("reason", reason)))
	}
	return t, nil
}

// malformed counts one request that could not be taken for reason.
func (t *transport) malformed(ctx context.Context, reason string) {
	t.tb.ReceiverSeerthriftMalformedRequests.Add(ctx, 1, t.reasons[reason])
}

// receive runs one receive operation: decode reads a batch into td, which
// then goes to next. It returns the number of spans and the outcome: nil,
// an error wrapping errMalformed or errInvalidBatch (both permanent), or the
// consumer's error.
func (t *transport) receive(ctx context.Context, next consumer.Traces, decode func(ptrace.Traces) (batchMeta, error)) (int, error) {
	ctx = t.obs.StartTracesOp(ctx)
	td := ptrace.NewTraces()
	meta, err := decode(td)
	if err != nil {
		switch {
		case errors.Is(err, errInvalidBatch):
			t.malformed(ctx, reasonInvalidBatch)
		case isTooLarge(err):
			t.malformed(ctx, reasonTooLarge)
		default:
			t.malformed(ctx, reasonDecode)
		}
		t.obs.EndTracesOp(ctx, dataFormat, meta.spans, err)
		return meta.spans, consumererror.NewPermanent(err)
	}
	if meta.spans > 0 {
		err = next.ConsumeTraces(ctx, td)
	}
	t.obs.EndTracesOp(ctx, dataFormat, meta.spans, err)
	// Drops count when their batch is taken: the exporter reports them
	// again with its next batch after any refusal (Overloaded, which it
	// retries, or InvalidBatch, which it drops), so they count once.
	if meta.droppedSpans > 0 && err == nil {
		t.tb.ReceiverSeerthriftSenderDroppedSpans.Add(ctx, meta.droppedSpans, t.attrs)
	}
	return meta.spans, err
}

// retryAfterMs is the retry hint in milliseconds, for Overloaded.
func (t *transport) retryAfterMs() int32 {
	return int32(min(t.retryAfter.Milliseconds(), int64(1<<31-1)))
}

// retryAfterSeconds is the retry hint in whole seconds, rounded up, for the
// HTTP Retry-After header.
func (t *transport) retryAfterSeconds() int64 {
	return int64((t.retryAfter + time.Second - 1) / time.Second)
}
