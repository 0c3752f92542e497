package nezha

import "time"

// Batches close at 1024 spans or 500 ms of event time, well inside the
// queuedepth processor's 2 s allowed lateness.
const (
	batchSpans   = 1024
	batchEventNs = int64(500 * time.Millisecond)
)

// batcher cuts the end-ordered spans into batches as an OTLP exporter
// would send them: spans grouped by pod (one ResourceSpans each, pods in
// order of first appearance, spans in end order within a pod). Every
// consumer (series engine, graph, spans.otlp, endpoint) gets these batches
// in this order, so the replay computes what the processor computes from
// what it receives.
type batcher struct {
	deliver  func([]*Span) error
	spans    []*Span
	grouped  []*Span
	firstEnd int64
}

// add buffers one span (it must stay valid until the batch is delivered).
func (b *batcher) add(sp *Span) error {
	if len(b.spans) > 0 && sp.End-b.firstEnd > batchEventNs {
		if err := b.flush(); err != nil {
			return err
		}
	}
	if len(b.spans) == 0 {
		b.firstEnd = sp.End
	}
	b.spans = append(b.spans, sp)
	if len(b.spans) >= batchSpans {
		return b.flush()
	}
	return nil
}

// flush groups and delivers the buffered spans.
func (b *batcher) flush() error {
	if len(b.spans) == 0 {
		return nil
	}
	var pods []string
	byPod := map[string][]*Span{}
	for _, sp := range b.spans {
		if _, ok := byPod[sp.Pod]; !ok {
			pods = append(pods, sp.Pod)
		}
		byPod[sp.Pod] = append(byPod[sp.Pod], sp)
	}
	b.grouped = b.grouped[:0]
	for _, p := range pods {
		b.grouped = append(b.grouped, byPod[p]...)
	}
	clear(b.spans)
	b.spans = b.spans[:0]
	return b.deliver(b.grouped)
}
