package queuedepthprocessor

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
)

var batchPool = sync.Pool{New: func() any { return &batch{} }}

// tracesProcessor is the processor the Collector builds in one pipeline.
type tracesProcessor struct {
	shared *shared
}

func (p *tracesProcessor) processTraces(_ context.Context, td ptrace.Traces) (ptrace.Traces, error) {
	b := batchPool.Get().(*batch)
	b.reset()
	b.graphRatio = p.shared.cfg.Graph.SampleRatio
	if skew := p.shared.cfg.MaxClockSkew; skew > 0 {
		b.notAfter = time.Now().Add(skew).UnixNano()
	}
	extract(td, b)
	p.shared.observe(b)
	batchPool.Put(b)
	return td, nil
}
